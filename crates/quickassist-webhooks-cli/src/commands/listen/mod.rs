//! `qa-webhooks listen`: a verifying, de-duplicating receiver, optionally forwarding to an app.
//!
//! The route sits behind the tower crate's `WebhookLayer`; a middleware around the router
//! reports each decision the layer left in the response extensions (rejections with their
//! reason, duplicates with their `webhookId`).

mod accounts;
mod forward;
mod output;
mod report;

use std::{path::PathBuf, time::Duration};

use axum::{
    extract::State,
    http::StatusCode,
    middleware,
    response::{IntoResponse, Response},
    routing::post,
    Extension, Router,
};

use quickassist_webhooks::{
    accounts::AccountId,
    canonical::canonicalize,
    idempotency::{Deduplicator, DEFAULT_DONE_TTL},
    receive::{Delivery, Receiver, VerifiedDelivery},
    Secret, DEFAULT_MAX_BODY,
};
use quickassist_webhooks_redis::RedisStore;
use quickassist_webhooks_tower::{serve, WebhookLayer};
use reqwest::Url;

use self::forward::Forwarder;
use crate::{
    failure::{Failure, Outcome},
    http::{redacted, redacted_text},
    secret::SecretArgs,
};

/// Arguments of `listen`.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Receive webhooks: verify each signature, de-duplicate on webhookId (in memory, \
                  or in Redis when REDIS_URL is set), print each processed event as one compact \
                  JSON line on stdout and each rejection with its reason on stderr. With \
                  --forward-to, each verified first-time event is re-posted to that URL, signed \
                  again with the secret that verified it, and that URL's status is answered to \
                  the sender: a non-2xx releases the claim, so the sender's retry is processed. \
                  Prints `listening on http://ADDR/PATH` on stderr when ready."
)]
pub(crate) struct ListenArgs {
    /// Port to listen on; 0 picks a free one (the ready line shows which).
    #[arg(long, env = "PORT", default_value = "8080")]
    port: u16,
    /// Address to bind; 0.0.0.0 to accept other machines.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Path webhooks are posted to.
    #[arg(long, default_value = "/webhooks/thequickassist", value_name = "PATH")]
    path: String,
    /// Re-post each verified first-time event to this URL and answer with its status.
    // Parsed in `run`, not by clap: clap's error would echo a password in the URL.
    #[arg(long, value_name = "URL")]
    forward_to: Option<String>,
    /// Also trust the certificates of this PEM file for an https --forward-to URL (a
    /// self-signed or private CA certificate), besides the built-in roots.
    #[arg(long, value_name = "FILE", requires = "forward_to")]
    cacert: Option<PathBuf>,
    /// De-duplicate in this Redis (shared between receivers) instead of in memory.
    #[arg(long, env = "REDIS_URL", value_name = "URL", hide_env_values = true)]
    redis_url: Option<String>,
    /// Refuse events whose signed timestamp is older than this (the replay window); 0 turns
    /// it off. Default: the done-TTL less the 5 min clock-skew allowance, so that nothing
    /// older than what the de-duplication store remembers is processed again.
    #[arg(long, alias = "tolerance", env = "REPLAY_WINDOW", value_name = "SECS")]
    replay_window: Option<u64>,
    /// How long a processed delivery is remembered as a duplicate; set it to the provider's
    /// retry horizon (the replay window follows it).
    #[arg(long, env = "DONE_TTL", value_name = "SECS", default_value_t = DEFAULT_DONE_TTL.as_secs())]
    done_ttl: u64,
    /// Largest body accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY)]
    max_body: usize,
    /// Many accounts, for local testing: one `account=secret` line each (repeat an account
    /// for its key rotation). Webhooks are then posted to PATH/ACCOUNT, each verified with
    /// its own account's secrets only.
    #[arg(long, value_name = "FILE", conflicts_with = "secrets")]
    secret_file: Option<PathBuf>,
    #[command(flatten)]
    secret: SecretArgs,
}

/// What the handler needs: the secrets to sign forwarded events with, and where to.
#[derive(Clone, Debug)]
struct Forwarding {
    secrets: Secrets,
    forward: Option<Forwarder>,
}

pub(crate) fn run(args: ListenArgs) -> Outcome {
    if !args.path.starts_with('/') {
        return Err(Failure::usage(format!(
            "--path must start with '/': {:?}",
            args.path
        )));
    }
    let forward_to = args
        .forward_to
        .as_deref()
        .map(|text| {
            Url::parse(text).map_err(|error| {
                Failure::usage(format!(
                    "--forward-to {:?}: invalid URL: {error}",
                    redacted_text(text)
                ))
            })
        })
        .transpose()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::usage(format!("cannot start the async runtime: {error}")))?;
    runtime.block_on(serve(args, forward_to))
}

/// The secrets the receiver verifies with: one account's, or each account's.
#[derive(Clone, Debug)]
enum Secrets {
    One(Vec<Secret>),
    PerAccount(accounts::AccountSecrets),
}

