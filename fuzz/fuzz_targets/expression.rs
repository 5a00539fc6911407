//! A CEL expression compiled and evaluated, through the engine's `expr`
//! module, against a small fixed observation with vars, another step's
//! captures and a history, so the ops helpers and look-ups all have data.

#![no_main]

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use runbook::expr::{History, Scope, Stop, compile};
use serde_json::{Value, json};

struct Sizes;

impl History for Sizes {
    fn recent(&self, name: &str, limit: usize) -> Vec<Value> {
        if name == "size" { [2100, 2000, 1900].into_iter().take(limit).map(Value::from).collect() } else { Vec::new() }
    }

    fn at_least(&self, name: &str, _: Duration) -> Option<Value> {
        (name == "size").then(|| Value::from(1800))
    }
}

static SCOPE: LazyLock<Scope> = LazyLock::new(|| {
    let observation = json!({
        "status": 200,
        "latency_ms": 12.5,
        "stdout": "ok",
        "exit_code": 0,
        "size": 2205,
        "expires_at": "2026-01-02T03:04:05Z",
        "body": {"status": "ok", "uptime": 3600, "items": [1, 2.5, "3"], "positions": [{"notional": 10}]},
        "vars": {"limit": 100, "name": "titan"},
        "steps": {"db": {"size": 2100, "ok": true}},
    });
    let Value::Object(map) = observation else { unreachable!() };
    Scope { variables: map.into_iter().collect::<BTreeMap<_, _>>(), history: Some(Arc::new(Sizes)) }
});

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else { return };
    if let Ok(expression) = compile(source) {
        // As a step's timeout does: nested loops within the round budget can still take a while.
        let stop =
            || Stop { deadline: Some((Instant::now() + Duration::from_secs(1), Duration::from_secs(1))), flag: None };
        drop(expression.judge_within(&SCOPE, &stop()));
        drop(expression.evaluate_within(&SCOPE, &stop()));
    }
});
