//! Brain (`brain_url`): `/health`, `/dashboard`, `/breaker`,
//! `/phases/approval-rates`, in the shapes of titan-api.md.

use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::scenario::Scenario;
use crate::sim::{Shared, Sim, health};

/// How long `/dashboard` takes under `slow-endpoint`.
pub const SLOW_DASHBOARD: Duration = Duration::from_secs(3);

pub const NAV: f64 = 100_000.0;

pub fn router(sim: Shared) -> Router {
    let routes = Router::new()
        .route("/health", get(health_doc))
        .route("/dashboard", get(dashboard))
        .route("/breaker", get(breaker))
        .route("/phases/approval-rates", get(approval_rates))
        .with_state(sim.clone());
    crate::outage::wrap(routes, sim, Scenario::BrainDown)
}

async fn health_doc(State(sim): State<Shared>) -> Json<Value> {
    let status = if sim.has(Scenario::BrainDegraded) { "degraded" } else { "ok" };
    Json(health(&sim, "brain", status))
}

async fn dashboard(State(sim): State<Shared>) -> Json<Value> {
    if sim.has(Scenario::SlowEndpoint) {
        tokio::time::sleep(SLOW_DASHBOARD).await;
    }
    let (phase1, phase2) = if sim.has(Scenario::AllocationDrift) { (0.75, 0.25) } else { (0.6, 0.4) };
    let leverage = if sim.has(Scenario::HighLeverage) { 12.0 } else { 1.8 };
    // `nav-jump`: 15 % gone since the last run with no P&L to explain it.
    let nav = if sim.has(Scenario::NavJump) { NAV * 0.85 } else { NAV };
    // `decisions-stale`: the Brain stopped deciding five hours ago.
    let newest_decision_min = if sim.has(Scenario::DecisionsStale) { 300 } else { 1 };
    let now = chrono::Utc::now();
    // Oldest first, so the runbook's `.recentDecisions[-10:]` is the latest ten.
    let decisions: Vec<Value> = (0..12i64)
        .rev()
        .map(|i| {
            let time = now - chrono::Duration::minutes(5 * i + newest_decision_min);
            json!({"time": time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "signal": format!("SIG-{:05}", 90_000 - i), "approved": i % 5 != 3})
        })
        .collect();
    Json(json!({
        "nav": nav,
        "phaseEquity": {"phase1": nav * phase1, "phase2": nav * phase2},
        "riskMetrics": {"globalLeverage": leverage, "maxDrawdownPct": performance(&sim).2},
        "treasury": treasury(&sim),
        "recentDecisions": decisions,
    }))
}

/// `(sharpe30d, winRate30d, maxDrawdownPct)`: healthy, or a strategy gone bad (`performance-degraded`).
fn performance(sim: &Sim) -> (f64, f64, f64) {
    if sim.has(Scenario::PerformanceDegraded) { (-0.4, 0.31, 12.5) } else { (1.9, 0.56, 2.1) }
}

/// The treasury block: `pnl-mismatch` gives a percentage of the opposite sign, `big-loss` a 7 % loss.
fn treasury(sim: &Sim) -> Value {
    let (pnl, pnl_pct) = if sim.has(Scenario::BigLoss) {
        (-7_000.0, -7.0)
    } else if sim.has(Scenario::PnlMismatch) {
        (1250.5, -3.4)
    } else {
        (1250.5, 1.25)
    };
    let (sharpe, win_rate, _) = performance(sim);
    json!({"dailyPnl": pnl, "dailyPnlPct": pnl_pct, "sharpe30d": sharpe, "winRate30d": win_rate})
}

async fn breaker(State(sim): State<Shared>) -> Json<Value> {
    Json(if sim.has(Scenario::BreakerActive) {
        json!({"active": true, "reason": "daily drawdown limit reached", "tripsToday": 1})
    } else {
        json!({"active": false, "reason": null, "tripsToday": 0})
    })
}

async fn approval_rates(State(sim): State<Shared>) -> Json<Value> {
    Json(if sim.has(Scenario::ApprovalLow) {
        json!({"phase1": 0.58, "phase2": 0.5, "overall": 0.55})
    } else {
        json!({"phase1": 0.82, "phase2": 0.77, "overall": 0.8})
    })
}
