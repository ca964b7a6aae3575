//! Turning the core's [`Rejection`] into an HTTP response: the one place statuses, bodies and
//! headers are written, for every layer and the extractor.

use http::{header, HeaderValue, Response, StatusCode};
use quickassist_webhooks::rejection::{
    Rejection, DUPLICATE_BODY, DUPLICATE_HEADER, JSON_CONTENT_TYPE,
};

/// The answer for `rejection`: its status, `content-type: application/json`, its small JSON
/// body and, for an in-flight duplicate, `Retry-After`. Callers wrap the body in their own
/// body type.
pub(crate) fn rejection_response(rejection: Rejection) -> Response<&'static str> {
    let mut response = Response::new(rejection.json_body());
    // The core only defines valid statuses; 500 would flag a bug there, never a client error.
    *response.status_mut() =
        StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    if let Some(seconds) = rejection.retry_after() {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// `200 OK` for a delivery that was already processed, marked with [`DUPLICATE_HEADER`].
pub(crate) fn duplicate_response() -> Response<&'static str> {
    let mut response = Response::new(DUPLICATE_BODY);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    headers.insert(DUPLICATE_HEADER, HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_rejection_carries_retry_after_and_json() {
        let response = rejection_response(Rejection::DuplicateInFlight { retry_after: 60 });
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(response.headers()[header::RETRY_AFTER], "60");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(*response.body(), r#"{"error":"duplicate_in_flight"}"#);
    }

    #[test]
    fn signature_rejection_has_no_retry_after() {
        let response = rejection_response(Rejection::InvalidSignature);
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().get(header::RETRY_AFTER).is_none());
    }

    #[test]
    fn duplicate_is_a_marked_success() {
        let response = duplicate_response();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[DUPLICATE_HEADER], "true");
        assert_eq!(*response.body(), DUPLICATE_BODY);
    }
}
