//! TLS set-up shared by every client: rustls with the `ring` provider.

/// Installs rustls' process-wide crypto provider once; later calls do nothing.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Fails only if another provider is already installed, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
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
