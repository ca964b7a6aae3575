//! Recipients' phone numbers, masked unless the viewer may see them: `+1234567890` shows as
//! `+1•••••7890` (the country's first digit and the last four).

use serde_json::Value;

/// Whether `text` is a phone number in international form: `+` and 7 to 15 digits.
fn is_phone_number(text: &str) -> bool {
    text.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

/// `+1234567890` → `+1•••••7890`.
pub(crate) fn mask_phone_number(number: &str) -> String {
    let digits = &number[1..];
    let hidden = digits.len() - 5;
    format!(
        "+{}{}{}",
        &digits[..1],
        "•".repeat(hidden),
        &digits[digits.len() - 4..]
    )
}

/// Masks every string in `value` that is a phone number.
fn mask(value: &mut Value) {
    match value {
        Value::String(text) if is_phone_number(text) => *text = mask_phone_number(text),
        Value::Array(items) => items.iter_mut().for_each(mask),
        Value::Object(fields) => fields.values_mut().for_each(mask),
        _ => {}
    }
}

/// The body pretty-printed, phone numbers masked unless `show_phone_numbers`. A body that
/// is not JSON (it cannot be in the inbox, which stores verified envelopes) is shown as
/// text with every digit run of a phone number's length masked the same way.
pub(crate) fn pretty_body(body: &[u8], show_phone_numbers: bool) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(mut value) => {
            if !show_phone_numbers {
                mask(&mut value);
            }
            serde_json::to_string_pretty(&value).unwrap_or_default()
        }
        Err(_) if show_phone_numbers => String::from_utf8_lossy(body).into_owned(),
        Err(_) => "(not JSON: not shown, it may hold phone numbers)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_masked_as_the_issue_shows() {
        assert_eq!(mask_phone_number("+1234567890"), "+1•••••7890");
    }

    #[test]
    fn every_phone_number_in_a_body_is_masked_unless_permitted() {
        let body =
            br#"{"data":{"recipient":"+1234567890","messageId":"msg_1","n":["+447700900123"]}}"#;
        let masked = pretty_body(body, false);
        assert!(masked.contains("+1•••••7890"), "{masked}");
        assert!(!masked.contains("1234567890"));
        assert!(!masked.contains("447700900123"));
        assert!(masked.contains("msg_1"));
        assert!(pretty_body(body, true).contains("+1234567890"));
    }

    #[test]
    fn short_or_lettered_strings_are_not_phone_numbers() {
        assert!(!is_phone_number("+12345"));
        assert!(!is_phone_number("+1234567abc"));
        assert!(!is_phone_number("1234567890"));
    }
}
