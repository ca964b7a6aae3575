//! Helpers shared by the integration tests: the built binary, and the core's Node vectors.

// Test helpers panic on failure like the tests that call them.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::path::PathBuf;

use serde::Deserialize;

/// The environment variable the binary reads its secret(s) from.
pub const SECRET_ENV: &str = "QUICKASSIST_WEBHOOK_SECRET";

/// The provider's documented payload, signed with `whsec_test` (from the Node vectors).
pub const PROVIDER_SIGNATURE: &str =
    "e36fbb05b58facfb73a3daae48d369fbcc183496137182831cf5f19d90ce41af";

/// `qa-webhooks` with no secret in its environment, whatever the test runner's is.
pub fn qa() -> assert_cmd::Command {
    let mut command = assert_cmd::Command::cargo_bin("qa-webhooks").unwrap();
    command.env_remove(SECRET_ENV);
    command
}

/// `qa-webhooks` with `secret` in its environment.
pub fn qa_with_secret(secret: &str) -> assert_cmd::Command {
    let mut command = qa();
    command.env(SECRET_ENV, secret);
    command
}

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../quickassist-webhooks/tests/vectors")
}

/// One `tests/vectors/canonical.json` entry: Node's `JSON.stringify(JSON.parse(input))`, or
/// `None` where `JSON.parse` throws.
#[derive(Debug, Deserialize)]
pub struct CanonicalVector {
    pub input: String,
    pub output: Option<String>,
}

pub fn canonical_vectors() -> Vec<CanonicalVector> {
    let text = std::fs::read_to_string(vectors_dir().join("canonical.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// One `tests/vectors/signatures.json` entry: Node's HMACs of a body and of its
/// `JSON.stringify` form.
#[derive(Debug, Deserialize)]
pub struct SignatureVector {
    pub secret: String,
    pub body: String,
    pub raw: String,
    pub canonical: String,
}

pub fn signature_vectors() -> Vec<SignatureVector> {
    let text = std::fs::read_to_string(vectors_dir().join("signatures.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Standard error as text.
pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Standard output as text.
pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Asserts that `text` is exactly one line.
pub fn assert_one_line(text: &str) {
    assert!(
        text.ends_with('\n') && text.matches('\n').count() == 1,
        "not one line: {text:?}"
    );
}

/// The password [`with_password`] puts in URLs; no output may contain it.
pub const URL_PASSWORD: &str = "hunter2-not-for-logs";

/// `url` with the user `alice` and [`URL_PASSWORD`] in it.
pub fn with_password(url: &str) -> String {
    url.replacen("://", &format!("://alice:{URL_PASSWORD}@"), 1)
}

/// Asserts that nothing in `texts` shows [`URL_PASSWORD`].
pub fn assert_no_password(texts: &[&str]) {
    for text in texts {
        assert!(
            !text.contains(URL_PASSWORD),
            "the password is shown: {text:?}"
        );
    }
}

/// Writes `contents` to a file named `name` in a directory unique to this test process.
pub fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qa-webhooks-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

pub mod listener;
pub mod server;
pub mod tls;
