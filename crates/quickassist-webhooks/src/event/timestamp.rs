//! [`Stamp`]: an RFC 3339 timestamp read without `chrono`'s general parser when it has the
//! provider's form, `2024-01-15T10:30:00Z` (with or without a fraction).

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};
use serde::{
    de::{Error, Visitor},
    Deserialize, Deserializer,
};

/// A timestamp field: the same values and errors as `chrono`'s own `DateTime<Utc>`.
pub(super) struct Stamp(pub(super) DateTime<Utc>);

impl<'de> Deserialize<'de> for Stamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(StampVisitor)
    }
}

struct StampVisitor;

impl Visitor<'_> for StampVisitor {
    type Value = Stamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // chrono's wording, so that errors read as before.
        f.write_str("an RFC 3339 formatted date and time string")
    }

    fn visit_str<E: Error>(self, text: &str) -> Result<Stamp, E> {
        match parse_utc(text) {
            Some(at) => Ok(Stamp(at)),
            // Everything else (offsets, lowercase, leap seconds, errors) as chrono does it.
            None => text
                .parse::<DateTime<FixedOffset>>()
                .map(|at| Stamp(at.with_timezone(&Utc)))
                .map_err(E::custom),
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` as a valid UTC time, or `None` for anything else
/// (which chrono then reads, or refuses, itself).
fn parse_utc(text: &str) -> Option<DateTime<Utc>> {
    let bytes = text.as_bytes();
    let (&b'Z', bytes) = bytes.split_last()? else {
        return None;
    };
    let (head, fraction) = bytes.split_at_checked(19)?;
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1, b'T', h0, h1, b':', i0, i1, b':', s0, s1] =
        *head
    else {
        return None;
    };
    let year = number(&[y0, y1, y2, y3])?;
    let month = number(&[m0, m1])?;
    let day = number(&[d0, d1])?;
    let hour = number(&[h0, h1])?;
    let minute = number(&[i0, i1])?;
    let second = number(&[s0, s1])?;
    let nano = match fraction {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let scale = 10u32.pow(u32::try_from(9 - digits.len()).ok()?);
            number(digits)? * scale
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nano)?;
    Some(date.and_time(time).and_utc())
}

/// The decimal value of ASCII digits (at most nine), or `None` if one is not a digit.
fn number(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |value, &c| {
        let digit = c.wrapping_sub(b'0');
        (digit < 10).then(|| value * 10 + u32::from(digit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrono(text: &str) -> Option<DateTime<Utc>> {
        text.parse::<DateTime<FixedOffset>>()
            .ok()
            .map(|at| at.with_timezone(&Utc))
    }

    #[test]
    fn the_fast_form_agrees_with_chrono() {
        for text in [
            "2024-01-15T10:30:00Z",
            "2024-01-15T10:30:00.5Z",
            "2024-01-15T10:30:00.123456789Z",
            "2024-02-29T23:59:59Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999Z",
        ] {
            assert_eq!(parse_utc(text), chrono(text), "{text}");
            assert!(parse_utc(text).is_some(), "{text}");
        }
    }

    #[test]
    fn anything_else_is_left_to_chrono() {
        for text in [
            "2023-02-29T10:30:00Z",
            "2024-13-01T10:30:00Z",
            "2024-01-15T24:00:00Z",
            "2024-01-15T23:59:60Z",
            "2024-01-15t10:30:00Z",
            "2024-01-15 10:30:00Z",
            "2024-01-15T10:30:00z",
            "2024-01-15T10:30:00+01:00",
            "2024-01-15T10:30:00.Z",
            "2024-01-15T10:30:00.1234567890Z",
            "2024-01-15T10:30Z",
            "+2024-01-15T10:30:00Z",
            "yesterday",
            "",
        ] {
            assert_eq!(parse_utc(text), None, "{text}");
        }
    }
}
