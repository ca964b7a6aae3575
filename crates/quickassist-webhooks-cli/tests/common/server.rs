//! A real HTTP server on 127.0.0.1:0 that records every request and answers as told.

use std::sync::{Arc, Mutex};

use axum::serve::Listener;
use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    Router,
};
use quickassist_webhooks::{parse_envelope, Event, SignedForm, Verifier};
use tokio::sync::oneshot;

use super::tls::TestCertificate;

/// One request the server received.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub signature: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Received {
    /// Which form of the body the signature covers, under the tests' secret `s`.
    pub fn form(&self) -> SignedForm {
        Verifier::new("s")
            .verify(self.signature.as_deref(), &self.body)
            .unwrap()
            .form()
    }

    /// The body's `webhookId`.
    pub fn webhook_id(&self) -> String {
        parse_envelope::<Event>(&self.body).unwrap().webhook_id
    }
}

type Answer = dyn Fn(usize, &Received) -> (u16, &'static str) + Send + Sync;

struct Shared {
    received: Mutex<Vec<Received>>,
    answer: Box<Answer>,
}

/// The running server; stopped when dropped.
pub struct Recorder {
    pub url: String,
    shared: Arc<Shared>,
    _stop: oneshot::Sender<()>,
}

impl Recorder {
    /// Starts a server answering request number `n` (from 0) with `answer(n, request)`.
    pub async fn start(
        answer: impl Fn(usize, &Received) -> (u16, &'static str) + Send + Sync + 'static,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        Self::serve(listener, format!("http://{address}/hook"), answer)
    }

    /// [`Recorder::start`] over HTTPS with `certificate`, at `https://localhost:PORT/hook`.
    pub async fn start_tls(
        certificate: &TestCertificate,
        answer: impl Fn(usize, &Received) -> (u16, &'static str) + Send + Sync + 'static,
    ) -> Self {
        let listener = certificate.listener().await;
        let port = listener.local_addr().unwrap().port();
        Self::serve(listener, format!("https://localhost:{port}/hook"), answer)
    }

    fn serve(
        listener: impl Listener<Addr = std::net::SocketAddr>,
        url: String,
        answer: impl Fn(usize, &Received) -> (u16, &'static str) + Send + Sync + 'static,
    ) -> Self {
        let shared = Arc::new(Shared {
            received: Mutex::new(Vec::new()),
            answer: Box::new(answer),
        });
        let app = Router::new()
            .fallback(record)
            .with_state(Arc::clone(&shared));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Self {
            url,
            shared,
            _stop: stop,
        }
    }

    /// Every request received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }
}

async fn record(
    State(shared): State<Arc<Shared>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let received = Received {
        path: uri.path().to_owned(),
        signature: header("x-webhook-signature"),
        content_type: header("content-type"),
        body: body.to_vec(),
    };
    let (status, text) = {
        let mut all = shared.received.lock().unwrap();
        let answer = (shared.answer)(all.len(), &received);
        all.push(received);
        answer
    };
    (StatusCode::from_u16(status).unwrap(), text)
}

/// Runs `command` off the async runtime and returns its output.
pub async fn run(mut command: assert_cmd::Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

/// A loopback URL nothing listens on.
pub fn closed_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}/hook")
}
