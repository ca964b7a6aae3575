//! The actix-web side of `bench/http.sh`: one worker thread serving the webhook route bare
//! (`actix-bare`: read the body, answer 200) or behind `WebhookMiddleware` with a
//! `MemoryStore` (`actix-webhook`). Prints `processed N` on stderr when stopped.
//!
//!     cargo run --release -p quickassist-examples --example bench_actix -- actix-webhook SECRET PORT

#![allow(missing_docs)]

use std::{
    process::ExitCode,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use actix_web::{web, App, HttpResponse, HttpServer};
use quickassist_webhooks::{receive::Receiver, testing::provider_sample_time, Verifier};
use quickassist_webhooks_actix::{Webhook, WebhookMiddleware};

const PATH: &str = "/webhooks/thequickassist";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, secret, port) = match &args[..] {
        [mode, secret, port] if mode == "actix-bare" || mode == "actix-webhook" => {
            match port.parse::<u16>() {
                Ok(port) => (mode.clone(), secret.clone(), port),
                Err(_) => return usage(),
            }
        }
        _ => return usage(),
    };
    let processed = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&processed);
    let result = actix_web::rt::System::new().block_on(async move {
        let webhooks = WebhookMiddleware::new(
            // The deliveries are stamped 2024 (the provider's sample): a clock at that moment
            // keeps them inside the replay window, as in `bench_server`.
            Receiver::builder(Verifier::new(secret.as_str()).clock(provider_sample_time))
                .build()
                .map_err(std::io::Error::other)?,
        );
        let webhook = mode == "actix-webhook";
        let server = HttpServer::new(move || {
            let counter = web::Data::new(Arc::clone(&counter));
            let resource = web::resource(PATH);
            if webhook {
                App::new().app_data(counter).service(
                    resource
                        .wrap(webhooks.clone())
                        .route(web::post().to(handle_webhook)),
                )
            } else {
                App::new()
                    .app_data(counter)
                    .service(resource.route(web::post().to(handle_bare)))
            }
        })
        .workers(1)
        .bind(("127.0.0.1", port))?
        .run();
        eprintln!("listening on http://127.0.0.1:{port}{PATH} ({mode})");
        server.await
    });
    eprintln!("processed {}", processed.load(Ordering::Relaxed));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: bench_actix actix-bare|actix-webhook SECRET PORT");
    ExitCode::from(2)
}

async fn handle_bare(counter: web::Data<Arc<AtomicU64>>, body: web::Bytes) -> HttpResponse {
    std::hint::black_box(body);
    counter.fetch_add(1, Ordering::Relaxed);
    HttpResponse::Ok().finish()
}

async fn handle_webhook(
    counter: web::Data<Arc<AtomicU64>>,
    Webhook(envelope): Webhook,
) -> HttpResponse {
    std::hint::black_box(envelope);
    counter.fetch_add(1, Ordering::Relaxed);
    HttpResponse::Ok().finish()
}
