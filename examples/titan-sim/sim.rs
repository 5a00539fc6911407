//! The shared state of one simulator run: the active scenarios (switchable
//! while it runs, see `control.rs`), the console
//! secret, what the POST endpoints changed (master arm, flattened positions,
//! cancelled orders, last reconciliation) and how many requests each POST
//! endpoint received, for tests to prove a dry run sent nothing.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::scenario::{Scenario, Scenarios};

/// The services pretend to have been up this long when the simulator starts,
/// so `uptime > 0` holds from the first request.
pub const UPTIME_AT_START_S: u64 = 6 * 3600;

pub type Shared = Arc<Sim>;

pub struct Sim {
    scenarios: Mutex<Scenarios>,
    /// `user:password` the POST endpoints accept.
    pub console_auth: String,
    started: Instant,
    pub started_at: DateTime<Utc>,
    state: Mutex<Mutable>,
}

/// What the POST endpoints change.
pub struct Mutable {
    pub master_arm: bool,
    pub flattened: bool,
    pub orders_cancelled: bool,
    pub last_reconcile: DateTime<Utc>,
    pub requests: BTreeMap<&'static str, Counter>,
}

#[derive(Default)]
pub struct Counter {
    received: u64,
    authorized: u64,
    last_body: Option<Value>,
}

/// The POST endpoints whose requests are counted.
pub const COUNTED_POSTS: &[&str] =
    &["/api/console/cancel-all", "/api/console/flatten-all", "/api/console/master-arm", "/api/state/reconcile"];

impl Sim {
    pub fn new(scenarios: Scenarios, console_auth: String) -> Shared {
        let now = Utc::now();
        let state = Mutable {
            master_arm: !scenarios.has(Scenario::MasterArmOff),
            flattened: false,
            orders_cancelled: false,
            last_reconcile: now - Duration::minutes(10),
            requests: COUNTED_POSTS.iter().map(|p| (*p, Counter::default())).collect(),
        };
        let scenarios = Mutex::new(scenarios);
        Arc::new(Self { scenarios, console_auth, started: Instant::now(), started_at: now, state: Mutex::new(state) })
    }

    pub fn has(&self, scenario: Scenario) -> bool {
        self.scenarios.lock().unwrap_or_else(std::sync::PoisonError::into_inner).has(scenario)
    }

    /// The active scenarios now.
    pub fn scenarios(&self) -> Scenarios {
        self.scenarios.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Switches to `next`; refused when that would switch a scenario that only acts at start.
    pub fn set_scenarios(&self, next: Scenarios) -> Result<(), String> {
        let mut current = self.scenarios.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(fixed) = current.differences(&next).find(|s| s.at_start_only()) {
            return Err(format!(
                "`{}` is written into files or the initial state at start; restart the simulator to switch it",
                fixed.name()
            ));
        }
        *current = next;
        Ok(())
    }

    pub fn uptime_s(&self) -> u64 {
        UPTIME_AT_START_S + self.started.elapsed().as_secs()
    }

    pub fn state(&self) -> MutexGuard<'_, Mutable> {
        // A handler that panicked cannot leave the counters half-written; keep serving.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts one request to a POST endpoint; `authorized` when its basic auth matched.
    pub fn count(&self, path: &'static str, authorized: bool, body: Option<Value>) {
        let mut state = self.state();
        let counter = state.requests.entry(path).or_default();
        counter.received += 1;
        if authorized {
            counter.authorized += 1;
            counter.last_body = body;
        }
    }

    /// `GET /_sim/requests`: `{"scenarios": [...], "received": {path: n}, "authorized": {path: n}, "last_body": {path: body}}`.
    pub fn requests_json(&self) -> Value {
        let state = self.state();
        let pick = |f: &dyn Fn(&Counter) -> Value| -> Value {
            state.requests.iter().map(|(path, c)| ((*path).to_owned(), f(c))).collect()
        };
        json!({
            "scenarios": self.scenarios().names(),
            "received": pick(&|c| json!(c.received)),
            "authorized": pick(&|c| json!(c.authorized)),
            "last_body": pick(&|c| c.last_body.clone().unwrap_or(Value::Null)),
        })
    }
}

/// `{"status": ..., "uptime": ..., "service": ...}`, the health document of every service.
pub fn health(sim: &Sim, service: &str, status: &str) -> Value {
    json!({"status": status, "uptime": sim.uptime_s(), "service": service})
}
