//! The example receivers as their users run them: real processes, configured through the
//! environment, answering over HTTP, printing one JSON line per event, stopping on SIGTERM.
//!
//! `cargo test` builds the examples before running this file; it finds them next to its
//! own executable (`target/<profile>/examples/`).

// Test plumbing outside `#[test]` functions may unwrap: a failure is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::mpsc,
    thread,
    time::Duration,
};

use quickassist_webhooks::{
    testing::{sample, SignedRequest},
    Event, Secret,
};

use common::example;

const SECRET: &str = "whsec_binary_tests";

/// Both receivers, always: a missing binary fails in [`example`] rather than shrinking the
/// list and letting a test pass on one receiver or none.
fn receivers() -> [&'static str; 2] {
    ["axum_receiver", "actix_receiver"]
}

/// A running receiver, killed on drop.
struct Receiver {
    child: Child,
    addr: String,
    stdout: mpsc::Receiver<String>,
    /// Stdout left unread, for a receiver whose output stalls.
    _unread: Option<std::process::ChildStdout>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(name: &str) -> Receiver {
    start_with(name, None)
}

fn start_with(name: &str, redis_url: Option<&str>) -> Receiver {
    let env: Vec<(&str, &str)> = redis_url
        .map(|url| ("REDIS_URL", url))
        .into_iter()
        .collect();
    start_env(name, &env)
}

/// Starts `name` with `env` on top of the defaults; waits for its `listening on` line.
fn start_env(name: &str, env: &[(&str, &str)]) -> Receiver {
    start_reading(name, env, true)
}

/// [`start_env`], with stdout read line by line or (`read_stdout == false`) never read.
fn start_reading(name: &str, env: &[(&str, &str)], read_stdout: bool) -> Receiver {
    let mut command = Command::new(example(name));
    command
        .env_remove("REDIS_URL")
        .env_remove("TLS_CERT")
        .env_remove("TLS_KEY");
    command.envs(env.iter().copied());
    let mut child = command
        .env("QUICKASSIST_WEBHOOK_SECRET", SECRET)
        .env("PORT", "0")
        .env("HOST", "127.0.0.1")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
    let (ready_tx, ready_rx) = mpsc::channel();
    thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let rest = line
                .split("listening on http://")
                .nth(1)
                .or_else(|| line.split("listening on https://").nth(1));
            if let Some(rest) = rest {
                let addr = rest.split('/').next().unwrap_or_default().to_owned();
                let _ = ready_tx.send(addr);
            }
        }
    });
    let stdout = child.stdout.take().expect("piped stdout");
    let (line_tx, line_rx) = mpsc::channel();
    let unread = if read_stdout {
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = line_tx.send(line);
            }
        });
        None
    } else {
        Some(stdout)
    };
    let addr = ready_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("a `listening on` line on stderr within 30 s");
    Receiver {
        child,
        addr,
        stdout: line_rx,
        _unread: unread,
    }
}

/// POSTs `body` with `signature` to the receiver at `addr`; returns the status code.
fn post(addr: &str, body: &[u8], signature: &str) -> u16 {
    common::post(addr, "/webhooks/thequickassist", body, signature).status
}

#[test]
fn without_a_secret_the_receivers_exit_2_with_a_clear_message() {
    for name in receivers() {
        let output = Command::new(example(name))
            .env_remove("QUICKASSIST_WEBHOOK_SECRET")
            .env("PORT", "0")
            .output()
            .expect("the example runs");
        assert_eq!(output.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("QUICKASSIST_WEBHOOK_SECRET"),
            "{name}: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{name}");
    }
}

