//! Shared helpers for the crate's integration tests.
// Test helpers outside `#[test]` functions: a panic here is a test failure.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::{
    convert::Infallible,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    task::{Context, Poll},
};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Full};
use quickassist_webhooks::{
    testing::{sample, SignedRequest},
    Event, Secret, SIGNATURE_HEADER,
};

pub const SECRET: &str = "whsec_test_secret";
pub const PATH: &str = "/webhooks/thequickassist";

/// A delivery of `message.delivered` with `webhook_id`, signed with [`SECRET`].
pub fn signed(webhook_id: &str) -> SignedRequest {
    SignedRequest::new(
        &Secret::from(SECRET),
        &sample(Event::MESSAGE_DELIVERED, webhook_id),
    )
}

/// A POST of `body` with the given signature header values.
pub fn request<B>(signatures: &[&str], body: B) -> Request<B> {
    let mut builder = Request::post(PATH).header(http::header::CONTENT_TYPE, "application/json");
    for signature in signatures {
        builder = builder.header(SIGNATURE_HEADER, *signature);
    }
    builder.body(body).unwrap()
}

/// The signed request as an HTTP request with a `Content-Length`.
pub fn http_request(signed: &SignedRequest) -> Request<Full<Bytes>> {
    let mut request = request(
        &[&signed.signature],
        Full::new(Bytes::from(signed.body.clone())),
    );
    request
        .headers_mut()
        .insert(http::header::CONTENT_LENGTH, signed.body.len().into());
    request
}

/// Collects a response body as a string.
pub async fn body_text<B>(response: Response<B>) -> String
where
    B: Body,
    B::Error: std::fmt::Debug,
{
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// What the inner service saw of one request.
#[derive(Clone, Debug)]
pub struct Seen {
    pub body: Bytes,
    pub envelope: Option<quickassist_webhooks::Envelope>,
    pub verification: Option<quickassist_webhooks::Verification>,
}

/// An inner service answering `status`, recording every request it gets.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    pub seen: Arc<std::sync::Mutex<Vec<Seen>>>,
}

impl Recorder {
    pub fn calls(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    pub fn last(&self) -> Seen {
        self.seen.lock().unwrap().last().cloned().unwrap()
    }

    /// A service answering `status` (and recording requests into `self`).
    pub fn service<B>(
        &self,
        status: StatusCode,
    ) -> impl tower::Service<
        Request<B>,
        Response = Response<Full<Bytes>>,
        Error = Infallible,
        Future = impl Send,
    > + Clone
           + Send
           + 'static
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: std::fmt::Debug,
    {
        let seen = Arc::clone(&self.seen);
        tower::service_fn(move |request: Request<B>| {
            let seen = Arc::clone(&seen);
            async move {
                let verified = request
                    .extensions()
                    .get::<quickassist_webhooks::receive::VerifiedDelivery>();
                let envelope = verified.map(|verified| verified.envelope.clone());
                let verification = verified.map(|verified| verified.verification);
                let body = request.into_body().collect().await.unwrap().to_bytes();
                seen.lock().unwrap().push(Seen {
                    body,
                    envelope,
                    verification,
                });
                let mut response = Response::new(Full::new(Bytes::from_static(b"handled")));
                *response.status_mut() = status;
                Ok::<_, Infallible>(response)
            }
        })
    }
}

/// A body that never ends, in chunks, without a size hint (as a chunked upload), counting the
/// bytes read from it.
#[derive(Debug)]
pub struct Endless {
    chunk: Bytes,
    pub read: Arc<AtomicUsize>,
}

impl Endless {
    pub fn new(chunk_size: usize) -> Self {
        Self {
            chunk: Bytes::from(vec![b' '; chunk_size]),
            read: Arc::default(),
        }
    }
}

impl Body for Endless {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.read.fetch_add(self.chunk.len(), Ordering::Relaxed);
        Poll::Ready(Some(Ok(Frame::data(self.chunk.clone()))))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// A body that records whether anyone polled it.
#[derive(Debug, Default)]
pub struct Untouched {
    pub polled: Arc<AtomicBool>,
}

impl Body for Untouched {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.polled.store(true, Ordering::SeqCst);
        Poll::Ready(None)
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}
