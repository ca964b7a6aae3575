use quickassist_webhooks::Verifier;
use tower_layer::Layer;

use super::Verify;

/// Applies [`Verify`]: rejects requests whose signature does not verify, hands on the rest
/// with the parsed [`Envelope`](quickassist_webhooks::Envelope) in their extensions.
///
/// See the [module docs](crate::verify) for an example.
#[derive(Clone, Debug)]
#[must_use]
pub struct VerifyLayer {
    verifier: Verifier,
}

impl VerifyLayer {
    /// A layer verifying with `verifier` (its secrets, size limit and replay window).
    pub fn new(verifier: Verifier) -> Self {
        Self { verifier }
    }

    /// Sets the largest body accepted, in bytes (the verifier's
    /// [`max_body`](Verifier::max_body); default
    /// [`DEFAULT_MAX_BODY`](quickassist_webhooks::DEFAULT_MAX_BODY)). A larger declared
    /// `Content-Length` is refused with 413 before reading; a chunked body as soon as it
    /// passes the limit.
    pub fn max_body(mut self, limit: usize) -> Self {
        self.verifier = self.verifier.max_body(limit);
        self
    }

    /// The verifier this layer checks signatures with.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }
}

impl<S> Layer<S> for VerifyLayer {
    type Service = Verify<S>;

    fn layer(&self, inner: S) -> Verify<S> {
        Verify::new(inner, self.verifier.clone())
    }
}
