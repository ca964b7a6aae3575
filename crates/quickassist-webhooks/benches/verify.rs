//! Verification cost on the provider's sample payload, beside its two baselines:
//! a bare pre-keyed HMAC-SHA256 of the same bytes (the floor) and HMAC keyed per message
//! (what most webhook libraries do).
//!
//!     cargo bench -p quickassist-webhooks --bench verify

// criterion's macros generate undocumented items; setup may unwrap.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hmac::{Hmac, KeyInit, Mac};
use quickassist_webhooks::{
    parse_envelope, sign, testing::PROVIDER_SAMPLE, Event, Secret, Verifier,
};
use sha2::Sha256;

const SECRET: &str = "whsec_benchmark_secret_0123456789";

fn verify(c: &mut Criterion) {
    let body = PROVIDER_SAMPLE.as_bytes();
    let signature = sign(&Secret::from(SECRET), body);
    let verifier = Verifier::new(SECRET);
    let prekeyed = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();

    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("baseline_hmac_prekeyed", |b| {
        b.iter(|| {
            let mut mac = prekeyed.clone();
            mac.update(black_box(body));
            black_box(mac.finalize().into_bytes())
        });
    });
    group.bench_function("baseline_hmac_keyed_per_message", |b| {
        b.iter(|| {
            let mut mac =
                <Hmac<Sha256> as KeyInit>::new_from_slice(black_box(SECRET.as_bytes())).unwrap();
            mac.update(black_box(body));
            black_box(mac.finalize().into_bytes())
        });
    });
    group.bench_function("verifier_raw_one_secret", |b| {
        b.iter(|| {
            verifier
                .verify(Some(black_box(&signature)), black_box(body))
                .is_ok()
        });
    });
    group.finish();

    let pretty = serde_json::to_vec_pretty(
        &serde_json::from_str::<serde_json::Value>(PROVIDER_SAMPLE).unwrap(),
    )
    .unwrap();
    let mut group = c.benchmark_group("verify_other_paths");
    group.bench_function("canonical_fallback_pretty_body", |b| {
        b.iter(|| {
            verifier
                .verify(Some(black_box(&signature)), black_box(&pretty))
                .is_ok()
        });
    });
    let forged = "0".repeat(64);
    group.bench_function("forged_signature_with_fallback", |b| {
        b.iter(|| {
            verifier
                .verify(Some(black_box(&forged)), black_box(body))
                .is_err()
        });
    });
    group.bench_function("parse_envelope", |b| {
        b.iter(|| parse_envelope::<Event>(black_box(body)).is_ok());
    });
    group.bench_function("verify_and_parse", |b| {
        b.iter(|| {
            verifier
                .verify(Some(black_box(&signature)), black_box(body))
                .map(|verified| verified.parse::<Event>().is_ok())
        });
    });
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