#[test]
fn receivers_print_one_json_line_per_processed_event_and_stop_on_sigterm() {
    for name in receivers() {
        let mut receiver = start(name);
        let delivery = SignedRequest::new(
            &Secret::from(SECRET),
            &sample(Event::MESSAGE_DELIVERED, "whk_bin"),
        );
        assert_eq!(
            post(&receiver.addr, &delivery.body, &delivery.signature),
            200,
            "{name}"
        );
        assert_eq!(
            post(&receiver.addr, &delivery.body, &delivery.signature),
            200,
            "{name}: duplicate"
        );
        assert_eq!(
            post(&receiver.addr, &delivery.body, &"0".repeat(64)),
            401,
            "{name}: forged"
        );

        let line = receiver
            .stdout
            .recv_timeout(Duration::from_secs(10))
            .expect("one line for the processed event");
        let json: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
        assert_eq!(json["event"], "message.delivered", "{name}");
        assert_eq!(json["webhookId"], "whk_bin", "{name}");

        let status = Command::new("kill")
            .args(["-TERM", &receiver.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let mut exited = None;
        for _ in 0..200 {
            if let Some(code) = receiver.child.try_wait().expect("wait") {
                exited = Some(code);
                break;
            }
            thread::sleep(Duration::from_millis(50)); // polling an exit, not timing code
        }
        let exited = exited.expect("the receiver stops within 10 s of SIGTERM");
        assert!(
            exited.success(),
            "{name}: graceful shutdown exits 0, got {exited}"
        );
        // The duplicate and the forgery printed nothing more.
        assert!(receiver.stdout.try_iter().next().is_none(), "{name}");
    }
}

/// Sends SIGTERM and waits up to 10 s for a clean exit.
fn terminate(receiver: &mut Receiver, name: &str) {
    let status = Command::new("kill")
        .args(["-TERM", &receiver.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    for _ in 0..200 {
        if let Some(code) = receiver.child.try_wait().expect("wait") {
            assert!(
                code.success(),
                "{name}: graceful shutdown exits 0, got {code}"
            );
            return;
        }
        thread::sleep(Duration::from_millis(50)); // polling an exit, not timing code
    }
    panic!("{name}: the receiver did not stop within 10 s of SIGTERM");
}

/// A reader that stops reading stdout must not freeze the receiver: once the pipe is full,
/// deliveries fail (non-2xx, released, so a retry is not a duplicate), forged requests are
/// still refused, and SIGTERM still stops it.
#[test]
fn a_stdout_that_never_drains_fails_deliveries_without_freezing_the_receiver() {
    for name in receivers() {
        let mut receiver = start_reading(name, &[], false);
        // 30 KB events: two fill a 64 KiB pipe.
        let events: Vec<SignedRequest> = (0..12)
            .map(|n| {
                let mut envelope = sample("message.custom", &format!("whk_stall_{n}"));
                envelope.event = Event::Unknown {
                    event: "message.custom".into(),
                    data: serde_json::json!({ "note": "x".repeat(30_000) }),
                };
                SignedRequest::new(&Secret::from(SECRET), &envelope)
            })
            .collect();
        let statuses: Vec<u16> = thread::scope(|scope| {
            let sent: Vec<_> = events
                .iter()
                .map(|event| {
                    let addr = &receiver.addr;
                    scope.spawn(move || post(addr, &event.body, &event.signature))
                })
                .collect();
            sent.into_iter().map(|s| s.join().unwrap()).collect()
        });
        let failed: Vec<usize> = (0..statuses.len())
            .filter(|&n| statuses[n] != 200)
            .collect();
        assert!(!failed.is_empty(), "{name}: {statuses:?}");
        assert!(
            failed.iter().all(|&n| statuses[n] == 500),
            "{name}: {statuses:?}"
        );
        // Still answering: a forgery is refused, and a failed delivery's retry is processed
        // again (it was released), not acknowledged as a duplicate.
        assert_eq!(post(&receiver.addr, &events[0].body, &"0".repeat(64)), 401);
        let retried = &events[failed[0]];
        assert_eq!(
            post(&receiver.addr, &retried.body, &retried.signature),
            500,
            "{name}"
        );
        terminate(&mut receiver, name);
    }
}

/// 200 connections that each send a signed-looking head, 56 KiB of body (11 MiB together) and then a byte every
/// 2 s, against a receiver with a 2 MiB body budget: its memory stays within the budget
/// (plus the process's own), the attackers get 503 (no room) or 408 (too slow), and real
/// deliveries sent meanwhile are answered 200 and processed once.
#[test]
fn slow_bodies_are_bounded_by_the_budget_while_deliveries_get_through() {
    const ATTACKERS: usize = 200;
    const BUDGET: u64 = 2 << 20;
    for name in receivers() {
        let receiver = start_env(name, &[("BODY_BUDGET", &BUDGET.to_string())]);
        let pid = receiver.child.id();
        let before = status_kib(pid, "VmRSS");
        let head = format!(
            "POST /webhooks/thequickassist HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n\
             x-webhook-signature: {}\r\ncontent-length: 60000\r\n\r\n",
            receiver.addr,
            "ab".repeat(32)
        );
        let mut attackers: Vec<TcpStream> = (0..ATTACKERS)
            .map(|_| {
                let mut stream = TcpStream::connect(&receiver.addr).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(30)))
                    .unwrap();
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&[b' '; 56 * 1024]);
                stream
            })
            .collect();
        let mut peak = 0;
        for n in 0..5 {
            let delivery = SignedRequest::new(
                &Secret::from(SECRET),
                &sample(Event::MESSAGE_DELIVERED, &format!("whk_slow_{n}")),
            );
            assert_eq!(
                post(&receiver.addr, &delivery.body, &delivery.signature),
                200,
                "{name}: a real delivery during the attack"
            );
            for stream in &mut attackers {
                let _ = stream.write_all(b" ");
            }
            peak = peak.max(status_kib(pid, "VmRSS"));
            thread::sleep(Duration::from_secs(2)); // the attackers' trickle, not timing code
        }
        // The budget, plus what the framework itself buffers per connection before the
        // pipeline reads (hyper up to ~32 KiB; actix-web reads ahead ~120 KiB, measured in
        // bench/attacks.sh), plus slack for the allocator. Without the budget the pipeline
        // alone would hold 11 MiB more, past what axum is allowed.
        let grown_kib = peak.saturating_sub(before);
        let per_connection_kib = if name == "actix_receiver" { 128 } else { 32 };
        let allowed_kib = BUDGET / 1024 + ATTACKERS as u64 * per_connection_kib + 4 * 1024;
        assert!(
            grown_kib <= allowed_kib,
            "{name}: RSS grew {grown_kib} KiB under a {BUDGET}-byte budget (allowed {allowed_kib})"
        );
        eprintln!("{name}: RSS grew {grown_kib} KiB during the attack (allowed {allowed_kib})");
        // Every attacker is answered 503 or 408 (or reset after its refusal), never served.
        let mut refused = 0;
        for mut stream in attackers {
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer);
            let answer = String::from_utf8_lossy(&answer);
            let status = answer.split(' ').nth(1).unwrap_or_default();
            assert!(
                ["503", "408", ""].contains(&status),
                "{name}: an attacker got {answer:?}"
            );
            refused += usize::from(!status.is_empty());
        }
        assert!(refused > 0, "{name}: no attacker was answered");
        let lines: Vec<String> = receiver.stdout.try_iter().collect();
        for n in 0..5 {
            let id = format!("\"whk_slow_{n}\"");
            assert_eq!(
                lines.iter().filter(|line| line.contains(&id)).count(),
                1,
                "{name}: whk_slow_{n} processed once"
            );
        }
    }
}

