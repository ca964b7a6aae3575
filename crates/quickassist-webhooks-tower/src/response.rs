//! The core's [`Answer`] as an HTTP response: the one place the layer and the extractor
//! write statuses, bodies and headers.

use http::{header, HeaderValue, Response, StatusCode};
use quickassist_webhooks::{
    receive::integration::Answer,
    rejection::{DUPLICATE_HEADER, JSON_CONTENT_TYPE},
    Envelope,
};

/// Copies `answer` into a response: status, JSON content type and body, `Retry-After`,
/// `x-webhook-duplicate`, and the outcome in the extensions.
pub(crate) fn answer_response(answer: Answer) -> Response<&'static str> {
    let mut response = Response::new(answer.body());
    // The core only defines valid statuses; 500 would flag a bug there.
    *response.status_mut() =
        StatusCode::from_u16(answer.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    if let Some(seconds) = answer.retry_after() {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    if answer.is_duplicate() {
        headers.insert(DUPLICATE_HEADER, HeaderValue::from_static("true"));
    }
    response.extensions_mut().insert(answer.outcome());
    response
}

/// [`answer_response`], with the verified envelope in the extensions when the answer came
/// after verification.
pub(crate) fn answered_response(
    answer: Answer,
    envelope: Option<Envelope>,
) -> Response<&'static str> {
    let mut response = answer_response(answer);
    if let Some(envelope) = envelope {
        response.extensions_mut().insert(envelope);
    }
    response
}

#[cfg(test)]
mod tests {
    use quickassist_webhooks::{receive::Outcome, rejection::Rejection};

    use super::*;

    #[test]
    fn in_flight_answer_carries_retry_after_and_json() {
        let response = answer_response(Answer::rejected(Rejection::DuplicateInFlight {
            retry_after: 60,
        }));
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(response.headers()[header::RETRY_AFTER], "60");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(*response.body(), r#"{"error":"duplicate_in_flight"}"#);
    }

    #[test]
    fn duplicate_is_a_marked_success_with_its_outcome() {
        let response = answer_response(Answer::duplicate());
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[DUPLICATE_HEADER], "true");
        assert_eq!(
            response.extensions().get::<Outcome>(),
            Some(&Outcome::Duplicate)
        );
    }
}
