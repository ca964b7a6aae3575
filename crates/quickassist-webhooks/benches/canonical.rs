//! Throughput of the canonical form (`JSON.stringify(JSON.parse(body))`) on a ~64 KiB document
//! of webhook envelopes, compact and pretty-printed, and on the provider's sample payload.
//!
//! cargo bench -p quickassist-webhooks --bench canonical -- --warm-up-time 1 --measurement-time 3

// `criterion_group!` generates an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use quickassist_webhooks::canonical::canonicalize_into;

const SAMPLE: &str = r#"{"event":"message.delivered","timestamp":"2024-01-15T10:30:00Z","data":{"messageId":"msg_123456789","recipient":"+1234567890","template":"welcome_message","deliveredAt":"2024-01-15T10:30:00Z","deviceType":"android"},"webhookId":"whk_abc123"}"#;

/// A deterministic array of varied envelopes, about `target` bytes long: ids, timestamps,
/// phone numbers, free text with some non-ASCII and escapes, integers, decimals, nested data.
fn document(target: usize, pretty: bool) -> Vec<u8> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state >> 33
    };
    let events = [
        "message.delivered",
        "message.read",
        "template.status_update",
        "message.failed",
    ];
    let texts = [
        "Your order has shipped and will arrive tomorrow",
        "Olá! Sua consulta está confirmada para às 10h",
        "Reminder: \"Invoice #4411\" is due\\n pay at https:\\/\\/example.com\\/pay",
        "Привет, ваш код подтверждения 834211",
        "予約が確定しました 🎉 see you soon",
        "Line one\nLine two\tTabbed",
    ];
    let mut envelopes = Vec::new();
    let mut size = 0;
    while size < target {
        let n = next();
        let event = events[(n % 4) as usize];
        let text = texts[(next() % texts.len() as u64) as usize];
        let envelope = serde_json::json!({
            "event": event,
            "timestamp": format!("2024-01-{:02}T{:02}:{:02}:{:02}Z", 1 + n % 28, n % 24, n % 60, (n / 7) % 60),
            "data": {
                "messageId": format!("msg_{:012}", next()),
                "recipient": format!("+{}", 10_000_000_000_u64 + next() % 89_999_999_999),
                "template": format!("template_{}", next() % 50),
                "deliveredAt": format!("2024-01-{:02}T10:30:{:02}.{:03}Z", 1 + n % 28, n % 60, n % 1000),
                "deviceType": if n % 3 == 0 { "android" } else { "ios" },
                "body": text,
                "attempt": next() % 5,
                "price": (next() % 100_000) as f64 / 100.0,
                "latencyMs": (next() % 10_000) as f64 / 7.0,
                "tags": ["priority", "campaign", format!("batch-{}", next() % 100)],
                "meta": { "retry": n % 2 == 0, "score": null, "ratio": 0.25 }
            },
            "webhookId": format!("whk_{:x}", next())
        });
        let text = if pretty {
            serde_json::to_string_pretty(&envelope)
        } else {
            serde_json::to_string(&envelope)
        }
        .expect("serializes");
        size += text.len() + 1;
        envelopes.push(text);
    }
    let separator = if pretty { ",\n" } else { "," };
    format!("[{}]", envelopes.join(separator)).into_bytes()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("canonical");
    let mut out = Vec::with_capacity(128 * 1024);
    for (name, input) in [
        ("webhooks_64k_compact", document(64 * 1024, false)),
        ("webhooks_64k_pretty", document(64 * 1024, true)),
        ("sample_payload", SAMPLE.as_bytes().to_vec()),
    ] {
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                canonicalize_into(black_box(&input), &mut out).expect("valid JSON");
                black_box(out.len())
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
