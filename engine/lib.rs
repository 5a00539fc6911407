//! runbook: a declarative checklist engine.
//!
//! One way through, each stage reading only what the stages before it made:
//! a playbook (YAML) is loaded and validated into a [`playbook::Plan`]; the
//! [`runner`] runs its steps (each a [`probe`], judged by [`expr`]essions)
//! into a [`record::RunRecord`]; [`history`] keeps records, [`report`]
//! renders and signs them, [`notify`] tells people, [`monitor`] schedules
//! runs and publishes metrics. [`commands`] is the command line over all of it.
//! Leaves everyone may use: [`units`], [`secrets`], [`template`] (values in
//! probe parameters), [`bounded_template`] (users' handlebars templates).

pub mod atomic_file;
pub mod bounded_template;
pub mod capture;
pub mod cli;
pub mod commands;
pub mod expr;
pub mod fleet;
pub mod history;
mod host_name;
mod input;
pub mod local_time;
pub mod monitor;
pub mod notify;
pub mod playbook;
mod printable;
pub mod probe;
mod process;
pub mod record;
pub mod report;
pub mod runner;
pub mod schema;
pub mod secrets;
pub mod session;
mod suggest;
pub mod template;
mod tls;
pub mod units;
