//! Continuous monitoring: the schedule `runbook watch` and `runbook serve`
//! follow, and what `serve` publishes (Prometheus metrics, the HTML reports and
//! their index).
//! Running and printing stay in `commands/`; this module only decides and renders.

pub mod metrics;
pub mod schedule;
