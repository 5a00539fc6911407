//! The two small services: Scavenger (`scavenger_url`, health only) and
//! AI Quant (`ai_quant_url`: health and pending proposals).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::sim::{Shared, health};

pub fn scavenger(sim: Shared) -> Router {
    Router::new()
        .route("/health", get(|State(sim): State<Shared>| async move { Json(health(&sim, "scavenger", "ok")) }))
        .with_state(sim)
}

pub fn ai_quant(sim: Shared) -> Router {
    Router::new()
        .route("/health", get(|State(sim): State<Shared>| async move { Json(health(&sim, "ai-quant", "ok")) }))
        .route("/api/proposals/pending", get(|| async { Json::<Value>(json!({"proposals": []})) }))
        .with_state(sim)
}
