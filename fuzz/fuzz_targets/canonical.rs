//! `canonicalize` on arbitrary bytes: never panics; when it succeeds the output is accepted
//! again and is a fixed point (canonical of canonical). (serde_json is no second oracle here:
//! it refuses lone-surrogate escapes, numbers beyond f64 and nesting past 128, all of which
//! JSON.parse accepts; the Node differential test in `cargo test` is the oracle.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use quickassist_webhooks::canonical::canonicalize;

fuzz_target!(|data: &[u8]| {
    if let Ok(out) = canonicalize(data) {
        let again = canonicalize(&out).expect("canonical output is accepted");
        assert_eq!(again, out, "canonical form is a fixed point");
    }
});
