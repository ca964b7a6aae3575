//! `--forward-to`: re-posting a verified event to the app under development.

use std::{path::Path, time::Duration};

use axum::{
    http::{header::CONTENT_TYPE, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use quickassist_webhooks::{canonical::canonicalize, sign, Secret, SignedForm, SIGNATURE_HEADER};
use reqwest::{Client, Url};

use crate::{
    failure::Failure,
    http::{client, describe_failed_request, read_body, redacted},
};

/// The most of the app's answer relayed to the sender; the provider only reads the status.
const MAX_RELAYED_BODY: usize = 64 * 1024;

/// How long the app has to answer a forwarded event.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(30);

/// Posts verified events to one URL.
#[derive(Clone, Debug)]
pub(super) struct Forwarder {
    client: Client,
    url: Url,
}

impl Forwarder {
    /// A forwarder to `url`, trusting the certificates of the PEM file `cacert` besides the
    /// built-in roots.
    pub(super) fn new(url: Url, cacert: Option<&Path>) -> Result<Self, Failure> {
        let client = client(FORWARD_TIMEOUT, cacert)?;
        Ok(Self { client, url })
    }

    /// Re-posts `body` signed with `secret` over the same form that verified it (so the app
    /// sees exactly what the sender signed), and turns the app's answer into the sender's.
    pub(super) async fn forward(
        &self,
        secret: &Secret,
        form: SignedForm,
        webhook_id: &str,
        body: Bytes,
    ) -> Response {
        let signature = match form {
            SignedForm::Raw => sign(secret, &body),
            SignedForm::Canonical => match canonicalize(&body) {
                Ok(canonical) => sign(secret, &canonical),
                Err(_) => sign(secret, &body),
            },
        };
        let sent = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await;
        let answer = match sent {
            Ok(answer) => answer,
            Err(error) => {
                eprintln!(
                    "{webhook_id}: cannot forward to {}: {}; answered 502, so the retry \
                     will be processed",
                    redacted(&self.url),
                    describe_failed_request(error)
                );
                return (
                    StatusCode::BAD_GATEWAY,
                    [(CONTENT_TYPE, "application/json")],
                    r#"{"error":"forward_failed"}"#,
                )
                    .into_response();
            }
        };
        let status = answer.status();
        if !status.is_success() {
            eprintln!(
                "{webhook_id}: {} answered {status}; claim released, so the retry will be \
                 processed",
                redacted(&self.url)
            );
        }
        let content_type = answer.headers().get(CONTENT_TYPE).cloned();
        let relayed = read_body(answer, MAX_RELAYED_BODY).await;
        let mut response = (status, relayed).into_response();
        response.headers_mut().remove(CONTENT_TYPE);
        if let Some(content_type) = content_type {
            response.headers_mut().insert(CONTENT_TYPE, content_type);
        } else {
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
        }
        response
    }
}
