//! `http`: one HTTP request. Observation: `status`, `latency_ms`, `headers`
//! (lower-case names), `body` (parsed JSON when the response is JSON, else
//! text) and `url`. Every step of a run shares one connection pool.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Probe, ProbeContext, ProbeError};
use crate::template::Context;
use crate::units::{parse_size, show_duration};

/// An HTTP request. Observes `status` (the code), `latency_ms`, `headers` (lower-case
/// names), `body` (parsed JSON when the response says it is JSON, else text) and `url`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Http {
    /// The URL, e.g. `{{vars.brain_url}}/health`. Template values are percent-encoded
    /// in the path, query and fragment; see Templates.
    #[schemars(example = &"http://localhost:3100/health")]
    pub url: String,
    /// The HTTP method: `GET` (the default), `HEAD`, `POST`, `PUT`, `PATCH`, `DELETE` or `OPTIONS`.
    #[serde(default = "default_method")]
    #[schemars(example = &"POST", regex(pattern = METHOD_PATTERN))]
    pub method: String,
    /// Request headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(example = serde_json::json!({"Accept": "application/json"}))]
    pub headers: BTreeMap<String, String>,
    /// A raw request body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"symbol=BTCUSDT&side=buy")]
    pub body: Option<String>,
    /// A JSON request body (sets `Content-Type: application/json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = serde_json::json!({"operator_id": "emergency"}))]
    pub json: Option<Value>,
    /// HTTP basic authentication as `user:password`, usually from a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"{{secrets.console_auth}}")]
    pub basic_auth: Option<String>,
    /// Skip TLS certificate verification for this step only. Reported in the output.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
    /// The largest response body read, e.g. `10MB` (the default); a larger one is an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"10MB", regex(pattern = crate::units::SIZE_PATTERN))]
    pub max_body: Option<String>,
}

fn default_method() -> String {
    "GET".to_owned()
}

/// [`METHODS`] in either case, or a `{{template}}`, for the JSON Schema.
const METHOD_PATTERN: &str = r"^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|get|head|post|put|patch|delete|options)$|\{\{";

/// The methods a check would use; anything else is most likely a typo.
const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

const DEFAULT_MAX_BODY: usize = 10 * 1024 * 1024;

/// The run's HTTP clients: one verifying certificates, one not (made only if a step asks).
#[derive(Default)]
struct Clients {
    verified: OnceLock<Result<reqwest::Client, ProbeError>>,
    insecure: OnceLock<Result<reqwest::Client, ProbeError>>,
}

fn build_client(insecure: bool) -> Result<reqwest::Client, ProbeError> {
    let failed = |e: &dyn std::fmt::Display| ProbeError::Other(format!("cannot set up the HTTP client: {e}"));
    crate::tls::install_crypto_provider();
    let builder = reqwest::Client::builder().user_agent(concat!("runbook/", env!("CARGO_PKG_VERSION")));
    let builder = if insecure {
        builder.tls_danger_accept_invalid_certs(true)
    } else {
        builder.tls_backend_preconfigured(crate::tls::lazily_verified_config().map_err(|e| failed(&e))?)
    };
    builder.pool_max_idle_per_host(64).build().map_err(|e| failed(&e))
}

