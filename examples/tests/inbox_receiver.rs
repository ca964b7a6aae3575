//! `inbox_receiver` as its users run it: a real process on a real PostgreSQL, answering
//! over HTTP, the worker printing one JSON line per processed event, stopping on SIGTERM.

// Test plumbing outside `#[test]` functions may unwrap: a failure is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Command, Stdio},
    sync::mpsc,
    thread,
    time::Duration,
};

use quickassist_webhooks::{
    testing::{sample, SignedRequest},
    Event, Secret,
};
use quickassist_webhooks_test::postgres::{PostgresServer, PASSWORD};

const SECRET: &str = "whsec_inbox_binary";

fn example() -> PathBuf {
    common::example("inbox_receiver")
}

/// POSTs `body` with `signature`; returns the status code.
fn post(addr: &str, body: &[u8], signature: &str) -> u16 {
    common::post(addr, "/webhooks/thequickassist", body, signature).status
}

#[test]
fn stores_acknowledges_and_the_worker_prints_each_event_once() {
    let server = PostgresServer::start().unwrap();
    let mut child = Command::new(example())
        .env("QUICKASSIST_WEBHOOK_SECRET", SECRET)
        .env("DATABASE_URL", server.url())
        .env("PORT", "0")
        .env("HOST", "127.0.0.1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (ready_tx, ready_rx) = mpsc::channel();
    thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let _ = ready_tx.send(rest.split('/').next().unwrap_or_default().to_owned());
            }
        }
    });
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (line_tx, lines) = mpsc::channel();
    thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = line_tx.send(line);
        }
    });
    let addr = ready_rx.recv_timeout(Duration::from_secs(30)).unwrap();

    let delivery = SignedRequest::new(
        &Secret::from(SECRET),
        &sample(Event::MESSAGE_DELIVERED, "whk_inbox_bin"),
    );
    assert_eq!(post(&addr, &delivery.body, &delivery.signature), 200);
    assert_eq!(post(&addr, &delivery.body, &delivery.signature), 200);
    assert_eq!(post(&addr, &delivery.body, &"0".repeat(64)), 401);
    let line = lines.recv_timeout(Duration::from_secs(10)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(json["webhookId"], "whk_inbox_bin");
    assert_eq!(json["event"], "message.delivered");
    assert!(!line.contains(' '), "compact JSON: {line}");

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let (done_tx, done_rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = done_tx.send(child.wait());
    });
    let status = done_rx
        .recv_timeout(Duration::from_secs(10))
        .unwrap()
        .unwrap();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    // The duplicate and the forgery printed nothing.
    assert!(lines.recv_timeout(Duration::from_millis(200)).is_err());
}

#[test]
fn an_unreachable_database_exits_2_without_showing_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = Command::new(example())
        .env("QUICKASSIST_WEBHOOK_SECRET", SECRET)
        .env(
            "DATABASE_URL",
            format!("postgres://app:{PASSWORD}@127.0.0.1:{port}/app"),
        )
        .env("PORT", "0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains(PASSWORD), "{stderr}");
    assert!(stderr.contains("inbox_receiver:"), "{stderr}");
}
