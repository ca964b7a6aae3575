//! Turning the core's [`Rejection`] into an actix response: statuses, bodies and headers
//! come from the core, identical to the tower integration's.

use actix_web::{
    http::{header, StatusCode},
    HttpResponse,
};
use quickassist_webhooks::rejection::{
    Rejection, DUPLICATE_BODY, DUPLICATE_HEADER, JSON_CONTENT_TYPE,
};

/// The response for `rejection`: its status, `content-type: application/json`, its small
/// JSON body and, for an in-flight duplicate, `Retry-After`.
pub(crate) fn rejection_response(rejection: Rejection) -> HttpResponse {
    let status =
        StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CONTENT_TYPE, JSON_CONTENT_TYPE));
    if let Some(seconds) = rejection.retry_after() {
        response.insert_header((header::RETRY_AFTER, seconds.to_string()));
    }
    response.body(rejection.json_body())
}

/// `200 OK` for a delivery that was already processed, marked with [`DUPLICATE_HEADER`].
pub(crate) fn duplicate_response() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, JSON_CONTENT_TYPE))
        .insert_header((DUPLICATE_HEADER, "true"))
        .body(DUPLICATE_BODY)
}
