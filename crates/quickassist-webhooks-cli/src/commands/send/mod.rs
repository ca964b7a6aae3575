//! `qa-webhooks send URL`: sign and POST events, once or as a small load test.

mod payload;
mod report;

use std::{
    io::IsTerminal,
    num::NonZeroUsize,
    path::PathBuf,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use quickassist_webhooks::{rejection::DUPLICATE_HEADER, Event, SIGNATURE_HEADER};
use reqwest::{header::CONTENT_TYPE, Client, Url};

use self::{
    payload::{Payloads, Source},
    report::{Outcome, Tally},
};
use super::{sample::documented_event, write_stdout};
use crate::{
    failure::{Failure, Outcome as CommandOutcome},
    http::{client, describe_failed_request, read_body, redacted, redacted_text},
    input::read_input,
    secret::SecretArgs,
};

/// The most of a response body shown or read; the rest is discarded.
const MAX_SHOWN_BODY: usize = 64 * 1024;

/// Arguments of `send`.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Sign and POST an event to URL, as the provider does, and print the response \
                  status (and body when not 2xx). Exit 0 on 2xx, 1 otherwise, 2 when the server \
                  cannot be reached. With --repeat, every request gets a fresh webhookId unless \
                  --webhook-id pins one (to test de-duplication); a summary follows: counts per \
                  status, requests/s, latency p50/p99."
)]
pub(crate) struct SendArgs {
    /// Receiver URL, e.g. http://127.0.0.1:8080/webhooks/thequickassist.
    #[arg(value_name = "URL")]
    url: String,
    /// Send a sample of this event type (default message.delivered).
    #[arg(long, value_name = "TYPE", conflicts_with = "file")]
    event: Option<String>,
    /// Send this file's body (`-` for standard input); byte for byte unless its webhookId is
    /// replaced (--webhook-id, or fresh ids with --repeat) or --pretty.
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// Use this webhookId for every request (a retry of the same delivery).
    #[arg(long, value_name = "ID")]
    webhook_id: Option<String>,
    /// Number of requests to send.
    #[arg(long, value_name = "N", default_value = "1")]
    repeat: NonZeroUsize,
    /// Number of requests in flight at once.
    #[arg(long, value_name = "C", default_value = "1")]
    concurrency: NonZeroUsize,
    /// Send the body pretty-printed, signed over its JSON.stringify form (as a re-indenting
    /// proxy delivers it).
    #[arg(long)]
    pretty: bool,
    /// Send this signature instead of the computed one (to test a receiver's rejections).
    #[arg(long, value_name = "SIG")]
    signature: Option<String>,
    /// Seconds to wait for each response.
    #[arg(long, value_name = "SECS", default_value = "30")]
    timeout: u64,
    /// Also trust the certificates of this PEM file for an https URL (a self-signed or private
    /// CA certificate), besides the built-in roots.
    #[arg(long, value_name = "FILE")]
    cacert: Option<PathBuf>,
    #[command(flatten)]
    secret: SecretArgs,
}

pub(crate) fn run(args: SendArgs) -> CommandOutcome {
    let url = Url::parse(&args.url).map_err(|error| {
        Failure::usage(format!(
            "invalid URL {:?}: {error}",
            redacted_text(&args.url)
        ))
    })?;
    let source = match (&args.event, &args.file) {
        (_, Some(path)) => {
            let bytes = read_input(Some(path))?;
            let json = serde_json::from_slice(&bytes).ok();
            Source::File { bytes, json }
        }
        (Some(event), None) => Source::Event(documented_event(event)?),
        (None, None) => Source::Event(Event::MESSAGE_DELIVERED),
    };
    let fresh_ids = args.repeat.get() > 1;
    let payloads = Payloads::new(
        source,
        args.secret.signing_secret()?,
        args.webhook_id.clone(),
        fresh_ids,
        args.pretty,
        args.signature.clone(),
    );
    let client = client(Duration::from_secs(args.timeout), args.cacert.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::usage(format!("cannot start the async runtime: {error}")))?;
    let sender = Sender {
        client,
        url,
        payloads,
    };
    if args.repeat.get() == 1 {
        runtime.block_on(sender.once())
    } else {
        runtime.block_on(sender.repeat(args.repeat.get(), args.concurrency.get()))
    }
}

