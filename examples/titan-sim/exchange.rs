//! The exchange (`exchange_url`): Bybit v5 market data in the shapes of
//! titan-api.md — `/v5/market/kline` and `/v5/market/funding/history`, numbers
//! as strings, lists newest first, `category`/`symbol`/`interval`/`limit`
//! honoured. Prices are a deterministic wave whose range over whatever window
//! is asked for is exactly the symbol's range: (max high − min low) / min low.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::scenario::Scenario;
use crate::sim::{Shared, Sim};

const SYMBOLS: &[(&str, f64)] = &[("BTCUSDT", 60_000.0), ("ETHUSDT", 3_000.0), ("SOLUSDT", 150.0)];
const CATEGORIES: &[&str] = &["linear", "inverse", "spot"];
const HOUR_MS: i64 = 3_600_000;

/// The price a symbol trades around, if the exchange lists it.
pub fn base_price(symbol: &str) -> Option<f64> {
    SYMBOLS.iter().find(|(s, _)| *s == symbol).map(|&(_, p)| p)
}

pub fn router(sim: Shared) -> Router {
    Router::new()
        .route("/v5/market/kline", get(kline))
        .route("/v5/market/funding/history", get(funding_history))
        .with_state(sim)
}

type Params = Query<BTreeMap<String, String>>;

/// A Bybit error document (Bybit answers HTTP 200 with a non-zero `retCode`).
fn bybit_error(message: &str) -> Json<Value> {
    Json(json!({"retCode": 10001, "retMsg": message, "result": {}}))
}

/// Checks `category` and `symbol`, returning the symbol's base price.
fn market(params: &BTreeMap<String, String>) -> Result<(String, f64), Json<Value>> {
    let category = params.get("category").map_or("linear", String::as_str);
    if !CATEGORIES.contains(&category) {
        return Err(bybit_error("Illegal category"));
    }
    let symbol = params.get("symbol").ok_or_else(|| bybit_error("params error: symbol is required"))?;
    let price = base_price(symbol).ok_or_else(|| bybit_error("Not supported symbols"))?;
    Ok((symbol.clone(), price))
}

fn limit(params: &BTreeMap<String, String>, default: usize, max: usize) -> Result<usize, Json<Value>> {
    match params.get("limit") {
        None => Ok(default),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n.min(max)),
            _ => Err(bybit_error("params error: limit invalid")),
        },
    }
}

/// Minutes per candle for Bybit's interval names.
fn interval_minutes(interval: &str) -> Option<i64> {
    match interval {
        "1" | "3" | "5" | "15" | "30" | "60" | "120" | "240" | "360" | "720" => interval.parse().ok(),
        "D" => Some(1_440),
        "W" => Some(10_080),
        "M" => Some(43_200),
        _ => None,
    }
}

/// The exchange's clock for its market data: under `market-data-stale` the
/// feed froze a day ago, so the newest candle and funding entry are that old.
fn now_ms(sim: &Sim) -> i64 {
    let frozen = if sim.has(Scenario::MarketDataStale) { 24 * HOUR_MS } else { 0 };
    chrono::Utc::now().timestamp_millis() - frozen
}

/// The (max high − min low) / min low of a symbol's candles.
fn range_fraction(sim: &Sim, symbol: &str) -> f64 {
    match symbol {
        "BTCUSDT" if sim.has(Scenario::BtcRange12) => 0.12,
        "ETHUSDT" if sim.has(Scenario::EthRange12) => 0.12,
        "BTCUSDT" => 0.015,
        _ => 0.02,
    }
}

async fn kline(State(sim): State<Shared>, Query(params): Params) -> Json<Value> {
    let (symbol, price) = match market(&params) {
        Ok(found) => found,
        Err(error) => return error,
    };
    let Some(minutes) = params.get("interval").and_then(|i| interval_minutes(i)) else {
        return bybit_error("Invalid period!");
    };
    let count = match limit(&params, 200, 1000) {
        Ok(n) => n,
        Err(error) => return error,
    };
    let step_ms = minutes * 60_000;
    let newest_start = (now_ms(&sim) / step_ms) * step_ms;
    let candles = wave(count, price, range_fraction(&sim, &symbol));
    let list: Vec<Value> = candles
        .iter()
        .rev()
        .enumerate()
        .map(|(age, c)| {
            let start = newest_start - age as i64 * step_ms;
            let volume = 120.0 + (age % 7) as f64 * 13.5;
            json!([
                start.to_string(),
                format!("{:.2}", c[0]),
                format!("{:.2}", c[1]),
                format!("{:.2}", c[2]),
                format!("{:.2}", c[3]),
                format!("{volume:.3}"),
                format!("{:.2}", volume * c[3]),
            ])
        })
        .collect();
    Json(json!({"retCode": 0, "result": {"symbol": symbol, "list": list}}))
}

/// `count` candles `[open, high, low, close]`, oldest first, around `price`,
/// scaled so (max high − min low) / min low is exactly `range`.
fn wave(count: usize, price: f64, range: f64) -> Vec<[f64; 4]> {
    let at = |k: f64| (k * 0.7).sin() + 0.4 * (k * 0.23).cos();
    let raw: Vec<[f64; 4]> = (0..count)
        .map(|i| {
            let (open, close) = (at(i as f64), at(i as f64 + 1.0));
            [open, open.max(close) + 0.05, open.min(close) - 0.05, close]
        })
        .collect();
    let lowest = raw.iter().map(|c| c[2]).fold(f64::INFINITY, f64::min);
    let highest = raw.iter().map(|c| c[1]).fold(f64::NEG_INFINITY, f64::max);
    let low = price / (1.0 + range / 2.0);
    let high = low * (1.0 + range);
    let scale = |x: f64| low + (x - lowest) / (highest - lowest) * (high - low);
    raw.iter().map(|c| c.map(scale)).collect()
}

async fn funding_history(State(sim): State<Shared>, Query(params): Params) -> Json<Value> {
    let (symbol, _) = match market(&params) {
        Ok(found) => found,
        Err(error) => return error,
    };
    let count = match limit(&params, 200, 200) {
        Ok(n) => n,
        Err(error) => return error,
    };
    let extreme = sim.has(Scenario::FundingExtreme);
    let rates = ["0.0001", "0.00008", "0.00012", "0.0001", "0.00005"];
    let newest = now_ms(&sim) / (8 * HOUR_MS) * (8 * HOUR_MS);
    let list: Vec<Value> = (0..count)
        .map(|age| {
            let rate = if extreme { "0.003" } else { rates[age % rates.len()] };
            let timestamp = newest - age as i64 * 8 * HOUR_MS;
            json!({"symbol": symbol, "fundingRate": rate, "fundingRateTimestamp": timestamp.to_string()})
        })
        .collect();
    Json(json!({"retCode": 0, "result": {"list": list}}))
}
