//! [`TlsListener`]: HTTPS for `axum::serve`, with handshakes that cannot hold up the accept
//! loop.

use std::{io, net::SocketAddr, sync::Arc, time::Duration};

use tokio::{
    net::{TcpListener, TcpStream},
    sync::mpsc,
};
use tokio_rustls::{rustls::ServerConfig, server::TlsStream, TlsAcceptor};

/// How long a client has to complete its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections waiting to be served once their handshake is done.
const READY_QUEUE: usize = 256;

/// Accepts TCP connections and completes each TLS handshake in its own task (bounded by
/// [`HANDSHAKE_TIMEOUT`]), so a client that stalls its handshake delays nobody else.
///
/// ```no_run
/// # async fn demo(config: tokio_rustls::rustls::ServerConfig, app: axum::Router) -> std::io::Result<()> {
/// let tcp = tokio::net::TcpListener::bind("127.0.0.1:3443").await?;
/// axum::serve(quickassist_examples::TlsListener::new(tcp, config)?, app).await
/// # }
/// ```
#[derive(Debug)]
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Serves TLS with `config` on the connections `tcp` accepts.
    ///
    /// # Errors
    ///
    /// The I/O error when the listener's address cannot be read.
    pub fn new(tcp: TcpListener, config: ServerConfig) -> io::Result<Self> {
        let local = tcp.local_addr()?;
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let (ready_tx, ready) = mpsc::channel(READY_QUEUE);
        tokio::spawn(async move {
            while !ready_tx.is_closed() {
                let (stream, peer) = match tcp.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors, say: back off instead of spinning.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let (acceptor, ready_tx) = (acceptor.clone(), ready_tx.clone());
                tokio::spawn(async move {
                    let handshake =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream));
                    match handshake.await {
                        Ok(Ok(tls)) => {
                            let _ = ready_tx.send((tls, peer)).await;
                        }
                        Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(Self { ready, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept task ended (it never does while this listener lives).
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}
