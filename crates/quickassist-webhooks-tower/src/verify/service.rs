use std::task::{Context, Poll};

use http::{Request, Response};
use http_body::Body;
use quickassist_webhooks::Verifier;
use tower_service::Service;

use crate::future::ResponseFuture;

use super::{
    read::{verify_request, BoxError},
    VerifyLayer,
};
use crate::{
    body::{ResponseBody, VerifiedBody},
    response::rejection_response,
};

/// Middleware that verifies webhook signatures: 401 for a missing, malformed or wrong
/// signature (or a timestamp outside the replay window), 413 for a body over the limit, 400
/// for an authentic body that is not a webhook envelope.
///
/// On success the inner service gets a request whose body is the verified bytes
/// ([`VerifiedBody`]) and whose extensions hold the parsed
/// [`Envelope<Event>`](quickassist_webhooks::Envelope) and the
/// [`Verification`](quickassist_webhooks::Verification).
#[derive(Clone, Debug)]
pub struct Verify<S> {
    inner: S,
    verifier: Verifier,
}

impl<S> Verify<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, verifier: Verifier) -> Self {
        Self { inner, verifier }
    }

    /// A [`VerifyLayer`] for this middleware.
    pub fn layer(verifier: Verifier) -> VerifyLayer {
        VerifyLayer::new(verifier)
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes `self`, returning the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Verify<S>
where
    S: Service<Request<VerifiedBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    ReqBody: Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // Buffering happens before the inner call: take the service that was polled ready
        // and leave a fresh clone in its place (tower-http's async authorization pattern).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = self.verifier.clone();
        ResponseFuture::new(async move {
            let (mut parts, body) = request.into_parts();
            match verify_request(&verifier, &parts.headers, body).await {
                Ok(verified) => {
                    parts.extensions.insert(verified.envelope);
                    parts.extensions.insert(verified.info);
                    let request = Request::from_parts(parts, VerifiedBody::new(verified.bytes));
                    let response = inner.call(request).await?;
                    Ok(response.map(ResponseBody::inner))
                }
                Err(rejection) => Ok(rejection_response(rejection).map(ResponseBody::answer)),
            }
        })
    }
}
