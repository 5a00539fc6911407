//! The console's POST endpoints (basic auth; 401 without it) and the
//! simulator-only `GET /_sim/requests`, which reports how many requests each
//! POST endpoint received so tests can prove a dry run sent nothing and a
//! confirmed action sent exactly once. The actions change the simulated
//! state: flatten-all empties the book, cancel-all drops PENDING signals,
//! master-arm sets the switch, reconcile stamps `last_run` (it cannot fix an
//! orphan: that needs an operator; under `reconcile-refused` it answers 503
//! `{"started": false}`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::portfolio;
use crate::sim::{Shared, Sim};

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/api/state/reconcile", post(reconcile))
        .route("/api/console/flatten-all", post(flatten_all))
        .route("/api/console/cancel-all", post(cancel_all))
        .route("/_sim/requests", get(requests))
}

async fn requests(State(sim): State<Shared>) -> Json<Value> {
    Json(sim.requests_json())
}

/// A POST without the right basic auth: 401 with a challenge.
struct Denied;

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        let challenge = [(header::WWW_AUTHENTICATE, "Basic realm=\"titan-console\"")];
        (StatusCode::UNAUTHORIZED, challenge, Json(json!({"error": "unauthorized"}))).into_response()
    }
}

/// Counts the request and returns its JSON body, if any, when basic auth matched.
fn admit(sim: &Sim, path: &'static str, headers: &HeaderMap, body: &Bytes) -> Result<Option<Value>, Denied> {
    let expected = format!("Basic {}", base64(sim.console_auth.as_bytes()));
    let authorized = headers.get(header::AUTHORIZATION).is_some_and(|v| v.as_bytes() == expected.as_bytes());
    let parsed = serde_json::from_slice::<Value>(body).ok();
    sim.count(path, authorized, parsed.clone());
    if authorized { Ok(parsed) } else { Err(Denied) }
}

async fn reconcile(State(sim): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(denied) = admit(&sim, "/api/state/reconcile", &headers, &body) {
        return denied.into_response();
    }
    // `reconcile-refused`: the reconciler is busy or broken; nothing starts, `last_run` stays.
    if sim.has(crate::scenario::Scenario::ReconcileRefused) {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"started": false}))).into_response();
    }
    sim.state().last_reconcile = chrono::Utc::now();
    Json(json!({"started": true})).into_response()
}

pub async fn master_arm(State(sim): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let parsed = match admit(&sim, "/api/console/master-arm", &headers, &body) {
        Ok(parsed) => parsed,
        Err(denied) => return denied.into_response(),
    };
    let Some(enabled) = parsed.as_ref().and_then(|b| b.get("enabled")).and_then(Value::as_bool) else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "body needs a boolean `enabled`"}))).into_response();
    };
    sim.state().master_arm = enabled;
    Json(json!({"enabled": enabled})).into_response()
}

async fn flatten_all(State(sim): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(denied) = admit(&sim, "/api/console/flatten-all", &headers, &body) {
        return denied.into_response();
    }
    let affected = portfolio::positions(&sim).len();
    sim.state().flattened = true;
    Json(json!({"ok": true, "affected": affected})).into_response()
}

async fn cancel_all(State(sim): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(denied) = admit(&sim, "/api/console/cancel-all", &headers, &body) {
        return denied.into_response();
    }
    let affected = portfolio::signals(&sim).iter().filter(|(_, status, _)| *status == "PENDING").count();
    sim.state().orders_cancelled = true;
    Json(json!({"ok": true, "affected": affected})).into_response()
}

/// Standard base64 with padding (for the expected `Authorization` header).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
