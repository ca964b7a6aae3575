//! Many accounts behind one receiver: each request is verified with the secrets of the
//! account it names and no other, lookups are cached and coalesced, de-duplication is per
//! account, and no secret ever reaches a log, an error or a `Debug`.
#![cfg(feature = "memory-store")]

use std::{
    collections::HashMap,
    convert::Infallible,
    io,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
};

use bytes::Bytes;
use quickassist_webhooks::{
    accounts::{AccountFrom, AccountId, Accounts, SecretSource, SecretsFuture, SourceError},
    idempotency::Deduplicator,
    receive::{
        integration::{Received, RequestHead},
        Outcome, Receiver,
    },
    rejection::Rejection,
    testing::{sample, SignedRequest},
    Event, Secret,
};
use tokio::sync::Notify;

const ACME: &str = "whsec_acme_secret_value";
const GLOBEX_NEW: &str = "whsec_globex_new_value";
const GLOBEX_OLD: &str = "whsec_globex_old_value";

/// The accounts' secrets, counting lookups; can be made to fail, or to hold its answers
/// until released.
#[derive(Default)]
struct Directory {
    secrets: HashMap<&'static str, Vec<&'static str>>,
    lookups: AtomicUsize,
    failing: AtomicBool,
    gate: Option<Arc<Notify>>,
}

impl Directory {
    fn new() -> Self {
        Self {
            secrets: HashMap::from([
                ("acme", vec![ACME]),
                ("globex", vec![GLOBEX_NEW, GLOBEX_OLD]),
            ]),
            ..Self::default()
        }
    }
}

impl SecretSource for Directory {
    fn secrets<'a>(&'a self, account: &'a AccountId) -> SecretsFuture<'a> {
        Box::pin(async move {
            self.lookups.fetch_add(1, Ordering::SeqCst);
            if let Some(gate) = &self.gate {
                gate.notified().await;
            }
            if self.failing.load(Ordering::SeqCst) {
                return Err(SourceError::new("connection refused"));
            }
            Ok(self
                .secrets
                .get(account.as_str())
                .map(|secrets| secrets.iter().map(|s| Secret::from(*s)).collect()))
        })
    }
}

/// A receiver of the directory's accounts, the account in the last path segment, with its
/// own store.
fn receiver(directory: Directory) -> (Receiver, Arc<Directory>) {
    let directory = Arc::new(directory);
    let shared = Arc::clone(&directory);
    let accounts = Accounts::new(move |account: AccountId| {
        let directory = Arc::clone(&shared);
        async move { directory.secrets(&account).await }
    })
    .with_account_from(AccountFrom::LastPathSegment);
    let receiver = Receiver::for_accounts(accounts)
        .deduplicator(Deduplicator::memory())
        .build()
        .expect("a valid configuration");
    (receiver, directory)
}

fn signed(secret: &str, webhook_id: &str) -> SignedRequest {
    SignedRequest::new(
        &Secret::from(secret),
        &sample(Event::MESSAGE_READ, webhook_id),
    )
}

/// Posts `request` to `/webhooks/thequickassist/{account}`; the outcome, or the rejection.
async fn post(
    receiver: &Receiver,
    account: &str,
    request: &SignedRequest,
) -> Result<Outcome, Rejection> {
    let path = format!("/webhooks/thequickassist/{account}");
    let head = RequestHead::new(None, [request.signature.as_bytes()])
        .with_account(receiver.account_in(&path, None, |_| None));
    let body = futures_util::stream::iter([Ok::<_, Infallible>(Bytes::from(request.body.clone()))]);
    let received = receiver
        .receive(
            (),
            head,
            body,
            |(), delivery| async move {
                assert_eq!(
                    delivery.account.as_ref().map(AccountId::as_str),
                    Some(account)
                );
                Ok::<_, Infallible>(200u16)
            },
            |status| *status,
        )
        .await;
    match received {
        Received::Handled { outcome, .. } => Ok(outcome),
        Received::Answered { answer, .. } => match answer.rejection() {
            Some(rejection) => Err(rejection),
            None => Ok(answer.outcome()),
        },
    }
}

#[tokio::test]
async fn another_accounts_secret_is_refused_on_each_route_and_its_own_is_accepted() {
    let (receiver, _) = receiver(Directory::new());
    let for_acme = signed(ACME, "whk_a");
    let for_globex = signed(GLOBEX_NEW, "whk_g");
    assert_eq!(
        post(&receiver, "globex", &for_acme).await,
        Err(Rejection::InvalidSignature)
    );
    assert_eq!(
        post(&receiver, "acme", &for_globex).await,
        Err(Rejection::InvalidSignature)
    );
    assert_eq!(
        post(&receiver, "acme", &for_acme).await,
        Ok(Outcome::Processed)
    );
    assert_eq!(
        post(&receiver, "globex", &for_globex).await,
        Ok(Outcome::Processed)
    );
}

