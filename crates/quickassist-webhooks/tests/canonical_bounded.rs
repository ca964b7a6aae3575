//! `canonicalize_bounded`: the exact form for ordinary bodies, `TooCostly` for bodies crafted to
//! make it expensive, and a signature mismatch for the verifier in that case.

use quickassist_webhooks::{
    canonical::{canonicalize, canonicalize_bounded, CanonicalErrorKind},
    sign,
    testing::PROVIDER_SAMPLE,
    Secret, Verifier, VerifyError,
};

fn too_costly(body: &str) -> bool {
    canonicalize(body.as_bytes()).is_ok()
        && canonicalize_bounded(body.as_bytes())
            .is_err_and(|e| e.kind() == CanonicalErrorKind::TooCostly)
}

/// `count` provider-like envelopes with varied fields, as a pretty-printed (or compact) array.
fn envelopes(count: usize, pretty: bool) -> String {
    let items: Vec<serde_json::Value> = (0..count)
        .map(|k| {
            serde_json::json!({
                "event": "message.delivered",
                "timestamp": format!("2024-01-15T10:{:02}:00Z", k % 60),
                "data": {
                    "messageId": format!("msg_{k:09}"),
                    "recipient": "+1234567890",
                    "body": "Olá! \"Invoice\" due\n\tpay at https://example.com/pay 🎉",
                    "price": k as f64 / 7.0,
                    "attempt": k % 5,
                    "tags": ["a", "b"],
                    "meta": { "1": true, "0": null, "retry": false },
                },
                "webhookId": format!("whk_{k:x}"),
            })
        })
        .collect();
    let value = serde_json::Value::Array(items);
    if pretty {
        serde_json::to_string_pretty(&value).expect("a Value serializes")
    } else {
        serde_json::to_string(&value).expect("a Value serializes")
    }
}

#[test]
fn ordinary_bodies_get_exactly_the_unbounded_form() {
    let pretty_sample = serde_json::to_string_pretty(
        &serde_json::from_str::<serde_json::Value>(PROVIDER_SAMPLE).unwrap(),
    )
    .unwrap();
    let bodies = [
        PROVIDER_SAMPLE.to_owned(),
        pretty_sample,
        envelopes(1, false),
        envelopes(8, true),
        envelopes(4, false),
        r#"{"b":{"1":1,"0":0},"a":[1.50,2e3,"\u00e9\/"],"b":2}"#.to_owned(),
    ];
    for body in bodies {
        assert_eq!(
            canonicalize_bounded(body.as_bytes())
                .unwrap_or_else(|e| panic!("{e} in {} bytes", body.len())),
            canonicalize(body.as_bytes()).unwrap(),
            "{body}"
        );
    }
}

#[test]
fn many_reordered_objects_are_too_costly() {
    assert!(too_costly(&format!(
        "[{}{{}}]",
        r#"{"2":{"1":0,"0":0},"1":0,"0":0},"#.repeat(5_000)
    )));
}

#[test]
fn one_huge_object_in_reverse_numeric_order_is_too_costly() {
    let members: Vec<String> = (0..20_000).rev().map(|k| format!("\"{k}\":0")).collect();
    assert!(too_costly(&format!("{{{}}}", members.join(","))));
}

#[test]
fn duplicate_keys_by_the_thousand_are_too_costly() {
    assert!(too_costly(&format!(
        "{{{}\"a\":0}}",
        r#""a":0,"#.repeat(20_000)
    )));
}

#[test]
fn dense_tiny_tokens_are_too_costly() {
    assert!(too_costly(&format!("[{}0]", "0,".repeat(50_000))));
}

#[test]
fn numbers_that_grow_when_printed_are_too_costly() {
    // `1e20` prints as 21 digits: the form would be 4 times longer than the body.
    assert!(too_costly(&format!("[{}1e20]", "1e20,".repeat(200))));
    // A few do not matter.
    let body = format!("{{\"n\":1e20,\"pad\":\"{}\"}}", "x".repeat(100));
    assert!(canonicalize_bounded(body.as_bytes()).is_ok());
}

#[test]
fn the_budget_fails_where_it_runs_out_not_at_the_end() {
    let body = format!("[{}0]", "0,".repeat(50_000));
    let err = canonicalize_bounded(body.as_bytes()).unwrap_err();
    assert!(err.offset() < body.len() / 2, "gave up at {}", err.offset());
}

#[test]
fn a_too_costly_body_is_a_signature_mismatch_even_when_its_form_was_signed() {
    let body = format!("[{}{{}}]", r#"{"1":0,"0":0},"#.repeat(5_000));
    let form = canonicalize(body.as_bytes()).unwrap();
    let signature = sign(&Secret::from("s"), &form);
    let verifier = Verifier::new("s").with_max_body(1 << 20);
    assert_eq!(
        verifier
            .verify(Some(&signature), body.as_bytes())
            .unwrap_err(),
        VerifyError::InvalidSignature
    );
    // The same form, re-indented at an ordinary size, verifies.
    let small = r#"{ "1": 0, "0": 0 }"#;
    let signature = sign(&Secret::from("s"), &canonicalize(small.as_bytes()).unwrap());
    assert!(verifier.verify(Some(&signature), small.as_bytes()).is_ok());
}
