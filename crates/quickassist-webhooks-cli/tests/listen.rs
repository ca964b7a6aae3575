//! `qa-webhooks listen` as a child process: verification, de-duplication, rejections on
//! stderr, events on stdout, `--forward-to`, `PORT` and `REDIS_URL`.

mod common;

use std::collections::HashSet;

use common::{
    assert_no_password,
    listener::Listener,
    qa, qa_with_secret,
    server::{closed_url, run, Recorder},
    stderr, stdout, temp_file,
    tls::TestCertificate,
    with_password, SECRET_ENV, URL_PASSWORD,
};
use quickassist_webhooks::{testing::PROVIDER_SAMPLE, SignedForm, Verifier};
use quickassist_webhooks_test::redis::RedisServer;

fn listen(args: &[&str]) -> Listener {
    Listener::start(args, &[(SECRET_ENV, "s")])
}

fn send(url: &str, args: &[&str]) -> assert_cmd::Command {
    let mut command = qa_with_secret("s");
    command.args(["send", url]).args(args);
    command
}

/// Sends a fresh event and waits for its stdout line: every event printed before it has been
/// read, so the caller knows nothing else was printed.
async fn assert_no_more_events(listener: &Listener) {
    let output = run(send(&listener.url, &["--webhook-id", "whk_sentinel"])).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(listener.next_event()["webhookId"], "whk_sentinel");
}

