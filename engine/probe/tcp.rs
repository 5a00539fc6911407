//! `tcp`: is anything listening on a port? Observation: `open` (a connection
//! was accepted), `latency_ms` (time to connect, or to give up), `address`
//! (the address that answered, or the last one tried) and `error` (why the
//! port is not open, else null).
//!
//! A closed port is a result, not an error: "is the port free" checks read
//! `open == false`. Only a host that does not resolve is an error. Every
//! address the host resolves to is tried in turn, so `localhost` works for a
//! service bound to 127.0.0.1 or to ::1.

use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::number::NumberParam;
use super::{Probe, ProbeContext, ProbeError};
use crate::template::Context;

/// A TCP connection attempt. Observes `open` (a connection was accepted; a refused or silent port is
/// `false`, not an error), `latency_ms`, `address` (the address tried) and `error` (why not open, else
/// null). Every address the host resolves to is tried; only a host that does not resolve is an error.
/// The step's `timeout` bounds it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tcp {
    /// The host name or IP address.
    #[schemars(example = &"localhost")]
    pub host: String,
    /// The port: a number, or a template such as `"{{vars.redis_port}}"`.
    #[schemars(example = 6379)]
    pub port: NumberParam<u16>,
}

/// The share of the step's timeout a connection attempt may take, so that a silent port is reported as
/// closed rather than the step timing out.
fn connect_budget(timeout: Duration) -> Duration {
    timeout.saturating_sub(Duration::from_millis(100)).max(timeout / 2)
}

impl Probe for Tcp {
    const TEMPLATES: &'static [(&'static str, Context)] = &[("host", Context::Host)];
    const OBSERVES: Option<&'static [&'static str]> = Some(&["open", "latency_ms", "address", "error"]);

    fn check(&self) -> Result<(), ProbeError> {
        if self.host.trim().is_empty() {
            return Err(ProbeError::check("host", "`host` is empty"));
        }
        self.port.check("port")
    }

    async fn observe(&self, ctx: &ProbeContext) -> Result<Value, ProbeError> {
        let port = self.port.get("port")?;
        let started = Instant::now();
        let addresses: Vec<_> = tokio::net::lookup_host((self.host.as_str(), port))
            .await
            .map_err(|e| ProbeError::Connect(format!("cannot resolve `{}`: {e}", self.host)))?
            .collect();
        if addresses.is_empty() {
            return Err(ProbeError::Connect(format!("`{}` resolves to no address", self.host)));
        }
        let deadline = started + connect_budget(ctx.timeout);
        let mut error = String::new();
        let mut last = addresses[0];
        for address in addresses {
            last = address;
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, tokio::net::TcpStream::connect(address)).await {
                Ok(Ok(_stream)) => return Ok(observation(true, started, address.to_string(), None)),
                Ok(Err(e)) => error = e.to_string(),
                Err(_) => {
                    error = format!("no answer within {}ms", connect_budget(ctx.timeout).as_millis());
                    break;
                }
            }
        }
        Ok(observation(false, started, last.to_string(), Some(error)))
    }

    fn describe(&self) -> String {
        format!("TCP connect {}:{}", self.host, self.port)
    }
}

fn observation(open: bool, started: Instant, address: String, error: Option<String>) -> Value {
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    serde_json::json!({
        "open": open,
        "latency_ms": (latency_ms * 1000.0).round() / 1000.0,
        "address": address,
        "error": error,
    })
}
