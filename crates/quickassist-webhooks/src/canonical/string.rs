//! Strings: decode JSON escapes and re-escape exactly as `JSON.stringify` does.
//!
//! `JSON.stringify` escapes only `"`, `\`, U+0000 to U+001F (short forms `\b \t \n \f \r`, the
//! rest `\u00xx` in lowercase hex) and lone surrogates (`\udxxx`); every other character is
//! written as literal UTF-8.

use super::error::{CanonicalError, CanonicalErrorKind as Kind};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Transduces the string starting at `input[*pos] == b'"'` into `out`, leaving `*pos` after its
/// closing quote. The input is known to be valid UTF-8, and no literal surrogate can occur in it.
pub(super) fn transduce(
    input: &[u8],
    pos: &mut usize,
    out: &mut Vec<u8>,
) -> Result<(), CanonicalError> {
    out.push(b'"');
    let mut i = *pos + 1;
    loop {
        // Fast path: copy the run of bytes that need no attention in one go.
        let special = find_special(input, i);
        out.extend_from_slice(input.get(i..special).unwrap_or_default());
        i = special;
        match input.get(i) {
            None => return Err(CanonicalError::new(i, Kind::UnterminatedString)),
            Some(b'"') => {
                out.push(b'"');
                *pos = i + 1;
                return Ok(());
            }
            Some(b'\\') => i = escape(input, i, out)?,
            Some(_) => return Err(CanonicalError::new(i, Kind::BadControlCharacter)),
        }
    }
}

