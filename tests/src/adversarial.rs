//! Hostile or unusual HTTP from the open internet: every case gets a clear status, nothing
//! reaches the handler that should not, and the server keeps serving. Raw TCP where a
//! high-level client would refuse to send the request.

use std::time::Duration;

use quickassist_webhooks::{
    testing::{sample, SignedRequest},
    Event, Secret,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{Target, PATH, SECRET};

fn signed(webhook_id: &str) -> SignedRequest {
    SignedRequest::new(
        &Secret::from(SECRET),
        &sample(Event::MESSAGE_DELIVERED, webhook_id),
    )
}

/// Reads from `stream` until `count` complete responses (status line, headers, and a
/// `content-length` body) have arrived; returns their status codes.
async fn read_responses(stream: &mut TcpStream, count: usize) -> Vec<u16> {
    let mut buffer = Vec::new();
    let mut statuses = Vec::new();
    let mut chunk = [0u8; 8192];
    tokio::time::timeout(Duration::from_secs(10), async {
        while statuses.len() < count {
            // Parse as many complete responses as the buffer holds.
            while let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
                let status: u16 = head
                    .split(' ')
                    .nth(1)
                    .and_then(|code| code.parse().ok())
                    .expect("a status line");
                let length: usize = head
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                if buffer.len() < end + 4 + length {
                    break;
                }
                buffer.drain(..end + 4 + length);
                if status != 100 {
                    statuses.push(status);
                }
            }
            if statuses.len() >= count {
                break;
            }
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "connection closed after {statuses:?}");
            buffer.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .expect("responses within 10 s");
    statuses
}

fn head(target: &Target, extra_headers: &str, length: usize) -> String {
    format!(
        "POST {PATH} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n{extra_headers}content-length: {length}\r\n\r\n",
        target.addr
    )
}

/// `delivery` as one raw request: the head with its signature, then its body.
fn signed_request(target: &Target, delivery: &SignedRequest) -> Vec<u8> {
    let mut request = head(
        target,
        &format!("x-webhook-signature: {}\r\n", delivery.signature),
        delivery.body.len(),
    )
    .into_bytes();
    request.extend_from_slice(&delivery.body);
    request
}

async fn send_raw(target: &Target, request: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(target.addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    read_responses(&mut stream, 1).await[0]
}

/// Two pipelined requests on one connection: both answered, in order.
pub async fn pipelined_requests_are_answered_in_order(target: &Target) {
    let delivery = signed("whk_pipelined");
    let request = signed_request(target, &delivery);
    let twice = [request.clone(), request].concat();
    let mut stream = TcpStream::connect(target.addr).await.expect("connect");
    stream.write_all(&twice).await.expect("write");
    assert_eq!(read_responses(&mut stream, 2).await, [200, 200]);
    assert_eq!(target.sink.count("whk_pipelined"), 1);
}

/// `Expect: 100-continue`: the body is sent after the interim response and processed.
pub async fn expect_100_continue_is_honoured(target: &Target) {
    let delivery = signed("whk_expect");
    let mut stream = TcpStream::connect(target.addr).await.expect("connect");
    let request = head(
        target,
        &format!(
            "x-webhook-signature: {}\r\nexpect: 100-continue\r\n",
            delivery.signature
        ),
        delivery.body.len(),
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write head");
    let mut interim = [0u8; 25];
    tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut interim))
        .await
        .expect("an interim response within 10 s")
        .expect("read");
    assert!(
        interim.starts_with(b"HTTP/1.1 100"),
        "{}",
        String::from_utf8_lossy(&interim)
    );
    stream.write_all(&delivery.body).await.expect("write body");
    assert_eq!(read_responses(&mut stream, 1).await, [200]);
    assert_eq!(target.sink.count("whk_expect"), 1);
}

/// Two signature headers, an oversized one, non-UTF-8 bytes in it: 401, never processed.
pub async fn odd_signature_headers_get_401(target: &Target) {
    let delivery = signed("whk_odd_headers");
    let cases: [Vec<u8>; 3] = [
        format!(
            "x-webhook-signature: {0}\r\nx-webhook-signature: {0}\r\n",
            delivery.signature
        )
        .into_bytes(),
        format!("x-webhook-signature: {}\r\n", "a".repeat(16 * 1024)).into_bytes(),
        [&b"x-webhook-signature: "[..], &[0xff; 64], b"\r\n"].concat(),
    ];
    for headers in cases {
        let mut request = format!(
            "POST {PATH} HTTP/1.1\r\nhost: {}\r\ncontent-length: {}\r\n",
            target.addr,
            delivery.body.len()
        )
        .into_bytes();
        request.extend_from_slice(&headers);
        request.extend_from_slice(b"\r\n");
        request.extend_from_slice(&delivery.body);
        assert_eq!(send_raw(target, &request).await, 401);
    }
    assert_eq!(target.sink.count("whk_odd_headers"), 0);
}

/// Hostile JSON behind a valid signature (deep nesting, a huge number, non-UTF-8 bytes) is
/// 400; behind a forged one, 401 (the canonical fallback copes with depth). No crash.
pub async fn hostile_json_gets_a_clear_answer(target: &Target) {
    // Each within the default 64 KiB limit, so the answer is about the JSON.
    let deep = format!("{}{}", "[".repeat(30_000), "]".repeat(30_000));
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let bodies: [Vec<u8>; 4] = [
        deep.into_bytes(),
        format!(r#"{{"event":"message.read","timestamp":"{now}","data":{{"messageId":"m","n":1e400}},"webhookId":"w"}}"#).into_bytes(),
        [&br#"{"event":"message.read","data":{"messageId":""#[..], &[0xc3, 0x28], br#""}}"#].concat(),
        format!(r#"{{"event":"{}"}}"#, "x".repeat(60 * 1024)).into_bytes(),
    ];
    for body in bodies {
        let signed = SignedRequest::raw(&Secret::from(SECRET), body.clone());
        let request = signed_request(target, &signed);
        assert_eq!(send_raw(target, &request).await, 400);
        let mut forged = head(
            target,
            &format!("x-webhook-signature: {}\r\n", "0".repeat(64)),
            body.len(),
        )
        .into_bytes();
        forged.extend_from_slice(&body);
        assert_eq!(send_raw(target, &forged).await, 401);
    }
    assert!(target.sink.processed().is_empty());
    // Still serving.
    let delivery = signed("whk_after_hostile");
    let request = signed_request(target, &delivery);
    assert_eq!(send_raw(target, &request).await, 200);
}

/// Many simultaneous oversized bodies: each refused with 413, then normal service.
pub async fn simultaneous_oversized_bodies_are_all_refused(target: &Target) {
    let uploads = (0..16).map(|n| {
        let addr = target.addr;
        let framing = if n % 2 == 0 {
            crate::raw::Framing::Chunked
        } else {
            crate::raw::Framing::ContentLength
        };
        tokio::spawn(async move { crate::raw::post_oversized(addr, PATH, 2 << 20, framing).await })
    });
    for status in futures_util::future::join_all(uploads).await {
        assert_eq!(status.expect("upload task"), 413);
    }
    let delivery = signed("whk_after_uploads");
    let request = signed_request(target, &delivery);
    assert_eq!(send_raw(target, &request).await, 200);
}

/// A body trickled slower than the server's body timeout (a slowloris): the server answers
/// 408 and closes the connection, and keeps serving others meanwhile and afterwards.
/// `target` must run with a short body timeout (`body_timeout`).
pub async fn trickling_body_is_cut_off(target: &Target, body_timeout: Duration) {
    let delivery = signed("whk_trickle");
    let mut stream = TcpStream::connect(target.addr).await.expect("connect");
    let request = head(
        target,
        &format!("x-webhook-signature: {}\r\n", delivery.signature),
        delivery.body.len(),
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write head");
    stream
        .write_all(&delivery.body[..10])
        .await
        .expect("write a little");
    // While this client stalls, others are served.
    let other = signed("whk_meanwhile");
    let meanwhile = signed_request(target, &other);
    assert_eq!(send_raw(target, &meanwhile).await, 200);
    // The stalled one is answered once the timeout passes (well within 10 timeouts).
    let answered = tokio::time::timeout(body_timeout * 10, read_responses(&mut stream, 1))
        .await
        .expect("the stalled request is answered");
    assert_eq!(answered, [408]);
    // …and its connection is closed: reading gives EOF (or a reset).
    let mut rest = [0u8; 64];
    let closed = tokio::time::timeout(body_timeout * 10, stream.read(&mut rest))
        .await
        .expect("the connection ends");
    assert!(
        matches!(closed, Ok(0) | Err(_)),
        "connection still open: {closed:?}"
    );
    assert_eq!(target.sink.count("whk_trickle"), 0);
}
