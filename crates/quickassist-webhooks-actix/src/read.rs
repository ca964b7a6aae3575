//! Reading, bounding, verifying and parsing an actix request body: the work of the
//! middleware and of the extractor used without it, written once.

use std::time::Duration;

use actix_web::{dev::Payload, http::header::HeaderMap};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use quickassist_webhooks::{
    event::parse_envelope, rejection::Rejection, Envelope, Verification, Verifier, VerifyError,
    SIGNATURE_HEADER,
};
use serde::de::DeserializeOwned;

/// Reads the whole payload, at most the verifier's limit: a `Content-Length` over it is
/// refused before reading, a chunked body as soon as it crosses it. With `chunk_timeout`, a
/// body that stalls longer than that between two chunks is refused too (a slowloris).
pub(crate) async fn read_body(
    verifier: &Verifier,
    headers: &HeaderMap,
    mut payload: Payload,
    chunk_timeout: Option<Duration>,
) -> Result<Bytes, Rejection> {
    let declared = headers
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    verifier
        .check_content_length(declared)
        .map_err(|error| reject(&error))?;
    let limit = verifier.max_body_size();
    let mut body = BytesMut::with_capacity(declared.map_or(8 * 1024, |len| len as usize));
    loop {
        let next = match chunk_timeout {
            Some(timeout) => match actix_web::rt::time::timeout(timeout, payload.next()).await {
                Ok(next) => next,
                Err(_) => {
                    tracing::debug!(
                        reason = "body_read_failed",
                        "webhook rejected: body stalled"
                    );
                    return Err(Rejection::BodyReadFailed);
                }
            },
            None => payload.next().await,
        };
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|error| {
            tracing::debug!(reason = "body_read_failed", "webhook rejected: {error}");
            Rejection::BodyReadFailed
        })?;
        if body.len() + chunk.len() > limit {
            return Err(reject(&VerifyError::PayloadTooLarge { limit }));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Verifies buffered bytes against the request's signature header.
pub(crate) fn verify_bytes(
    verifier: &Verifier,
    headers: &HeaderMap,
    bytes: &[u8],
) -> Result<Verification, Rejection> {
    let mut values = headers.get_all(SIGNATURE_HEADER);
    let signature = match (values.next(), values.next()) {
        (first, None) => first.map(|value| value.as_bytes()),
        // Two signature headers: which one would the sender mean? Refuse rather than guess.
        (Some(_), Some(_)) => return Err(reject(&VerifyError::MalformedSignature)),
        (None, Some(_)) => None,
    };
    verifier
        .verify_bytes(signature, bytes)
        .map(|verified| verified.info())
        .map_err(|error| reject(&error))
}

/// Parses verified bytes into an envelope; 400 when they are not one.
pub(crate) fn parse<E: DeserializeOwned>(bytes: &[u8]) -> Result<Envelope<E>, Rejection> {
    parse_envelope::<E>(bytes).map_err(|error| {
        tracing::debug!(
            reason = "invalid_payload",
            path = error.path(),
            "webhook rejected: {error}"
        );
        Rejection::from(&error)
    })
}

fn reject(error: &VerifyError) -> Rejection {
    let rejection = Rejection::from(error);
    // `debug`, not `info`: forged requests must not be able to flood the logs.
    tracing::debug!(reason = rejection.code(), "webhook rejected: {error}");
    rejection
}
