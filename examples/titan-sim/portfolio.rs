//! The simulated book: positions, signals and trades. Healthy values sit well
//! inside the runbook's limits; the position and order scenarios bend them.
//! Lists are newest first; ids and ages are deterministic.

use serde_json::{Value, json};

use crate::exchange::base_price;
use crate::scenario::Scenario;
use crate::sim::Sim;

/// Trades kept in the history `GET /api/console/trades` reads from.
pub const TRADE_HISTORY: usize = 100;
/// Signals kept in the history `GET /api/console/signals` reads from.
const SIGNAL_HISTORY: usize = 60;

/// `(symbol, side, size)` of the healthy book: hedge mode, three positions.
const HEALTHY_BOOK: &[(&str, &str, f64)] =
    &[("BTCUSDT", "long", 0.5), ("ETHUSDT", "long", 4.0), ("BTCUSDT", "short", 0.1)];

pub fn positions(sim: &Sim) -> Vec<Value> {
    if sim.state().flattened {
        return Vec::new();
    }
    let book: Vec<(&str, &str, f64)> = if sim.has(Scenario::TooManyPositions) {
        (0..12).map(|i| if i % 2 == 0 { ("BTCUSDT", "long", 0.05) } else { ("ETHUSDT", "short", 0.5) }).collect()
    } else {
        HEALTHY_BOOK.to_vec()
    };
    book.iter()
        .enumerate()
        .map(|(i, &(symbol, side, size))| {
            let size = if i == 0 && sim.has(Scenario::OversizedPosition) { 1.25 } else { size };
            position(symbol, side, size)
        })
        .collect()
}

/// One position in the contract's shape.
pub fn position(symbol: &str, side: &str, size: f64) -> Value {
    let notional = (size * base_price(symbol).unwrap_or(1.0) * 100.0).round() / 100.0;
    json!({"symbol": symbol, "side": side, "size": size, "notional": notional, "exchange": "bybit"})
}

/// `(id, status, age_s)`, newest first: one signal every 25 s, every fifth
/// rejected, the newest still `PENDING` (8 s old, in flight); `pending-orders`
/// adds two stuck ones (11 and 25 minutes old) unless the orders were cancelled.
pub fn signals(sim: &Sim) -> Vec<(String, &'static str, u64)> {
    let cancelled = sim.state().orders_cancelled;
    let mut list: Vec<(String, &'static str, u64)> = (0..SIGNAL_HISTORY as u64)
        .map(|i| {
            let status = match i {
                0 => "PENDING",
                _ if i % 5 == 3 => "REJECTED",
                _ => "FILLED",
            };
            (format!("SIG-{:05}", 90_000 - i), status, 8 + 25 * i)
        })
        .collect();
    if sim.has(Scenario::PendingOrders) {
        list.push(("SIG-STUCK-1".to_owned(), "PENDING", 660));
        list.push(("SIG-STUCK-2".to_owned(), "PENDING", 1500));
    }
    if cancelled {
        list.retain(|(_, status, _)| *status != "PENDING");
    }
    list.sort_by_key(|&(_, _, age)| age);
    list
}

/// `(id, symbol, status, pnl)`, newest first.
pub fn trades(sim: &Sim) -> Vec<(String, &'static str, &'static str, f64)> {
    // Every 10th fails at a 0.90 success rate, every 33rd at the healthy 0.97.
    let fail_every = if sim.has(Scenario::ExecutionFailing) { 10 } else { 33 };
    (0..TRADE_HISTORY)
        .map(|i| {
            let symbol = if i % 2 == 0 { "BTCUSDT" } else { "ETHUSDT" };
            let failed = i % fail_every == fail_every - 1;
            let pnl = if failed { 0.0 } else { ((i * 37) % 50) as f64 * 1.5 - 22.5 };
            (format!("T-{:06}", 50_000 - i), symbol, if failed { "FAILED" } else { "FILLED" }, pnl)
        })
        .collect()
}

pub fn success_rate(sim: &Sim) -> f64 {
    if sim.has(Scenario::ExecutionFailing) { 0.90 } else { 0.97 }
}
