//! `websocket`: opens a WebSocket, optionally sends one text message and
//! waits for one. Observation: `connected` (the upgrade succeeded),
//! `latency_ms` (connect and upgrade), `message` (the first text or binary
//! message: parsed JSON when it is JSON, else text; null when none came
//! before the step's timeout or the server closed first).
//!
//! A refused connection or a failed upgrade is an error (there is nothing to
//! judge); a server that stays silent is `message: null`, so
//! `message != null` fails with what was observed. `wss://` verifies the
//! server against the system roots. Messages over 10 MiB are an error.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, http::HeaderName};

use super::{Probe, ProbeContext, ProbeError};
use crate::template::Context;

/// A WebSocket connection, e.g. `ws://localhost:3002/ws/console`. Observes `connected`, `latency_ms`
/// (connect and upgrade) and `message` (with `expect_message`: the first message, parsed JSON when it is
/// JSON, else text; null when none came before the step's timeout). A refused connection or a failed
/// upgrade is an error.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Websocket {
    /// The `ws://` or `wss://` URL.
    #[schemars(example = &"ws://localhost:3002/ws/console")]
    pub url: String,
    /// Extra request headers for the upgrade, e.g. authorization.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(example = serde_json::json!({"Authorization": "Bearer {{secrets.console_token}}"}))]
    pub headers: BTreeMap<String, String>,
    /// A text message to send once connected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"{\"type\": \"subscribe\", \"channel\": \"status\"}")]
    pub send: Option<String>,
    /// Wait for one message (up to the step's timeout) and observe it as `message`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub expect_message: bool,
}

const MAX_MESSAGE: usize = 10 * 1024 * 1024;

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// The share of the step's timeout the wait for a message may take, so that silence is observed as
/// `message: null` rather than the step timing out.
fn wait_budget(timeout: Duration, spent: Duration) -> Duration {
    let budget = timeout.saturating_sub(Duration::from_millis(100)).max(timeout / 2);
    budget.saturating_sub(spent)
}

impl Probe for Websocket {
    const TEMPLATES: &'static [(&'static str, Context)] = &[("url", Context::Url), ("headers", Context::Header)];
    const OBSERVES: Option<&'static [&'static str]> = Some(&["connected", "latency_ms", "message"]);

    fn check(&self) -> Result<(), ProbeError> {
        let templated = self.url.contains("{{");
        if !templated && !self.url.starts_with("ws://") && !self.url.starts_with("wss://") {
            return Err(ProbeError::check("url", format!("`url` must start with ws:// or wss://, not `{}`", self.url)));
        }
        Ok(())
    }

    async fn observe(&self, ctx: &ProbeContext) -> Result<Value, ProbeError> {
        self.check()?;
        let mut request = self
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| ProbeError::check("url", format!("`{}` is not a WebSocket URL: {e}", self.url)))?;
        for (name, value) in &self.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ProbeError::check("headers", format!("`{name}` is not a header name")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| ProbeError::check("headers", format!("the value of header `{name}` is not valid")))?;
            request.headers_mut().insert(name, value);
        }
        let uri = request.uri().clone();
        let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
        let secure = uri.scheme_str() == Some("wss");
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });

        let started = Instant::now();
        let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| ProbeError::connect(format!("cannot connect to {host}:{port}: {e}"), &e))?;
        let stream: Box<dyn Stream> = if secure { Box::new(tls(tcp, &host).await?) } else { Box::new(tcp) };
        let config = WebSocketConfig::default().max_message_size(Some(MAX_MESSAGE)).max_frame_size(Some(MAX_MESSAGE));
        let (mut socket, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config))
            .await
            .map_err(|e| ProbeError::Protocol(format!("WebSocket upgrade of {} failed: {e}", self.url)))?;
        let latency = started.elapsed();

        if let Some(text) = &self.send {
            socket
                .send(Message::text(text.as_str()))
                .await
                .map_err(|e| ProbeError::Protocol(format!("cannot send the message: {e}")))?;
        }
        let mut message = Value::Null;
        if self.expect_message {
            let wait = wait_budget(ctx.timeout, started.elapsed());
            message = tokio::time::timeout(wait, first_message(&mut socket)).await.unwrap_or(Ok(Value::Null))?;
        }
        let _ = tokio::time::timeout(Duration::from_millis(100), socket.close(None)).await;
        Ok(json!({
            "connected": true,
            "latency_ms": (latency.as_secs_f64() * 1_000_000.0).round() / 1000.0,
            "message": message,
        }))
    }

    fn describe(&self) -> String {
        let send = self.send.as_ref().map(|s| format!(", send {s}")).unwrap_or_default();
        let wait = if self.expect_message { ", wait for a message" } else { "" };
        format!("WebSocket {}{send}{wait}", self.url)
    }
}

/// The first data message, as JSON when it parses, else text; null if the server closes first.
async fn first_message<S: AsyncRead + AsyncWrite + Unpin>(
    socket: &mut tokio_tungstenite::WebSocketStream<S>,
) -> Result<Value, ProbeError> {
    while let Some(next) = socket.next().await {
        let text = match next.map_err(|e| read_failed(&e))? {
            Message::Text(text) => text.as_str().to_owned(),
            Message::Binary(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
        };
        return Ok(serde_json::from_str(&text).unwrap_or(Value::String(text)));
    }
    Ok(Value::Null)
}

/// A message that could not be read: too large is a limit, anything else the protocol.
fn read_failed(e: &tokio_tungstenite::tungstenite::Error) -> ProbeError {
    use tokio_tungstenite::tungstenite::error::{CapacityError, Error};
    let message = format!("cannot read a message: {e}");
    match e {
        Error::Capacity(CapacityError::MessageTooLong { .. }) => ProbeError::Limit(message),
        Error::Io(_) => ProbeError::Io(message),
        _ => ProbeError::Protocol(message),
    }
}

/// TLS for `wss://`, verified against the system roots.
async fn tls(tcp: tokio::net::TcpStream, host: &str) -> Result<impl Stream, ProbeError> {
    crate::tls::install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| ProbeError::Tls(format!("cannot set up TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|_| ProbeError::check("url", format!("`{host}` is not a valid server name")))?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| ProbeError::Tls(format!("TLS with {host} failed: {e}")))
}
