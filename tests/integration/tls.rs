//! The `tls` probe against a rustls server on 127.0.0.1 serving certificates
//! the test makes with the `openssl` command: signed by a test CA, expiring
//! in 3 days, or for the wrong name. The certificates and the server serve
//! the `http` probe's HTTPS tests too.

use std::path::Path;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::util::TestDir;

fn openssl(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("openssl").args(args).current_dir(dir).output().expect("run openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

const EC_KEY: [&str; 5] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/// A test CA, `ca.pem` and `ca.key`, in `dir`.
pub fn make_ca(dir: &Path) {
    let mut args = vec!["req", "-x509"];
    args.extend(EC_KEY);
    args.extend(["-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj", "/CN=runbook test CA"]);
    openssl(dir, &args);
}

/// `<stem>.pem` and `<stem>.key` in `dir`: a certificate for `dns_name`, valid for `days`, signed by the CA.
pub fn make_leaf(dir: &Path, stem: &str, dns_name: &str, days: u32) {
    let (key, csr, pem, ext) =
        (format!("{stem}.key"), format!("{stem}.csr"), format!("{stem}.pem"), format!("{stem}.ext"));
    std::fs::write(dir.join(&ext), format!("subjectAltName=DNS:{dns_name}\nbasicConstraints=CA:FALSE\n")).unwrap();
    let subject = format!("/CN={dns_name}");
    let mut args = vec!["req"];
    args.extend(EC_KEY);
    args.extend(["-keyout", &key, "-out", &csr, "-subj", &subject]);
    openssl(dir, &args);
    let days = days.to_string();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            &days,
            "-extfile",
            &ext,
            "-out",
            &pem,
        ],
    );
}

/// A TLS server on 127.0.0.1 with one certificate; stops when dropped.
pub struct TlsServer {
    pub port: u16,
    runtime: Option<tokio::runtime::Runtime>,
}

impl TlsServer {
    /// Completes handshakes and hangs up.
    fn start(cert: &Path, key: &Path) -> Self {
        Self::serve(cert, key, false)
    }

    /// HTTPS: answers every request with `200 {"ok":true}`.
    pub fn https(cert: &Path, key: &Path) -> Self {
        Self::serve(cert, key, true)
    }

    fn serve(cert: &Path, key: &Path, answer: bool) -> Self {
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(cert).unwrap().collect::<Result<_, _>>().unwrap();
        let key = PrivateKeyDer::from_pem_file(key).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let port = listener.local_addr().unwrap().port();
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(stream) = acceptor.accept(stream).await
                        && answer
                    {
                        answer_ok(stream).await;
                    }
                });
            }
        });
        Self { port, runtime: Some(runtime) }
    }
}

/// Reads one HTTP/1.1 request head and answers `200 {"ok":true}`, closing the connection.
async fn answer_ok<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) {
    let mut head = Vec::new();
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
    }
    let body = r#"{"ok":true}"#;
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Runs one `tls` step against `port` (server name `localhost`) with extra `params` and `expect`.
fn check(dir: &TestDir, port: u16, params: &str, expect: &str) -> crate::util::Outcome {
    dir.write(
        "playbook.yaml",
        &format!(
            "name: certs\nsections:\n  - name: tls\n    steps:\n      - id: cert\n        title: certificate\n        \
             tls: {{ host: 127.0.0.1, port: {port}, server_name: localhost{params} }}\n        timeout: 10s\n        \
             expect: ['{expect}']\n"
        ),
    );
    dir.runbook().args(["run", "playbook.yaml", "--format", "json"]).run()
}

#[test]
fn a_certificate_signed_by_the_given_ca_is_valid_with_its_dates_and_names() {
    let dir = TestDir::new();
    make_ca(dir.path());
    make_leaf(dir.path(), "good", "localhost", 30);
    let server = TlsServer::start(&dir.path().join("good.pem"), &dir.path().join("good.key"));
    let out = check(&dir, server.port, ", ca_file: ca.pem", "valid && error == null && days_left == 29");
    assert_eq!(out.code, 0, "{out:?}");
    let out = check(
        &dir,
        server.port,
        ", ca_file: ca.pem",
        r#"subject == "CN=localhost" && issuer == "CN=runbook test CA" && names == ["localhost"] && not_after.endsWith("Z")"#,
    );
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn a_certificate_expiring_in_3_days_fails_a_14_day_check_but_is_valid() {
    let dir = TestDir::new();
    make_ca(dir.path());
    make_leaf(dir.path(), "soon", "localhost", 3);
    let server = TlsServer::start(&dir.path().join("soon.pem"), &dir.path().join("soon.key"));
    let out = check(&dir, server.port, ", ca_file: ca.pem", "days_left > 14");
    assert_eq!(out.code, 1, "{out:?}");
    let step = out.step("cert");
    assert_eq!(step["verdict"], "fail");
    assert_eq!(step["message"], "days_left = 2 → expected days_left > 14");
    let out = check(&dir, server.port, ", ca_file: ca.pem", "valid");
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn a_certificate_for_another_name_is_not_valid_and_says_why() {
    let dir = TestDir::new();
    make_ca(dir.path());
    make_leaf(dir.path(), "wrong", "other.example", 30);
    let server = TlsServer::start(&dir.path().join("wrong.pem"), &dir.path().join("wrong.key"));
    let out = check(&dir, server.port, ", ca_file: ca.pem", r#"!valid && error.contains("not valid for name")"#);
    assert_eq!(out.code, 0, "{out:?}");
    let out = check(&dir, server.port, ", ca_file: ca.pem", "valid");
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.step("cert")["verdict"], "fail");
}

#[test]
fn without_a_ca_file_the_system_roots_do_not_know_the_test_ca() {
    let dir = TestDir::new();
    make_ca(dir.path());
    make_leaf(dir.path(), "good", "localhost", 30);
    let server = TlsServer::start(&dir.path().join("good.pem"), &dir.path().join("good.key"));
    let out = check(&dir, server.port, "", r#"!valid && error.contains("UnknownIssuer") && days_left == 29"#);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn a_refused_connection_is_an_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = TestDir::new();
    let out = check(&dir, port, "", "valid");
    assert_eq!(out.code, 1, "{out:?}");
    let step = out.step("cert");
    assert_eq!(step["verdict"], "error");
    assert!(step["message"].as_str().unwrap().starts_with("cannot connect to 127.0.0.1:"), "{step}");
}