/// Index of the first `"`, `\` or control byte at or after `i` (or `input.len()`), scanning eight
/// bytes at a time. Each test below flags its lowest matching byte exactly (borrows only create
/// false hits above a true one), so the lowest flag of their union is the first special byte.
fn find_special(input: &[u8], mut i: usize) -> usize {
    let rest = input.get(i..).unwrap_or_default();
    let mut chunks = rest.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0_u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        let mask = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (w.wrapping_sub(ONES * 0x20) & !w);
        let mask = mask & HIGHS;
        if mask != 0 {
            return i + (mask.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    for &b in chunks.remainder() {
        if b == b'"' || b == b'\\' || b < 0x20 {
            return i;
        }
        i += 1;
    }
    i
}

/// Handles the escape whose backslash is at `input[i]`; returns the index after it.
fn escape(input: &[u8], i: usize, out: &mut Vec<u8>) -> Result<usize, CanonicalError> {
    let Some(&c) = input.get(i + 1) else {
        return Err(CanonicalError::new(i + 1, Kind::UnterminatedString));
    };
    let short = match c {
        b'"' => b"\\\"".as_slice(),
        b'\\' => b"\\\\",
        b'/' => b"/",
        b'b' => b"\\b",
        b'f' => b"\\f",
        b'n' => b"\\n",
        b'r' => b"\\r",
        b't' => b"\\t",
        b'u' => return unicode_escape(input, i, out),
        _ => return Err(CanonicalError::new(i + 1, Kind::BadEscape)),
    };
    out.extend_from_slice(short);
    Ok(i + 2)
}

/// Handles `\uXXXX` at `input[i]`, joining a high and a low surrogate escape into one character.
fn unicode_escape(input: &[u8], i: usize, out: &mut Vec<u8>) -> Result<usize, CanonicalError> {
    let unit = hex4(input, i + 2)?;
    if (0xD800..0xDC00).contains(&unit)
        && input.get(i + 6) == Some(&b'\\')
        && input.get(i + 7) == Some(&b'u')
    {
        // A bad second escape is an error whether or not it would have paired.
        let low = hex4(input, i + 8)?;
        if (0xDC00..0xE000).contains(&low) {
            let scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
            push_char(scalar, out);
            return Ok(i + 12);
        }
    }
    push_code_unit(unit, out);
    Ok(i + 6)
}

/// Four hex digits at `input[at..at + 4]`.
fn hex4(input: &[u8], at: usize) -> Result<u32, CanonicalError> {
    let mut value = 0;
    for k in at..at + 4 {
        let digit = match input.get(k) {
            Some(&b) => char::from(b)
                .to_digit(16)
                .ok_or(CanonicalError::new(k, Kind::BadUnicodeEscape))?,
            None => return Err(CanonicalError::new(k, Kind::UnterminatedString)),
        };
        value = value << 4 | digit;
    }
    Ok(value)
}

/// Writes one decoded UTF-16 code unit the way `JSON.stringify` prints it.
fn push_code_unit(unit: u32, out: &mut Vec<u8>) {
    match unit {
        0x08 => out.extend_from_slice(b"\\b"),
        0x09 => out.extend_from_slice(b"\\t"),
        0x0A => out.extend_from_slice(b"\\n"),
        0x0C => out.extend_from_slice(b"\\f"),
        0x0D => out.extend_from_slice(b"\\r"),
        0x22 => out.extend_from_slice(b"\\\""),
        0x5C => out.extend_from_slice(b"\\\\"),
        // Control characters and lone surrogates: `\u` and four lowercase hex digits.
        0..0x20 | 0xD800..0xE000 => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u");
            for shift in [12, 8, 4, 0] {
                out.push(HEX[(unit >> shift & 0xF) as usize]);
            }
        }
        _ => push_char(unit, out),
    }
}

/// Writes a Unicode scalar value as UTF-8 (callers never pass a surrogate or a value above
/// U+10FFFF; should one slip through, U+FFFD is written rather than panicking).
fn push_char(scalar: u32, out: &mut Vec<u8>) {
    let c = char::from_u32(scalar).unwrap_or(char::REPLACEMENT_CHARACTER);
    let mut buf = [0_u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> Result<String, CanonicalError> {
        let mut out = Vec::new();
        let mut pos = 0;
        transduce(s.as_bytes(), &mut pos, &mut out)?;
        assert_eq!(pos, s.len());
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn find_special_finds_the_first_special_byte_at_every_offset() {
        for len in 0..20 {
            for at in 0..len {
                for special in [b'"', b'\\', 0x00, 0x1F] {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = special;
                    // A later special byte must not be reported first.
                    if at + 1 < len {
                        bytes[len - 1] = b'"';
                    }
                    assert_eq!(find_special(&bytes, 0), at, "len {len} at {at}");
                }
            }
            assert_eq!(find_special(&vec![0xC3; len], 0), len);
        }
    }

    #[test]
    fn escapes_are_rewritten_in_stringify_form() {
        assert_eq!(run(r#""a\/b""#).unwrap(), r#""a/b""#);
        assert_eq!(run(r#""\u00e9\u0041""#).unwrap(), "\"éA\"");
        assert_eq!(
            run(r#""\u001F\u0000\b\u000c""#).unwrap(),
            r#""\u001f\u0000\b\f""#
        );
        assert_eq!(run(r#""\u0022\u005C""#).unwrap(), r#""\"\\""#);
        assert_eq!(run(r#""\uD83D\uDE00""#).unwrap(), "\"😀\"");
        assert_eq!(run(r#""\uDE00\uD83D""#).unwrap(), r#""\ude00\ud83d""#);
        assert_eq!(run(r#""\uD83Dx""#).unwrap(), r#""\ud83dx""#);
        assert_eq!(run(r#""\uD83D\u0041""#).unwrap(), r#""\ud83dA""#);
        assert_eq!(run("\"\u{2028}\u{7f}\"").unwrap(), "\"\u{2028}\u{7f}\"");
    }

    #[test]
    fn malformed_strings_are_rejected_at_the_offending_byte() {
        assert_eq!(run("\"ab\u{1}\"").unwrap_err().offset(), 3);
        assert_eq!(run(r#""a\x""#).unwrap_err().kind(), Kind::BadEscape);
        assert_eq!(run(r#""\u12G4""#).unwrap_err().offset(), 5);
        assert_eq!(
            run(r#""\uD83D\uZZZZ""#).unwrap_err().kind(),
            Kind::BadUnicodeEscape
        );
        assert_eq!(run(r#""abc"#).unwrap_err().kind(), Kind::UnterminatedString);
        assert_eq!(
            run(r#""\u12"#).unwrap_err().kind(),
            Kind::UnterminatedString
        );
        assert_eq!(run(r#""\"#).unwrap_err().kind(), Kind::UnterminatedString);
    }
}
