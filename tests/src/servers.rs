//! The receivers under test, written as the integrations' READMEs show them: an axum
//! `Router` with `WebhookLayer` and no state, and a multi-worker actix-web `HttpServer`
//! with `WebhookMiddleware` built once outside its factory. Each handler feeds a [`RecordingSink`].

use std::{net::TcpListener, sync::Arc, time::Duration};

use quickassist_webhooks::{
    idempotency::Deduplicator,
    receive::{IntakeReceiver, Receiver},
    Verifier,
};

use crate::{RecordingSink, Target, PATH, SECRET};

/// A receiver for [`SECRET`] with its own in-memory store (so that scenarios run side by
/// side) and the given body timeout.
///
/// # Panics
///
/// Never: the configuration is valid.
#[must_use]
pub fn receiver(body_timeout: Duration) -> Receiver {
    Receiver::builder(Verifier::new(SECRET))
        .deduplicator(Deduplicator::memory())
        .body_timeout(body_timeout)
        .build()
        .expect("a valid configuration")
}

/// Runs an actix-web `HttpServer` of `factory` with [`ACTIX_WORKERS`] workers on a free
/// loopback port, in the background; evaluates to its address. (A macro: `HttpServer::new`'s
/// bounds on the factory are not worth restating.)
macro_rules! serve_actix {
    ($factory:expr) => {{
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("a bound address");
        let server = actix_web::HttpServer::new($factory)
            .workers(ACTIX_WORKERS)
            .disable_signals()
            .listen(listener)
            .expect("the listener is usable")
            .run();
        tokio::spawn(server);
        addr
    }};
}

/// Serves `app` on a free loopback port in the background; returns its address.
async fn serve_axum(app: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("a bound address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// Workers of the actix-web server: several, so that de-duplication across workers is
/// exercised by every scenario.
pub const ACTIX_WORKERS: usize = 4;

/// An axum server on a free loopback port, driving `receiver`, feeding `sink`.
///
/// # Panics
///
/// When no loopback port can be bound.
pub async fn start_axum(receiver: Receiver, sink: Arc<RecordingSink>) -> Target {
    start_axum_at(PATH, receiver, sink).await
}

/// [`start_axum`] on another route, such as `/webhooks/thequickassist/{account}`.
///
/// # Panics
///
/// When no loopback port can be bound.
pub async fn start_axum_at(route: &str, receiver: Receiver, sink: Arc<RecordingSink>) -> Target {
    use axum::{http::StatusCode, routing::post, Extension, Router};
    use quickassist_webhooks_tower::{Webhook, WebhookLayer};

    async fn handle(
        Extension(sink): Extension<Arc<RecordingSink>>,
        Webhook(envelope): Webhook,
    ) -> StatusCode {
        match sink.process(&envelope) {
            Ok(()) => StatusCode::OK,
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    let app = Router::new()
        .route(route, post(handle).route_layer(WebhookLayer::new(receiver)))
        .layer(Extension(Arc::clone(&sink)));
    let addr = serve_axum(app).await;
    Target { addr, sink }
}

/// A multi-worker actix-web server on a free loopback port, driving `receiver`, feeding
/// `sink`.
///
/// # Panics
///
/// When no loopback port can be bound.
pub fn start_actix(receiver: Receiver, sink: Arc<RecordingSink>) -> Target {
    start_actix_at(PATH, receiver, sink)
}

/// [`start_actix`] on another route, such as `/webhooks/thequickassist/{account}`.
///
/// # Panics
///
/// When no loopback port can be bound.
pub fn start_actix_at(route: &str, receiver: Receiver, sink: Arc<RecordingSink>) -> Target {
    use actix_web::{web, App, HttpResponse};
    use quickassist_webhooks_actix::{Webhook, WebhookMiddleware};

    async fn handle(sink: web::Data<RecordingSink>, Webhook(envelope): Webhook) -> HttpResponse {
        match sink.process(&envelope) {
            Ok(()) => HttpResponse::Ok().finish(),
            Err(_) => HttpResponse::InternalServerError().finish(),
        }
    }

    let webhooks = WebhookMiddleware::new(receiver);
    let data = web::Data::from(Arc::clone(&sink));
    let route = route.to_owned();
    let addr = serve_actix!(move || {
        App::new().app_data(data.clone()).service(
            web::resource(route.as_str())
                .wrap(webhooks.clone())
                .route(web::post().to(handle)),
        )
    });
    Target { addr, sink }
}

/// An axum server on a free loopback port serving `intake` at `route` with
/// `post_service(IntakeService)`, as the tower README shows it: no handler.
///
/// # Panics
///
/// When no loopback port can be bound.
pub async fn start_axum_intake_at(route: &str, intake: IntakeReceiver) -> Target {
    use axum::{routing::post_service, Router};
    use quickassist_webhooks_tower::IntakeService;

    let app = Router::new().route(route, post_service(IntakeService::new(intake)));
    let addr = serve_axum(app).await;
    Target {
        addr,
        sink: Arc::default(),
    }
}

/// A multi-worker actix-web server on a free loopback port serving `intake` at `route`
/// with `intake_route`, as the actix README shows it: no handler.
///
/// # Panics
///
/// When no loopback port can be bound.
pub fn start_actix_intake_at(route: &str, intake: IntakeReceiver) -> Target {
    use actix_web::App;
    use quickassist_webhooks_actix::intake_route;

    let route = route.to_owned();
    let addr = serve_actix!(move || App::new().route(&route, intake_route(intake.clone())));
    Target {
        addr,
        sink: Arc::default(),
    }
}
