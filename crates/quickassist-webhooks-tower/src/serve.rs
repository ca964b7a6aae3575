//! An HTTP/1.1 server for an axum app on the open internet: it sheds slow and idle
//! connections, which the middleware cannot do (it only sees requests, not connections).
//!
//! `axum::serve` has no header-read timeout and no idle keep-alive timeout, so a stranger can
//! hold thousands of connections (and file descriptors) open for free until real deliveries
//! cannot connect. [`Server`] serves with:
//!
//! - a **header-read timeout** ([`DEFAULT_HEADER_READ_TIMEOUT`]): a connection must deliver a
//!   complete request head within it, whether it is new or idle between keep-alive requests
//!   (hyper starts the timer as soon as it waits for a head), so idle and trickling
//!   connections are closed;
//! - a **cap on open connections** ([`Server::max_connections`], by default what the process's
//!   open-file limit leaves after [`RESERVED_DESCRIPTORS`]): at the cap, a new connection
//!   sheds the oldest one that is answering nothing (idle, or still sending its head) and
//!   takes its place; when every connection is answering a request, the new one is closed at
//!   once. A stranger's idle connections cannot keep real deliveries out;
//! - **graceful shutdown**: on the shutdown signal it stops accepting, lets requests in flight
//!   finish for at most [`Server::grace`], then returns.
//!
//! Call [`raise_open_files_limit`] once at start to raise the soft `RLIMIT_NOFILE` to the hard
//! limit. Bodies are bounded by the receiver itself (limit, deadline, minimum rate, budget).
//!
//! ```no_run
//! use axum::{routing::post, Router};
//! use quickassist_webhooks::{receive::Receiver, Verifier};
//! use quickassist_webhooks_tower::{serve::{raise_open_files_limit, Server}, WebhookLayer};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! raise_open_files_limit();
//! let receiver = Receiver::builder(Verifier::new("whsec_example")).build()?;
//! let app = Router::new().route(
//!     "/webhooks/thequickassist",
//!     post(|| async { "ok" }).route_layer(WebhookLayer::new(receiver)),
//! );
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! Server::new()
//!     .serve(listener, app, async { let _ = tokio::signal::ctrl_c().await; })
//!     .await?;
//! # Ok(()) }
//! ```

use std::{
    collections::BTreeMap,
    future::Future,
    io,
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use axum::{extract::ConnectInfo, serve::Listener, Router};
use http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{watch, Notify, Semaphore};
use tower_service::Service;

/// How long a connection may take to send a request head, new or between keep-alive
/// requests.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// How long requests in flight may finish after the shutdown signal.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// Descriptors kept out of the default connection cap, for the listener, stores, logs and
/// outgoing connections.
pub const RESERVED_DESCRIPTORS: u64 = 128;

/// The fewest connections the default cap allows, whatever the open-file limit.
pub const MIN_CONNECTIONS: usize = 64;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (a no-op where there is none) and
/// returns the soft limit now in force, `None` when it cannot be read.
///
/// ```
/// let limit = quickassist_webhooks_tower::serve::raise_open_files_limit();
/// assert!(limit.is_none_or(|limit| limit > 0));
/// ```
#[must_use = "the limit sizes the connection cap"]
pub fn raise_open_files_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(error) => {
            tracing::warn!(%error, "cannot raise the open-file limit");
            open_files_limit()
        }
    }
}

/// The soft `RLIMIT_NOFILE`, if the platform has one.
fn open_files_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rlimit::getrlimit(rlimit::Resource::NOFILE)
            .ok()
            .map(|(soft, _)| soft)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The default connection cap: the open-file limit less [`RESERVED_DESCRIPTORS`], at least
/// [`MIN_CONNECTIONS`]; 10,000 where there is no limit to read.
fn default_max_connections() -> usize {
    open_files_limit().map_or(10_000, |limit| {
        usize::try_from(limit.saturating_sub(RESERVED_DESCRIPTORS))
            .unwrap_or(usize::MAX)
            .max(MIN_CONNECTIONS)
    })
}

/// An HTTP/1.1 server that sheds slow and idle connections; see the [module docs](self).
///
/// ```
/// use std::time::Duration;
/// use quickassist_webhooks_tower::serve::Server;
///
/// let server = Server::new()
///     .header_read_timeout(Duration::from_secs(3))
///     .max_connections(2_000);
/// assert_eq!(server.get_max_connections(), 2_000);
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct Server {
    header_read_timeout: Duration,
    max_connections: usize,
    grace: Duration,
}

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}

impl Server {
    /// The defaults: [`DEFAULT_HEADER_READ_TIMEOUT`], a cap from the open-file limit,
    /// [`DEFAULT_GRACE`].
    pub fn new() -> Self {
        Self {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            max_connections: default_max_connections(),
            grace: DEFAULT_GRACE,
        }
    }

