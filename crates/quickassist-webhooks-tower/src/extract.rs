//! The axum extractor: [`Webhook<E>`] hands a handler the verified, typed envelope.

use std::ops::{Deref, DerefMut};

use axum::{
    extract::{FromRequest, Request},
    response::{IntoResponse, Response},
};
use futures_util::TryStreamExt;
use http_body_util::BodyDataStream;
use quickassist_webhooks::{
    receive::{integration::Answer, Receiver, VerifiedDelivery},
    rejection::Rejection,
    Envelope, Event, Verifier,
};
use serde::de::DeserializeOwned;

use crate::{response::answer_response, service::request_head};

/// Extracts the verified [`Envelope`] of a webhook delivery.
///
/// - Behind [`WebhookLayer`](crate::WebhookLayer), it takes the envelope from the
///   [`VerifiedDelivery`] the layer put in the request extensions: nothing is verified or
///   parsed twice, and the router needs no state. (For your own event type `E`, it parses
///   the signed bytes.) Only the pipeline makes a `VerifiedDelivery`, so nothing another
///   middleware inserts passes for a verified delivery.
/// - Without the layer, it reads, bounds, verifies and parses the request itself, with a
///   [`Receiver`] or a [`Verifier`] put in the request extensions by an
///   [`Extension`](axum::Extension) layer. It does not de-duplicate: that needs the layer.
///
/// Rejections ([`WebhookRejection`]) answer exactly as the layer does: 401, 413, 408 or 400
/// with a small JSON body; 500 when neither the layer nor an extension is there.
///
/// # Example
///
/// ```
/// use axum::{body::Body, http::Request, routing::post, Extension, Router};
/// use quickassist_webhooks::{testing::{provider_sample_time, PROVIDER_SAMPLE}, sign, Event, Secret, Verifier};
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
/// // No layer: the extractor verifies with the verifier in the extensions (its clock set to
/// // the sample's 2024 timestamp, inside the replay window).
/// let verifier = Verifier::new("whsec_example").clock(provider_sample_time);
/// let app = Router::new()
///     .route("/webhooks/thequickassist", post(handle))
///     .layer(Extension(verifier));
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
    E: DeserializeOwned + Send + Sync + 'static,
{
    type Rejection = WebhookRejection;

    async fn from_request(mut request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let extensions = request.extensions_mut();
        // Only the pipeline makes a `VerifiedDelivery`: finding one means the layer verified
        // this request, whatever else a middleware inserted.
        if let Some(verified) = extensions.remove::<VerifiedDelivery>() {
            return Ok(Self(verified.into_envelope()?));
        }
        let receiver = extensions.get::<Receiver>().cloned().or_else(|| {
            let verifier = extensions.get::<Verifier>()?.clone();
            Some(Receiver::verify_only(verifier))
        });
        let receiver = receiver.ok_or(Rejection::NotConfigured)?;
        let (parts, body) = request.into_parts();
        let head = request_head(&receiver, &parts, &body);
        let chunks = BodyDataStream::new(body).map_err(axum::Error::into_inner);
        let verified = receiver.verify(&head, chunks).await?;
        Ok(Self(verified.into_envelope()?))
    }
}

/// Why [`Webhook`] refused a request; answers with the core [`Rejection`]'s status, JSON body
/// and headers (401 bad signature, 413 too large, 408 stalled, 400 not an envelope, 500 not
/// configured).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(transparent)]
pub struct WebhookRejection(#[from] pub Rejection);

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        answer_response(Answer::rejected(self.0)).map(axum::body::Body::from)
    }
}
