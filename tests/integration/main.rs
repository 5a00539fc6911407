//! Integration tests: the real `runbook` binary against real peers on
//! 127.0.0.1 (HTTP servers started here, the machine's PostgreSQL, MariaDB
//! and Redis, real processes). One test target; one module per area.

mod scrape;
mod service;
mod sim;
mod util;

mod actions;
mod architecture;
mod bounds;
mod check_data;
mod cli;
mod coverage;
mod data_checks;
mod expression_bounds;
mod expressions;
mod faults;
mod file;
mod history;
mod http;
mod https;
mod injection;
mod input_files;
mod interrupt;
mod malformed;
mod notify;
mod notify_rules;
mod output_files;
mod plain_errors;
mod process_lifetime;
mod quickstart;
mod redis;
mod report_fixture;
mod report_formats;
mod report_junit;
mod report_manual;
mod report_schema;
mod report_sign;
mod runner;
mod schema;
mod secrets;
mod serve;
mod serve_limits;
mod serve_pages;
mod serve_titan;
mod shell;
mod smoke;
mod sql;
mod sql_runaway;
mod tcp;
mod template_depth;
mod titan_playbooks;
mod titan_sim;
mod tls;
mod watch;
mod websocket;
