//! The `websocket` probe against an axum WebSocket server on 127.0.0.1.

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;

use crate::util::{HttpServer, run_playbook};

async fn hello(upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(|mut socket: WebSocket| async move {
        let _ = socket.send(Message::Text(r#"{"type": "status", "armed": false}"#.into())).await;
        while let Some(Ok(_)) = socket.recv().await {}
    })
}

async fn echo(upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(|mut socket: WebSocket| async move {
        while let Some(Ok(message)) = socket.recv().await {
            if let Message::Text(text) = message {
                let _ = socket.send(Message::Text(format!("echo: {}", text.as_str()).into())).await;
            }
        }
    })
}

async fn silent(upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(|mut socket: WebSocket| async move { while let Some(Ok(_)) = socket.recv().await {} })
}

fn server() -> HttpServer {
    HttpServer::start(Router::new().route("/hello", get(hello)).route("/echo", get(echo)).route("/silent", get(silent)))
}

fn playbook(url: &str, params: &str, expect: &str) -> String {
    let url = url.replace("http://", "ws://");
    format!(
        "name: ws\nsections:\n  - name: channels\n    steps:\n      - id: ws\n        title: console channel\n        \
         websocket: {{ url: \"{url}\"{params} }}\n        timeout: 2s\n        expect: ['{expect}']\n"
    )
}

#[test]
fn a_json_message_is_parsed() {
    let server = server();
    let out = run_playbook(
        &playbook(
            &format!("{}/hello", server.url),
            ", expect_message: true",
            r#"connected && message.type == "status" && message.armed == false"#,
        ),
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn a_sent_text_gets_its_answer_as_text() {
    let server = server();
    let out = run_playbook(
        &playbook(&format!("{}/echo", server.url), ", send: ping, expect_message: true", "message == \"echo: pong\""),
        &[],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains(r#"message = "echo: ping" → expected message == "echo: pong""#), "{}", out.stdout);
}

#[test]
fn without_expect_message_only_the_connection_is_observed() {
    let server = server();
    let out = run_playbook(&playbook(&format!("{}/hello", server.url), "", "connected && message == null"), &[]);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn a_silent_server_gives_a_null_message_not_an_error() {
    let server = server();
    let out = run_playbook(
        &playbook(&format!("{}/silent", server.url), ", expect_message: true", "message != null"),
        &["--format", "json"],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let step = out.step("ws");
    assert_eq!(step["verdict"], "fail");
    assert_eq!(step["message"], "message = null → expected message != null");
}

#[test]
fn a_refused_connection_is_an_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = run_playbook(&playbook(&format!("ws://127.0.0.1:{port}/ws"), "", "connected"), &["--format", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    let step = out.step("ws");
    assert_eq!(step["verdict"], "error");
    assert!(step["message"].as_str().unwrap().starts_with(&format!("cannot connect to 127.0.0.1:{port}")), "{step}");
}

#[test]
fn a_plain_http_endpoint_fails_the_upgrade() {
    let server = HttpServer::start(Router::new().route("/", get(|| async { "not a websocket" })));
    let out = run_playbook(&playbook(&server.url, "", "connected"), &["--format", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    let step = out.step("ws");
    assert_eq!(step["verdict"], "error");
    assert!(step["message"].as_str().unwrap().contains("WebSocket upgrade of"), "{step}");
}