/// Open descriptors of process `pid`.
fn open_descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(Iterator::count)
        .unwrap_or(0)
}

/// Idle connections cannot exhaust the receivers' descriptors: past `MAX_CONNECTIONS` they
/// are not held, idle ones are shed after the header-read timeout, and a real delivery
/// gets through meanwhile.
#[test]
fn idle_connections_are_capped_and_shed_while_deliveries_get_through() {
    const CAP: usize = 32;
    const IDLE: usize = 120;
    for name in receivers() {
        let receiver = start_env(name, &[("MAX_CONNECTIONS", &CAP.to_string())]);
        let pid = receiver.child.id();
        let baseline = open_descriptors(pid);
        let idle: Vec<TcpStream> = (0..IDLE)
            .filter_map(|_| TcpStream::connect(&receiver.addr).ok())
            .collect();
        assert_eq!(idle.len(), IDLE, "{name}: the backlog takes them all");
        // A real delivery gets 200 (retried, as the provider does, while the cap is full).
        let delivery = SignedRequest::new(
            &Secret::from(SECRET),
            &sample(Event::MESSAGE_DELIVERED, "whk_idle"),
        );
        let mut answered = None;
        for _ in 0..100 {
            // 409: an earlier attempt that gave up waiting is being processed.
            match try_post(&receiver.addr, &delivery.body, &delivery.signature) {
                None | Some(409) => {}
                status => {
                    answered = status;
                    break;
                }
            }
            thread::sleep(Duration::from_millis(200)); // a retry interval, not timing code
        }
        assert_eq!(answered, Some(200), "{name}");
        let held = open_descriptors(pid);
        assert!(
            held <= baseline + CAP + 8,
            "{name}: {held} descriptors open for {IDLE} idle connections (baseline {baseline}, cap {CAP})"
        );
        drop(idle);
    }
}

