//! Attacks a running receiver the way a stranger without the secret can, while probing it
//! with real signed deliveries, and reports the receiver's memory and the probes' latency.
//!
//! ```text
//! QUICKASSIST_WEBHOOK_SECRET=s cargo run --release -p quickassist-examples --example attack -- \
//!     ATTACK ADDR PID [CONNECTIONS] [SECONDS]
//! ```
//!
//! `ATTACK` is one of:
//! - `slow-bodies`: each connection sends a well-formed 64-hex signature, `Content-Length:
//!   1048576`, about 1 MiB at once (or what the receiver takes), then one byte every 5 s;
//! - `idle`: each connection opens and sends nothing (keep-alive idle);
//! - `forged-canonical`: each connection posts forged 1 MiB bodies that take the canonical
//!   path (pretty-printed, nested objects with out-of-order integer keys), back to back;
//! - `none`: probes only.
//!
//! Meanwhile 10 signed deliveries per second (distinct `webhookId`s, fresh timestamps) are
//! posted on new connections; the report gives how many were answered 200 within 1 s and
//! within 10 s, their p50 / p99 latency, and the receiver's peak RSS (`/proc/PID/status`).
//! Run it against 127.0.0.1 only; `bench/attacks.sh` drives it.

use std::{
    error::Error,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use quickassist_webhooks::{
    testing::{sample, SignedRequest},
    Event, Secret,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const PATH: &str = "/webhooks/thequickassist";

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|value| value.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// A forged 1 MiB body on the canonical path: pretty, nested, integer keys out of order.
fn forged_canonical_body() -> Vec<u8> {
    let mut body = String::from("{\n");
    let mut n = 0;
    while body.len() < (1 << 20) - 200 {
        body.push_str(&format!(
            "  \"k{n}\": {{ \"b\": {{ \"9\": 1, \"3\": 2, \"1\": {{ \"7\": 3, \"2\": 4 }} }}, \"a\": [1.0, 2.50] }},\n"
        ));
        n += 1;
    }
    body.push_str("  \"end\": 0\n}");
    body.into_bytes()
}

async fn slow_body(addr: String, stop: Arc<AtomicBool>) {
    let Ok(mut stream) = TcpStream::connect(&addr).await else {
        return;
    };
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\nx-webhook-signature: {}\r\ncontent-length: 1048576\r\n\r\n",
        "ab".repeat(32)
    );
    if stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..16 {
        if stream.write_all(&chunk).await.is_err() {
            return;
        }
    }
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_secs(5)).await;
        if stream.write_all(b" ").await.is_err() {
            return;
        }
    }
}

async fn idle(addr: String, stop: Arc<AtomicBool>) {
    let Ok(_stream) = TcpStream::connect(&addr).await else {
        return;
    };
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn forged(addr: String, body: Arc<Vec<u8>>, stop: Arc<AtomicBool>, sent: Arc<AtomicU64>) {
    while !stop.load(Ordering::Relaxed) {
        let head = format!(
            "POST {PATH} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\nx-webhook-signature: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            "cd".repeat(32),
            body.len()
        );
        let Ok(mut stream) = TcpStream::connect(&addr).await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.write_all(head.as_bytes()).await;
        let _ = stream.write_all(&body).await;
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        sent.fetch_add(1, Ordering::Relaxed);
    }
}

/// One signed delivery on a new connection: its status and latency (`None` after 10 s).
async fn probe(addr: &str, secret: &Secret, n: u64) -> Option<(u16, Duration)> {
    let request = SignedRequest::new(
        secret,
        &sample(
            Event::MESSAGE_DELIVERED,
            &format!("whk_probe_{n}_{}", std::process::id()),
        ),
    );
    let started = Instant::now();
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        let head = format!(
            "POST {PATH} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\nx-webhook-signature: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            request.signature,
            request.body.len()
        );
        stream.write_all(head.as_bytes()).await.ok()?;
        stream.write_all(&request.body).await.ok()?;
        let mut answer = vec![0; 64];
        let read = stream.read(&mut answer).await.ok()?;
        std::str::from_utf8(&answer[..read])
            .ok()?
            .split(' ')
            .nth(1)?
            .parse()
            .ok()
    };
    let status = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .ok()??;
    Some((status, started.elapsed()))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [attack, addr, pid, rest @ ..] = args.as_slice() else {
        return Err("usage: attack ATTACK ADDR PID [CONNECTIONS] [SECONDS]".into());
    };
    let pid: u32 = pid.parse()?;
    let connections: usize = rest.first().map_or(Ok(2000), |c| c.parse())?;
    let seconds: u64 = rest.get(1).map_or(Ok(30), |s| s.parse())?;
    let secret = Secret::from(std::env::var("QUICKASSIST_WEBHOOK_SECRET")?);
    let stop = Arc::new(AtomicBool::new(false));
    let forged_sent = Arc::new(AtomicU64::new(0));
    let before = rss_kib(pid);
    let mut attackers = Vec::new();
    let body = Arc::new(forged_canonical_body());
    for _ in 0..connections {
        let (addr, stop) = (addr.clone(), Arc::clone(&stop));
        attackers.push(match attack.as_str() {
            "slow-bodies" => tokio::spawn(slow_body(addr, stop)),
            "idle" => tokio::spawn(idle(addr, stop)),
            "forged-canonical" => tokio::spawn(forged(
                addr,
                Arc::clone(&body),
                stop,
                Arc::clone(&forged_sent),
            )),
            "none" => break,
            other => return Err(format!("unknown attack {other:?}").into()),
        });
        if attack != "forged-canonical" && attackers.len() % 200 == 0 {
            tokio::task::yield_now().await;
        }
    }
    let started = Instant::now();
    let mut probes = Vec::new();
    let mut peak = before;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut n = 0;
    while started.elapsed() < Duration::from_secs(seconds) {
        tick.tick().await;
        let (addr, secret) = (addr.clone(), secret.clone());
        probes.push(tokio::spawn(async move { probe(&addr, &secret, n).await }));
        n += 1;
        if n % 10 == 0 {
            peak = peak.max(rss_kib(pid));
        }
    }
    let mut latencies = Vec::new();
    let (mut within_1s, mut within_10s) = (0, 0);
    for probe in probes {
        if let Ok(Some((200, latency))) = probe.await {
            within_10s += 1;
            if latency <= Duration::from_secs(1) {
                within_1s += 1;
            }
            latencies.push(latency);
        }
    }
    stop.store(true, Ordering::Relaxed);
    latencies.sort();
    let quantile = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .map_or("-".to_owned(), |d| {
                format!("{:.1} ms", d.as_secs_f64() * 1000.0)
            })
    };
    println!(
        "attack={attack} connections={connections} seconds={seconds} rss_before={} MiB rss_peak={} MiB probes={n} ok_within_1s={within_1s} ({:.1} %) ok_within_10s={within_10s} ({:.1} %) p50={} p99={}{}",
        before / 1024,
        peak / 1024,
        100.0 * within_1s as f64 / n.max(1) as f64,
        100.0 * within_10s as f64 / n.max(1) as f64,
        quantile(0.5),
        quantile(0.99),
        if attack == "forged-canonical" {
            format!(" forged_answered={}", forged_sent.load(Ordering::Relaxed))
        } else {
            String::new()
        }
    );
    for attacker in attackers {
        attacker.abort();
    }
    Ok(())
}
