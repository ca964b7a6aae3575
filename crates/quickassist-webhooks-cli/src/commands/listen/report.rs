//! Stderr lines for everything the handler does not print: rejections and duplicates.

use std::net::SocketAddr;

use axum::{
    body::Body,
    extract::{ConnectInfo, Request},
    middleware::Next,
    response::Response,
};
use quickassist_webhooks::{rejection::Rejection, Envelope};

/// Marks a response already reported (by the handler or [`admission`]).
#[derive(Clone, Copy, Debug)]
pub(super) struct Handled;

/// The largest rejection body read back for its code; the layers' bodies are tiny.
const MAX_REJECTION_BODY: usize = 4096;

/// Between verification and de-duplication, where the verified `webhookId` is known:
/// reports duplicates, in-flight retries and an unavailable store.
pub(super) async fn admission(request: Request, next: Next) -> Response {
    let webhook_id = request
        .extensions()
        .get::<Envelope>()
        .map(|envelope| envelope.webhook_id.clone())
        .unwrap_or_default();
    let mut response = next.run(request).await;
    if response.extensions().get::<Handled>().is_none() {
        let status = response.status();
        let in_flight = Rejection::DuplicateInFlight { retry_after: 0 }.status();
        let what = if response
            .headers()
            .contains_key(quickassist_webhooks::rejection::DUPLICATE_HEADER)
        {
            "duplicate: already processed"
        } else if status.as_u16() == in_flight {
            "duplicate: being processed right now"
        } else if status.as_u16() == Rejection::StoreUnavailable.status() {
            "the idempotency store is unavailable"
        } else {
            "not processed"
        };
        eprintln!("{webhook_id}: {what}; answered {status}");
    }
    response.extensions_mut().insert(Handled);
    response
}

/// Around the router: reports every failure nothing inside reported, i.e. the verification
/// layer's rejections (with the reason) and requests to other paths or methods.
pub(super) async fn rejections(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| format!(" from {peer}"))
        .unwrap_or_default();
    let response = next.run(request).await;
    if response.extensions().get::<Handled>().is_some() || response.status().is_success() {
        return response;
    }
    let status = response.status();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_REJECTION_BODY)
        .await
        .unwrap_or_default();
    let reason = rejection_reason(&bytes).unwrap_or_else(|| "no webhook route here".to_owned());
    eprintln!("rejected {method} {path}{peer}: {status}: {reason}");
    Response::from_parts(parts, Body::from(bytes))
}

/// "invalid_signature (the signature does not match the body)" from a rejection's
/// `{"error":"invalid_signature"}` body.
fn rejection_reason(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let code = value.get("error")?.as_str()?;
    let known = [
        Rejection::MissingSignature,
        Rejection::MalformedSignature,
        Rejection::InvalidSignature,
        Rejection::TimestampOutOfTolerance,
        Rejection::PayloadTooLarge,
        Rejection::InvalidPayload,
        Rejection::BodyReadFailed,
        Rejection::StoreUnavailable,
    ];
    Some(
        match known.iter().find(|rejection| rejection.code() == code) {
            Some(rejection) => format!("{code} ({rejection})"),
            None => code.to_owned(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::rejection_reason;

    #[test]
    fn reasons_come_from_the_core_rejection() {
        assert_eq!(
            rejection_reason(br#"{"error":"invalid_signature"}"#).as_deref(),
            Some("invalid_signature (the signature does not match the body)")
        );
        assert_eq!(
            rejection_reason(br#"{"error":"something_new"}"#).as_deref(),
            Some("something_new")
        );
        assert_eq!(rejection_reason(b"Not Found"), None);
    }
}
