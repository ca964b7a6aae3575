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
//! Read the output's `max t`: |t| below ~5 after millions of samples means no detectable
//! difference, above 10 a difference. Two controls tell a leak from noise:
//!
//! - `naive_eq_first_vs_last_byte`, the positive control: `==`, which stops at the first
//!   difference, reaches |t| in the hundreds within 100,000 samples;
//! - `other_secret_same_inputs` sends the same two headers to a verifier with another secret:
//!   whatever `t` it reaches comes from the headers' own bytes (parsing what the sender
//!   wrote, which is no secret), not from where they differ from the expected tag;
//!   `verify_same_bytes_two_buffers` sends identical bytes from two buffers.
//!
//! Over tens of millions of samples (`--continuous`), `verify_first_vs_last_byte` drifts to
//! |t| of 10 to 50 on this kind of machine, with a sign that changes from run to run, while
//! `other_secret_same_inputs` reaches as much or more: the residual is the input bytes, not
//! the secret comparison (figures in BENCHMARKS.md).

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

/// Times `verifier` on the provider's sample with `left` or `right` as the signature header,
/// chosen at random per sample.
fn verify_classes(
    runner: &mut CtRunner,
    rng: &mut BenchRng,
    verifier: &Verifier,
    [left, right]: [&str; 2],
) {
    let body = PROVIDER_SAMPLE.as_bytes();
    for class in classes(rng) {
        let signature = match class {
            Class::Left => left,
            Class::Right => right,
        };
        runner.run_one(class, || verifier.verify(Some(signature), body).is_err());
    }
}

/// The expected signature of the sample, changed in its first and in its last byte.
fn first_and_last_byte_wrong() -> [String; 2] {
    let expected = sign(&Secret::from(SECRET), PROVIDER_SAMPLE.as_bytes());
    [differing_at(&expected, 0), differing_at(&expected, 31)]
}

fn verify_first_vs_last_byte(runner: &mut CtRunner, rng: &mut BenchRng) {
    let [first, last] = first_and_last_byte_wrong();
    let verifier = Verifier::new(SECRET).raw_only();
    verify_classes(runner, rng, &verifier, [&first, &last]);
}

/// Negative control: both classes send the same wrong signature, from two separate
/// buffers. Any `t` here comes from where the bytes sit in memory, not from their content;
/// a `t` in `verify_first_vs_last_byte` no larger than this one is no leak.
fn verify_same_bytes_two_buffers(runner: &mut CtRunner, rng: &mut BenchRng) {
    let [_, one] = first_and_last_byte_wrong();
    let other = one.clone();
    let verifier = Verifier::new(SECRET).raw_only();
    verify_classes(runner, rng, &verifier, [&one, &other]);
}

/// Control for the inputs themselves: the same two signatures as in
/// `verify_first_vs_last_byte`, checked by a verifier with another secret, so that neither
/// is close to what it expects. A `t` here comes from the two inputs' bytes (decoding the
/// header, which the sender wrote and is no secret), not from where they differ from the
/// expected tag; `verify_first_vs_last_byte` leaks only if its `t` clearly exceeds this one.
fn other_secret_same_inputs(runner: &mut CtRunner, rng: &mut BenchRng) {
    let [first, last] = first_and_last_byte_wrong();
    let verifier = Verifier::new("whsec_some_other_secret").raw_only();
    verify_classes(runner, rng, &verifier, [&first, &last]);
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

ctbench_main!(
    verify_first_vs_last_byte,
    verify_same_bytes_two_buffers,
    other_secret_same_inputs,
    naive_eq_first_vs_last_byte
);
