//! `lambda_receiver` under cargo-lambda's local Lambda emulator (`cargo lambda watch`,
//! installed by `scripts/test` with `pip install cargo-lambda`): real HTTP requests to its
//! Function URL endpoint, through the emulator's runtime API, into the example's process.
//!
//! The emulator runs with `--only-lambda-apis`, and each instance of the function is the
//! example binary `cargo test` built, started as Lambda starts one (the runtime API and the
//! function's variables in its environment). Two emulated instances share one Redis, as two
//! concurrent Lambda instances would.

// Test plumbing outside `#[test]` functions may unwrap: a failure is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::{
    net::TcpStream,
    path::Path,
    process::{Child, Command, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use common::{example, free_port, lines, post, Answer};
use quickassist_webhooks::{
    testing::{sample, SignedRequest},
    Event, Secret,
};
use quickassist_webhooks_postgres::{Inbox, InboxStatus};
use quickassist_webhooks_test::{postgres::PostgresServer, redis::RedisServer};

const SECRET: &str = "whsec_lambda_tests";

/// The Function URL path of the emulator's function, and the path the function sees.
const PATH: &str = "/lambda-url/_/webhooks/thequickassist";

/// A child process killed on drop.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `cargo lambda watch --only-lambda-apis` on a free loopback port.
struct Emulator {
    addr: String,
    _process: Process,
}

impl Emulator {
    fn start() -> Self {
        // `CARGO_LAMBDA` names the binary if it is not on PATH as `cargo-lambda`.
        let program = std::env::var_os("CARGO_LAMBDA").unwrap_or_else(|| "cargo-lambda".into());
        let port = free_port();
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let child = Command::new(&program)
            .args(["lambda", "watch", "--only-lambda-apis", "--invoke-address"])
            .arg("127.0.0.1")
            .arg("--invoke-port")
            .arg(port.to_string())
            .current_dir(workspace)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cargo-lambda's emulator ({}) does not start: {error}; \
                     `pip install cargo-lambda` (scripts/test does)",
                    program.to_string_lossy()
                )
            });
        let process = Process(child);
        let addr = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(&addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "the emulator listens within 60 s"
            );
            thread::sleep(Duration::from_millis(50));
        }
        Self {
            addr,
            _process: process,
        }
    }
}

/// An instance of the function, polling `emulator`'s runtime API.
struct Instance {
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
    _process: Process,
}

impl Instance {
    fn start(emulator: &Emulator, env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(example("lambda_receiver"))
            .env_remove("REDIS_URL")
            .env_remove("DATABASE_URL")
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://{}/.rt", emulator.addr),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
            .env("QUICKASSIST_WEBHOOK_SECRET", SECRET)
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        Self {
            stdout,
            stderr,
            _process: Process(child),
        }
    }

    /// The lines the instance printed on stdout so far (its processed events).
    fn printed(&self) -> Vec<String> {
        self.stdout.try_iter().collect()
    }
}

fn delivery(webhook_id: &str) -> SignedRequest {
    SignedRequest::new(
        &Secret::from(SECRET),
        &sample(Event::MESSAGE_DELIVERED, webhook_id),
    )
}

/// A delivery whose signature is not the secret's.
fn forged(webhook_id: &str) -> SignedRequest {
    let mut request = delivery(webhook_id);
    request.signature = "0".repeat(64);
    request
}

/// The `webhookId` of a line the function printed.
fn webhook_id(line: &str) -> String {
    let envelope: serde_json::Value = serde_json::from_str(line).unwrap();
    envelope["webhookId"].as_str().unwrap().to_owned()
}

/// `answer` acknowledges a copy already processed or stored.
fn assert_duplicate(answer: &Answer) {
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        answer.header("x-webhook-duplicate"),
        Some("true"),
        "{answer:?}"
    );
}

fn send(emulator: &Emulator, request: &SignedRequest) -> Answer {
    post(&emulator.addr, PATH, &request.body, &request.signature)
}

