//! `parse_envelope` on the provider's 241-byte sample, beside its floor: a plain
//! `serde_json::from_slice::<serde_json::Value>` of the same bytes.
//!
//!     cargo bench -p quickassist-webhooks --bench parse -- --warm-up-time 1 --measurement-time 3

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use quickassist_webhooks::{parse_envelope, testing::PROVIDER_SAMPLE, Event};

fn parse(c: &mut Criterion) {
    let body = PROVIDER_SAMPLE.as_bytes();
    let mut group = c.benchmark_group("parse_provider_sample");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("baseline_serde_json_value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(body)).is_ok());
    });
    group.bench_function("parse_envelope", |b| {
        b.iter(|| parse_envelope::<Event>(black_box(body)).is_ok());
    });
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
