//! Why a body has no canonical form.

use std::fmt;

/// Why a body has no canonical form: `JSON.parse` would reject it (or it nests deeper than
/// [`MAX_DEPTH`](super::MAX_DEPTH)).
///
/// The message follows Node's wording (`Unexpected token '}' at position 12`) and never quotes
/// more of the input than the one offending character.
///
/// ```
/// use quickassist_webhooks::canonical::{canonicalize, CanonicalErrorKind};
///
/// let err = canonicalize(br#"{"a":1,}"#).unwrap_err();
/// assert_eq!(err.offset(), 7);
/// assert_eq!(err.kind(), CanonicalErrorKind::UnexpectedToken('}'));
/// assert_eq!(err.to_string(), "Unexpected token '}' at position 7");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at position {offset}")]
pub struct CanonicalError {
    offset: usize,
    kind: CanonicalErrorKind,
}

impl CanonicalError {
    pub(super) fn new(offset: usize, kind: CanonicalErrorKind) -> Self {
        Self { offset, kind }
    }

    /// The byte position in the input where the problem was found.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> CanonicalErrorKind {
        self.kind
    }
}

/// What kind of problem a [`CanonicalError`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CanonicalErrorKind {
    /// The input is not valid UTF-8.
    InvalidUtf8,
    /// The input ended in the middle of a value (or was empty).
    UnexpectedEnd,
    /// A character that cannot start or continue a value here.
    UnexpectedToken(char),
    /// A complete value was followed by something other than whitespace.
    TrailingCharacters(char),
    /// A raw control character (U+0000 to U+001F) inside a string.
    BadControlCharacter,
    /// A backslash followed by a character that is not a JSON escape.
    BadEscape,
    /// A `\u` escape not followed by four hexadecimal digits.
    BadUnicodeEscape,
    /// A string that is never closed.
    UnterminatedString,
    /// A `-` not followed by a digit.
    NoNumberAfterMinus,
    /// A `.` not followed by a digit.
    UnterminatedFraction,
    /// An `e` or `E` not followed by a digit.
    MissingExponent,
    /// Arrays and objects nest deeper than [`MAX_DEPTH`](super::MAX_DEPTH).
    TooDeep,
    /// [`canonicalize_bounded`](super::canonicalize_bounded) gave up: the form would cost more
    /// work than its budget for a body of this length.
    TooCostly,
}

impl fmt::Display for CanonicalErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUtf8 => f.write_str("Invalid UTF-8"),
            Self::UnexpectedEnd => f.write_str("Unexpected end of JSON input"),
            // `escape_debug` keeps control and invisible characters out of log lines.
            Self::UnexpectedToken(c) => write!(f, "Unexpected token '{}'", c.escape_debug()),
            Self::TrailingCharacters(c) => write!(
                f,
                "Unexpected non-whitespace character '{}' after JSON",
                c.escape_debug()
            ),
            Self::BadControlCharacter => f.write_str("Bad control character in string literal"),
            Self::BadEscape => f.write_str("Bad escaped character in JSON"),
            Self::BadUnicodeEscape => f.write_str("Bad Unicode escape in JSON"),
            Self::UnterminatedString => f.write_str("Unterminated string in JSON"),
            Self::NoNumberAfterMinus => f.write_str("No number after minus sign in JSON"),
            Self::UnterminatedFraction => f.write_str("Unterminated fractional number in JSON"),
            Self::MissingExponent => f.write_str("Exponent part is missing a number in JSON"),
            Self::TooDeep => write!(f, "Nesting deeper than {} levels", super::MAX_DEPTH),
            Self::TooCostly => f.write_str("Canonical form too costly for the body's length"),
        }
    }
}
