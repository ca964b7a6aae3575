//! A real multi-worker `HttpServer` on loopback, configured as the README shows: one
//! delivery received many times on fresh connections (as the provider's retries arrive,
//! spread over the workers) reaches the handler once.

use std::{
    net::TcpListener,
    sync::atomic::{AtomicUsize, Ordering},
};

use actix_web::{web, App, HttpResponse, HttpServer};
use quickassist_webhooks::{
    receive::Receiver,
    testing::{sample, SignedRequest},
    Event, Secret, Verifier, SIGNATURE_HEADER,
};
use quickassist_webhooks_actix::{Webhook, WebhookMiddleware};

const SECRET: &str = "whsec_actix_workers";
const PATH: &str = "/webhooks/thequickassist";
const WORKERS: usize = 4;
const COPIES: usize = 16;

async fn receive(calls: web::Data<AtomicUsize>, Webhook(_envelope): Webhook) -> HttpResponse {
    calls.fetch_add(1, Ordering::SeqCst);
    HttpResponse::Ok().finish()
}

/// Sends `COPIES` copies of one delivery one after the other, each on a new connection, and
/// returns their statuses.
async fn deliver_copies(url: &str, webhook_id: &str) -> Vec<u16> {
    let delivery = SignedRequest::new(
        &Secret::from(SECRET),
        &sample(Event::MESSAGE_DELIVERED, webhook_id),
    );
    let mut statuses = Vec::new();
    for _ in 0..COPIES {
        // A new client each time: a new connection, which actix hands to the next worker.
        let response = reqwest::Client::new()
            .post(url)
            .header(SIGNATURE_HEADER, &delivery.signature)
            .body(delivery.body.clone())
            .send()
            .await
            .expect("the server answers");
        statuses.push(response.status().as_u16());
    }
    statuses
}

fn bind() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let url = format!(
        "http://{}{PATH}",
        listener.local_addr().expect("a bound address")
    );
    (listener, url)
}

/// Serves the README's app on `WORKERS` workers, sends the copies, and returns their
/// statuses and how often the handler ran. With `shared`, the middleware is the one built
/// outside the factory; without, each worker builds its own inside it.
async fn serve_and_deliver(
    shared: Option<WebhookMiddleware>,
    webhook_id: &str,
) -> (Vec<u16>, usize) {
    let calls = web::Data::new(AtomicUsize::new(0));
    let (listener, url) = bind();
    let counter = calls.clone();
    let server = HttpServer::new(move || {
        let webhooks = shared.clone().unwrap_or_else(|| {
            // Built in the factory out of habit, as `Logger` or `Cors` often are.
            let receiver = Receiver::builder(Verifier::new(SECRET))
                .build()
                .expect("a valid configuration");
            WebhookMiddleware::new(receiver)
        });
        App::new().app_data(counter.clone()).service(
            web::resource(PATH)
                .wrap(webhooks)
                .route(web::post().to(receive)),
        )
    })
    .workers(WORKERS)
    .listen(listener)
    .expect("the listener is usable")
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    let statuses = deliver_copies(&url, webhook_id).await;
    handle.stop(true).await;
    (statuses, calls.load(Ordering::SeqCst))
}

#[actix_web::test]
async fn middleware_built_once_outside_the_factory_processes_a_delivery_once_across_workers() {
    // The README's code: built once, outside `HttpServer::new`, cloned into the factory.
    let webhooks =
        WebhookMiddleware::new(Receiver::builder(Verifier::new(SECRET)).build().unwrap());
    let (statuses, calls) = serve_and_deliver(Some(webhooks), "whk_workers_outside").await;
    assert_eq!(statuses, vec![200; COPIES]);
    assert_eq!(calls, 1);
}

#[actix_web::test]
async fn middleware_built_inside_the_factory_still_shares_the_default_store() {
    let (statuses, calls) = serve_and_deliver(None, "whk_workers_inside").await;
    assert_eq!(statuses, vec![200; COPIES]);
    assert_eq!(calls, 1);
}
