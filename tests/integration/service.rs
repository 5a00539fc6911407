//! A small real HTTP service on 127.0.0.1 standing in for the services a
//! playbook checks: JSON endpoints, a slow one, a 500, a non-JSON body, a body
//! that lies about being JSON, a flaky one that fails its first request, and
//! one that is `starting` for its first requests, then `ready`, and one whose
//! first answer is not JSON.
//! It logs the path of every request, so tests can see the order steps ran in.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::routing::get;
use serde_json::{Value, json};

use crate::util::HttpServer;

#[derive(Default)]
struct Shared {
    log: Mutex<Vec<String>>,
    flaky_calls: AtomicUsize,
    warming_calls: AtomicUsize,
    hiccup_calls: AtomicUsize,
    fading_calls: AtomicUsize,
}

/// `/warming` answers `"state": "starting"` until this request, then `"ready"`.
pub const WARM_AFTER: usize = 3;

/// The running service; it stops when dropped.
pub struct Service {
    pub url: String,
    shared: Arc<Shared>,
    _server: HttpServer,
}

impl Service {
    /// The paths requested so far, in arrival order.
    pub fn log(&self) -> Vec<String> {
        self.shared.log.lock().expect("log lock").clone()
    }
}

fn note(shared: &Shared, path: String) {
    shared.log.lock().expect("log lock").push(path);
}

/// Starts the service.
pub fn start() -> Service {
    let shared = Arc::new(Shared::default());
    let router = axum::Router::new()
        .route(
            "/health",
            get(|State(s): State<Arc<Shared>>| async move {
                note(&s, "/health".into());
                Json(json!({"status": "ok", "uptime": 12345.5, "version": "1.4.2", "connections": 3}))
            }),
        )
        .route(
            "/metrics",
            get(|| async {
                Json(json!({
                    "cpu_pct": 73.2,
                    "min_price": "0.00005",
                    "services": [
                        {"name": "brain", "up": true, "lag_ms": 12},
                        {"name": "execution", "up": true, "lag_ms": 80},
                        {"name": "scanner", "up": false, "lag_ms": 4000}
                    ]
                }))
            }),
        )
        .route(
            "/slow",
            get(|State(s): State<Arc<Shared>>, Query(q): Query<Value>| async move {
                let ms: u64 = q["ms"].as_str().and_then(|m| m.parse().ok()).unwrap_or(200);
                note(&s, format!("/slow?ms={ms}"));
                tokio::time::sleep(Duration::from_millis(ms)).await;
                note(&s, format!("/slow?ms={ms} done"));
                Json(json!({"slept_ms": ms, "token": "t-42"}))
            }),
        )
        .route(
            "/echo",
            get(|State(s): State<Arc<Shared>>, Query(q): Query<Value>| async move {
                note(&s, format!("/echo?token={}", q["token"].as_str().unwrap_or("")));
                Json(q)
            }),
        )
        .route("/boom", get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"error": "database down"}))) }))
        .route("/text", get(|| async { ([(header::CONTENT_TYPE, "text/plain")], "all systems nominal\n") }))
        .route("/lying", get(|| async { ([(header::CONTENT_TYPE, "application/json")], "{\"status\": ok") }))
        .route(
            "/flaky",
            get(|State(s): State<Arc<Shared>>| async move {
                let call = s.flaky_calls.fetch_add(1, Ordering::SeqCst) + 1;
                note(&s, format!("/flaky #{call}"));
                if call == 1 {
                    (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"call": call})))
                } else {
                    (StatusCode::OK, Json(json!({"call": call})))
                }
            }),
        )
        .route(
            "/warming",
            get(|State(s): State<Arc<Shared>>| async move {
                let call = s.warming_calls.fetch_add(1, Ordering::SeqCst) + 1;
                note(&s, format!("/warming #{call}"));
                Json(json!({"call": call, "state": if call < WARM_AFTER { "starting" } else { "ready" }}))
            }),
        )
        .route(
            "/hiccup",
            get(|State(s): State<Arc<Shared>>| async move {
                let call = s.hiccup_calls.fetch_add(1, Ordering::SeqCst) + 1;
                note(&s, format!("/hiccup #{call}"));
                let body = if call == 1 { "{\"status\": ok".to_owned() } else { format!("{{\"call\": {call}}}") };
                ([(header::CONTENT_TYPE, "application/json")], body)
            }),
        )
        .route(
            // Answers "starting" once, then only what cannot be read: a wait that saw its
            // condition false and then lost sight of the service.
            "/fading",
            get(|State(s): State<Arc<Shared>>| async move {
                let call = s.fading_calls.fetch_add(1, Ordering::SeqCst) + 1;
                note(&s, format!("/fading #{call}"));
                let body = if call == 1 { "{\"state\": \"starting\"}" } else { "{\"state\": starting" };
                ([(header::CONTENT_TYPE, "application/json")], body)
            }),
        )
        .with_state(Arc::clone(&shared));
    let server = HttpServer::start(router);
    Service { url: server.url.clone(), shared, _server: server }
}

/// A URL on 127.0.0.1 where nothing listens: bind a port, then let it go.
pub fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}/health")
}
