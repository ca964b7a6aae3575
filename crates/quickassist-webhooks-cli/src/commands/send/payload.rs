//! What `send` posts: a sample event or a file, signed, with fresh or pinned `webhookId`s.

use quickassist_webhooks::{testing::sample, testing::SignedRequest, Secret};
use serde_json::Value;

use crate::webhook_id;

/// Where bodies come from.
#[derive(Debug)]
pub(super) enum Source {
    /// A sample of this documented event type.
    Event(&'static str),
    /// A file's bytes, and its JSON when it is JSON (so its `webhookId` can be replaced).
    File { bytes: Vec<u8>, json: Option<Value> },
}

/// Builds each request's body and signature.
#[derive(Debug)]
pub(super) struct Payloads {
    source: Source,
    secret: Secret,
    /// The `webhookId` every request carries (a retry), or `None` for fresh ids.
    pinned: Option<String>,
    /// Replace the file's `webhookId` with a fresh one per request.
    fresh_ids: bool,
    pretty: bool,
    signature: Option<String>,
    /// The one request sent every time, when nothing varies between requests.
    fixed: Option<SignedRequest>,
}

impl Payloads {
    /// `fresh_ids`: give every request a new `webhookId` (unless `pinned`); events always get
    /// one, files only when asked. `signature` replaces the computed one (to test rejections).
    pub(super) fn new(
        source: Source,
        secret: Secret,
        pinned: Option<String>,
        fresh_ids: bool,
        pretty: bool,
        signature: Option<String>,
    ) -> Self {
        let mut payloads = Self {
            source,
            secret,
            pinned,
            fresh_ids,
            pretty,
            signature,
            fixed: None,
        };
        let varies = match &payloads.source {
            Source::Event(_) => payloads.pinned.is_none(),
            Source::File { json, .. } => {
                json.is_some() && payloads.pinned.is_none() && payloads.fresh_ids
            }
        };
        if !varies {
            // A retry is the same bytes every time: build it once.
            payloads.fixed = Some(payloads.build());
        }
        payloads
    }

    /// The next request to send.
    pub(super) fn next(&self) -> SignedRequest {
        self.fixed.clone().unwrap_or_else(|| self.build())
    }

    fn build(&self) -> SignedRequest {
        let mut request = match &self.source {
            Source::Event(event) => {
                let id = self.pinned.clone().unwrap_or_else(webhook_id::fresh);
                self.sign(&sample(event, &id))
            }
            Source::File {
                json: Some(json), ..
            } if self.pinned.is_some() || self.fresh_ids || self.pretty => {
                let mut json = json.clone();
                if let Value::Object(fields) = &mut json {
                    if let Some(id) = self.pinned.clone().or_else(|| {
                        // Only files sent more than once get fresh ids.
                        self.fresh_ids.then(webhook_id::fresh)
                    }) {
                        fields.insert("webhookId".to_owned(), Value::String(id));
                    }
                }
                self.sign(&json)
            }
            Source::File { bytes, .. } => SignedRequest::raw(&self.secret, bytes.clone()),
        };
        if let Some(signature) = &self.signature {
            request.signature.clone_from(signature);
        }
        request
    }

    fn sign(&self, payload: &impl serde::Serialize) -> SignedRequest {
        if self.pretty {
            SignedRequest::pretty(&self.secret, payload)
        } else {
            SignedRequest::new(&self.secret, payload)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quickassist_webhooks::{parse_envelope, Event, SignedForm, Verifier};

    fn webhook_id(request: &SignedRequest) -> String {
        parse_envelope::<Event>(&request.body).unwrap().webhook_id
    }

    #[test]
    fn events_get_fresh_ids_unless_pinned() {
        let fresh = Payloads::new(
            Source::Event(Event::MESSAGE_READ),
            Secret::from("s"),
            None,
            true,
            false,
            None,
        );
        assert_ne!(webhook_id(&fresh.next()), webhook_id(&fresh.next()));
        let pinned = Payloads::new(
            Source::Event(Event::MESSAGE_READ),
            Secret::from("s"),
            Some("whk_same".into()),
            true,
            false,
            None,
        );
        assert_eq!(pinned.next(), pinned.next());
        assert_eq!(webhook_id(&pinned.next()), "whk_same");
    }

    #[test]
    fn a_file_sent_once_goes_byte_for_byte() {
        let bytes = b"{ \"event\": \"message.read\", \"webhookId\": \"whk_file\" }".to_vec();
        let json = serde_json::from_slice(&bytes).ok();
        let payloads = Payloads::new(
            Source::File {
                bytes: bytes.clone(),
                json,
            },
            Secret::from("s"),
            None,
            false,
            false,
            None,
        );
        let request = payloads.next();
        assert_eq!(request.body, bytes);
        let verified = Verifier::new("s")
            .verify(Some(&request.signature), &request.body)
            .unwrap();
        assert_eq!(verified.form(), SignedForm::Raw);
    }

    #[test]
    fn pretty_requests_are_signed_over_their_canonical_form() {
        let payloads = Payloads::new(
            Source::Event(Event::MESSAGE_FAILED),
            Secret::from("s"),
            None,
            true,
            true,
            None,
        );
        let request = payloads.next();
        let verified = Verifier::new("s")
            .verify(Some(&request.signature), &request.body)
            .unwrap();
        assert_eq!(verified.form(), SignedForm::Canonical);
    }

    #[test]
    fn an_explicit_signature_replaces_the_computed_one() {
        let payloads = Payloads::new(
            Source::Event(Event::MESSAGE_READ),
            Secret::from("s"),
            None,
            true,
            false,
            Some("bad".into()),
        );
        assert_eq!(payloads.next().signature, "bad");
    }
}
