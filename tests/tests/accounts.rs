//! Many accounts behind one receiver, over real HTTP, on both frameworks as their READMEs
//! show it: a route per account (`/webhooks/thequickassist/{account}`), each delivery
//! verified with its own account's secrets only.

use std::sync::Arc;

use quickassist_e2e::{
    servers::{start_actix_at, start_axum_at},
    RecordingSink, Target, PATH,
};
use quickassist_webhooks::{
    accounts::{AccountId, Accounts, SourceError},
    idempotency::Deduplicator,
    receive::Receiver,
    testing::{sample, SignedRequest},
    Event, Secret, SIGNATURE_HEADER,
};
use reqwest::StatusCode;

const ROUTE: &str = "/webhooks/thequickassist/{account}";

fn receiver() -> Receiver {
    let accounts = Accounts::new(|account: AccountId| async move {
        Ok::<_, SourceError>(match account.as_str() {
            "acme" => Some(vec![Secret::from("whsec_acme")]),
            "globex" => Some(vec![Secret::from("whsec_globex")]),
            _ => None,
        })
    });
    Receiver::for_accounts(accounts)
        .deduplicator(Deduplicator::memory())
        .build()
        .expect("a valid configuration")
}

async fn post(target: &Target, account: &str, delivery: &SignedRequest) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("http://{}{PATH}/{account}", target.addr))
        .header(SIGNATURE_HEADER, &delivery.signature)
        .body(delivery.body.clone())
        .send()
        .await
        .expect("the receiver answers")
}

async fn each_account_accepts_only_its_own_secret(target: &Target) {
    let for_acme = SignedRequest::new(
        &Secret::from("whsec_acme"),
        &sample(Event::MESSAGE_READ, "whk_same"),
    );
    let for_globex = SignedRequest::new(
        &Secret::from("whsec_globex"),
        &sample(Event::MESSAGE_READ, "whk_same"),
    );
    assert_eq!(
        post(target, "globex", &for_acme).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post(target, "acme", &for_globex).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post(target, "initech", &for_acme).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(target.sink.count("whk_same"), 0);
    // The same webhookId on two accounts: processed once on each.
    assert_eq!(
        post(target, "acme", &for_acme).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        post(target, "globex", &for_globex).await.status(),
        StatusCode::OK
    );
    let again = post(target, "acme", &for_acme).await;
    assert_eq!(again.headers()["x-webhook-duplicate"], "true");
    assert_eq!(target.sink.count("whk_same"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_each_account_accepts_only_its_own_secret() {
    let target = start_axum_at(ROUTE, receiver(), Arc::new(RecordingSink::default())).await;
    each_account_accepts_only_its_own_secret(&target).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_each_account_accepts_only_its_own_secret() {
    let target = start_actix_at(ROUTE, receiver(), Arc::new(RecordingSink::default()));
    each_account_accepts_only_its_own_secret(&target).await;
}