/// [`post`], or `None` when the connection is closed before an answer.
fn try_post(addr: &str, body: &[u8], signature: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let head = format!(
        "POST /webhooks/thequickassist HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         x-webhook-signature: {signature}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split(' ').nth(1)?.parse().ok()
}

#[test]
fn with_redis_url_two_receiver_processes_share_claims() {
    let redis = quickassist_webhooks_test::redis::RedisServer::start().unwrap();
    for name in receivers() {
        let first = start_with(name, Some(&redis.url()));
        let second = start_with(name, Some(&redis.url()));
        let webhook_id = format!("whk_redis_{name}");
        let delivery = SignedRequest::new(
            &Secret::from(SECRET),
            &sample(Event::MESSAGE_READ, &webhook_id),
        );
        assert_eq!(
            post(&first.addr, &delivery.body, &delivery.signature),
            200,
            "{name}"
        );
        // The retry lands on the other process: a duplicate, not processed again.
        assert_eq!(
            post(&second.addr, &delivery.body, &delivery.signature),
            200,
            "{name}"
        );
        let line = first
            .stdout
            .recv_timeout(Duration::from_secs(10))
            .expect("processed once");
        assert!(line.contains(&webhook_id), "{line}");
        assert!(
            second
                .stdout
                .recv_timeout(Duration::from_millis(500))
                .is_err(),
            "{name}: processed twice"
        );
    }
}

#[test]
fn an_unreachable_redis_url_stops_the_receiver_with_exit_2() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for name in receivers() {
        let output = Command::new(example(name))
            .env("QUICKASSIST_WEBHOOK_SECRET", SECRET)
            .env("PORT", "0")
            .env("REDIS_URL", format!("redis://127.0.0.1:{port}/"))
            .output()
            .expect("the example runs");
        assert_eq!(output.status.code(), Some(2), "{name}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("REDIS_URL"),
            "{name}"
        );
    }
}

/// A field of `/proc/<pid>/status` in KiB (`VmRSS`, `VmHWM`).
fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("/proc/<pid>/status")
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .expect("a KiB figure")
}

