//! The server side of `bench/http.sh`: one axum receiver per mode, on one thread, and the
//! generator of the pre-signed deliveries the wrk script cycles through.
//!
//! ```sh
//! bench_server dump COUNT SECRET > deliveries.txt   # "signature body" per line, distinct ids
//! bench_server bare|manual|verify|webhook SECRET PORT  # serve until SIGTERM / Ctrl-C
//! ```
//!
//! - `bare`: axum reading the body, no verification (the ceiling);
//! - `manual`: the handler verifies and parses by hand with the core crate (no idempotency);
//! - `verify`: `WebhookLayer` over a verify-only `Receiver` (verify, parse) + `Webhook`;
//! - `webhook`: `WebhookLayer` (verify, parse, de-duplicate in the default `MemoryStore`) +
//!   `Webhook`.
//!
//! On shutdown it prints how many deliveries the handler processed, so the script can tell
//! new deliveries from duplicates.

#![allow(missing_docs)]

use std::{
    io::{self, BufWriter, Write},
    process::ExitCode,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
    Router,
};
use quickassist_webhooks::receive::Receiver;
use quickassist_webhooks::{
    sign,
    testing::{provider_sample_time, PROVIDER_SAMPLE},
    Event, Secret, Verifier, SIGNATURE_HEADER,
};
use quickassist_webhooks_tower::{Webhook, WebhookLayer};

const PATH: &str = "/webhooks/thequickassist";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["dump", count, secret] => match count.parse() {
            Ok(count) => dump(count, secret),
            Err(_) => usage(),
        },
        [mode @ ("bare" | "manual" | "verify" | "webhook"), secret, port] => match port.parse() {
            Ok(port) => serve(mode, secret, port),
            Err(_) => usage(),
        },
        _ => usage(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

fn usage() -> io::Result<()> {
    Err(io::Error::other(
        "usage: bench_server dump COUNT SECRET | bench_server bare|manual|verify|webhook SECRET PORT",
    ))
}

/// Writes `count` signed copies of the provider's sample, each with its own `webhookId`.
fn dump(count: u64, secret: &str) -> io::Result<()> {
    let secret = Secret::from(secret);
    let mut out = BufWriter::new(io::stdout().lock());
    for i in 0..count {
        let body = PROVIDER_SAMPLE.replace("whk_abc123", &format!("whk_{i:012}"));
        writeln!(out, "{} {body}", sign(&secret, body.as_bytes()))?;
    }
    out.flush()
}

#[derive(Clone)]
struct Counted {
    verifier: Verifier,
    processed: Arc<AtomicU64>,
}

async fn bare(State(state): State<Counted>, body: Bytes) -> StatusCode {
    std::hint::black_box(body);
    state.processed.fetch_add(1, Ordering::Relaxed);
    StatusCode::OK
}

async fn manual(State(state): State<Counted>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let signature = headers.get(SIGNATURE_HEADER).map(|value| value.as_bytes());
    let Ok(verified) = state.verifier.verify_bytes(signature, &body) else {
        return StatusCode::UNAUTHORIZED;
    };
    let Ok(envelope) = verified.parse::<Event>() else {
        return StatusCode::BAD_REQUEST;
    };
    std::hint::black_box(envelope);
    state.processed.fetch_add(1, Ordering::Relaxed);
    StatusCode::OK
}

async fn webhook(State(state): State<Counted>, Webhook(envelope): Webhook) -> StatusCode {
    std::hint::black_box(envelope);
    state.processed.fetch_add(1, Ordering::Relaxed);
    StatusCode::OK
}

fn serve(mode: &str, secret: &str, port: u16) -> io::Result<()> {
    let state = Counted {
        // The sample is stamped 2024: a clock at that moment keeps it inside the window.
        verifier: Verifier::new(secret).clock(provider_sample_time),
        processed: Arc::default(),
    };
    let route = match mode {
        "bare" => post(bare),
        "manual" => post(manual),
        "verify" => post(webhook).route_layer(WebhookLayer::new(Receiver::verify_only(
            state.verifier.clone(),
        ))),
        _ => {
            let receiver = Receiver::builder(state.verifier.clone())
                .build()
                .map_err(io::Error::other)?;
            post(webhook).route_layer(WebhookLayer::new(receiver))
        }
    };
    let app = Router::new().route(PATH, route).with_state(state.clone());
    // One thread: the script pins the server to one core and wrk to another.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        eprintln!(
            "listening on http://{}{PATH} ({mode})",
            listener.local_addr()?
        );
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .expect("SIGTERM handler");
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            })
            .await
    })?;
    eprintln!("processed {}", state.processed.load(Ordering::Relaxed));
    Ok(())
}
