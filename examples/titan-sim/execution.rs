//! Execution and console (`execution_url`, also `console_url`): the read-only
//! endpoints of titan-api.md and the `/ws/console` WebSocket. The POST
//! endpoints live in `actions.rs`.

use std::collections::BTreeMap;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::portfolio;
use crate::scenario::Scenario;
use crate::sim::{Shared, Sim};

pub fn router(sim: Shared) -> Router {
    let routes = Router::new()
        .route("/health", get(health_doc))
        .route("/positions", get(positions))
        .route("/api/console/master-arm", get(master_arm).post(crate::actions::master_arm))
        .route("/api/console/config", get(config))
        .route("/api/console/system-status", get(system_status_doc))
        .route("/api/console/trades", get(trades))
        .route("/api/console/signals", get(signals))
        .route("/api/state/reconciliation-status", get(reconciliation_status))
        .route("/ws/console", get(console_socket))
        .merge(crate::actions::router())
        .merge(crate::control::router())
        .with_state(sim.clone());
    crate::outage::wrap(routes, sim, Scenario::ExecutionDown)
}

async fn health_doc(State(sim): State<Shared>) -> Response {
    crate::services::health_answer(&sim, "execution")
}

async fn positions(State(sim): State<Shared>) -> Json<Value> {
    let positions = portfolio::positions(&sim);
    // `positions-miscounted`: the count no longer matches the list it summarises.
    let count = positions.len() + usize::from(sim.has(Scenario::PositionsMiscounted));
    Json(json!({"count": count, "positions": positions}))
}

async fn master_arm(State(sim): State<Shared>) -> Json<Value> {
    Json(json!({"enabled": sim.state().master_arm, "maintenance": false}))
}

async fn config(State(sim): State<Shared>) -> Json<Value> {
    let phase1_risk = if sim.has(Scenario::RiskOutOfRange) { 5.0 } else { 2.0 };
    let now = chrono::Utc::now();
    let (key_valid, key_expires) = if sim.has(Scenario::ApiKeyExpired) {
        (false, now - chrono::Duration::days(1))
    } else if sim.has(Scenario::ApiKeyExpiring) {
        (true, now + chrono::Duration::days(3))
    } else {
        (true, now + chrono::Duration::days(90))
    };
    Json(json!({
        "risk_tuner": {"phase1_risk_pct": phase1_risk, "phase2_risk_pct": 1.5},
        "asset_whitelist": {"enabled": !sim.has(Scenario::WhitelistDisabled), "symbols": ["BTCUSDT", "ETHUSDT"]},
        "limits": {"max_position_notional": 50000.0, "expected_positions": {"min": 0, "max": 10}},
        "phase_allocation": {"phase1": 0.6, "phase2": 0.4},
        "api_keys": {"bybit": {"valid": key_valid, "expires_at": key_expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)}},
    }))
}

/// The system-status document; `/ws/console` sends it too.
fn system_status(sim: &Sim) -> Value {
    let channel = |active: bool, reconnects: u32| json!({"active": active, "reconnects_1h": reconnects});
    let scavenger_reconnects = if sim.has(Scenario::WebsocketFlapping) { 12 } else { 0 };
    let down = sim.has(Scenario::WebsocketDown);
    let db_up = !sim.has(Scenario::DatabaseDisconnected);
    json!({
        "websocket": {
            "console": channel(!down, 0),
            "scavenger": channel(true, scavenger_reconnects),
            "status": channel(true, 0),
            "messages_per_sec": if down { 0.0 } else { 42.0 },
        },
        "exchanges": {"bybit": {"connected": !sim.has(Scenario::ExchangeDisconnected)}, "mexc": {"connected": false}},
        "database": {"postgres": db_up, "redis": db_up},
        "alerts": {"critical": if sim.has(Scenario::CriticalAlert) { 2 } else { 0 }, "warning": 0},
        "latency_ms": {"signal_p99": if sim.has(Scenario::HighLatency) { 350.0 } else { 45.0 }},
    })
}

async fn system_status_doc(State(sim): State<Shared>) -> Json<Value> {
    Json(system_status(&sim))
}

/// `?limit=N` (default 50), at most `max`.
fn limit(params: &BTreeMap<String, String>, max: usize) -> usize {
    params.get("limit").and_then(|l| l.parse().ok()).unwrap_or(50).min(max)
}

async fn trades(State(sim): State<Shared>, Query(params): Query<BTreeMap<String, String>>) -> Json<Value> {
    let trades: Vec<Value> = portfolio::trades(&sim)
        .into_iter()
        .take(limit(&params, portfolio::TRADE_HISTORY))
        .map(|(id, symbol, status, pnl)| json!({"id": id, "symbol": symbol, "status": status, "pnl": pnl}))
        .collect();
    Json(json!({"trades": trades, "success_rate": portfolio::success_rate(&sim)}))
}

async fn signals(State(sim): State<Shared>, Query(params): Query<BTreeMap<String, String>>) -> Json<Value> {
    let signals: Vec<Value> = portfolio::signals(&sim)
        .into_iter()
        .take(limit(&params, usize::MAX))
        .map(|(id, status, age_s)| json!({"id": id, "status": status, "age_s": age_s}))
        .collect();
    Json(json!({"signals": signals}))
}

async fn reconciliation_status(State(sim): State<Shared>) -> Json<Value> {
    let shadow = portfolio::positions(&sim).len();
    // `reconciliation-stale`: the reconciler last ran six hours before start and never since.
    let last_run = if sim.has(Scenario::ReconciliationStale) {
        sim.started_at - chrono::Duration::hours(6)
    } else {
        sim.state().last_reconcile
    };
    let last_run = last_run.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    Json(if sim.has(Scenario::OrphanedPosition) {
        let orphan = portfolio::position("ETHUSDT", "short", 2.0);
        json!({"status": "mismatch", "orphaned": [orphan], "shadow_positions": shadow,
               "exchange_positions": shadow + 1, "last_run": last_run})
    } else {
        json!({"status": "ok", "orphaned": [], "shadow_positions": shadow, "exchange_positions": shadow,
               "last_run": last_run})
    })
}

/// Sends one status message on connect, then answers until the client leaves.
/// Under `websocket-down` the upgrade is refused with 503.
async fn console_socket(State(sim): State<Shared>, upgrade: WebSocketUpgrade) -> Response {
    if sim.has(Scenario::WebsocketDown) {
        return (StatusCode::SERVICE_UNAVAILABLE, "console websocket is down").into_response();
    }
    let status = system_status(&sim).to_string();
    upgrade
        .on_upgrade(|mut socket: WebSocket| async move {
            if socket.send(Message::Text(status.into())).await.is_err() {
                return;
            }
            while let Some(Ok(message)) = socket.recv().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        })
        .into_response()
}
