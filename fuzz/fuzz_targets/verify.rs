//! `Verifier::verify_bytes` on an arbitrary header and body: never panics, and a body signed
//! with the secret always verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quickassist_webhooks::{sign, Secret, Verifier};

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |&b| usize::from(b)).min(data.len().saturating_sub(1));
    let (header, body) = data.get(1..).unwrap_or_default().split_at(split.min(data.len().saturating_sub(1)));
    let verifier = Verifier::new("fuzz-secret").with_secret("second").with_max_body(64 * 1024);
    let _ = verifier.verify_bytes(Some(header), body);
    let _ = verifier.verify_bytes(None, body);
    if body.len() <= 64 * 1024 {
        let signature = sign(&Secret::from("second"), body);
        let verified = verifier.verify(Some(&signature), body).expect("a signed body verifies");
        assert_eq!(verified.key_index(), 1);
    }
});
