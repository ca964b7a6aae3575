//! [`PayloadError`]: an authentic body that is not a valid envelope.

/// An authentic body that is not a valid webhook envelope: not JSON, or a field of the wrong
/// type or missing. It names the JSON path of the offending field (`data.deliveredAt`).
///
/// ```
/// use quickassist_webhooks::{parse_envelope, Event};
///
/// let err = parse_envelope::<Event>(br#"{"event":"message.read","timestamp":"yesterday","data":{},"webhookId":"w"}"#)
///     .unwrap_err();
/// assert_eq!(err.path(), "timestamp");
/// ```
#[derive(Debug, thiserror::Error)]
#[error("invalid webhook payload at `{path}`: {source}")]
pub struct PayloadError {
    path: String,
    #[source]
    source: serde_json::Error,
}

impl PayloadError {
    pub(crate) fn new(path: String, source: serde_json::Error) -> Self {
        Self { path, source }
    }

    /// The JSON path of the offending field, like `data.messageId` (`.` for the whole body).
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The line (1-based) where parsing stopped.
    #[must_use]
    pub fn line(&self) -> usize {
        self.source.line()
    }

    /// The column (1-based) where parsing stopped.
    #[must_use]
    pub fn column(&self) -> usize {
        self.source.column()
    }

    /// `true` when the body is not even JSON (as opposed to JSON of the wrong shape).
    #[must_use]
    pub fn is_syntax(&self) -> bool {
        matches!(
            self.source.classify(),
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof
        )
    }
}
