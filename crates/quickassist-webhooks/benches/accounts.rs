//! A verified request through a receiver of many accounts (secrets from a cached source)
//! beside the same request through a receiver with a fixed `Verifier`: what choosing the
//! secret per request costs once the account is cached (target: at most 1.2×).
//!
//!     cargo bench -p quickassist-webhooks --bench accounts

// criterion's macros generate undocumented items; setup may unwrap.
#![allow(missing_docs, clippy::unwrap_used)]

use std::convert::Infallible;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use quickassist_webhooks::{
    accounts::{AccountId, Accounts, SourceError},
    receive::{integration::RequestHead, Receiver},
    sign,
    testing::{provider_sample_time, PROVIDER_SAMPLE},
    Secret, Verifier,
};

const SECRET: &str = "whsec_bench_accounts";
const PATH: &str = "/webhooks/thequickassist/acme";

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let signature = sign(&Secret::from(SECRET), PROVIDER_SAMPLE.as_bytes());
    let body = Bytes::from_static(PROVIDER_SAMPLE.as_bytes());
    // The sample is stamped 2024: a clock at that moment keeps it inside the replay window.
    let fixed = Receiver::verify_only(Verifier::new(SECRET).clock(provider_sample_time));
    let accounts = Accounts::new(|account: AccountId| async move {
        Ok::<_, SourceError>((account.as_str() == "acme").then(|| vec![Secret::from(SECRET)]))
    })
    .without_timestamp_tolerance();
    let per_account = Receiver::for_accounts(accounts)
        .without_deduplication()
        .build()
        .unwrap();

    let mut group = c.benchmark_group("accounts");
    for (name, receiver) in [("fixed_verifier", &fixed), ("cached_account", &per_account)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let account = receiver.account_in(PATH, None, |_| None);
                    let head = RequestHead::new(None, [signature.as_bytes()]).with_account(account);
                    let chunks = futures_util::stream::iter([Ok::<_, Infallible>(body.clone())]);
                    receiver.verify(&head, chunks).await.unwrap()
                })
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
