//! Reading, bounding, verifying and parsing a request body: the work of [`VerifyLayer`] and of
//! the extractor used without it, written once.
//!
//! [`VerifyLayer`]: super::VerifyLayer

use bytes::Bytes;
use http::{header, HeaderMap};
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use quickassist_webhooks::{
    event::parse_envelope, rejection::Rejection, Envelope, Event, Verification, Verifier,
    VerifyError, SIGNATURE_HEADER,
};

/// The error type bodies must convert their errors into.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request whose body verified and parsed.
pub(crate) struct VerifiedRequest {
    pub(crate) bytes: Bytes,
    pub(crate) envelope: Envelope<Event>,
    pub(crate) info: Verification,
}

/// Buffers `body` (refusing more than the verifier's limit, before reading when
/// `Content-Length` says so), verifies it against the signature header and parses it.
pub(crate) async fn verify_request<B>(
    verifier: &Verifier,
    headers: &HeaderMap,
    body: B,
) -> Result<VerifiedRequest, Rejection>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let bytes = read_body(verifier, headers, body).await?;
    let info = verify_bytes(verifier, headers, &bytes)?;
    let envelope = parse::<Event>(&bytes)?;
    Ok(VerifiedRequest {
        bytes,
        envelope,
        info,
    })
}

/// Reads the whole body, at most the verifier's limit.
pub(crate) async fn read_body<B>(
    verifier: &Verifier,
    headers: &HeaderMap,
    body: B,
) -> Result<Bytes, Rejection>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    // Refuse before reading a byte when the sender declares too much: the header, or the
    // body's own lower bound (hyper's is exact when `Content-Length` was sent).
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    let at_least = Some(body.size_hint().lower()).filter(|&lower| lower > 0);
    verifier
        .check_content_length(declared.max(at_least))
        .map_err(|error| reject(&error))?;
    match Limited::new(body, verifier.max_body_size()).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<LengthLimitError>() => {
            Err(reject(&VerifyError::PayloadTooLarge {
                limit: verifier.max_body_size(),
            }))
        }
        Err(error) => {
            tracing::debug!(reason = "body_read_failed", "webhook rejected: {error}");
            Err(Rejection::BodyReadFailed)
        }
    }
}

/// Verifies buffered bytes against the request's signature header.
pub(crate) fn verify_bytes(
    verifier: &Verifier,
    headers: &HeaderMap,
    bytes: &[u8],
) -> Result<Verification, Rejection> {
    let mut values = headers.get_all(SIGNATURE_HEADER).iter();
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

fn reject(error: &VerifyError) -> Rejection {
    let rejection = Rejection::from(error);
    // `debug`, not `info`: forged requests must not be able to flood the logs.
    tracing::debug!(reason = rejection.code(), "webhook rejected: {error}");
    rejection
}

/// Parses verified bytes into an envelope; 400 when they are not one.
pub(crate) fn parse<E: serde::de::DeserializeOwned>(
    bytes: &[u8],
) -> Result<quickassist_webhooks::Envelope<E>, Rejection> {
    parse_envelope::<E>(bytes).map_err(|error| {
        tracing::debug!(
            reason = "invalid_payload",
            path = error.path(),
            "webhook rejected: {error}"
        );
        Rejection::from(&error)
    })
}
