//! Simulator-only `PUT /_sim/scenarios` on the execution service: switches
//! the active faults of a running simulator, so a test (or a demo) can break
//! a deployment that `runbook serve` is watching and mend it again. The body
//! is a JSON list of scenario names (`[]` or `["healthy"]`: no fault); the
//! answer is `{"scenarios": [...]}`, or 400 with `{"error": ...}` for an
//! unknown name or a scenario that only acts at start (pm2, logs, backups,
//! master arm).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::put;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::scenario::Scenarios;
use crate::sim::Shared;

pub fn router() -> Router<Shared> {
    Router::new().route("/_sim/scenarios", put(set_scenarios))
}

async fn set_scenarios(State(sim): State<Shared>, Json(names): Json<Vec<String>>) -> (StatusCode, Json<Value>) {
    match Scenarios::from_names(&names).and_then(|next| sim.set_scenarios(next)) {
        Ok(()) => {
            let now = sim.scenarios().names();
            eprintln!("titan-sim: scenarios now [{}]", now.join(", "));
            (StatusCode::OK, Json(json!({ "scenarios": now })))
        }
        Err(error) => (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))),
    }
}
