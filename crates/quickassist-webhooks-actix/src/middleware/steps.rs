//! The two steps every middleware here is made of, written once.

use std::{rc::Rc, time::Duration};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{Service, ServiceRequest, ServiceResponse},
    Error, HttpMessage,
};
use quickassist_webhooks::{
    idempotency::{Admission, Deduplicator},
    rejection::Rejection,
    Envelope, Verifier,
};

use crate::{
    read::{parse, read_body, verify_bytes},
    response::{duplicate_response, rejection_response},
};

/// Verification settings shared by [`VerifyWebhook`](super::VerifyWebhook) and
/// [`QuickAssistWebhooks`](super::QuickAssistWebhooks).
#[derive(Clone, Debug)]
pub(crate) struct VerifySettings {
    pub(crate) verifier: Verifier,
    pub(crate) body_timeout: Option<Duration>,
}

/// Step 1: takes the payload, buffers it within the limit, verifies and parses it; puts the
/// verified bytes back as the payload and the envelope + verification in the extensions.
pub(crate) async fn verify(
    settings: &VerifySettings,
    request: &mut ServiceRequest,
) -> Result<(), Rejection> {
    let payload = request.take_payload();
    let bytes = read_body(
        &settings.verifier,
        request.headers(),
        payload,
        settings.body_timeout,
    )
    .await?;
    let info = verify_bytes(&settings.verifier, request.headers(), &bytes)?;
    let envelope: Envelope = parse(&bytes)?;
    {
        let mut extensions = request.extensions_mut();
        extensions.insert(envelope);
        extensions.insert(info);
    }
    request.set_payload(bytes.into());
    Ok(())
}

/// Step 2: lets the delivery reach `service` once. 2xx completes the claim; anything else,
/// an error or a dropped future (its guard's drop) releases it.
pub(crate) async fn deduplicate<S, B>(
    dedup: &Deduplicator,
    request: ServiceRequest,
    service: Rc<S>,
) -> Result<ServiceResponse<EitherBody<B>>, Error>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    let envelope = request.extensions_mut().remove::<Envelope>();
    let admission = match &envelope {
        Some(envelope) => dedup.admit(envelope).await,
        None => {
            tracing::warn!(
                "no verified Envelope in the request extensions: put Deduplicate behind \
                 VerifyWebhook (or use QuickAssistWebhooks); processing unguarded"
            );
            Ok(Admission::Unguarded)
        }
    };
    if let Some(envelope) = envelope {
        request.extensions_mut().insert(envelope);
    }
    match admission {
        Ok(Admission::Process(guard)) => {
            let result = service.call(request).await;
            let success = matches!(&result, Ok(response) if response.status().is_success());
            if let Err(error) = guard.settle(success).await {
                tracing::warn!("could not settle the delivery's claim: {error}");
            }
            result.map(ServiceResponse::map_into_left_body)
        }
        Ok(Admission::Duplicate) => {
            tracing::debug!(reason = "duplicate", "webhook already processed");
            Ok(reject_with(request, duplicate_response()))
        }
        Ok(Admission::Unguarded) => service
            .call(request)
            .await
            .map(ServiceResponse::map_into_left_body),
        Err(rejection) => {
            let answer = Rejection::from(&rejection);
            tracing::debug!(reason = answer.code(), "webhook deferred: {rejection}");
            Ok(reject_with(request, rejection_response(answer)))
        }
    }
}

/// Answers `request` with `response` without calling the inner service.
pub(crate) fn reject_with<B>(
    request: ServiceRequest,
    response: actix_web::HttpResponse,
) -> ServiceResponse<EitherBody<B>> {
    request.into_response(response).map_into_right_body()
}