/// The worst body a forger can send: just under the 64 KiB limit, so that the receiver
/// buffers all of it before the signature can be checked. 64 at once must cost memory on
/// the order of limit × concurrency, not more, and be refused with 401.
#[test]
fn simultaneous_large_forged_bodies_keep_memory_bounded_by_limit_times_concurrency() {
    const CONCURRENCY: usize = 64;
    const BODY: usize = quickassist_webhooks::DEFAULT_MAX_BODY - 1024;
    for name in receivers() {
        let receiver = start(name);
        let pid = receiver.child.id();
        let before = status_kib(pid, "VmRSS");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(CONCURRENCY));
        let uploads: Vec<_> = (0..CONCURRENCY)
            .map(|n| {
                let (addr, barrier) = (receiver.addr.clone(), std::sync::Arc::clone(&barrier));
                thread::spawn(move || {
                    let body = vec![b'a' + (n % 26) as u8; BODY];
                    barrier.wait();
                    post(&addr, &body, &"0".repeat(64))
                })
            })
            .collect();
        for upload in uploads {
            assert_eq!(upload.join().expect("upload thread"), 401, "{name}");
        }
        let peak_growth_kib = status_kib(pid, "VmHWM").saturating_sub(before);
        let in_flight_kib = (CONCURRENCY * BODY / 1024) as u64;
        eprintln!(
            "{name}: {CONCURRENCY} forged bodies of {BODY} bytes at once: peak RSS grew by \
             {peak_growth_kib} KiB ({:.2}x the bytes in flight)",
            peak_growth_kib as f64 / in_flight_kib as f64
        );
        // Each buffered body may be held twice while it is collected (chunks, then one
        // contiguous buffer); anything beyond that would be a buffer without a bound.
        assert!(
            peak_growth_kib < 2 * in_flight_kib + 16 * 1024,
            "{name}: peak RSS grew by {peak_growth_kib} KiB for {in_flight_kib} KiB in flight"
        );
        // Still serving afterwards.
        let delivery = SignedRequest::new(
            &Secret::from(SECRET),
            &sample(Event::MESSAGE_READ, &format!("whk_after_big_{name}")),
        );
        assert_eq!(
            post(&receiver.addr, &delivery.body, &delivery.signature),
            200,
            "{name}"
        );
    }
}

/// A self-signed certificate for `localhost` and 127.0.0.1, written as PEM files into a
/// fresh directory: `(certificate, key)`.
fn certificate_files(tag: &str) -> (PathBuf, PathBuf) {
    let generated =
        rcgen::generate_simple_self_signed(["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let dir = std::env::temp_dir().join(format!("qa-tls-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, generated.cert.pem()).unwrap();
    std::fs::write(&key, generated.signing_key.serialize_pem()).unwrap();
    (cert, key)
}

#[test]
fn with_tls_cert_and_key_the_receivers_serve_https() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for name in receivers() {
        let (cert, key) = certificate_files(name);
        let receiver = start_env(
            name,
            &[
                ("TLS_CERT", cert.to_str().unwrap()),
                ("TLS_KEY", key.to_str().unwrap()),
            ],
        );
        let port = receiver.addr.rsplit(':').next().unwrap().to_owned();
        let url = format!("https://localhost:{port}/webhooks/thequickassist");
        let delivery = SignedRequest::new(
            &Secret::from(SECRET),
            &sample(Event::MESSAGE_READ, "whk_tls"),
        );
        let trusted = reqwest::Certificate::from_pem(&std::fs::read(&cert).unwrap()).unwrap();
        let (status, untrusted) = runtime.block_on(async {
            let post = |client: reqwest::Client| {
                client
                    .post(&url)
                    .header("x-webhook-signature", &delivery.signature)
                    .body(delivery.body.clone())
                    .send()
            };
            let client = reqwest::Client::builder()
                .add_root_certificate(trusted)
                .build()
                .unwrap();
            let status = post(client).await.expect("an HTTPS answer").status();
            (status, post(reqwest::Client::new()).await)
        });
        assert_eq!(status, 200, "{name}");
        assert!(
            untrusted.is_err(),
            "{name}: a client that does not trust the certificate"
        );
        let line = receiver
            .stdout
            .recv_timeout(Duration::from_secs(10))
            .expect("one line for the processed event");
        assert!(line.contains("whk_tls"), "{name}: {line}");
    }
}

#[test]
fn tls_cert_without_a_key_stops_the_receiver_with_exit_2() {
    for name in receivers() {
        let output = Command::new(example(name))
            .env("QUICKASSIST_WEBHOOK_SECRET", SECRET)
            .env("PORT", "0")
            .env("TLS_CERT", "/nonexistent/cert.pem")
            .env_remove("TLS_KEY")
            .env_remove("REDIS_URL")
            .output()
            .expect("the example runs");
        assert_eq!(output.status.code(), Some(2), "{name}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("TLS_KEY"),
            "{name}"
        );
    }
}
