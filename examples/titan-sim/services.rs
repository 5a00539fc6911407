//! The two small services: Scavenger (`scavenger_url`, health only) and
//! AI Quant (`ai_quant_url`: health and pending proposals).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::scenario::Scenario;
use crate::sim::{Shared, Sim, health};

/// The health answer of the execution and scavenger services: under
/// `services-degraded` both report `degraded` with 503, as a load balancer's
/// health check would see them.
pub fn health_answer(sim: &Sim, service: &str) -> Response {
    if sim.has(Scenario::ServicesDegraded) {
        (StatusCode::SERVICE_UNAVAILABLE, Json(health(sim, service, "degraded"))).into_response()
    } else {
        Json(health(sim, service, "ok")).into_response()
    }
}

pub fn scavenger(sim: Shared) -> Router {
    Router::new()
        .route("/health", get(|State(sim): State<Shared>| async move { health_answer(&sim, "scavenger") }))
        .with_state(sim)
}

pub fn ai_quant(sim: Shared) -> Router {
    let routes = Router::new()
        .route("/health", get(|State(sim): State<Shared>| async move { Json(health(&sim, "ai-quant", "ok")) }))
        .route("/api/proposals/pending", get(|| async { Json::<Value>(json!({"proposals": []})) }))
        .with_state(sim.clone());
    crate::outage::wrap(routes, sim, Scenario::AiQuantDegraded)
}
