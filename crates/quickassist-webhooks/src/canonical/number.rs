//! Numbers: JSON number grammar, a correctly rounded parse to an IEEE double, and ECMAScript's
//! `Number::toString`.

use super::error::{CanonicalError, CanonicalErrorKind as Kind};

/// Integers with at most this many digits are exact doubles printed digit for digit
/// (10^15 < 2^53, and `Number::toString` uses plain notation below 10^21).
const EXACT_INTEGER_DIGITS: usize = 15;

/// Transduces the number starting at `input[*pos]` (a `-` or a digit) into `out`.
pub(super) fn transduce(
    input: &[u8],
    pos: &mut usize,
    out: &mut Vec<u8>,
) -> Result<(), CanonicalError> {
    let start = *pos;
    let mut i = start;
    let negative = input.get(i) == Some(&b'-');
    if negative {
        i += 1;
    }
    match input.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits_end(input, i + 1),
        Some(_) => return Err(CanonicalError::new(i, Kind::NoNumberAfterMinus)),
        None => return Err(CanonicalError::new(i, Kind::UnexpectedEnd)),
    }
    let int_end = i;
    if input.get(i) == Some(&b'.') {
        i += 1;
        if !input.get(i).is_some_and(u8::is_ascii_digit) {
            return Err(CanonicalError::new(i, Kind::UnterminatedFraction));
        }
        i = digits_end(input, i);
    }
    if matches!(input.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(input.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !input.get(i).is_some_and(u8::is_ascii_digit) {
            return Err(CanonicalError::new(i, Kind::MissingExponent));
        }
        i = digits_end(input, i);
    }
    *pos = i;
    let text = input.get(start..i).unwrap_or_default();

    let int_digits = int_end - start - usize::from(negative);
    if int_end == i && int_digits <= EXACT_INTEGER_DIGITS {
        if text == b"-0" {
            out.push(b'0');
        } else {
            out.extend_from_slice(text);
        }
        return Ok(());
    }
    // The grammar above is a subset of what `f64::from_str` accepts, and its parse is correctly
    // rounded for any number of digits; an exponent too large gives ±inf, too small gives ±0.
    let value: f64 = std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(CanonicalError::new(start, Kind::UnexpectedToken('-')))?;
    write_number(value, out);
    Ok(())
}

/// Writes `value` as `JSON.stringify` does: `Number::toString`, with `-0` as `0` and non-finite
/// values as `null`.
pub(super) fn write_number(value: f64, out: &mut Vec<u8>) {
    if value == 0.0 {
        out.push(b'0');
    } else if !value.is_finite() {
        out.extend_from_slice(b"null");
    } else {
        let mut buf = ryu_js::Buffer::new();
        out.extend_from_slice(buf.format_finite(value).as_bytes());
    }
}

fn digits_end(input: &[u8], mut i: usize) -> usize {
    while input.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> Result<String, CanonicalError> {
        let mut out = Vec::new();
        let mut pos = 0;
        transduce(s.as_bytes(), &mut pos, &mut out)?;
        assert_eq!(pos, s.len(), "{s}");
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn numbers_print_as_ecmascript_number_to_string() {
        for (input, expected) in [
            ("0", "0"),
            ("-0", "0"),
            ("-0.0e5", "0"),
            ("1.0", "1"),
            ("1.50", "1.5"),
            ("-12", "-12"),
            ("1e21", "1e+21"),
            ("1e20", "100000000000000000000"),
            ("1E-7", "1e-7"),
            ("0.000001", "0.000001"),
            ("1e400", "null"),
            ("-1e400", "null"),
            ("1e-400", "0"),
            ("12345678901234567890", "12345678901234567000"),
            ("9007199254740993", "9007199254740992"),
            ("123456789012345", "123456789012345"),
            ("0.1", "0.1"),
            ("5e-324", "5e-324"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
            ("1e99999999999999999999", "null"),
            ("0e99999999999999999999", "0"),
        ] {
            assert_eq!(run(input).unwrap(), expected, "{input}");
        }
    }

    #[test]
    fn long_mantissas_round_correctly() {
        // Halfway between 1 and the next double, then just above it.
        let halfway = format!(
            "1.00000000000000011102230246251565404236316680908203125{}",
            "0".repeat(1000)
        );
        assert_eq!(run(&halfway).unwrap(), "1");
        assert_eq!(run(&format!("{halfway}1")).unwrap(), "1.0000000000000002");
    }

    #[test]
    fn grammar_violations_are_rejected() {
        assert_eq!(run("-").unwrap_err().kind(), Kind::UnexpectedEnd);
        assert_eq!(run("-a").unwrap_err().kind(), Kind::NoNumberAfterMinus);
        assert_eq!(run("1.").unwrap_err().kind(), Kind::UnterminatedFraction);
        assert_eq!(run("1.e5").unwrap_err().offset(), 2);
        assert_eq!(run("1e").unwrap_err().kind(), Kind::MissingExponent);
        assert_eq!(run("1e+").unwrap_err().kind(), Kind::MissingExponent);
    }
}
