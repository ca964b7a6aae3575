//! The signature-header parser, through the public API: arbitrary header bytes never panic,
//! and only a 64-hex-digit value (after trimming and an optional `sha256=`) is well formed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quickassist_webhooks::{Verifier, VerifyError};

fuzz_target!(|header: &[u8]| {
    let result = Verifier::new("k").raw_only().verify_bytes(Some(header), b"{}");
    let trimmed = header.trim_ascii();
    let hex = trimmed.strip_prefix(b"sha256=").unwrap_or(trimmed);
    let well_formed = hex.len() == 64 && hex.iter().all(u8::is_ascii_hexdigit);
    match result {
        Err(VerifyError::MalformedSignature) => assert!(!well_formed),
        Err(VerifyError::InvalidSignature) | Ok(_) => assert!(well_formed),
        Err(other) => panic!("unexpected {other:?}"),
    }
});