impl Probe for Http {
    const TEMPLATES: &'static [(&'static str, Context)] = &[("url", Context::Url), ("headers", Context::Header)];
    const OBSERVES: Option<&'static [&'static str]> = Some(&["status", "latency_ms", "headers", "body", "url"]);

    fn check(&self) -> Result<(), ProbeError> {
        if !self.method.contains("{{") && !METHODS.contains(&self.method.to_ascii_uppercase().as_str()) {
            let hint = crate::suggest::did_you_mean(&self.method.to_ascii_uppercase(), METHODS.iter().copied())
                .map(|m| format!("; did you mean `{m}`?"))
                .unwrap_or_default();
            let problem = format!("`{}` is not an HTTP method{hint} (use one of {})", self.method, METHODS.join(", "));
            return Err(ProbeError::check("method", problem));
        }
        let scheme_ok = ["http://", "https://", "{{"].iter().any(|p| self.url.to_ascii_lowercase().starts_with(p));
        if !scheme_ok {
            return Err(ProbeError::check("url", format!("`{}` is not an http:// or https:// URL", self.url)));
        }
        if self.json.is_some() && self.body.is_some() {
            return Err(ProbeError::check("body", "give `json` or `body`, not both"));
        }
        self.max_body().map(|_| ())
    }

    async fn observe(&self, ctx: &ProbeContext) -> Result<Value, ProbeError> {
        let clients = ctx.shared.get::<Clients>();
        let slot = if self.insecure { &clients.insecure } else { &clients.verified };
        let client = slot.get_or_init(|| build_client(self.insecure)).clone()?;
        let method = reqwest::Method::from_bytes(self.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| ProbeError::check("method", format!("`{}` is not an HTTP method", self.method)))?;
        let max_body = self.max_body()?;
        let mut request = client.request(method, &self.url).timeout(ctx.timeout);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(auth) = &self.basic_auth {
            let (user, password) = auth.split_once(':').unwrap_or((auth, ""));
            request = request.basic_auth(user, Some(password));
        }
        if let Some(json) = &self.json {
            request = request.json(json);
        } else if let Some(body) = &self.body {
            request = request.body(body.clone());
        }
        let started = Instant::now();
        let shown = format!("{} {}", self.method.to_ascii_uppercase(), self.url);
        let failed = |e: reqwest::Error| describe_error(&e, &shown, ctx.timeout);
        let mut response = request.send().await.map_err(failed)?;
        let status = response.status().as_u16();
        let headers: BTreeMap<String, String> = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if bytes.len() + chunk.len() > max_body {
                return Err(ProbeError::Limit(format!(
                    "response body is larger than {max_body} bytes (raise `max_body` to read it)"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let is_json = headers.get("content-type").is_some_and(|t| t.contains("json"));
        let body = parse_body(&bytes, is_json)?;
        Ok(serde_json::json!({
            "status": status,
            "latency_ms": (latency_ms * 1000.0).round() / 1000.0,
            "headers": headers,
            "body": body,
            "url": self.url,
        }))
    }

    fn describe(&self) -> String {
        let body = match (&self.json, &self.body) {
            (Some(json), _) => format!(" {json}"),
            (None, Some(body)) => format!(" {body}"),
            _ => String::new(),
        };
        // Headers too: an action's confirmation shows the whole request (the runner masks secrets).
        let headers: String = self.headers.iter().map(|(name, value)| format!(" [{name}: {value}]")).collect();
        let auth = if self.basic_auth.is_some() { " (basic auth)" } else { "" };
        let insecure = if self.insecure { " (TLS NOT VERIFIED)" } else { "" };
        format!("{} {}{headers}{body}{auth}{insecure}", self.method.to_ascii_uppercase(), self.url)
    }

    fn skips_tls_verification(&self) -> bool {
        self.insecure
    }
}

impl Http {
    /// The largest body read; `parse_size`'s message is the problem with `max_body`.
    fn max_body(&self) -> Result<usize, ProbeError> {
        match &self.max_body {
            Some(size) => {
                parse_size(size).map(|n| n as usize).map_err(|e| ProbeError::check("max_body", e.to_string()))
            }
            None => Ok(DEFAULT_MAX_BODY),
        }
    }
}

fn parse_body(bytes: &[u8], is_json: bool) -> Result<Value, ProbeError> {
    let text = String::from_utf8_lossy(bytes);
    if is_json {
        return serde_json::from_str(&text)
            .map_err(|e| ProbeError::Decode(format!("response says JSON but is not: {e}")));
    }
    Ok(Value::String(text.into_owned()))
}

/// What went wrong, in the words of the cause that knows: a timeout names the
/// step's deadline (as the runner's own deadline does), a refused connection
/// the request and the operating system's reason, a rejected certificate the
/// failed verification and rustls's reason; anything else reqwest's message
/// and its causes. The kind follows the cause: a timeout, a refused or failed
/// connection, TLS, a body that cannot be decoded, else the protocol.
fn describe_error(error: &reqwest::Error, request: &str, timeout: Duration) -> ProbeError {
    if error.is_timeout() {
        return ProbeError::Timeout(format!("timed out after {}", show_duration(timeout)));
    }
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    if error.is_connect()
        && let Some(root) = causes.last()
    {
        // rustls says "invalid peer certificate: …"; name what failed in the operator's words.
        if root.contains("certificate") {
            return ProbeError::Tls(format!("{request}: TLS certificate verification failed: {root}"));
        }
        return ProbeError::connect(format!("{request}: cannot connect: {root}"), error);
    }
    let mut message = error.to_string();
    for cause in causes {
        if !message.contains(&cause) {
            message.push_str(": ");
            message.push_str(&cause);
        }
    }
    if error.is_decode() { ProbeError::Decode(message) } else { ProbeError::Protocol(message) }
}
