//! The canonical form of a JSON body: byte for byte what Node's
//! `JSON.stringify(JSON.parse(text))` prints.
//!
//! The provider's documented receiver signs `JSON.stringify(req.body)` rather than the bytes it
//! sent, so a body re-serialised anywhere on the way verifies only in this form. The rules:
//!
//! - **Numbers** become IEEE doubles (correctly rounded, whatever the number of digits) printed
//!   by ECMAScript `Number::toString`: `1.0` → `1`, `-0` → `0`, `1e21` → `1e+21`,
//!   `0.0000001` → `1e-7`, `12345678901234567890` → `12345678901234567000`, and a number too
//!   large for a double (`1e400`) → `null`.
//! - **Objects**: keys that are array indices (`"0"` to `"4294967294"`, no leading zeros) come
//!   first in ascending numeric order, then the other keys in insertion order; a duplicate key
//!   keeps its last value at its first position. `__proto__` is an ordinary key.
//! - **Strings** escape only `"`, `\`, U+0000 to U+001F (`\b \t \n \f \r`, otherwise `\u00xx`)
//!   and lone surrogates (`\ud800`); escaped surrogate pairs and every other character are
//!   written as literal UTF-8, so `\/` → `/` and `\u00e9` → `é`.
//! - **No whitespace** between tokens.
//!
//! Input that `JSON.parse` rejects is an error: a byte-order mark, trailing commas, comments,
//! single quotes, leading zeros, `+1`, `.5`, `1.`, `NaN`, raw control characters in strings.
//! Any value may be the top level (`"x"`, `1`, `null`); whitespace (space, tab, line feed,
//! carriage return) around tokens is allowed. The input must be UTF-8.
//!
//! **One divergence from Node:** nesting deeper than [`MAX_DEPTH`] arrays and objects is refused
//! with [`CanonicalErrorKind::TooDeep`]. (Node's `JSON.stringify` recurses and throws a
//! `RangeError` on very deep input anyway; no webhook nests this deep.)
//!
//! **A second divergence, only in [`canonicalize_bounded`]** (what the verifier uses on bodies
//! whose signature it does not yet trust): a body whose form would cost more work than a
//! budget proportional to its length, or would come out longer than the body, is refused with
//! [`CanonicalErrorKind::TooCostly`]. For the verifier that is a signature mismatch (401), so a
//! forged body cannot make the canonical path cost much more than the raw HMAC. Bodies that
//! `JSON.stringify` printed and a proxy re-indented or re-escaped stay far inside the budget;
//! what exceeds it is JSON dense with tiny tokens, many objects whose keys must be reordered
//! or de-duplicated, or numbers that grow when printed (`1e20`).
//!
//! It is a single pass that writes straight into the output, with fast paths for strings
//! with nothing to escape, integers that are exact doubles, and objects whose keys are already
//! in order; only an object holding an out-of-place array index key or a duplicate key has its
//! output rebuilt. Memory is bounded by a small multiple of the input's size.
//!
//! ```
//! use quickassist_webhooks::canonical::canonicalize;
//!
//! let body = br#" { "b": 1.0, "a": "caf\u00e9\/x", "1": -0, "b": 1e21 } "#;
//! let canonical = canonicalize(body)?;
//! assert_eq!(canonical, r#"{"1":0,"b":1e+21,"a":"café/x"}"#.as_bytes());
//! # Ok::<(), quickassist_webhooks::canonical::CanonicalError>(())
//! ```

mod budget;
mod error;
mod number;
mod object;
mod string;
mod transducer;

use budget::Budget;
pub use error::{CanonicalError, CanonicalErrorKind};

/// How deeply arrays and objects may nest: the one place this module departs from Node, which
/// has no fixed limit in `JSON.parse` but overflows its stack in `JSON.stringify`.
pub const MAX_DEPTH: usize = 512;

/// Returns the canonical form of `json`: what Node's `JSON.stringify(JSON.parse(text))` prints.
///
/// # Errors
/// [`CanonicalError`] when `json` is not UTF-8, not a document `JSON.parse` accepts, or nests
/// deeper than [`MAX_DEPTH`]; its [`offset`](CanonicalError::offset) is the byte position of
/// the problem.
///
/// ```
/// use quickassist_webhooks::canonical::canonicalize;
///
/// assert_eq!(canonicalize(b"[1.50, 1e400, \"\\u0041\"]")?, br#"[1.5,null,"A"]"#);
/// assert_eq!(canonicalize(b"[01]").unwrap_err().offset(), 2);
/// # Ok::<(), quickassist_webhooks::canonical::CanonicalError>(())
/// ```
pub fn canonicalize(json: &[u8]) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(json.len());
    canonicalize_into(json, &mut out)?;
    Ok(out)
}

/// Appends the canonical form of `json` to `out`, so a buffer can be reused across bodies.
///
/// On error `out` is left as it was.
///
/// # Errors
/// As [`canonicalize`].
///
/// ```
/// use quickassist_webhooks::canonical::canonicalize_into;
///
/// let mut out = Vec::new();
/// canonicalize_into(br#"{"z": 1, "0": 2}"#, &mut out)?;
/// assert_eq!(out, br#"{"0":2,"z":1}"#);
/// # Ok::<(), quickassist_webhooks::canonical::CanonicalError>(())
/// ```
pub fn canonicalize_into(json: &[u8], out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    transduce(json, out, Budget::unbounded())
}

/// [`canonicalize`] for a body not yet trusted: gives up with
/// [`CanonicalErrorKind::TooCostly`] once the form would cost more than a fixed budget for
/// the body's length, or would be longer than the body (by more than 64 bytes).
///
/// What [`Verifier`](crate::Verifier) uses, so a forged body costs only a small multiple of
/// one HMAC over its bytes. The budget allows about one token per 16 bytes (plus 512 for any
/// body) and charges the costly steps more: key comparisons to find duplicates, objects
/// rebuilt in `JSON.stringify`'s key order, numbers converted through a double. A webhook
/// event of the usual size uses a small part of it; the first object rebuilt past the budget
/// fails at once, before its work is done.
///
/// # Errors
/// As [`canonicalize`], and [`CanonicalErrorKind::TooCostly`] beyond the budget.
///
/// ```
/// use quickassist_webhooks::canonical::{canonicalize_bounded, CanonicalErrorKind};
///
/// assert_eq!(canonicalize_bounded(br#"{"b":1.0,"0":2}"#)?, br#"{"0":2,"b":1}"#);
/// // 10,000 objects, each with its index keys out of order, in 140 KB.
/// let forged = format!("[{}{{}}]", r#"{"1":0,"0":0},"#.repeat(10_000));
/// let err = canonicalize_bounded(forged.as_bytes()).unwrap_err();
/// assert_eq!(err.kind(), CanonicalErrorKind::TooCostly);
/// # Ok::<(), quickassist_webhooks::canonical::CanonicalError>(())
/// ```
pub fn canonicalize_bounded(json: &[u8]) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(json.len());
    transduce(json, &mut out, Budget::for_input(json.len()))?;
    Ok(out)
}

fn transduce(json: &[u8], out: &mut Vec<u8>, budget: Budget) -> Result<(), CanonicalError> {
    let start = out.len();
    out.reserve(json.len());
    let result =
        transducer::Transducer::new(json, out, budget).and_then(transducer::Transducer::run);
    if result.is_err() {
        out.truncate(start);
    }
    result
}
