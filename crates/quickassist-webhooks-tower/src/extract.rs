//! The axum extractor: [`Webhook<E>`] hands a handler the verified, typed envelope.

use std::{
    fmt,
    ops::{Deref, DerefMut},
};

use axum::{
    extract::{FromRef, FromRequest, Request},
    response::{IntoResponse, Response},
};
use quickassist_webhooks::{rejection::Rejection, Envelope, Event, Verification, Verifier};
use serde::de::DeserializeOwned;

use crate::{
    response::rejection_response,
    verify::read::{parse, read_body, verify_bytes},
};

/// Extracts the verified [`Envelope`] of a webhook delivery.
///
/// - Behind [`VerifyLayer`](crate::VerifyLayer) or [`WebhookLayer`](crate::WebhookLayer), it
///   takes the envelope the layer parsed from the request extensions: nothing is verified or
///   parsed twice. (For a custom event type `E`, it parses the already verified body.)
/// - Without a layer, it buffers the body (bounded by the verifier's limit), verifies and parses
///   it itself, with the [`Verifier`] from the router state ([`FromRef`]).
///
/// Either way the router state must provide a `Verifier`: with no other state,
/// `.with_state(verifier)`. Handlers that only ever run behind the layer can use
/// `Extension<Envelope>` instead and need no state.
///
/// Rejections ([`WebhookRejection`]) answer exactly as the layers do: 401, 413 or 400 with a
/// small JSON body.
///
/// `E` is [`Event`] by default; any type deserializing from an adjacently tagged
/// `{"event": …, "data": …}` works.
///
/// # Example
///
/// ```
/// use axum::{body::Body, http::Request, routing::post, Router};
/// use quickassist_webhooks::{testing::PROVIDER_SAMPLE, sign, Event, Secret, Verifier};
/// use quickassist_webhooks_tower::Webhook;
/// use tower::ServiceExt;
///
/// async fn handle(Webhook(envelope): Webhook) -> String {
///     match envelope.event {
///         Event::MessageDelivered(delivered) => delivered.message_id,
///         other => other.name().to_owned(),
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// // No layer: the extractor verifies with the verifier in the state.
/// let app = Router::new()
///     .route("/webhooks/thequickassist", post(handle))
///     .with_state(Verifier::new("whsec_example"));
///
/// let signature = sign(&Secret::from("whsec_example"), PROVIDER_SAMPLE.as_bytes());
/// let request = Request::post("/webhooks/thequickassist")
///     .header("x-webhook-signature", signature)
///     .body(Body::from(PROVIDER_SAMPLE))?;
/// let response = app.oneshot(request).await?;
/// assert_eq!(response.status(), 200);
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Webhook<E = Event>(pub Envelope<E>);

impl<E> Webhook<E> {
    /// The envelope.
    pub fn into_inner(self) -> Envelope<E> {
        self.0
    }
}

impl<E> Deref for Webhook<E> {
    type Target = Envelope<E>;

    fn deref(&self) -> &Envelope<E> {
        &self.0
    }
}

impl<E> DerefMut for Webhook<E> {
    fn deref_mut(&mut self) -> &mut Envelope<E> {
        &mut self.0
    }
}

impl<S, E> FromRequest<S> for Webhook<E>
where
    S: Send + Sync,
    Verifier: FromRef<S>,
    E: DeserializeOwned + Send + Sync + 'static,
{
    type Rejection = WebhookRejection;

    async fn from_request(mut request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(envelope) = request.extensions_mut().remove::<Envelope<E>>() {
            return Ok(Self(envelope));
        }
        // Extensions cannot come from the wire: `Verification` means a layer verified the body.
        let verified_by_layer = request.extensions().get::<Verification>().is_some();
        let verifier = Verifier::from_ref(state);
        let (parts, body) = request.into_parts();
        let bytes = read_body(&verifier, &parts.headers, body).await?;
        if !verified_by_layer {
            verify_bytes(&verifier, &parts.headers, &bytes)?;
        }
        Ok(Self(parse::<E>(&bytes)?))
    }
}

/// Why [`Webhook`] refused a request; answers with the core [`Rejection`]'s status, JSON body
/// and headers (401 bad signature, 413 too large, 400 not an envelope).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WebhookRejection(Rejection);

impl WebhookRejection {
    /// The core rejection: its [`status`](Rejection::status), [`code`](Rejection::code) and
    /// body.
    #[must_use]
    pub fn rejection(&self) -> Rejection {
        self.0
    }
}

impl From<Rejection> for WebhookRejection {
    fn from(rejection: Rejection) -> Self {
        Self(rejection)
    }
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for WebhookRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        rejection_response(self.0).map(axum::body::Body::from)
    }
}
