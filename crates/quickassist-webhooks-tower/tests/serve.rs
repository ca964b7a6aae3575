//! `serve::Server` over real TCP on loopback: idle and trickling connections are shed, the
//! connection cap closes what is past it, requests see their peer, shutdown drains.
#![cfg(feature = "serve")]
#![allow(clippy::unwrap_used)]

use std::{net::SocketAddr, time::Duration};

use axum::{extract::ConnectInfo, routing::get, Router};
use quickassist_webhooks_tower::serve::Server;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::oneshot,
};

fn app() -> Router {
    Router::new().route(
        "/peer",
        get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
    )
}

/// Starts `server`; returns its address and the sender that shuts it down.
async fn start(server: Server) -> (SocketAddr, oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        server
            .serve(listener, app(), async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    (addr, stop, task)
}

/// Reads until the server closes the connection; what it sent, or an error after 10 s.
async fn read_until_closed(stream: &mut TcpStream) -> Result<Vec<u8>, &'static str> {
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut seen))
        .await
        .map_err(|_| "still open after 10 s")?
        .map_err(|_| "read failed")?;
    Ok(seen)
}

async fn get_peer(addr: SocketAddr) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
    stream
        .write_all(b"GET /peer HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response)
}

#[tokio::test]
async fn idle_and_trickling_connections_are_closed_after_the_header_read_timeout() {
    let server = Server::new().header_read_timeout(Duration::from_millis(300));
    let (addr, _stop, _task) = start(server).await;
    // A connection that never sends a byte.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    // One that sends half a head and stops.
    let mut trickling = TcpStream::connect(addr).await.unwrap();
    trickling
        .write_all(b"POST /peer HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    // One idle between keep-alive requests.
    let mut kept_alive = TcpStream::connect(addr).await.unwrap();
    kept_alive
        .write_all(b"GET /peer HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    for stream in [&mut idle, &mut trickling] {
        assert!(
            !String::from_utf8_lossy(&read_until_closed(stream).await.unwrap()).contains("200 OK")
        );
    }
    let answered = read_until_closed(&mut kept_alive).await.unwrap();
    assert!(String::from_utf8_lossy(&answered).starts_with("HTTP/1.1 200 OK"));
}

#[tokio::test]
async fn at_the_cap_a_new_connection_sheds_the_oldest_idle_one() {
    let server = Server::new()
        .header_read_timeout(Duration::from_secs(60))
        .max_connections(2);
    let (addr, _stop, _task) = start(server).await;
    let mut oldest = TcpStream::connect(addr).await.unwrap();
    let mut second = TcpStream::connect(addr).await.unwrap();
    // Make sure both are being served before the third arrives: a request on the second.
    second
        .write_all(b"GET /peer HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0; 15];
    second.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200 OK");
    // Full, with two idle connections: a real request gets in, and the oldest is shed.
    let response = get_peer(addr).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(read_until_closed(&mut oldest).await.unwrap().is_empty());
}

#[tokio::test]
async fn requests_see_their_peer_and_shutdown_drains() {
    let (addr, stop, task) = start(Server::new().grace(Duration::from_secs(1))).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    let local = client.local_addr().unwrap();
    client
        .write_all(b"GET /peer HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let response = String::from_utf8(read_until_closed(&mut client).await.unwrap()).unwrap();
    assert!(response.ends_with(&local.to_string()), "{response}");
    // An idle connection does not hold the shutdown past the grace period.
    let _idle = TcpStream::connect(addr).await.unwrap();
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("serve returns after the grace period")
        .unwrap();
}

/// `Expect: 100-continue` with a head the pipeline refuses: the answer is the refusal, with
/// no `100 Continue` first (the body is never asked for).
#[tokio::test]
async fn a_refused_head_gets_no_100_continue() {
    use axum::routing::post;
    use quickassist_webhooks::{receive::Receiver, Verifier};
    use quickassist_webhooks_tower::WebhookLayer;

    let receiver = Receiver::builder(Verifier::new("whsec_serve"))
        .build()
        .unwrap();
    let app = Router::new().route(
        "/hook",
        post(|| async { "ok" }).route_layer(WebhookLayer::new(receiver)),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(Server::new().serve(listener, app, std::future::pending()));
    for head in [
        // No signature.
        "POST /hook HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 10\r\nconnection: close\r\n\r\n".to_owned(),
        // Declared length over the limit.
        format!(
            "POST /hook HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\nx-webhook-signature: {}\r\ncontent-length: 10000000000\r\nconnection: close\r\n\r\n",
            "0".repeat(64)
        ),
    ] {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        let answer = String::from_utf8(read_until_closed(&mut stream).await.unwrap()).unwrap();
        assert!(!answer.contains("100 Continue"), "{answer}");
        assert!(
            answer.starts_with("HTTP/1.1 401") || answer.starts_with("HTTP/1.1 413"),
            "{answer}"
        );
    }
}
