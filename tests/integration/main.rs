//! Integration tests: the real `runbook` binary against real peers on
//! 127.0.0.1 (HTTP servers started here, the machine's PostgreSQL, MariaDB
//! and Redis, real processes). One test target; one module per area.

mod util;

mod actions;
mod coverage;
mod file;
mod history;
mod redis;
mod schema;
mod smoke;
mod sql;
mod tcp;
mod tls;
