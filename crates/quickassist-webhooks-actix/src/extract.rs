//! The extractor [`Webhook`]: the verified, typed event in your handler's arguments.

use std::{fmt, ops::Deref};

use actix_web::{
    dev::Payload, web, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError,
};
use futures_util::future::LocalBoxFuture;
use quickassist_webhooks::{rejection::Rejection, Envelope, Event, Verification, Verifier};
use serde::de::DeserializeOwned;

use crate::{
    read::{parse, read_body, verify_bytes},
    response::rejection_response,
};

/// Extracts the verified [`Envelope`] of a webhook delivery.
///
/// Behind [`QuickAssistWebhooks`](crate::QuickAssistWebhooks) or
/// [`VerifyWebhook`](crate::VerifyWebhook) it takes the envelope the middleware already parsed
/// (with your own event type `E`, the verified payload is parsed into it). Used without the
/// middleware, it verifies the request itself with the [`Verifier`] registered as app data
/// (`App::new().app_data(web::Data::new(verifier))`); de-duplication then needs the middleware.
///
/// ```
/// use actix_web::{web, App, HttpResponse};
/// use quickassist_webhooks::{Event, Verifier};
/// use quickassist_webhooks_actix::Webhook;
///
/// async fn receive(Webhook(envelope): Webhook<Event>) -> HttpResponse {
///     match envelope.event {
///         Event::MessageRead(read) => println!("{} read", read.message_id),
///         other => println!("{}", other.name()),
///     }
///     HttpResponse::Ok().finish()
/// }
///
/// // Verification only, without the middleware:
/// let app = App::new()
///     .app_data(web::Data::new(Verifier::new("whsec_example")))
///     .route("/webhooks/thequickassist", web::post().to(receive));
/// # let _ = app;
/// ```
#[derive(Clone, Debug)]
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

impl<E: DeserializeOwned + 'static> FromRequest for Webhook<E> {
    type Error = WebhookError;
    type Future = LocalBoxFuture<'static, Result<Self, WebhookError>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if let Some(envelope) = request.extensions_mut().remove::<Envelope<E>>() {
            return Box::pin(std::future::ready(Ok(Self(envelope))));
        }
        // Extensions cannot come from the wire: `Verification` means the middleware verified.
        let verified = request.extensions().get::<Verification>().is_some();
        let verifier = request
            .app_data::<web::Data<Verifier>>()
            .map(|data| data.get_ref().clone())
            .or_else(|| request.app_data::<Verifier>().cloned());
        let headers = request.headers().clone();
        let payload = payload.take();
        Box::pin(async move {
            let bytes = match (verified, verifier) {
                (true, verifier) => {
                    let verifier = verifier.unwrap_or_else(|| Verifier::new(""));
                    read_body(&verifier, &headers, payload, None).await?
                }
                (false, Some(verifier)) => {
                    let bytes = read_body(&verifier, &headers, payload, None).await?;
                    verify_bytes(&verifier, &headers, &bytes)?;
                    bytes
                }
                (false, None) => return Err(WebhookError::MissingVerifier),
            };
            Ok(Self(parse::<E>(&bytes)?))
        })
    }
}

/// Why [`Webhook`] could not be extracted; answered with the same statuses and JSON bodies as
/// the middleware.
#[derive(Debug)]
#[non_exhaustive]
pub enum WebhookError {
    /// The request was refused (401 / 413 / 400…, see [`Rejection`]).
    Rejected(Rejection),
    /// Neither the middleware nor a `web::Data<Verifier>` is registered: a server
    /// misconfiguration, answered with 500.
    MissingVerifier,
}

impl From<Rejection> for WebhookError {
    fn from(rejection: Rejection) -> Self {
        Self::Rejected(rejection)
    }
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rejected(rejection) => fmt::Display::fmt(rejection, f),
            Self::MissingVerifier => f.write_str(
                "no webhook verifier configured: wrap the route in QuickAssistWebhooks or \
                 VerifyWebhook, or register app_data(web::Data::new(verifier))",
            ),
        }
    }
}

impl std::error::Error for WebhookError {}

impl ResponseError for WebhookError {
    fn status_code(&self) -> actix_web::http::StatusCode {
        self.error_response().status()
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Rejected(rejection) => rejection_response(*rejection),
            Self::MissingVerifier => {
                tracing::error!("{self}");
                HttpResponse::InternalServerError()
                    .content_type("application/json")
                    .body(r#"{"error":"webhook_verifier_missing"}"#)
            }
        }
    }
}
