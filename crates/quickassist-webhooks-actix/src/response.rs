//! The core's [`Answer`] as an actix response: statuses, bodies and headers come from the
//! core, identical to the tower integration's.

use actix_web::{
    http::{header, StatusCode},
    HttpResponse,
};
use quickassist_webhooks::{
    receive::integration::Answer,
    rejection::{DUPLICATE_HEADER, JSON_CONTENT_TYPE},
    Envelope,
};

/// Copies `answer` into a response: status, JSON content type and body, `Retry-After`,
/// `x-webhook-duplicate`, and the outcome in the extensions.
pub(crate) fn answer_response(answer: Answer) -> HttpResponse {
    // The core only defines valid statuses; 500 would flag a bug there.
    let status = StatusCode::from_u16(answer.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CONTENT_TYPE, JSON_CONTENT_TYPE));
    if let Some(seconds) = answer.retry_after() {
        response.insert_header((header::RETRY_AFTER, seconds));
    }
    if answer.is_duplicate() {
        response.insert_header((DUPLICATE_HEADER, "true"));
    }
    let mut response = response.body(answer.body());
    response.extensions_mut().insert(answer.outcome());
    response
}

/// [`answer_response`], with the verified envelope in the extensions when the answer came
/// after verification.
pub(crate) fn answered_response(answer: Answer, envelope: Option<Envelope>) -> HttpResponse {
    let mut response = answer_response(answer);
    if let Some(envelope) = envelope {
        response.extensions_mut().insert(envelope);
    }
    response
}