#[tokio::test(flavor = "multi_thread")]
async fn send_against_listen_prints_each_fresh_event_once_as_compact_json() {
    let listener = listen(&[]);
    let output = run(send(
        &listener.url,
        &["--repeat", "20", "--concurrency", "4"],
    ))
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("\n  200 OK: 20\n"),
        "{}",
        stdout(&output)
    );
    let ids: HashSet<String> = (0..20)
        .map(|_| {
            let event = listener.next_event();
            assert_eq!(event["event"], "message.delivered");
            event["webhookId"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 20);
    assert_no_more_events(&listener).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pinned_webhook_id_is_processed_once_and_its_duplicates_acknowledged() {
    let listener = listen(&[]);
    let output = run(send(
        &listener.url,
        &["--repeat", "5", "--webhook-id", "whk_same"],
    ))
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("\n  200 OK: 5 (4 duplicates)\n"),
        "{}",
        stdout(&output)
    );
    assert_eq!(listener.next_event()["webhookId"], "whk_same");
    for _ in 0..4 {
        let line = listener.stderr_line_containing("whk_same: duplicate");
        assert!(line.contains("already processed"), "{line}");
    }
    assert_no_more_events(&listener).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rejections_are_reported_on_stderr_with_their_reason() {
    let listener = listen(&[]);
    let zeros = "0".repeat(64);
    let output = run(send(&listener.url, &["--signature", &zeros])).await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        "401 Unauthorized\n{\"error\":\"invalid_signature\"}\n"
    );
    let line = listener.stderr_line_containing("rejected POST /webhooks/thequickassist");
    assert!(line.contains("401"), "{line}");
    assert!(
        line.contains("invalid_signature (the signature does not match the body)"),
        "{line}"
    );

    let unsigned = reqwest::Client::new()
        .post(&listener.url)
        .body(PROVIDER_SAMPLE)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    listener.stderr_line_containing("missing_signature");

    let other_path = listener
        .url
        .replace("/webhooks/thequickassist", "/elsewhere");
    let output = run(send(&other_path, &[])).await;
    assert_eq!(output.status.code(), Some(1));
    listener.stderr_line_containing("rejected POST /elsewhere");

    let wrong_secret = {
        let mut command = qa_with_secret("not-the-secret");
        command.args(["send", &listener.url]);
        run(command).await
    };
    assert_eq!(wrong_secret.status.code(), Some(1));
    listener.stderr_line_containing("invalid_signature");

    // None of them was processed.
    assert_no_more_events(&listener).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pretty_delivery_verifies_through_its_canonical_form_and_prints_compact() {
    let listener = listen(&[]);
    let output = run(send(
        &listener.url,
        &["--pretty", "--webhook-id", "whk_pretty"],
    ))
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let event = listener.next_event();
    assert_eq!(event["webhookId"], "whk_pretty");
}

#[tokio::test(flavor = "multi_thread")]
async fn forward_to_relays_a_500_so_the_retry_is_processed() {
    // The app fails the first delivery, then succeeds.
    let app = Recorder::start(|n, _| {
        if n == 0 {
            (500, "app crashed")
        } else {
            (200, "done")
        }
    })
    .await;
    let listener = listen(&["--forward-to", &app.url]);
    let sample = fresh_provider_sample();
    let file = temp_file("forward.json", sample.as_bytes());
    let file = file.to_str().unwrap();

    let first = run(send(&listener.url, &["--file", file])).await;
    assert_eq!(first.status.code(), Some(1));
    assert_eq!(stdout(&first), "500 Internal Server Error\napp crashed\n");
    let line = listener.stderr_line_containing("whk_abc123:");
    assert!(line.contains("answered 500"), "{line}");

    // The provider's retry: the claim was released, so it is processed and forwarded again.
    let retry = run(send(&listener.url, &["--file", file])).await;
    assert!(retry.status.success(), "{}", stderr(&retry));
    assert_eq!(stdout(&retry), "200 OK\n");
    assert_eq!(listener.next_event()["webhookId"], "whk_abc123");

    // A third delivery is a duplicate: acknowledged, not forwarded.
    let duplicate = run(send(&listener.url, &["--file", file])).await;
    assert!(duplicate.status.success());
    listener.stderr_line_containing("whk_abc123: duplicate");

    let forwarded = app.received();
    assert_eq!(forwarded.len(), 2);
    for request in &forwarded {
        assert_eq!(request.body, sample.as_bytes());
        assert_eq!(request.content_type.as_deref(), Some("application/json"));
        let verified = Verifier::new("s")
            .verify(request.signature.as_deref(), &request.body)
            .unwrap();
        assert_eq!(verified.form(), SignedForm::Raw);
    }
    assert_no_more_events(&listener).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn forwarding_re_signs_with_the_secret_and_form_that_verified() {
    let app = Recorder::start(|_, _| (200, "ok")).await;
    let listener = Listener::start(&["--forward-to", &app.url], &[(SECRET_ENV, "new,s")]);
    let output = run(send(&listener.url, &["--pretty"])).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let forwarded = &app.received()[0];
    // Forwarded as signed: the pretty body verified through its canonical form, so that
    // form is what the app gets (nothing the signature does not cover).
    assert!(
        !forwarded.body.contains(&b'\n'),
        "forwarded in its signed form"
    );
    // Signed with "s" (the secret that verified, not the first).
    let verified = Verifier::new("s")
        .verify(forwarded.signature.as_deref(), &forwarded.body)
        .unwrap();
    assert_eq!(verified.form(), SignedForm::Raw);
    assert!(Verifier::new("new")
        .verify(forwarded.signature.as_deref(), &forwarded.body)
        .is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_forward_target_answers_502_and_the_retry_is_processed_later() {
    let listener = listen(&["--forward-to", &closed_url()]);
    let output = run(send(&listener.url, &["--webhook-id", "whk_lost"])).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).starts_with("502 Bad Gateway\n"),
        "{}",
        stdout(&output)
    );
    listener.stderr_line_containing("whk_lost: cannot forward");
    // Released: the retry reaches the (still unreachable) app again instead of a duplicate.
    let again = run(send(&listener.url, &["--webhook-id", "whk_lost"])).await;
    assert!(stdout(&again).starts_with("502 Bad Gateway\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_in_forward_to_is_never_printed() {
    // An app that fails (its URL is printed with the failure), and one that is unreachable.
    let failing = Recorder::start(|_, _| (500, "app crashed")).await;
    for (target, expected) in [
        (failing.url.clone(), "answered 500"),
        (closed_url(), "cannot forward to"),
    ] {
        let listener = listen(&["--forward-to", &with_password(&target)]);
        assert!(
            listener
                .ready
                .contains("forwarding to http://alice:***@127.0.0.1:"),
            "{}",
            listener.ready
        );
        let output = run(send(&listener.url, &["--webhook-id", "whk_secret"])).await;
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        let (events, messages) = listener.finish();
        assert_no_password(&[&stdout(&output), &stderr(&output), &events, &messages]);
        let line = messages
            .lines()
            .find(|line| line.contains("whk_secret:"))
            .unwrap_or_else(|| panic!("no line about whk_secret in {messages:?}"));
        assert!(
            line.contains(expected) && line.contains("http://alice:***@127.0.0.1:"),
            "{line}"
        );
    }
    assert_eq!(failing.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn forward_to_an_https_app_trusts_cacert() {
    let certificate = TestCertificate::generate("listen-cacert.pem");
    let app = Recorder::start_tls(&certificate, |_, _| (200, "done")).await;
    let listener = listen(&["--forward-to", &app.url, "--cacert", certificate.pem_arg()]);
    let output = run(send(&listener.url, &["--webhook-id", "whk_tls"])).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "200 OK\n");
    assert_eq!(listener.next_event()["webhookId"], "whk_tls");
    let forwarded = app.received();
    assert_eq!(forwarded.len(), 1);
    assert_eq!(forwarded[0].webhook_id(), "whk_tls");
    assert_eq!(forwarded[0].form(), SignedForm::Raw);
}

#[tokio::test(flavor = "multi_thread")]
async fn forward_to_an_untrusted_https_app_answers_502_with_a_cacert_hint() {
    let certificate = TestCertificate::generate("listen-untrusted.pem");
    let app = Recorder::start_tls(&certificate, |_, _| (200, "done")).await;
    let listener = listen(&["--forward-to", &app.url]);
    let output = run(send(&listener.url, &["--webhook-id", "whk_untrusted"])).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).starts_with("502 Bad Gateway\n"),
        "{}",
        stdout(&output)
    );
    let line = listener.stderr_line_containing("whk_untrusted: cannot forward");
    assert!(
        line.contains("invalid peer certificate") && line.contains("--cacert FILE"),
        "{line}"
    );
    assert!(app.received().is_empty());
}

#[test]
fn port_in_the_environment_sets_the_default_port() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_qa-webhooks"));
    command
        .arg("listen")
        .env(SECRET_ENV, "s")
        .env("PORT", port.to_string())
        .env_remove("REDIS_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let listener = Listener::spawn(command);
    assert_eq!(
        listener.url,
        format!("http://127.0.0.1:{port}/webhooks/thequickassist")
    );
}

#[test]
fn host_and_path_options_shape_the_url() {
    let listener = listen(&["--host", "127.0.0.1", "--path", "/hooks/qa"]);
    assert!(listener.url.ends_with("/hooks/qa"), "{}", listener.url);
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_url_shares_claims_between_two_receivers() {
    let redis = RedisServer::start().expect("redis-server on PATH");
    let url = redis.url();
    let envs = [(SECRET_ENV, "s"), ("REDIS_URL", url.as_str())];
    let first = Listener::start(&[], &envs);
    let second = Listener::start(&[], &envs);
    let processed = run(send(&first.url, &["--webhook-id", "whk_shared"])).await;
    assert!(processed.status.success(), "{}", stderr(&processed));
    assert_eq!(first.next_event()["webhookId"], "whk_shared");
    let duplicate = run(send(&second.url, &["--webhook-id", "whk_shared"])).await;
    assert!(duplicate.status.success(), "{}", stderr(&duplicate));
    second.stderr_line_containing("whk_shared: duplicate");
    assert_no_more_events(&second).await;
}

#[test]
fn startup_errors_exit_2_on_one_line() {
    for (args, envs) in [
        (vec!["listen", "--port", "0"], vec![]),
        (
            vec!["listen", "--port", "0", "--path", "no-slash"],
            vec![(SECRET_ENV, "s")],
        ),
        (
            vec!["listen", "--port", "0"],
            vec![(SECRET_ENV, "s"), ("REDIS_URL", "redis://127.0.0.1:1/")],
        ),
        (
            vec!["listen", "--port", "not-a-port"],
            vec![(SECRET_ENV, "s")],
        ),
        (
            vec![
                "listen",
                "--port",
                "0",
                "--forward-to",
                "http://127.0.0.1:9/",
                "--cacert",
                "/no/such/cert.pem",
            ],
            vec![(SECRET_ENV, "s")],
        ),
        (
            vec!["listen", "--port", "0", "--cacert", "/no/such/cert.pem"],
            vec![(SECRET_ENV, "s")],
        ),
    ] {
        let mut command = qa();
        command
            .args(&args)
            .env_remove("REDIS_URL")
            .env_remove("PORT");
        for (name, value) in envs {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn an_invalid_forward_to_url_is_refused_without_showing_its_password() {
    let output = qa_with_secret("s")
        .args([
            "listen",
            "--port",
            "0",
            "--forward-to",
            &format!("http://alice:{URL_PASSWORD}@[::1/app"),
        ])
        .env_remove("REDIS_URL")
        .env_remove("PORT")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert_no_password(&[&stdout(&output), &message]);
    assert!(
        message.contains("--forward-to \"http://alice:***@[::1/app\": invalid URL"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn secret_file_gives_each_account_its_own_route_and_secrets() {
    let file = temp_file(
        "accounts.txt",
        b"# local accounts\nacme=whsec_acme\nglobex=whsec_globex\n",
    );
    let listener = Listener::start(&["--secret-file", file.to_str().unwrap()], &[]);
    assert!(
        listener.url.ends_with("/webhooks/thequickassist/{account}"),
        "{}",
        listener.url
    );
    let url = |account: &str| listener.url.replace("{account}", account);
    let send_as = |secret: &str, account: &str| {
        let mut command = qa_with_secret(secret);
        command.args(["send", &url(account), "--webhook-id", "whk_acct"]);
        command
    };
    let own = run(send_as("whsec_acme", "acme")).await;
    assert!(own.status.success(), "{}", stderr(&own));
    assert_eq!(listener.next_event()["webhookId"], "whk_acct");
    // Another account's secret on acme's route is refused, and the reverse.
    let forged = run(send_as("whsec_globex", "acme")).await;
    assert!(!forged.status.success());
    listener.stderr_line_containing("invalid_signature");
    // The same webhookId on globex's own route is globex's first delivery.
    let other = run(send_as("whsec_globex", "globex")).await;
    assert!(other.status.success(), "{}", stderr(&other));
    assert_eq!(listener.next_event()["webhookId"], "whk_acct");
    let unknown = run(send_as("whsec_acme", "initech")).await;
    assert!(!unknown.status.success());
    listener.stderr_line_containing("unknown_account");
}

/// The provider's sample, stamped now: inside the default replay window.
fn fresh_provider_sample() -> String {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    PROVIDER_SAMPLE.replace("2024-01-15T10:30:00Z", &now)
}