#[tokio::test]
async fn rotation_inside_one_account_accepts_both_of_its_secrets() {
    let (receiver, _) = receiver(Directory::new());
    assert_eq!(
        post(&receiver, "globex", &signed(GLOBEX_NEW, "whk_new")).await,
        Ok(Outcome::Processed)
    );
    assert_eq!(
        post(&receiver, "globex", &signed(GLOBEX_OLD, "whk_old")).await,
        Ok(Outcome::Processed)
    );
}

#[tokio::test]
async fn unknown_or_missing_accounts_are_404() {
    let (receiver, _) = receiver(Directory::new());
    let request = signed(ACME, "whk_u");
    assert_eq!(
        post(&receiver, "initech", &request).await,
        Err(Rejection::UnknownAccount)
    );
    assert_eq!(
        post(&receiver, "bad%20id", &request).await,
        Err(Rejection::UnknownAccount)
    );
    assert_eq!(Rejection::UnknownAccount.status(), 404);
}

#[tokio::test]
async fn a_failing_source_is_503_and_the_retry_after_it_recovers_is_processed() {
    let (receiver, directory) = receiver(Directory::new());
    directory.failing.store(true, Ordering::SeqCst);
    let request = signed(ACME, "whk_source");
    assert_eq!(
        post(&receiver, "acme", &request).await,
        Err(Rejection::SecretSourceUnavailable)
    );
    assert_eq!(Rejection::SecretSourceUnavailable.status(), 503);
    directory.failing.store(false, Ordering::SeqCst);
    // Failures are not cached: the retry asks again.
    assert_eq!(
        post(&receiver, "acme", &request).await,
        Ok(Outcome::Processed)
    );
}

// One thread: every spawned request runs up to the lookup before the test releases it, so
// all 64 are waiting on one uncached account at once.
#[tokio::test(flavor = "current_thread")]
async fn a_burst_for_one_uncached_account_makes_one_lookup() {
    let gate = Arc::new(Notify::new());
    let (receiver, directory) = receiver(Directory {
        gate: Some(Arc::clone(&gate)),
        ..Directory::new()
    });
    let burst: Vec<_> = (0..64)
        .map(|i| {
            let receiver = receiver.clone();
            tokio::spawn(async move {
                post(&receiver, "acme", &signed(ACME, &format!("whk_burst_{i}"))).await
            })
        })
        .collect();
    // Let the one lookup finish only once every request is waiting on it.
    while directory.lookups.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    tokio::task::yield_now().await;
    gate.notify_waiters();
    gate.notify_one();
    for outcome in futures_util::future::join_all(burst).await {
        assert_eq!(outcome.unwrap(), Ok(Outcome::Processed));
    }
    assert_eq!(directory.lookups.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_same_webhook_id_on_two_accounts_is_processed_once_on_each() {
    let (receiver, _) = receiver(Directory::new());
    let acme = signed(ACME, "whk_shared_id");
    let globex = signed(GLOBEX_NEW, "whk_shared_id");
    assert_eq!(post(&receiver, "acme", &acme).await, Ok(Outcome::Processed));
    assert_eq!(
        post(&receiver, "globex", &globex).await,
        Ok(Outcome::Processed)
    );
    assert_eq!(post(&receiver, "acme", &acme).await, Ok(Outcome::Duplicate));
    assert_eq!(
        post(&receiver, "globex", &globex).await,
        Ok(Outcome::Duplicate)
    );
}

#[tokio::test]
async fn invalidating_an_account_asks_the_source_again() {
    let (receiver, directory) = receiver(Directory::new());
    post(&receiver, "acme", &signed(ACME, "whk_i1"))
        .await
        .unwrap();
    post(&receiver, "acme", &signed(ACME, "whk_i2"))
        .await
        .unwrap();
    assert_eq!(directory.lookups.load(Ordering::SeqCst), 1);
    let acme = AccountId::new("acme").unwrap();
    receiver.accounts().unwrap().invalidate(&acme).await;
    post(&receiver, "acme", &signed(ACME, "whk_i3"))
        .await
        .unwrap();
    assert_eq!(directory.lookups.load(Ordering::SeqCst), 2);
}

/// A `MakeWriter` collecting everything logged.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .expect("the log buffer")
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn no_secret_reaches_the_logs_errors_or_debug_output() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let mut seen = String::new();
    tracing::subscriber::with_default(subscriber, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (receiver, directory) = receiver(Directory::new());
            let forged = signed(GLOBEX_OLD, "whk_forged");
            let outcomes = [
                post(&receiver, "acme", &forged).await,
                post(&receiver, "acme", &signed(ACME, "whk_ok")).await,
                post(&receiver, "initech", &forged).await,
            ];
            directory.failing.store(true, Ordering::SeqCst);
            let failed = post(&receiver, "globex", &forged).await;
            seen = format!(
                "{outcomes:?} {failed:?} {receiver:?} {:?}",
                receiver.accounts()
            );
        });
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("unknown_account"),
        "the rejections were logged: {logs}"
    );
    for secret in [ACME, GLOBEX_NEW, GLOBEX_OLD] {
        assert!(!logs.contains(secret), "a secret in the logs: {logs}");
        assert!(
            !seen.contains(secret),
            "a secret in Debug or errors: {seen}"
        );
    }
}
