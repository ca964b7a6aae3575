//! Parsing the `x-webhook-signature` header into the 32 bytes it claims.

use subtle::ConstantTimeEq;

/// Name of the header that carries the signature: lowercase hex HMAC-SHA256 of the body.
pub const SIGNATURE_HEADER: &str = "x-webhook-signature";

/// Length of an HMAC-SHA256 tag in bytes.
pub(crate) const TAG_LEN: usize = 32;

/// The 32-byte tag a request claims, decoded from its header.
///
/// Decoding is not secret (the attacker wrote the header); only the comparison with the
/// expected tag must be constant-time, which [`ClaimedTag::matches`] is.
#[derive(Clone, Copy)]
pub(crate) struct ClaimedTag([u8; TAG_LEN]);

impl ClaimedTag {
    /// Parses a header value: surrounding whitespace trimmed, an optional `sha256=` prefix,
    /// then exactly 64 hex digits of either case. `None` for anything else.
    pub(crate) fn parse(header: &[u8]) -> Option<Self> {
        let header = header.trim_ascii();
        let hex = header.strip_prefix(b"sha256=").unwrap_or(header);
        let hex: &[u8; TAG_LEN * 2] = hex.try_into().ok()?;
        // Branch-free arithmetic over a fixed-size array: LLVM vectorizes it, so decoding
        // costs a few nanoseconds instead of 64 dependent table lookups.
        let mut nibbles = [0u8; TAG_LEN * 2];
        let mut invalid = 0u8;
        for (nibble, &c) in nibbles.iter_mut().zip(hex) {
            let digit = c.wrapping_sub(b'0');
            let letter = (c | 0x20).wrapping_sub(b'a'); // folds A-F onto a-f
            let is_digit = digit < 10;
            invalid |= u8::from(!is_digit & (letter >= 6));
            *nibble = if is_digit {
                digit
            } else {
                letter.wrapping_add(10)
            };
        }
        let mut tag = [0u8; TAG_LEN];
        for (byte, pair) in tag.iter_mut().zip(nibbles.chunks_exact(2)) {
            *byte = (pair[0] << 4) | (pair[1] & 0x0F);
        }
        (invalid == 0).then_some(Self(tag))
    }

    /// Constant-time comparison with the expected tag: the time taken does not depend on
    /// where (or whether) the two differ.
    pub(crate) fn matches(&self, expected: &[u8]) -> bool {
        // Fold the 32 bytes into four words first: fewer constant-time steps, same guarantee.
        if expected.len() != TAG_LEN {
            return false;
        }
        let mut diff = 0u64;
        for (ours, theirs) in self.0.chunks_exact(8).zip(expected.chunks_exact(8)) {
            let ours = u64::from_ne_bytes(ours.try_into().unwrap_or_default());
            let theirs = u64::from_ne_bytes(theirs.try_into().unwrap_or_default());
            diff |= ours ^ theirs;
        }
        bool::from(diff.ct_eq(&0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";

    #[test]
    fn accepts_64_hex_digits_of_either_case_with_optional_prefix_and_whitespace() {
        let expected = hex::decode(HEX).unwrap();
        for header in [
            HEX.to_owned(),
            HEX.to_lowercase(),
            format!("sha256={HEX}"),
            format!("  {HEX}\t"),
            format!(" sha256={HEX} "),
        ] {
            let tag = ClaimedTag::parse(header.as_bytes()).expect(&header);
            assert!(tag.matches(&expected), "{header}");
        }
    }

    #[test]
    fn rejects_everything_else() {
        for header in [
            String::new(),
            HEX[..63].to_owned(),
            format!("{HEX}0"),
            format!("{}g", &HEX[..63]),
            format!("sha1={HEX}"),
            format!("sha256= {HEX}"),
            format!("{} {}", &HEX[..32], &HEX[32..]),
            HEX.replace('a', "é"),
        ] {
            assert!(ClaimedTag::parse(header.as_bytes()).is_none(), "{header:?}");
        }
    }

    #[test]
    fn every_non_hex_byte_is_refused() {
        for byte in 0u8..=255 {
            let mut header = HEX.as_bytes().to_vec();
            header[10] = byte;
            let valid = byte.is_ascii_hexdigit();
            assert_eq!(
                ClaimedTag::parse(&header).is_some(),
                valid,
                "byte {byte:#x}"
            );
        }
    }

    #[test]
    fn a_difference_in_any_byte_is_a_mismatch() {
        let tag = ClaimedTag::parse(HEX.as_bytes()).unwrap();
        let expected = hex::decode(HEX).unwrap();
        for i in 0..TAG_LEN {
            for bit in 0..8 {
                let mut other = expected.clone();
                other[i] ^= 1 << bit;
                assert!(!tag.matches(&other));
            }
        }
        assert!(!tag.matches(&expected[..31]));
    }
}
