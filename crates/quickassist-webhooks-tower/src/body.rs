//! The body types the layers hand on: verified bytes downstream, rejections upstream.

use std::{
    convert::Infallible,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

/// The request body the inner service receives behind [`WebhookLayer`](crate::WebhookLayer):
/// exactly the verified bytes, already buffered, in one frame.
///
/// Its size is exact ([`Body::size_hint`]), so a framework reading it again (an axum
/// extractor such as `Bytes` or `Json`) copies nothing.
#[derive(Clone, Debug, Default)]
pub struct VerifiedBody {
    bytes: Option<Bytes>,
}

impl VerifiedBody {
    pub(crate) fn new(bytes: Bytes) -> Self {
        Self {
            bytes: (!bytes.is_empty()).then_some(bytes),
        }
    }
}

impl Body for VerifiedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.bytes.take().map(|bytes| Ok(Frame::data(bytes))))
    }

    fn is_end_stream(&self) -> bool {
        self.bytes.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.bytes.as_ref().map_or(0, |b| b.len() as u64))
    }
}

pin_project! {
    /// The response body of the layers: the inner service's body, or a small JSON body the
    /// layer answered with itself (a rejection or a duplicate's acknowledgement).
    #[derive(Debug)]
    pub struct ResponseBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    #[derive(Debug)]
    enum Kind<B> {
        Inner { #[pin] body: B },
        Answer { bytes: Option<Bytes> },
    }
}

impl<B> ResponseBody<B> {
    /// The inner service's body, passed through.
    pub(crate) fn inner(body: B) -> Self {
        Self {
            kind: Kind::Inner { body },
        }
    }

    /// A body of `text`, answered by the layer itself.
    pub(crate) fn answer(text: &'static str) -> Self {
        Self {
            kind: Kind::Answer {
                bytes: (!text.is_empty()).then(|| Bytes::from_static(text.as_bytes())),
            },
        }
    }
}

impl<B: Body<Data = Bytes>> Body for ResponseBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().kind.project() {
            KindProj::Inner { body } => body.poll_frame(cx),
            KindProj::Answer { bytes } => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Answer { bytes } => bytes.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Answer { bytes } => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    #[tokio::test]
    async fn verified_body_yields_its_bytes_once_with_an_exact_size() {
        let body = VerifiedBody::new(Bytes::from_static(b"{\"a\":1}"));
        assert_eq!(body.size_hint().exact(), Some(7));
        assert!(!body.is_end_stream());
        assert_eq!(body.collect().await.unwrap().to_bytes(), "{\"a\":1}");
    }

    #[test]
    fn empty_verified_body_is_already_at_its_end() {
        let body = VerifiedBody::new(Bytes::new());
        assert!(body.is_end_stream());
        assert_eq!(body.size_hint().exact(), Some(0));
    }

    #[tokio::test]
    async fn answer_body_carries_the_text_and_its_length() {
        let body = ResponseBody::<VerifiedBody>::answer(r#"{"error":"x"}"#);
        assert_eq!(body.size_hint().exact(), Some(13));
        assert_eq!(body.collect().await.unwrap().to_bytes(), r#"{"error":"x"}"#);
    }

    #[tokio::test]
    async fn inner_body_passes_through() {
        let body = ResponseBody::inner(VerifiedBody::new(Bytes::from_static(b"handled")));
        assert_eq!(body.size_hint().exact(), Some(7));
        assert_eq!(body.collect().await.unwrap().to_bytes(), "handled");
    }
}
