//! A whole service down: under its outage scenario every request (but the
//! simulator's own `/_sim/*`) is answered 503, as a crashed process behind a
//! proxy would be. The contract's shapes are untouched; the service is simply
//! not available.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use crate::scenario::Scenario;
use crate::sim::Shared;

/// `router`, answering 503 while `scenario` is on.
pub fn wrap(router: Router, sim: Shared, scenario: Scenario) -> Router {
    router.layer(middleware::from_fn_with_state((sim, scenario), refuse))
}

async fn refuse(State((sim, scenario)): State<(Shared, Scenario)>, request: Request, next: Next) -> Response {
    if sim.has(scenario) && !request.uri().path().starts_with("/_sim/") {
        return (StatusCode::SERVICE_UNAVAILABLE, "service unavailable (titan-sim outage)").into_response();
    }
    next.run(request).await
}
