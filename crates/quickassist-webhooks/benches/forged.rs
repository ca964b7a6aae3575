//! What a forged body (a signature no secret made) costs on the canonical-form path, beside
//! its baseline: the same body rejected by a raw-only verifier (one HMAC of the bytes).
//!
//! Each shape is built to be as costly as possible for the `JSON.stringify` form, at 64 KiB
//! and 1 MiB. The target: `canonical` at most 3× `raw_only` for every shape and size.
//!
//!     cargo bench -p quickassist-webhooks --bench forged -- --warm-up-time 1 --measurement-time 2

// criterion's macros generate undocumented items; setup may unwrap.
#![allow(missing_docs, clippy::unwrap_used)]

use std::{fmt::Write, hint::black_box};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use quickassist_webhooks::{Verifier, VerifyError};

const SECRET: &str = "whsec_benchmark_secret_0123456789";
const SIZES: [(usize, &str); 2] = [(64 << 10, "64KiB"), (1 << 20, "1MiB")];

/// A deterministic pseudo-random sequence (an LCG), so every run measures the same bytes.
fn lcg(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state >> 33
    }
}

/// `[unit,unit,...]` of about `target` bytes, with `unit(k)` the k-th element.
fn array_of(target: usize, mut unit: impl FnMut(usize) -> String) -> String {
    let mut out = String::from("[");
    let mut k = 0;
    while out.len() < target {
        if k > 0 {
            out.push(',');
        }
        out.push_str(&unit(k));
        k += 1;
    }
    out.push(']');
    out
}

/// `{"2":…,"1":…,"0":…}` nested `depth` levels: every object has its index keys in reverse
/// order, so every object at every level is rebuilt.
fn reordered_tree(depth: usize, fan: usize, out: &mut String) {
    if depth == 0 {
        out.push('0');
        return;
    }
    out.push('{');
    for key in (0..fan).rev() {
        if key + 1 < fan {
            out.push(',');
        }
        write!(out, "\"{key}\":").unwrap();
        reordered_tree(depth - 1, fan, out);
    }
    out.push('}');
}

/// One object of about `target` bytes: `{"n":0,...,"1":0,"0":0}`.
fn reverse_numeric_keys(target: usize) -> String {
    let mut members = Vec::new();
    let mut size = 2;
    let mut key = 0_u64;
    while size < target {
        let member = format!("\"{key}\":0");
        size += member.len() + 1;
        members.push(member);
        key += 1;
    }
    members.reverse();
    format!("{{{}}}", members.join(","))
}

/// One object of about `target` bytes whose distinct keys, in shuffled order, each come twice.
fn duplicate_keys(target: usize) -> String {
    let mut next = lcg(7);
    let distinct = target / 2 / "\"k0000000\":0,".len();
    let mut keys: Vec<usize> = (0..distinct).chain(0..distinct).collect();
    for i in (1..keys.len()).rev() {
        keys.swap(i, next() as usize % (i + 1));
    }
    let members: Vec<String> = keys.iter().map(|k| format!("\"k{k:07}\":0")).collect();
    format!("{{{}}}", members.join(","))
}

/// The shapes: name and body of about `target` bytes.
fn shapes(target: usize) -> Vec<(&'static str, String)> {
    let mut tree = String::new();
    reordered_tree(6, 3, &mut tree);
    // 510 levels of `{"1":{…},"0":0}` inside the array: the deepest nesting accepted.
    let chain = format!("{}{{}}{}", "{\"1\":".repeat(510), ",\"0\":0}".repeat(510));
    let mut digits = lcg(11);
    let escapes = r#""\u00e9\n\"\\\/\uD83D\uDE00\u0001\t\ud800\u0041\r""#;
    vec![
        ("nested_reordered", array_of(target, |_| tree.clone())),
        ("deep_reordered", array_of(target, |_| chain.clone())),
        ("reverse_numeric_keys", reverse_numeric_keys(target)),
        ("duplicate_keys", duplicate_keys(target)),
        (
            "long_numbers",
            array_of(target, |_| {
                let mantissa: String = (0..300)
                    .map(|_| char::from(b'0' + (digits() % 10) as u8))
                    .collect();
                format!("1.{mantissa}e-150")
            }),
        ),
        (
            "expanding_numbers",
            array_of(target, |k| format!("{}e20", 1 + k % 9)),
        ),
        ("escapes", array_of(target, |_| escapes.to_owned())),
        ("small_values", array_of(target, |k| (k % 10).to_string())),
    ]
}

fn forged_reject(c: &mut Criterion) {
    let forged = "0".repeat(64);
    let canonical = Verifier::new(SECRET).with_max_body(2 << 20);
    let raw_only = Verifier::new(SECRET).with_max_body(2 << 20).raw_only();

    let mut group = c.benchmark_group("forged_reject");
    for (target, size) in SIZES {
        for (shape, body) in shapes(target) {
            let body = body.into_bytes();
            group.throughput(Throughput::Bytes(body.len() as u64));
            for (name, verifier) in [("raw_only", &raw_only), ("canonical", &canonical)] {
                group.bench_with_input(
                    BenchmarkId::new(format!("{shape}/{name}"), size),
                    &body,
                    |b, body| {
                        b.iter(|| {
                            let result = verifier.verify(Some(black_box(&forged)), black_box(body));
                            assert_eq!(result.unwrap_err(), VerifyError::InvalidSignature);
                        });
                    },
                );
            }
        }
    }
    group.finish();
}

criterion_group!(benches, forged_reject);
criterion_main!(benches);
