//! Numbers: JSON number grammar, a correctly rounded parse to an IEEE double, and ECMAScript's
//! `Number::toString`.

use super::error::{CanonicalError, CanonicalErrorKind as Kind};

/// Integers with at most this many digits are exact doubles printed digit for digit
/// (10^15 < 2^53, and `Number::toString` uses plain notation below 10^21).
const EXACT_INTEGER_DIGITS: usize = 15;

/// Transduces the number starting at `input[*pos]` (a `-` or a digit) into `out`; `Ok(true)`
/// when it took the slow path through a double.
pub(super) fn transduce(
    input: &[u8],
    pos: &mut usize,
    out: &mut Vec<u8>,
) -> Result<bool, CanonicalError> {
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
        return Ok(false);
    }
    if short_decimal(text, int_end - start, out) {
        return Ok(false);
    }
    // The grammar above is a subset of what `f64::from_str` accepts, and its parse is correctly
    // rounded for any number of digits; an exponent too large gives ±inf, too small gives ±0.
    let value: f64 = std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(CanonicalError::new(start, Kind::UnexpectedToken('-')))?;
    write_number(value, out);
    Ok(true)
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

/// Significant digits that any decimal may have to take the [`short_decimal`] path: 15 (a
/// double's `DBL_DIG`), so that distinct decimals of this many digits are distinct doubles.
const SHORT_DECIMAL_DIGITS: usize = 15;

/// The decimal exponents (`n` below) the [`short_decimal`] path takes: well inside the normal
/// doubles, away from overflow and subnormals.
const SHORT_DECIMAL_EXPONENTS: std::ops::RangeInclusive<i64> = -300..=300;

/// Writes a number with at most 15 significant digits (`1.50`, `2.5e-3`, `1e20`) straight from
/// its digits, without a float round trip, and returns `true`; `false` leaves `out` untouched.
///
/// Why this is exactly `Number::toString` of the nearest double: distinct decimals with at most
/// 15 significant digits round to distinct doubles (in the normal range), so the shortest decimal
/// that rounds to this double is the input's own digits without trailing zeros, and the output
/// is those digits placed by ECMAScript's rules (`Number::toString`, steps 5 to 10).
///
/// `text` is a number the grammar accepted; `int_end` is where its integer part ends.
fn short_decimal(text: &[u8], int_end: usize, out: &mut Vec<u8>) -> bool {
    let negative = text.first() == Some(&b'-');
    let int = text.get(usize::from(negative)..int_end).unwrap_or_default();
    let rest = text.get(int_end..).unwrap_or_default();
    let (frac, exp) = match rest.iter().position(|&b| b == b'e' || b == b'E') {
        Some(e) => (rest.get(..e).unwrap_or_default(), rest.get(e + 1..)),
        None => (rest, None),
    };
    let frac = frac.get(1..).unwrap_or_default(); // after the `.`, if any

    let mut digits = [0_u8; SHORT_DECIMAL_DIGITS];
    let mut k = 0; // significant digits kept in `digits`
    let mut pending_zeros = 0; // zeros after the last kept digit
    let mut leading_zeros: i64 = 0;
    for &d in int.iter().chain(frac) {
        if d == b'0' {
            if k == 0 {
                leading_zeros += 1;
            } else {
                pending_zeros += 1;
            }
            continue;
        }
        if k + pending_zeros >= SHORT_DECIMAL_DIGITS {
            return false;
        }
        for _ in 0..pending_zeros {
            digits[k] = b'0';
            k += 1;
        }
        pending_zeros = 0;
        digits[k] = d;
        k += 1;
    }
    if k == 0 {
        out.push(b'0'); // any zero, `-0` included
        return true;
    }

    let exponent = exp.map_or(0, |exp| {
        let (sign, magnitude) = match exp.first() {
            Some(b'-') => (-1, &exp[1..]),
            Some(b'+') => (1, &exp[1..]),
            _ => (1, exp),
        };
        let value = magnitude.iter().fold(0_i64, |acc, &d| {
            (acc * 10 + i64::from(d - b'0')).min(1_000_000)
        });
        sign * value
    });
    // The value is 0.d1d2…dk × 10^n.
    let int_len = i64::try_from(int.len()).unwrap_or(i64::MAX);
    let n = int_len
        .saturating_add(exponent)
        .saturating_sub(leading_zeros);
    if !SHORT_DECIMAL_EXPONENTS.contains(&n) {
        return false;
    }

    let digits = &digits[..k];
    let k = k as i64;
    if negative {
        out.push(b'-');
    }
    if k <= n && n <= 21 {
        out.extend_from_slice(digits);
        out.extend(std::iter::repeat_n(b'0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        let (whole, fraction) = digits.split_at(n as usize);
        out.extend_from_slice(whole);
        out.push(b'.');
        out.extend_from_slice(fraction);
    } else if -6 < n && n <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-n) as usize));
        out.extend_from_slice(digits);
    } else {
        let (first, others) = digits.split_at(1);
        out.extend_from_slice(first);
        if !others.is_empty() {
            out.push(b'.');
            out.extend_from_slice(others);
        }
        out.push(b'e');
        out.push(if n > 0 { b'+' } else { b'-' });
        let mut buf = itoa_buffer();
        out.extend_from_slice(format_u64((n - 1).unsigned_abs(), &mut buf));
    }
    true
}

fn itoa_buffer() -> [u8; 20] {
    [0; 20]
}

/// `value` in decimal, written into the end of `buf`.
fn format_u64(mut value: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            return &buf[at..];
        }
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
