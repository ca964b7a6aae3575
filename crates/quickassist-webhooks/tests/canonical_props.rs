//! Properties of the canonical form over generated input.

use proptest::prelude::*;
use quickassist_webhooks::canonical::canonicalize;
use serde_json::Value;

/// Arbitrary JSON values (keys from a small pool so duplicates and index keys are common).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("(0|1|10|4294967295|01|a|b|__proto__|.{0,4})", inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// JSON text for `value` with whitespace, escapes and duplicate keys thrown in.
fn noisy_text(value: &Value, noise: &mut impl Iterator<Item = u8>, out: &mut String) {
    let ws = |out: &mut String, n: &mut dyn Iterator<Item = u8>| {
        out.push_str(match n.next().unwrap_or(0) % 6 {
            0 => " ",
            1 => "\n\t",
            _ => "",
        });
    };
    match value {
        Value::Array(items) => {
            out.push('[');
            for (k, item) in items.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                ws(out, noise);
                noisy_text(item, noise, out);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (k, (key, item)) in members.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key).expect("a key serializes"));
                ws(out, noise);
                out.push(':');
                noisy_text(item, noise, out);
                if noise.next().unwrap_or(0).is_multiple_of(5) {
                    // A duplicate whose value the one above overrides in `JSON.parse`.
                    out.push_str(&format!(
                        ",{}:{}",
                        serde_json::to_string(key).expect("a key serializes"),
                        "null"
                    ));
                }
            }
            out.push('}');
        }
        Value::String(s) => {
            // Escape everything non-ASCII, so canonicalisation has escapes to undo.
            out.push('"');
            for unit in s.encode_utf16() {
                match unit {
                    0x20..=0x7e if unit != 0x22 && unit != 0x5c => out.push(char::from(unit as u8)),
                    _ => out.push_str(&format!("\\u{unit:04X}")),
                }
            }
            out.push('"');
        }
        other => out.push_str(&other.to_string()),
    }
    ws(out, noise);
}

proptest! {
    #[test]
    fn canonical_form_is_a_fixed_point(value in json_value(), noise in prop::collection::vec(any::<u8>(), 64)) {
        let mut text = String::new();
        noisy_text(&value, &mut noise.into_iter().cycle(), &mut text);
        let once = canonicalize(text.as_bytes()).unwrap();
        let twice = canonicalize(&once).unwrap();
        prop_assert_eq!(&once, &twice);
        // It is plain JSON that another parser reads (these strings hold no lone surrogates).
        let reparsed: Value = serde_json::from_slice(&once).unwrap();
        prop_assert!(reparsed.is_object() == value.is_object());
    }

    #[test]
    fn strings_round_trip_to_the_same_text(s in "\\PC{0,40}|[\\x00-\\x1f\"\\\\]{0,10}") {
        let json = serde_json::to_string(&s).unwrap();
        let canonical = canonicalize(json.as_bytes()).unwrap();
        let back: String = serde_json::from_slice(&canonical).unwrap();
        prop_assert_eq!(back, s);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_success_is_idempotent(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(once) = canonicalize(&bytes) {
            prop_assert_eq!(canonicalize(&once).unwrap(), once);
        }
    }

    #[test]
    fn json_like_bytes_never_panic_and_success_is_idempotent(text in "[\\[\\]{}\",:0-9eE.+\\-tfnrulasx\\\\ ]{0,40}") {
        match canonicalize(text.as_bytes()) {
            Ok(once) => prop_assert_eq!(canonicalize(&once).unwrap(), once),
            Err(e) => prop_assert!(e.offset() <= text.len()),
        }
    }
}
