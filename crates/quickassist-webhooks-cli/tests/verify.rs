//! `qa-webhooks verify`: which form and secret matched, or why nothing did, never the
//! expected signature.

mod common;

use common::{
    assert_one_line, qa, qa_with_secret, signature_vectors, stderr, stdout, temp_file,
    PROVIDER_SIGNATURE,
};
use quickassist_webhooks::{canonical::canonicalize, sign, testing::PROVIDER_SAMPLE, Secret};

#[test]
fn node_signatures_verify_and_name_the_form_that_matched() {
    for vector in signature_vectors() {
        let raw = qa_with_secret(&vector.secret)
            .args(["verify", "--signature", &vector.raw])
            .write_stdin(vector.body.as_bytes())
            .output()
            .unwrap();
        assert!(raw.status.success(), "{}", stderr(&raw));
        assert_eq!(stdout(&raw), "valid: signed over the raw bytes\n");

        let documented = qa_with_secret(&vector.secret)
            .args(["verify", "-s", &vector.canonical, "-"])
            .write_stdin(vector.body.as_bytes())
            .output()
            .unwrap();
        assert!(documented.status.success(), "{}", stderr(&documented));
        let expected = if vector.raw == vector.canonical {
            "valid: signed over the raw bytes\n"
        } else {
            "valid: signed over the JSON.stringify form, not the raw bytes (the body was \
             re-serialized after signing)\n"
        };
        assert_eq!(stdout(&documented), expected, "{}", vector.body);
    }
}

#[test]
fn a_wrong_secret_is_a_negative_answer_that_never_shows_the_expected_signature() {
    for vector in signature_vectors() {
        let output = qa_with_secret("whsec_wrong")
            .args(["verify", "--signature", &vector.canonical])
            .write_stdin(vector.body.as_bytes())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{}", vector.body);
        assert!(output.stdout.is_empty());
        let message = stderr(&output);
        assert_one_line(&message);
        assert!(
            message.starts_with("qa-webhooks: invalid signature"),
            "{message}"
        );
        // Neither the signatures the real secret makes nor those the given secret expects.
        let wrong = Secret::from("whsec_wrong");
        let canonical = canonicalize(vector.body.as_bytes()).unwrap();
        for never in [
            vector.raw.clone(),
            vector.canonical.clone(),
            sign(&wrong, vector.body.as_bytes()),
            sign(&wrong, &canonical),
        ] {
            assert!(!message.contains(&never), "{message}");
        }
        let differs = vector.raw != vector.canonical;
        assert_eq!(
            message.contains("the JSON.stringify form differs from the raw bytes"),
            differs,
            "{message}"
        );
        assert_eq!(
            message.contains("already in its JSON.stringify form"),
            !differs,
            "{message}"
        );
    }
}

#[test]
fn the_expected_signature_under_the_given_secret_is_never_printed() {
    let expected_under_wrong = {
        let output = qa_with_secret("whsec_wrong")
            .arg("sign")
            .write_stdin(PROVIDER_SAMPLE)
            .output()
            .unwrap();
        stdout(&output).trim().to_owned()
    };
    let output = qa_with_secret("whsec_wrong")
        .args(["verify", "-s", PROVIDER_SIGNATURE])
        .write_stdin(PROVIDER_SAMPLE)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(!stderr(&output).contains(&expected_under_wrong));
    assert!(!stdout(&output).contains(&expected_under_wrong));
}

#[test]
fn a_pretty_body_signed_over_other_bytes_points_at_the_canonical_difference() {
    let pretty = "{\n  \"event\": \"message.read\",\n  \"webhookId\": \"whk_1\"\n}";
    let output = qa_with_secret("whsec_test")
        .args(["verify", "-s", PROVIDER_SIGNATURE])
        .write_stdin(pretty)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("neither the raw bytes nor their JSON.stringify form"),
        "{message}"
    );
    assert!(message.contains("(from byte 1)"), "{message}");
}

#[test]
fn raw_only_refuses_a_canonical_signature_and_says_so() {
    let vector = signature_vectors()
        .into_iter()
        .find(|vector| vector.raw != vector.canonical)
        .unwrap();
    let output = qa_with_secret(&vector.secret)
        .args(["verify", "--raw-only", "-s", &vector.canonical])
        .write_stdin(vector.body.as_bytes())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("--raw-only"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn input_that_is_not_json_can_only_match_its_raw_bytes() {
    let signed = qa_with_secret("s")
        .arg("sign")
        .write_stdin("not json")
        .output()
        .unwrap();
    let signature = stdout(&signed).trim().to_owned();
    qa_with_secret("s")
        .args(["verify", "-s", &signature])
        .write_stdin("not json")
        .assert()
        .success()
        .stdout("valid: signed over the raw bytes\n");
    let output = qa_with_secret("s")
        .args(["verify", "-s", PROVIDER_SIGNATURE])
        .write_stdin("not json")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert_one_line(&message);
    assert!(message.contains("the input is not JSON"), "{message}");
}

#[test]
fn several_secrets_say_which_one_matched() {
    let file = temp_file("verify-rotation.json", PROVIDER_SAMPLE.as_bytes());
    qa().args(["verify", "--secret", "whsec_new", "--secret", "whsec_test"])
        .args(["-s", PROVIDER_SIGNATURE])
        .arg(&file)
        .assert()
        .success()
        .stdout("valid: signed over the raw bytes, with secret 2 of 2\n");
    qa_with_secret("whsec_test, whsec_new,whsec_older")
        .args(["verify", "-s", PROVIDER_SIGNATURE])
        .arg(&file)
        .assert()
        .success()
        .stdout("valid: signed over the raw bytes, with secret 1 of 3\n");
    let output = qa_with_secret("a,b")
        .args(["verify", "-s", PROVIDER_SIGNATURE])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("under any of the 2 secrets"));
}

#[test]
fn a_signature_that_is_not_hex_is_a_negative_answer() {
    let output = qa_with_secret("s")
        .args(["verify", "-s", "not-a-signature"])
        .write_stdin(PROVIDER_SAMPLE)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_one_line(&stderr(&output));
    assert!(stderr(&output).contains("not 64 hexadecimal digits"));
}

#[test]
fn the_sha256_prefix_is_accepted() {
    qa_with_secret("whsec_test")
        .args(["verify", "-s", &format!("sha256={PROVIDER_SIGNATURE}")])
        .write_stdin(PROVIDER_SAMPLE)
        .assert()
        .success();
}

#[test]
fn usage_and_io_errors_exit_2() {
    // No --signature.
    qa_with_secret("s")
        .arg("verify")
        .write_stdin(PROVIDER_SAMPLE)
        .assert()
        .code(2);
    // No secret.
    let output = qa()
        .args(["verify", "-s", PROVIDER_SIGNATURE])
        .write_stdin(PROVIDER_SAMPLE)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_one_line(&stderr(&output));
    // Unreadable file.
    qa_with_secret("s")
        .args(["verify", "-s", PROVIDER_SIGNATURE, "/no/such/file"])
        .assert()
        .code(2);
}