impl Secrets {
    /// The secret that verified a delivery, to sign it again when forwarding.
    fn signing(&self, account: Option<&AccountId>, key_index: usize) -> Option<&Secret> {
        let secrets = match self {
            Self::One(secrets) => secrets,
            Self::PerAccount(accounts) => accounts.get(account?)?,
        };
        secrets.get(key_index).or(secrets.first())
    }
}

async fn serve(args: ListenArgs, forward_to: Option<Url>) -> Outcome {
    init_warnings();
    let tolerance = args.replay_window.map(Duration::from_secs);
    let (builder, secrets, route) = match &args.secret_file {
        Some(file) => {
            let secrets = accounts::read_secret_file(file)?;
            let mut accounts = accounts::accounts(&secrets);
            match tolerance {
                Some(Duration::ZERO) => accounts = accounts.without_timestamp_tolerance(),
                Some(tolerance) => accounts = accounts.with_timestamp_tolerance(tolerance),
                None => {}
            }
            let route = format!("{}/{{account}}", args.path.trim_end_matches('/'));
            (
                Receiver::for_accounts(accounts),
                Secrets::PerAccount(secrets),
                route,
            )
        }
        None => {
            let (mut verifier, _) = args.secret.verifier()?;
            verifier = match tolerance {
                Some(Duration::ZERO) => verifier.without_timestamp_tolerance(),
                Some(tolerance) => verifier.with_timestamp_tolerance(tolerance),
                None => verifier,
            };
            let secrets = Secrets::One(args.secret.secrets()?);
            (Receiver::builder(verifier), secrets, args.path.clone())
        }
    };
    let dedup = match &args.redis_url {
        Some(url) => Deduplicator::new(RedisStore::connect(url).await.map_err(|error| {
            Failure::usage(format!("cannot connect to Redis (REDIS_URL): {error}"))
        })?),
        None => Deduplicator::memory(),
    };
    let receiver = builder
        .max_body(args.max_body)
        .deduplicator(dedup.with_done_ttl(Duration::from_secs(args.done_ttl)))
        .build()
        .map_err(|error| Failure::usage(format!("--replay-window / --done-ttl: {error}")))?;
    let forwarding = Forwarding {
        secrets,
        forward: match forward_to.clone() {
            Some(url) => Some(Forwarder::new(url, args.cacert.as_deref())?),
            None => None,
        },
    };
    let app = Router::new()
        .route(
            &route,
            post(handle).route_layer(WebhookLayer::new(receiver)),
        )
        .layer(middleware::from_fn(report::report))
        .with_state(forwarding);

    let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
        .await
        .map_err(|error| {
            Failure::usage(format!(
                "cannot listen on {}:{}: {error}",
                args.host, args.port
            ))
        })?;
    let address = listener
        .local_addr()
        .map_err(|error| Failure::usage(format!("cannot read the bound address: {error}")))?;
    let store = if args.redis_url.is_some() {
        "Redis"
    } else {
        "memory"
    };
    let forward = forward_to
        .as_ref()
        .map(|url| format!(", forwarding to {}", redacted(url)))
        .unwrap_or_default();
    eprintln!("listening on http://{address}{route} (de-duplicating in {store}{forward})");
    // Sheds slow and idle connections, with the soft open-file limit raised to the hard one.
    let _ = serve::raise_open_files_limit();
    serve::Server::new()
        .serve(listener, app, async {
            // Without a signal handler there is nothing to wait for: serve until killed.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
        .await
        .map_err(|error| Failure::usage(format!("the server failed: {error}")))
}

/// The route's handler: runs once per verified, first-time delivery.
async fn handle(
    State(forwarding): State<Forwarding>,
    Extension(verified): Extension<VerifiedDelivery>,
) -> Response {
    let Delivery {
        body,
        envelope,
        verification,
        account,
        ..
    } = verified.into_delivery();
    match &forwarding.forward {
        None if print_event(&body).await => (
            StatusCode::OK,
            [("content-type", "application/json")],
            r#"{"status":"processed"}"#,
        )
            .into_response(),
        None => {
            // Released, so the sender's retry is processed once stdout drains.
            tracing::warn!(webhook_id = %envelope.webhook_id, "stdout is not draining; answered 500");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [("content-type", "application/json")],
                r#"{"error":"output_stalled"}"#,
            )
                .into_response()
        }
        Some(forwarder) => {
            let account = account.as_ref();
            let secret = forwarding.secrets.signing(account, verification.key_index);
            match secret {
                Some(secret) => {
                    let response = forwarder
                        .forward(
                            secret,
                            verification.form,
                            &envelope.webhook_id,
                            body.clone(),
                        )
                        .await;
                    // Best effort: the app has the event, so a stalled stdout must not make
                    // the sender retry it.
                    if response.status().is_success() {
                        print_event(&body).await;
                    }
                    response
                }
                None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
    }
}

/// One compact JSON line on stdout: the event as the provider signs it. `false` when stdout
/// is closed or not draining.
async fn print_event(body: &[u8]) -> bool {
    output::print_line(canonicalize(body).unwrap_or_else(|_| body.to_vec())).await
}

/// Library warnings (an unreachable store, a claim that could not be settled) on stderr;
/// `RUST_LOG` shows more.
fn init_warnings() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
