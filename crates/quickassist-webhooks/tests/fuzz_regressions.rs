//! Inputs the fuzzers (`fuzz/`, run with `cargo +nightly fuzz run <target>`) found
//! interesting, replayed on every `cargo test` with the same invariants the fuzz targets
//! assert. Add a file under `fuzz/regressions/<target>/` to pin a new case.

use std::{fs, path::PathBuf};

use quickassist_webhooks::{
    canonical::canonicalize, parse_envelope, sign, Event, Secret, Verifier, VerifyError,
};

fn cases(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions")
        .join(target);
    let mut cases: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("a directory entry").path();
            (
                path.display().to_string(),
                fs::read(&path).expect("a readable input"),
            )
        })
        .collect();
    cases.sort();
    assert!(
        !cases.is_empty(),
        "no regression inputs in {}",
        dir.display()
    );
    cases
}

#[test]
fn canonical_regressions_hold_the_fuzz_invariants() {
    for (name, data) in cases("canonical") {
        if let Ok(out) = canonicalize(&data) {
            assert_eq!(canonicalize(&out).unwrap(), out, "{name}");
        }
    }
}

#[test]
fn envelope_regressions_round_trip() {
    for (name, data) in cases("envelope") {
        if let Ok(envelope) = parse_envelope::<Event>(&data) {
            let json = serde_json::to_vec(&envelope).unwrap();
            assert_eq!(parse_envelope::<Event>(&json).unwrap(), envelope, "{name}");
        }
    }
}

#[test]
fn verify_regressions_never_panic_and_signed_bodies_verify() {
    let verifier = Verifier::new("fuzz-secret").with_secret("second");
    for (name, data) in cases("verify") {
        let _ = verifier.verify_bytes(Some(&data), &data);
        let signature = sign(&Secret::from("second"), &data);
        assert!(verifier.verify(Some(&signature), &data).is_ok(), "{name}");
    }
}

#[test]
fn signature_header_regressions_are_classified_exactly() {
    for (name, header) in cases("signature_header") {
        let result = Verifier::new("k")
            .raw_only()
            .verify_bytes(Some(&header), b"{}");
        let trimmed = header.trim_ascii();
        let hex = trimmed.strip_prefix(b"sha256=").unwrap_or(trimmed);
        let well_formed = hex.len() == 64 && hex.iter().all(u8::is_ascii_hexdigit);
        match result {
            Err(VerifyError::MalformedSignature) => assert!(!well_formed, "{name}"),
            _ => assert!(well_formed, "{name}"),
        }
    }
}
