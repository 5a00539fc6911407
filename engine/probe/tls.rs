//! `tls`: a server's certificate. Observation: `valid` (the chain verifies
//! against the system roots, or only `ca_file` when given, and names the
//! host), `error` (why not valid, else null), `days_left` (whole days until
//! `not_after`, rounded down; negative once expired), `not_after` and
//! `not_before` (RFC 3339), `subject`, `issuer`, `names` (the DNS names the
//! certificate covers) and `latency_ms` (connect and handshake).
//!
//! An invalid certificate is a result, not an error, so an expiry check can
//! still read `days_left` of a certificate that no longer verifies. The
//! handshake therefore accepts any chain (recording it), and the chain is
//! verified on its own afterwards with rustls' WebPKI verifier. Errors are
//! for what leaves nothing to judge: no connection, no TLS handshake.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::number::NumberParam;
use super::{Probe, ProbeContext, ProbeError};
use crate::template::Context;

/// A TLS handshake to read and verify the server's certificate. Observes `valid` (the chain verifies
/// against the system roots, or `ca_file`, and covers the name), `error` (why not valid, else null),
/// `days_left` (whole days to expiry, negative once expired), `not_after` and `not_before` (RFC 3339),
/// `subject`, `issuer`, `names` (the names the certificate covers) and `latency_ms`. An invalid
/// certificate is still read; only a failed connection or handshake is an error.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// The host to connect to.
    #[schemars(example = &"console.titan.example")]
    pub host: String,
    /// The port (default 443): a number, or a template such as `"{{vars.tls_port}}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = 8443)]
    pub port: Option<NumberParam<u16>>,
    /// The name the certificate must cover (SNI), when it differs from `host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"titan.example")]
    pub server_name: Option<String>,
    /// A PEM file of CA certificates to verify against instead of the system roots (relative paths
    /// start at the playbook's folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"/etc/titan/internal-ca.pem")]
    pub ca_file: Option<String>,
}

const DEFAULT_PORT: u16 = 443;

/// The machine's root certificates, read once per run.
#[derive(Default)]
struct SystemRoots(OnceLock<Arc<RootCertStore>>);

impl Probe for Tls {
    const TEMPLATES: &'static [(&'static str, Context)] = &[("host", Context::Host), ("server_name", Context::Host)];
    const OBSERVES: Option<&'static [&'static str]> =
        Some(&["valid", "error", "days_left", "not_after", "not_before", "subject", "issuer", "names", "latency_ms"]);

    fn check(&self) -> Result<(), ProbeError> {
        if self.host.trim().is_empty() {
            return Err(ProbeError::check("host", "`host` is empty"));
        }
        self.port.as_ref().map_or(Ok(()), |p| p.check("port"))
    }

    async fn observe(&self, ctx: &ProbeContext) -> Result<Value, ProbeError> {
        crate::tls::install_crypto_provider();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let port = self.port.as_ref().map_or(Ok(DEFAULT_PORT), |p| p.get("port"))?;
        let name = self.server_name.as_deref().unwrap_or(&self.host);
        let server_name = ServerName::try_from(name.to_owned())
            .map_err(|_| ProbeError::check(self.name_param(), format!("`{name}` is not a valid server name")))?;
        let roots = match &self.ca_file {
            Some(file) => Arc::new(roots_from_file(&ctx.base_dir.join(file))?),
            None => ctx.shared.get::<SystemRoots>().0.get_or_init(system_roots).clone(),
        };

        let recorder = Arc::new(Recorder { provider: provider.clone(), chain: Mutex::default() });
        let config = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| ProbeError::Tls(format!("cannot set up TLS: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(recorder.clone())
            .with_no_client_auth();
        let started = Instant::now();
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), port))
            .await
            .map_err(|e| ProbeError::connect(format!("cannot connect to {}:{port}: {e}", self.host), &e))?;
        tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(server_name.clone(), tcp)
            .await
            .map_err(|e| ProbeError::Tls(format!("TLS handshake with {}:{port} failed: {e}", self.host)))?;
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;

        let chain = recorder.chain.lock().map(|c| c.clone()).unwrap_or_default();
        let Some((leaf, intermediates)) = chain.split_first() else {
            return Err(ProbeError::Tls("the server sent no certificate".to_owned()));
        };
        let error = verify(roots, provider, leaf, intermediates, &server_name).err();
        let mut out = describe_certificate(leaf)?;
        out["valid"] = json!(error.is_none());
        out["error"] = json!(error);
        out["latency_ms"] = json!((latency_ms * 1000.0).round() / 1000.0);
        Ok(out)
    }

    fn describe(&self) -> String {
        let port = self.port.as_ref().map_or_else(|| DEFAULT_PORT.to_string(), ToString::to_string);
        let name = self.server_name.as_ref().map(|n| format!(" as {n}")).unwrap_or_default();
        let ca = self.ca_file.as_ref().map(|f| format!(" against {f}")).unwrap_or_default();
        format!("TLS certificate of {}:{port}{name}{ca}", self.host)
    }
}

