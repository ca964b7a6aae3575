//! `qa-webhooks sign`: the signature of the raw bytes, from a file or standard input.

mod common;

use common::{
    assert_one_line, qa, qa_with_secret, signature_vectors, stderr, temp_file, PROVIDER_SIGNATURE,
};
use quickassist_webhooks::testing::PROVIDER_SAMPLE;

#[test]
fn signs_standard_input_like_node_crypto() {
    for vector in signature_vectors() {
        let output = qa_with_secret(&vector.secret)
            .arg("sign")
            .write_stdin(vector.body.as_bytes())
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(output.stdout, format!("{}\n", vector.raw).as_bytes());
    }
}

#[test]
fn canonical_flag_signs_what_the_providers_receiver_checks() {
    for vector in signature_vectors() {
        let output = qa_with_secret(&vector.secret)
            .args(["sign", "--canonical", "-"])
            .write_stdin(vector.body.as_bytes())
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(output.stdout, format!("{}\n", vector.canonical).as_bytes());
    }
}

#[test]
fn signs_a_file_with_the_secret_flag() {
    let file = temp_file("sign.json", PROVIDER_SAMPLE.as_bytes());
    qa().args(["sign", "--secret", "whsec_test"])
        .arg(&file)
        .assert()
        .success()
        .stdout(format!("{PROVIDER_SIGNATURE}\n"));
}

#[test]
fn the_first_of_several_secrets_signs() {
    qa_with_secret("whsec_test,whsec_old")
        .arg("sign")
        .write_stdin(PROVIDER_SAMPLE)
        .assert()
        .success()
        .stdout(format!("{PROVIDER_SIGNATURE}\n"));
}

#[test]
fn the_secret_flag_wins_over_the_environment() {
    qa_with_secret("whsec_wrong")
        .args(["sign", "--secret", "whsec_test"])
        .write_stdin(PROVIDER_SAMPLE)
        .assert()
        .success()
        .stdout(format!("{PROVIDER_SIGNATURE}\n"));
}

#[test]
fn no_secret_is_a_usage_error_on_one_line() {
    let output = qa().arg("sign").write_stdin("{}").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let message = stderr(&output);
    assert_one_line(&message);
    assert!(message.contains("QUICKASSIST_WEBHOOK_SECRET"), "{message}");
}

#[test]
fn a_missing_file_is_an_io_error_on_one_line() {
    let output = qa_with_secret("s")
        .args(["sign", "/no/such/file.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert_one_line(&message);
    assert!(
        message.contains("cannot open /no/such/file.json"),
        "{message}"
    );
}

#[test]
fn canonical_flag_on_input_that_is_not_json_is_a_negative_answer() {
    let output = qa_with_secret("s")
        .args(["sign", "--canonical"])
        .write_stdin("{oops")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert_one_line(&stderr(&output));
    assert!(stderr(&output).contains("not JSON"));
}

#[test]
fn help_says_the_environment_is_safer() {
    let output = qa().args(["sign", "--help"]).output().unwrap();
    assert!(output.status.success());
    let help = common::stdout(&output);
    assert!(help.contains("QUICKASSIST_WEBHOOK_SECRET"), "{help}");
    assert!(help.contains("ps"), "{help}");
}

#[test]
fn usage_errors_exit_2() {
    qa().args(["sign", "a", "b"]).assert().code(2);
    qa().arg("frobnicate").assert().code(2);
    qa().assert().code(2);
}
