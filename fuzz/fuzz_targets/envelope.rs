//! `parse_envelope` on arbitrary bytes: never panics; what parses serializes and parses back
//! to the same envelope.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quickassist_webhooks::{parse_envelope, Event};

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = parse_envelope::<Event>(data) {
        let json = serde_json::to_vec(&envelope).expect("an envelope serializes");
        let back = parse_envelope::<Event>(&json).expect("serialized envelopes parse");
        assert_eq!(back, envelope);
    }
});