/// Posts signed requests to one URL.
#[derive(Debug)]
struct Sender {
    client: Client,
    url: Url,
    payloads: Payloads,
}

impl Sender {
    /// One request: its status, and its body when not 2xx.
    async fn once(self) -> CommandOutcome {
        let response = self
            .post()
            .await
            .map_err(|error| Failure::usage(unreachable(&self.url, error)))?;
        let status = response.status();
        let mut shown = format!("{status}\n");
        if !status.is_success() {
            let body = read_body(response, MAX_SHOWN_BODY).await;
            shown.push_str(&String::from_utf8_lossy(&body));
            if !body.is_empty() && !body.ends_with(b"\n") {
                shown.push('\n');
            }
        }
        write_stdout(shown.as_bytes())?;
        if status.is_success() {
            Ok(())
        } else {
            Err(Failure::negative(format!("the receiver answered {status}")))
        }
    }

    /// `total` requests, `concurrency` at a time, then the summary.
    async fn repeat(self, total: usize, concurrency: usize) -> CommandOutcome {
        let sender = Arc::new(self);
        let next = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        let first_error = Arc::new(std::sync::OnceLock::new());
        let started = Instant::now();
        let progress = std::io::stderr()
            .is_terminal()
            .then(|| tokio::spawn(show_progress(Arc::clone(&done), total)));
        let workers: Vec<_> = (0..concurrency.min(total))
            .map(|_| {
                let (sender, next, done) =
                    (Arc::clone(&sender), Arc::clone(&next), Arc::clone(&done));
                let first_error = Arc::clone(&first_error);
                tokio::spawn(async move {
                    let mut tally = Tally::default();
                    while next.fetch_add(1, Ordering::Relaxed) < total {
                        let start = Instant::now();
                        let outcome = match sender.post().await {
                            Ok(response) => {
                                let status = response.status();
                                let duplicate = is_duplicate(&response);
                                // Read the body so the connection is reused.
                                read_body(response, MAX_SHOWN_BODY).await;
                                Outcome::Answered { status, duplicate }
                            }
                            Err(error) => {
                                let kind = failure_kind(&error);
                                let _ = first_error.set(unreachable(&sender.url, error));
                                Outcome::Failed(kind)
                            }
                        };
                        tally.record(outcome, start.elapsed());
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    tally
                })
            })
            .collect();
        let mut tally = Tally::default();
        for worker in workers {
            let worker_tally = worker
                .await
                .map_err(|error| Failure::usage(format!("a sender task failed: {error}")))?;
            tally.merge(worker_tally);
        }
        let elapsed = started.elapsed();
        if let Some(progress) = progress {
            progress.abort();
            eprint!("\r\x1b[2K");
        }
        let (failed, unsuccessful) = (tally.failed(), tally.unsuccessful());
        write_stdout(tally.summary(elapsed, concurrency).as_bytes())?;
        if failed > 0 {
            let reason = first_error.get().cloned().unwrap_or_default();
            return Err(Failure::usage(format!(
                "{failed} of {total} requests got no response; first: {reason}"
            )));
        }
        if unsuccessful > 0 {
            return Err(Failure::negative(format!(
                "{unsuccessful} of {total} responses were not 2xx"
            )));
        }
        Ok(())
    }

    async fn post(&self) -> reqwest::Result<reqwest::Response> {
        let request = self.payloads.next();
        self.client
            .post(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, request.signature)
            .body(request.body)
            .send()
            .await
    }
}

/// Redraws "sent N/M" on stderr (a terminal) ten times a second until aborted.
async fn show_progress(done: Arc<AtomicUsize>, total: usize) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tick.tick().await;
        eprint!("\rsent {}/{total}", done.load(Ordering::Relaxed));
    }
}

/// "cannot reach URL: error sending request: ...: connection refused", the URL's password
/// hidden.
fn unreachable(url: &Url, error: reqwest::Error) -> String {
    format!(
        "cannot reach {}: {}",
        redacted(url),
        describe_failed_request(error)
    )
}

/// Whether the receiver answered that it had already processed this delivery: the SDK's
/// receivers say so with `x-webhook-duplicate: true`.
fn is_duplicate(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get(DUPLICATE_HEADER)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"true"))
}

fn failure_kind(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else {
        "request"
    }
}
