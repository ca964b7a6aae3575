//! The security headers on every response of the console, errors included.

use axum::{
    http::{header, HeaderName, HeaderValue},
    response::Response,
};

/// Nothing but the console's own stylesheet and `data:` images; forms post to the console
/// only; no framing, no `<base>`, no scripts at all.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; \
     img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const HEADERS: [(HeaderName, &str); 5] = [
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    // Pages show payloads and personal data: never stored by a browser or a proxy.
    (header::CACHE_CONTROL, "no-store"),
];

/// Sets the headers (replacing any the handler set).
pub(crate) async fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
