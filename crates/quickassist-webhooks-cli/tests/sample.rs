//! `qa-webhooks sample EVENT`: realistic, fresh payloads of the documented event types.

mod common;

use chrono::Utc;
use common::{assert_one_line, qa, qa_with_secret, stderr, stdout};
use quickassist_webhooks::{canonical::canonicalize, parse_envelope, Event};

#[test]
fn every_documented_event_has_a_fresh_typed_sample_stamped_now() {
    for name in Event::DOCUMENTED {
        let first = qa().args(["sample", name]).output().unwrap();
        let second = qa().args(["sample", name]).output().unwrap();
        assert!(first.status.success(), "{}", stderr(&first));
        let one = parse_envelope::<Event>(&first.stdout).unwrap();
        let two = parse_envelope::<Event>(&second.stdout).unwrap();
        assert_eq!(one.event.name(), name);
        assert!(!matches!(one.event, Event::Unknown { .. }), "{name}");
        assert_ne!(one.webhook_id, two.webhook_id);
        assert!(one.webhook_id.starts_with("whk_"));
        let age = Utc::now() - one.timestamp;
        assert!(age.num_seconds().abs() < 60, "{name}: {age}");
        // Compact, in the JSON.stringify form the provider signs, with no trailing newline
        // in a pipe.
        assert_eq!(canonicalize(&first.stdout).unwrap(), first.stdout);
    }
}

#[test]
fn a_piped_sample_signs_and_verifies_as_sent() {
    let sample = qa()
        .args(["sample", "message.failed"])
        .output()
        .unwrap()
        .stdout;
    let signature = stdout(
        &qa_with_secret("s")
            .arg("sign")
            .write_stdin(sample.clone())
            .output()
            .unwrap(),
    );
    qa_with_secret("s")
        .args(["verify", "-s", signature.trim()])
        .write_stdin(sample)
        .assert()
        .success()
        .stdout("valid: signed over the raw bytes\n");
}

#[test]
fn webhook_id_and_pretty_options() {
    let output = qa()
        .args([
            "sample",
            "message.read",
            "--webhook-id",
            "whk_fixed",
            "--pretty",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(output.stdout.contains(&b'\n'));
    let envelope = parse_envelope::<Event>(&output.stdout).unwrap();
    assert_eq!(envelope.webhook_id, "whk_fixed");
}

#[test]
fn an_unknown_event_exits_2_listing_the_documented_ones() {
    let output = qa().args(["sample", "contact.created"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let message = stderr(&output);
    assert_one_line(&message);
    for name in Event::DOCUMENTED {
        assert!(message.contains(name), "{message}");
    }
    qa().arg("sample").assert().code(2);
}
