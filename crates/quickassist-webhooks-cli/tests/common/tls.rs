//! HTTPS in the tests: a self-signed certificate for `localhost` and 127.0.0.1 (rcgen), and a
//! listener that serves with it (tokio-rustls, on ring like reqwest's rustls).

use std::{io, net::SocketAddr, path::PathBuf, sync::Arc};

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{
    rustls::{
        crypto::ring,
        pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
        ServerConfig,
    },
    server::TlsStream,
    TlsAcceptor,
};

/// A fresh self-signed certificate, its PEM written to a file for `--cacert`.
pub struct TestCertificate {
    /// The certificate (not the key) as a PEM file.
    pub pem_file: PathBuf,
    acceptor: TlsAcceptor,
}

impl TestCertificate {
    /// Generates a certificate for `localhost` and 127.0.0.1; its PEM goes to a file named
    /// `name` in the test's temporary directory.
    pub fn generate(name: &str) -> Self {
        let generated =
            rcgen::generate_simple_self_signed(["localhost".to_owned(), "127.0.0.1".to_owned()])
                .unwrap();
        let pem_file = super::temp_file(name, generated.cert.pem().as_bytes());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            generated.signing_key.serialize_der(),
        ));
        let chain: Vec<CertificateDer<'static>> = vec![generated.cert.der().clone()];
        let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        Self {
            pem_file,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        }
    }

    /// The PEM file's path as a command-line argument.
    pub fn pem_arg(&self) -> &str {
        self.pem_file.to_str().unwrap()
    }

    /// A TLS listener on 127.0.0.1:0 presenting this certificate, for `axum::serve`.
    pub async fn listener(&self) -> TlsListener {
        TlsListener {
            tcp: TcpListener::bind("127.0.0.1:0").await.unwrap(),
            acceptor: self.acceptor.clone(),
        }
    }
}

/// Accepts TCP connections and completes their TLS handshake.
pub struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, peer)) = self.tcp.accept().await else {
                continue;
            };
            // A client that does not trust the certificate aborts the handshake (what some
            // tests check): wait for the next connection.
            if let Ok(tls) = self.acceptor.accept(tcp).await {
                return (tls, peer);
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
