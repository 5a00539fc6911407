//! TLS set-up shared by every client: rustls with the `ring` provider.

use std::sync::OnceLock;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// Installs rustls' process-wide crypto provider once; later calls do nothing.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Fails only if another provider is already installed, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A rustls client config that verifies servers with the platform's roots, loaded on
/// the first handshake that needs them. Loading them (~140 files under /etc/ssl/certs)
/// when the HTTP client was built cost every run with an http step several
/// milliseconds, though most checks speak plain http to loopback.
pub fn lazily_verified_config() -> Result<rustls::ClientConfig, rustls::Error> {
    install_crypto_provider();
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| std::sync::Arc::new(rustls::crypto::ring::default_provider()));
    let verifier = std::sync::Arc::new(LazyVerifier { provider: provider.clone(), loaded: OnceLock::new() });
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The platform verifier (what reqwest uses by default), made on first use. A failure
/// to load the roots fails that handshake, and every later one, with the reason.
#[derive(Debug)]
struct LazyVerifier {
    provider: std::sync::Arc<rustls::crypto::CryptoProvider>,
    loaded: OnceLock<Result<rustls_platform_verifier::Verifier, rustls::Error>>,
}

impl LazyVerifier {
    fn get(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        let loaded = self.loaded.get_or_init(|| rustls_platform_verifier::Verifier::new(self.provider.clone()));
        loaded.as_ref().map_err(Clone::clone)
    }
}

impl ServerCertVerifier for LazyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.get()?.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.get()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.get()?.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        match self.get() {
            Ok(verifier) => verifier.supported_verify_schemes(),
            Err(_) => self.provider.signature_verification_algorithms.supported_schemes(),
        }
    }
}

/// PostgreSQL options for `url`, reaching a loopback server without TLS unless the
/// URL (`sslmode`) or `PGSSLMODE` asks for it: the bytes never leave the host, the
/// default `prefer` verifies nothing, and the handshake cost ~90 ms a connection
/// (sqlx does not set TCP_NODELAY, so the handshake waits on delayed ACKs).
pub fn postgres_options(options: sqlx::postgres::PgConnectOptions, url: &str) -> sqlx::postgres::PgConnectOptions {
    let asked = url.contains("sslmode") || url.contains("ssl-mode") || std::env::var_os("PGSSLMODE").is_some();
    if asked || !is_loopback(options.get_host()) {
        return options;
    }
    options.ssl_mode(sqlx::postgres::PgSslMode::Disable)
}

/// `localhost`, a loopback address or a Unix socket folder.
fn is_loopback(host: &str) -> bool {
    let ip = host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>();
    host == "localhost" || host.starts_with('/') || ip.is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sqlx::postgres::{PgConnectOptions, PgSslMode};

    use super::postgres_options;

    fn mode(url: &str) -> PgSslMode {
        postgres_options(PgConnectOptions::from_str(url).unwrap(), url).get_ssl_mode()
    }

    #[test]
    fn loopback_goes_without_tls_unless_asked() {
        assert!(matches!(mode("postgres://u@127.0.0.1:5432/db"), PgSslMode::Disable));
        assert!(matches!(mode("postgres://u@localhost/db"), PgSslMode::Disable));
        assert!(matches!(mode("postgres://u@[::1]:5432/db"), PgSslMode::Disable));
        assert!(matches!(mode("postgres://u@127.0.0.1/db?sslmode=require"), PgSslMode::Require));
        assert!(matches!(mode("postgres://u@db.example.com/db"), PgSslMode::Prefer));
    }
}
