//! Stderr lines for everything the handler does not print: rejections and duplicates, read
//! from the decision the webhook layer leaves in each response's extensions.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, Request},
    middleware::Next,
    response::Response,
};
use quickassist_webhooks::{receive::Outcome, rejection::Rejection, Envelope};

/// Around the router: one line per request the handler did not report.
pub(super) async fn report(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| format!(" from {peer}"))
        .unwrap_or_default();
    let response = next.run(request).await;
    let status = response.status();
    let webhook_id = response
        .extensions()
        .get::<Envelope>()
        .map(|envelope| envelope.webhook_id.as_str());
    match (response.extensions().get::<Outcome>(), webhook_id) {
        // The handler printed the event, or the forwarding failure.
        (Some(Outcome::Processed | Outcome::HandlerFailed), _) => {}
        (Some(outcome), Some(webhook_id)) => {
            eprintln!(
                "{webhook_id}: {}; answered {status}",
                after_verification(*outcome)
            );
        }
        (Some(Outcome::Rejected(rejection)), None) => {
            eprintln!(
                "rejected {method} {path}{peer}: {status}: {}",
                describe(*rejection)
            );
        }
        _ => eprintln!("rejected {method} {path}{peer}: {status}: no webhook route here"),
    }
    response
}

/// What an answer given after verification means, for a delivery whose id is known.
fn after_verification(outcome: Outcome) -> String {
    match outcome {
        Outcome::Duplicate => "duplicate: already processed".to_owned(),
        Outcome::Rejected(Rejection::DuplicateInFlight { .. }) => {
            "duplicate: being processed right now".to_owned()
        }
        Outcome::Rejected(rejection) => describe(rejection),
        other => other.code().to_owned(),
    }
}

/// "invalid_signature (the signature does not match the body)".
fn describe(rejection: Rejection) -> String {
    format!("{} ({rejection})", rejection.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_come_from_the_core_rejection() {
        assert_eq!(
            describe(Rejection::InvalidSignature),
            "invalid_signature (the signature does not match the body)"
        );
        assert_eq!(
            after_verification(Outcome::Rejected(Rejection::DuplicateInFlight {
                retry_after: 60
            })),
            "duplicate: being processed right now"
        );
        assert_eq!(
            after_verification(Outcome::Rejected(Rejection::StoreUnavailable)),
            "store_unavailable (the idempotency store is unavailable)"
        );
    }
}