    /// How long a connection may take to send a request head (also the idle keep-alive
    /// timeout).
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// How many connections may be open at once (at least 1); past it new ones are closed.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// How long requests in flight may finish after the shutdown signal.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// The connection cap.
    #[must_use]
    pub fn get_max_connections(&self) -> usize {
        self.max_connections
    }

    /// Serves `app` on `listener` until `shutdown` completes, then drains for at most the
    /// grace period. Each request carries its peer's address as
    /// [`ConnectInfo<L::Addr>`](ConnectInfo), as with axum's
    /// `into_make_service_with_connect_info`.
    ///
    /// # Errors
    ///
    /// None today: accept errors (such as `EMFILE`) are retried by `listener` (axum's
    /// `Listener` contract). The `Result` leaves room for start-up errors.
    pub async fn serve<L>(
        self,
        mut listener: L,
        app: Router,
        shutdown: impl Future<Output = ()> + Send,
    ) -> io::Result<()>
    where
        L: Listener,
        L::Addr: Clone + Send + Sync + 'static,
    {
        let slots = Arc::new(Semaphore::new(self.max_connections));
        let open = Arc::new(OpenConnections::default());
        let (stop, stopping) = watch::channel(false);
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout)
            .keep_alive(true);
        tokio::pin!(shutdown);
        loop {
            let (io, peer) = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => accepted,
            };
            let slot = match Arc::clone(&slots).try_acquire_owned() {
                Ok(slot) => slot,
                // Full: shed the oldest idle connection and take its slot once it closes.
                Err(_) if open.shed_oldest_idle() => {
                    match tokio::time::timeout(SHED_WAIT, Arc::clone(&slots).acquire_owned()).await
                    {
                        Ok(Ok(slot)) => slot,
                        _ => {
                            drop(io);
                            continue;
                        }
                    }
                }
                Err(_) => {
                    tracing::debug!("connection cap reached, none idle; closing a new connection");
                    drop(io);
                    continue;
                }
            };
            let state = open.register();
            let app = app.clone();
            let service = {
                let state = Arc::clone(&state);
                hyper::service::service_fn(move |mut request: Request<Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer.clone()));
                    let busy = Busy::new(&state);
                    let response = app.clone().call(request);
                    async move {
                        let response = response.await;
                        drop(busy);
                        response
                    }
                })
            };
            let connection = http.serve_connection(TokioIo::new(io), service);
            let (open, mut stopping) = (Arc::clone(&open), stopping.clone());
            tokio::spawn(async move {
                tokio::pin!(connection);
                tokio::select! {
                    _ = connection.as_mut() => {}
                    () = state.shed.notified() => {
                        connection.as_mut().graceful_shutdown();
                        let _ = connection.await;
                    }
                    () = async { let _ = stopping.wait_for(|stop| *stop).await; } => {
                        connection.as_mut().graceful_shutdown();
                        let _ = connection.await;
                    }
                }
                open.forget(state.id);
                drop(slot);
            });
        }
        drop(listener);
        let _ = stop.send(true);
        let all = u32::try_from(self.max_connections).unwrap_or(u32::MAX);
        if tokio::time::timeout(self.grace, slots.acquire_many(all))
            .await
            .is_err()
        {
            tracing::warn!(grace = ?self.grace, "requests still in flight after the grace period");
        }
        Ok(())
    }
}

/// How long a new connection waits for the slot of the idle one it shed.
const SHED_WAIT: Duration = Duration::from_secs(1);

/// One open connection: how many requests it is answering, and how to shed it.
#[derive(Debug, Default)]
struct Connection {
    id: u64,
    in_flight: AtomicUsize,
    shed: Notify,
    shedding: AtomicBool,
}

/// Marks a connection busy while a request is being answered.
struct Busy(Arc<Connection>);

impl Busy {
    fn new(connection: &Arc<Connection>) -> Self {
        connection.in_flight.fetch_add(1, Ordering::AcqRel);
        Self(Arc::clone(connection))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The open connections, oldest first.
#[derive(Debug, Default)]
struct OpenConnections {
    next_id: AtomicU64,
    by_age: Mutex<BTreeMap<u64, Arc<Connection>>>,
}

impl OpenConnections {
    fn register(&self) -> Arc<Connection> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let connection = Arc::new(Connection {
            id,
            ..Connection::default()
        });
        self.lock().insert(id, Arc::clone(&connection));
        connection
    }

    fn forget(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Asks the oldest connection answering nothing to close; `false` when every one is busy.
    fn shed_oldest_idle(&self) -> bool {
        let by_age = self.lock();
        let idle = by_age.values().find(|connection| {
            connection.in_flight.load(Ordering::Acquire) == 0
                && !connection.shedding.swap(true, Ordering::AcqRel)
        });
        match idle {
            Some(connection) => {
                connection.shed.notify_one();
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Connection>>> {
        self.by_age
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
