//! runbook: a declarative checklist engine.
//!
//! A playbook (YAML) is loaded into a model, validated into a [`playbook::Plan`],
//! run by the [`runner`] (probes in parallel, judged by CEL expressions), and the
//! resulting [`report::RunRecord`] is printed or rendered. See DESIGN.md.

pub mod atomic_file;
pub mod capture;
pub mod cli;
pub mod commands;
pub mod expr;
pub mod history;
mod input;
pub mod monitor;
pub mod notify;
pub mod playbook;
pub mod probe;
mod process;
pub mod report;
pub mod runner;
pub mod schema;
pub mod secrets;
mod suggest;
pub mod template;
mod tls;
