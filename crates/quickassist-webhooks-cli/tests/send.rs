//! `qa-webhooks send` against a real in-test HTTP server.

mod common;

use std::collections::HashSet;

use common::{
    assert_no_password, assert_one_line,
    listener::Listener,
    qa, qa_with_secret,
    server::{closed_url, run, Received, Recorder},
    stderr, stdout, temp_file,
    tls::TestCertificate,
    with_password, SECRET_ENV, URL_PASSWORD,
};
use quickassist_webhooks::{parse_envelope, Event, SignedForm};

fn send(url: &str, args: &[&str]) -> assert_cmd::Command {
    let mut command = qa_with_secret("s");
    command.args(["send", url]).args(args);
    command
}

#[tokio::test(flavor = "multi_thread")]
async fn one_signed_event_is_posted_and_its_status_printed() {
    let server = Recorder::start(|_, _| (200, "ok")).await;
    let output = run(send(&server.url, &[])).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "200 OK\n");
    assert!(output.stderr.is_empty());
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].path, "/hook");
    assert_eq!(
        received[0].content_type.as_deref(),
        Some("application/json")
    );
    assert_eq!(received[0].form(), SignedForm::Raw);
    let envelope = parse_envelope::<Event>(&received[0].body).unwrap();
    assert_eq!(envelope.event.name(), Event::MESSAGE_DELIVERED);
}