impl Tls {
    /// The parameter that names the server: `server_name` when given, else `host`.
    fn name_param(&self) -> &'static str {
        if self.server_name.is_some() { "server_name" } else { "host" }
    }
}

fn system_roots() -> Arc<RootCertStore> {
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    Arc::new(store)
}

fn roots_from_file(path: &Path) -> Result<RootCertStore, ProbeError> {
    let unreadable = |e: &dyn std::fmt::Display| ProbeError::Io(format!("cannot read `{}`: {e}", path.display()));
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| unreadable(&e))?
        .collect::<Result<_, _>>()
        .map_err(|e| unreadable(&e))?;
    let mut store = RootCertStore::empty();
    let (added, _) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(ProbeError::check("ca_file", format!("`{}` holds no usable CA certificate", path.display())));
    }
    Ok(store)
}

/// Why the chain does not verify for `name`, if it does not. Text, not a [`ProbeError`]:
/// the reason is part of the observation (`error`), and the probe still succeeds.
fn verify(
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
    leaf: &CertificateDer<'static>,
    intermediates: &[CertificateDer<'static>],
    name: &ServerName<'static>,
) -> Result<(), String> {
    if roots.is_empty() {
        return Err("no root certificates to verify against".to_owned());
    }
    let verifier = WebPkiServerVerifier::builder_with_provider(roots, provider).build().map_err(|e| e.to_string())?;
    verifier.verify_server_cert(leaf, intermediates, name, &[], UnixTime::now()).map(|_| ()).map_err(|e| e.to_string())
}

/// Dates and names of a certificate, read without trusting it.
fn describe_certificate(der: &CertificateDer<'_>) -> Result<Value, ProbeError> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref())
        .map_err(|e| ProbeError::Decode(format!("the server's certificate cannot be read: {e}")))?;
    let not_after = cert.validity().not_after.timestamp();
    let not_before = cert.validity().not_before.timestamp();
    let days_left =
        not_after.saturating_mul(1000).saturating_sub(chrono::Utc::now().timestamp_millis()).div_euclid(86_400_000);
    let names: Vec<String> = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    x509_parser::extensions::GeneralName::DNSName(dns) => Some((*dns).to_owned()),
                    x509_parser::extensions::GeneralName::IPAddress(_) => Some(n.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(json!({
        "days_left": days_left,
        "not_after": rfc3339(not_after),
        "not_before": rfc3339(not_before),
        "subject": cert.subject().to_string(),
        "issuer": cert.issuer().to_string(),
        "names": names,
    }))
}

fn rfc3339(timestamp: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(timestamp, 0).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// Accepts any certificate chain and keeps it for verifying afterwards. Handshake signatures are
/// still checked, so the recorded certificate is the one the server holds the key of.
#[derive(Debug)]
struct Recorder {
    provider: Arc<CryptoProvider>,
    chain: Mutex<Vec<CertificateDer<'static>>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut chain) = self.chain.lock() {
            *chain = std::iter::once(end_entity).chain(intermediates).map(|c| c.clone().into_owned()).collect();
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}