#[test]
fn the_function_url_gets_the_documented_answers_and_two_instances_process_each_delivery_once() {
    let mut redis = RedisServer::start().unwrap();
    let url = redis.url();
    let (first, second) = (Emulator::start(), Emulator::start());
    let env = [("REDIS_URL", url.as_str())];
    let (a, b) = (
        Instance::start(&first, &env),
        Instance::start(&second, &env),
    );

    // A first delivery, then the provider's retry of it reaching the other instance.
    let original = delivery("whk_lambda_first");
    let answer = send(&first, &original);
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.header("x-webhook-duplicate"), None);
    let answer = send(&second, &original);
    assert_duplicate(&answer);

    // Refusals, with their reasons.
    let secret = Secret::from(SECRET);
    let forged = forged("whk_lambda_forged");
    let oversized = SignedRequest::raw(&secret, format!(r#"{{"event":"{}"}}"#, "x".repeat(70_000)));
    let not_an_envelope = SignedRequest::raw(&secret, r#"{"event":"message.read"}"#);
    for (request, status, reason) in [
        (&forged, 401, "invalid_signature"),
        (&oversized, 413, "payload_too_large"),
        (&not_an_envelope, 400, "invalid_payload"),
    ] {
        let answer = send(&first, request);
        assert_eq!(answer.status, status, "{answer:?}");
        assert!(answer.body.contains(reason), "{answer:?}");
    }

    // Each delivery sent to both instances at once is processed by exactly one of them. The
    // copy that arrives while the other is being processed gets 409 and is retried, as the
    // provider does, until it is answered 200 (processed, or a duplicate).
    let ids: Vec<String> = (0..12).map(|n| format!("whk_lambda_both_{n}")).collect();
    thread::scope(|scope| {
        for id in &ids {
            let request = delivery(id);
            for emulator in [&first, &second] {
                let request = request.clone();
                scope.spawn(move || {
                    let deadline = Instant::now() + Duration::from_secs(30);
                    loop {
                        let answer = send(emulator, &request);
                        match answer.status {
                            200 => break,
                            409 if Instant::now() < deadline => {
                                thread::sleep(Duration::from_millis(20));
                            }
                            _ => panic!("{answer:?}"),
                        }
                    }
                });
            }
        }
    });
    let mut printed: Vec<String> = [a.printed(), b.printed()]
        .concat()
        .iter()
        .map(|line| webhook_id(line))
        .collect();
    printed.sort();
    let mut expected: Vec<String> = ids
        .iter()
        .cloned()
        .chain(["whk_lambda_first".into()])
        .collect();
    expected.sort();
    assert_eq!(printed, expected, "each processed exactly once");
    // Neither instance warned about its store: Redis is shared.
    let warnings: Vec<String> = [&a, &b]
        .iter()
        .flat_map(|instance| instance.stderr.try_iter())
        .filter(|line| line.contains("WARN"))
        .collect();
    assert!(warnings.is_empty(), "{warnings:?}");

    // With Redis down, a new delivery is refused with 503: the provider retries it later.
    redis.stop();
    let answer = send(&first, &delivery("whk_lambda_store_down"));
    assert_eq!(answer.status, 503, "{answer:?}");
    assert!(answer.body.contains("store_unavailable"), "{answer:?}");
    assert!(a.printed().is_empty());
}

#[test]
fn with_only_the_in_memory_store_the_function_warns_at_init() {
    let emulator = Emulator::start();
    let instance = Instance::start(&emulator, &[]);
    // The warning is logged when the receiver is built, before the first invocation.
    let deadline = Instant::now() + Duration::from_secs(30);
    let warning = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = instance
            .stderr
            .recv_timeout(left)
            .expect("a warning within 30 s");
        if line.contains("WARN") {
            break line;
        }
    };
    assert!(warning.contains("in-memory idempotency store"), "{warning}");
    assert!(warning.contains("AWS Lambda"), "{warning}");
    // It still serves (the operator was warned, not refused).
    assert_eq!(send(&emulator, &delivery("whk_lambda_memory")).status, 200);
}

#[test]
fn with_database_url_the_function_stores_and_acknowledges_for_a_worker_elsewhere() {
    let postgres = PostgresServer::start().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let inbox = runtime.block_on(async {
        let inbox = Inbox::connect(&postgres.url()).await.unwrap();
        inbox.migrate().await.unwrap();
        inbox
    });
    let emulator = Emulator::start();
    let instance = Instance::start(&emulator, &[("DATABASE_URL", &postgres.url())]);

    let request = delivery("whk_lambda_intake");
    let answer = send(&emulator, &request);
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(answer.body.contains("accepted"), "{answer:?}");
    let answer = send(&emulator, &request);
    assert_duplicate(&answer);
    let forged = forged("whk_lambda_intake_forged");
    assert_eq!(send(&emulator, &forged).status, 401);

    // One row, pending for a worker; nothing processed on the request path.
    let stored = runtime.block_on(inbox.list(None, 10)).unwrap();
    let ids: Vec<(&str, InboxStatus)> = stored
        .iter()
        .map(|listed| (listed.webhook_id.as_str(), listed.status))
        .collect();
    assert_eq!(ids, [("whk_lambda_intake", InboxStatus::Pending)]);
    assert!(instance.printed().is_empty());
}