#[tokio::test(flavor = "multi_thread")]
async fn event_type_and_webhook_id_options_shape_the_body() {
    let server = Recorder::start(|_, _| (204, "")).await;
    let output = run(send(
        &server.url,
        &[
            "--event",
            "template.status_update",
            "--webhook-id",
            "whk_pinned",
        ],
    ))
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "204 No Content\n");
    let envelope = parse_envelope::<Event>(&server.received()[0].body).unwrap();
    assert_eq!(envelope.event.name(), Event::TEMPLATE_STATUS_UPDATE);
    assert_eq!(envelope.webhook_id, "whk_pinned");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_non_2xx_answer_prints_status_and_body_and_exits_1() {
    let server = Recorder::start(|_, _| (503, r#"{"error":"down for maintenance"}"#)).await;
    let output = run(send(&server.url, &[])).await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        "503 Service Unavailable\n{\"error\":\"down for maintenance\"}\n"
    );
    assert_one_line(&stderr(&output));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_receiver_exits_2_on_one_line() {
    let url = closed_url();
    let output = run(send(&url, &[])).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let message = stderr(&output);
    assert_one_line(&message);
    assert!(message.contains("cannot reach"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn repeat_sends_fresh_ids_concurrently_and_summarizes() {
    let server = Recorder::start(|_, _| (200, "ok")).await;
    let output = run(send(&server.url, &["--repeat", "30", "--concurrency", "5"])).await;
    assert!(output.status.success(), "{}", stderr(&output));
    // Not a terminal: no progress line.
    assert!(output.stderr.is_empty(), "{}", stderr(&output));
    let summary = stdout(&output);
    let lines: Vec<&str> = summary.lines().collect();
    assert_eq!(lines.len(), 3, "{summary}");
    assert!(lines[0].starts_with("30 requests in "), "{summary}");
    assert!(
        lines[0].ends_with(" requests/s (concurrency 5)"),
        "{summary}"
    );
    assert_eq!(lines[1], "  200 OK: 30");
    assert!(
        lines[2].starts_with("latency p50 ") && lines[2].contains(", p99 "),
        "{summary}"
    );
    let received = server.received();
    assert_eq!(received.len(), 30);
    let ids: HashSet<String> = received.iter().map(Received::webhook_id).collect();
    assert_eq!(ids.len(), 30);
    assert!(received.iter().all(|r| r.form() == SignedForm::Raw));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_summary_counts_the_duplicates_a_receiver_acknowledges() {
    let listener = Listener::start(&[], &[(SECRET_ENV, "s")]);
    let output = run(send(
        &listener.url,
        &["--repeat", "5", "--webhook-id", "whk_dup"],
    ))
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let summary = stdout(&output);
    let lines: Vec<&str> = summary.lines().collect();
    assert_eq!(lines.len(), 3, "{summary}");
    assert_eq!(lines[1], "  200 OK: 5 (4 duplicates)", "{summary}");
    assert_eq!(listener.next_event()["webhookId"], "whk_dup");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pinned_id_repeats_the_same_delivery() {
    let server = Recorder::start(|_, _| (200, "ok")).await;
    let output = run(send(
        &server.url,
        &[
            "--repeat",
            "4",
            "--webhook-id",
            "whk_retry",
            "--event",
            "message.read",
        ],
    ))
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let received = server.received();
    assert_eq!(received.len(), 4);
    assert!(received.iter().all(|r| r.body == received[0].body));
    assert!(received
        .iter()
        .all(|r| r.signature == received[0].signature));
    assert_eq!(received[0].webhook_id(), "whk_retry");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_summary_counts_each_status_and_non_2xx_exits_1() {
    let server = Recorder::start(|n, _| if n % 3 == 0 { (500, "no") } else { (200, "ok") }).await;
    let output = run(send(&server.url, &["--repeat", "30", "--concurrency", "3"])).await;
    assert_eq!(output.status.code(), Some(1));
    let summary = stdout(&output);
    assert!(summary.contains("\n  200 OK: 20\n"), "{summary}");
    assert!(
        summary.contains("\n  500 Internal Server Error: 10\n"),
        "{summary}"
    );
    assert_eq!(
        stderr(&output),
        "qa-webhooks: 10 of 30 responses were not 2xx\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn repeat_against_an_unreachable_receiver_counts_failures_and_exits_2() {
    let url = closed_url();
    let output = run(send(&url, &["--repeat", "3"])).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stdout(&output).contains("  failed (connect): 3\n"),
        "{}",
        stdout(&output)
    );
    let message = stderr(&output);
    assert_one_line(&message);
    assert!(
        message.contains("3 of 3 requests got no response"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_is_sent_byte_for_byte_once_and_with_fresh_ids_when_repeated() {
    let pretty = b"{\n  \"event\": \"message.read\",\n  \"timestamp\": \"2024-01-15T10:30:00Z\",\n  \"data\": {\"messageId\": \"m1\"},\n  \"webhookId\": \"whk_file\"\n}\n";
    let file = temp_file("send-file.json", pretty);
    let file = file.to_str().unwrap();
    let server = Recorder::start(|_, _| (200, "ok")).await;

    let once = run(send(&server.url, &["--file", file])).await;
    assert!(once.status.success(), "{}", stderr(&once));
    let received = server.received();
    assert_eq!(received[0].body, pretty);
    assert_eq!(received[0].form(), SignedForm::Raw);

    let repeated = run(send(&server.url, &["--file", file, "--repeat", "3"])).await;
    assert!(repeated.status.success(), "{}", stderr(&repeated));
    let received = server.received();
    let ids: HashSet<String> = received[1..].iter().map(Received::webhook_id).collect();
    assert_eq!(ids.len(), 3);
    assert!(!ids.contains("whk_file"));
    for request in &received[1..] {
        let envelope = parse_envelope::<Event>(&request.body).unwrap();
        assert_eq!(envelope.event.name(), Event::MESSAGE_READ);
        assert_eq!(request.form(), SignedForm::Raw);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pretty_bodies_are_signed_over_their_json_stringify_form() {
    let server = Recorder::start(|_, _| (200, "ok")).await;
    let output = run(send(&server.url, &["--pretty"])).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let received = server.received();
    assert!(received[0].body.contains(&b'\n'));
    assert_eq!(received[0].form(), SignedForm::Canonical);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_explicit_signature_is_sent_as_is() {
    let server = Recorder::start(|_, r| {
        if r.signature.as_deref() == Some("sha256=nope") {
            (401, r#"{"error":"malformed_signature"}"#)
        } else {
            (200, "ok")
        }
    })
    .await;
    let output = run(send(&server.url, &["--signature", "sha256=nope"])).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).starts_with("401 Unauthorized\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_in_the_url_is_never_printed() {
    let server = Recorder::start(|_, _| (503, "down")).await;
    let answered = run(send(&with_password(&server.url), &[])).await;
    assert_eq!(answered.status.code(), Some(1));
    assert_no_password(&[&stdout(&answered), &stderr(&answered)]);

    let closed = with_password(&closed_url());
    for args in [vec![], vec!["--repeat", "3"]] {
        let output = run(send(&closed, &args)).await;
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let message = stderr(&output);
        assert_no_password(&[&stdout(&output), &message]);
        assert!(
            message.contains("cannot reach http://alice:***@127.0.0.1:"),
            "{message}"
        );
    }

    // Text that is not a URL is echoed in the error, without the password.
    let output = qa_with_secret("s")
        .args(["send", &format!("http://alice:{URL_PASSWORD}@[::1/hook")])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert_no_password(&[&stdout(&output), &message]);
    assert!(message.contains("http://alice:***@[::1/hook"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cacert_trusts_a_self_signed_https_receiver() {
    let certificate = TestCertificate::generate("send-cacert.pem");
    let server = Recorder::start_tls(&certificate, |_, _| (200, "ok")).await;
    assert!(
        server.url.starts_with("https://localhost:"),
        "{}",
        server.url
    );

    let output = run(send(&server.url, &["--cacert", certificate.pem_arg()])).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "200 OK\n");
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].form(), SignedForm::Raw);

    let output = run(send(
        &server.url,
        &["--repeat", "3", "--cacert", certificate.pem_arg()],
    ))
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(server.received().len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_untrusted_certificate_fails_with_a_cacert_hint() {
    let certificate = TestCertificate::generate("send-untrusted.pem");
    let server = Recorder::start_tls(&certificate, |_, _| (200, "ok")).await;
    let output = run(send(&server.url, &[])).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let message = stderr(&output);
    assert_one_line(&message);
    assert!(
        message.contains("cannot reach https://localhost:")
            && message.contains("invalid peer certificate")
            && message.contains("pass it with --cacert FILE"),
        "{message}"
    );
    // Another certificate does not help either.
    let other = TestCertificate::generate("send-other.pem");
    let output = run(send(&server.url, &["--cacert", other.pem_arg()])).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("invalid peer certificate"));
    assert!(server.received().is_empty());
}

#[test]
fn an_unusable_cacert_file_is_a_usage_error() {
    let not_pem = temp_file("not-a-certificate.pem", b"hello\n");
    let bad_base64 = temp_file(
        "bad-base64.pem",
        b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    );
    let not_der = temp_file(
        "not-der.pem",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    for (file, expected) in [
        ("/no/such/cert.pem", "cannot read it"),
        (not_pem.to_str().unwrap(), "no PEM certificate in it"),
        (bad_base64.to_str().unwrap(), "not a PEM certificate file"),
        (not_der.to_str().unwrap(), "cannot trust its certificates"),
    ] {
        let output = qa_with_secret("s")
            .args(["send", "https://127.0.0.1:9/hook", "--cacert", file])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{file}: {}", stderr(&output));
        let message = stderr(&output);
        assert_one_line(&message);
        assert!(
            message.contains(&format!("--cacert {file}: {expected}")),
            "{message}"
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    let url = "http://127.0.0.1:9/hook";
    for args in [
        vec!["send", "not a url"],
        vec!["send", url, "--event", "contact.created"],
        vec!["send", url, "--event", "message.read", "--file", "x.json"],
        vec!["send", url, "--repeat", "0"],
        vec!["send", url, "--file", "/no/such/file"],
    ] {
        let output = qa_with_secret("s").args(&args).output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    let output = qa().args(["send", url]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("no secret"));
}
