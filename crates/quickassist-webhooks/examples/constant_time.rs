//! dudect-style statistical timing check of signature verification: signatures of equal
//! length that differ from the expected one in the FIRST byte (class Left) versus the LAST
//! byte (class Right) must not be distinguishable by their timing. An early-exit comparison
//! leaks exactly this; Welch's t-test on the two timing distributions shows it.
//!
//!     cargo run --release -p quickassist-webhooks --example constant_time
//!     cargo run --release -p quickassist-webhooks --example constant_time -- --continuous verify_first_vs_last_byte
//!
//! (An example rather than a `cargo bench` target: dudect's runner has its own command line.)
//!
//! Read the output's `max t`: |t| below ~5 after millions of samples means no detectable leak;
//! above 10 is a leak. `naive_eq_first_vs_last_byte` is the positive control: `==` on the
//! decoded tags, which stops at the first difference.

// dudect's macro generates an undocumented `main`; setup may unwrap.
#![allow(missing_docs, clippy::unwrap_used)]

use dudect_bencher::{ctbench_main, rand::RngExt, BenchRng, Class, CtRunner};
use quickassist_webhooks::{sign, testing::PROVIDER_SAMPLE, Secret, Verifier};

const SECRET: &str = "whsec_constant_time";
const SAMPLES: usize = 100_000;

/// The expected signature with one byte (`index` of 32) changed.
fn differing_at(signature: &str, index: usize) -> String {
    let mut tag = hex::decode(signature).unwrap();
    tag[index] ^= 0x55;
    hex::encode(tag)
}

fn classes(rng: &mut BenchRng) -> Vec<Class> {
    (0..SAMPLES)
        .map(|_| {
            if rng.random::<bool>() {
                Class::Left
            } else {
                Class::Right
            }
        })
        .collect()
}

fn verify_first_vs_last_byte(runner: &mut CtRunner, rng: &mut BenchRng) {
    let body = PROVIDER_SAMPLE.as_bytes();
    let expected = sign(&Secret::from(SECRET), body);
    let first = differing_at(&expected, 0);
    let last = differing_at(&expected, 31);
    let verifier = Verifier::new(SECRET).raw_only();
    for class in classes(rng) {
        let signature = match class {
            Class::Left => &first,
            Class::Right => &last,
        };
        runner.run_one(class, || verifier.verify(Some(signature), body).is_err());
    }
}

fn naive_eq_first_vs_last_byte(runner: &mut CtRunner, rng: &mut BenchRng) {
    let expected = [0x42u8; 4096];
    let mut first = expected;
    first[0] ^= 1;
    let mut last = expected;
    last[4095] ^= 1;
    for class in classes(rng) {
        let candidate = match class {
            Class::Left => &first,
            Class::Right => &last,
        };
        runner.run_one(class, || {
            std::hint::black_box(candidate) == std::hint::black_box(&expected)
        });
    }
}

ctbench_main!(verify_first_vs_last_byte, naive_eq_first_vs_last_byte);
