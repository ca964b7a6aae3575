//! Bounded soak test of a receiver example: a fixed request rate for a fixed time, with 1%
//! duplicate deliveries and 1% forged signatures, retrying what the receiver did not
//! acknowledge as the provider would. At the end it prints the counts that matter — lost
//! events, events processed twice, forged events accepted — and the receiver's memory over
//! time. Exit code 1 if any of the three counts is not zero.
//!
//!     cargo build --release -p quickassist-examples --examples
//!     target/release/examples/soak target/release/examples/axum_receiver 600 2000
//!     target/release/examples/soak target/release/examples/actix_receiver 600 2000
//!
//! Arguments: receiver binary, duration in seconds (default 600), requests per second
//! (default 2000). Uses loopback only.

#![allow(missing_docs)]

use std::{
    collections::{HashMap, HashSet},
    io::{BufRead, BufReader},
    process::{Command, ExitCode, Stdio},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use quickassist_webhooks::{
    testing::{sample, SignedRequest},
    Event, Secret,
};

const SECRET: &str = "whsec_soak";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(receiver) = args.first() else {
        eprintln!("usage: soak RECEIVER_BINARY [SECONDS] [RATE]");
        return ExitCode::from(2);
    };
    let seconds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(600);
    let rate: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2000);

    let mut child = match Command::new(receiver)
        .env("QUICKASSIST_WEBHOOK_SECRET", SECRET)
        .env("PORT", "0")
        .env("RUST_LOG", "warn")
        .env_remove("REDIS_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(error) => {
            eprintln!("cannot start {receiver}: {error}");
            return ExitCode::from(2);
        }
    };
    let pid = child.id();
    let stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let _ = ready_tx.send(rest.split('/').next().unwrap_or_default().to_owned());
            }
        }
    });
    let processed: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let counts = Arc::clone(&processed);
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if let Ok(json) = serde_json::from_str::<serde_json::Value>(&line) {
                if let Some(id) = json["webhookId"].as_str() {
                    *counts
                        .lock()
                        .expect("counts")
                        .entry(id.to_owned())
                        .or_default() += 1;
                }
            }
        }
    });
    let Ok(addr) = ready_rx.recv_timeout(Duration::from_secs(30)) else {
        eprintln!("the receiver did not start");
        let _ = child.kill();
        return ExitCode::from(2);
    };
    let url = format!("http://{addr}/webhooks/thequickassist");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("an HTTP client");

    let secret = Secret::from(SECRET);
    let forger = Secret::from("not-the-secret");
    let sent_valid: Arc<Mutex<HashSet<String>>> = Arc::default();
    let retries = Arc::new(AtomicU64::new(0));
    let statuses: Arc<Mutex<HashMap<u16, u64>>> = Arc::default();
    let mut memory = Vec::new();
    let started = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / rate.max(1)));
    let mut recent: Vec<SignedRequest> = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    let mut n: u64 = 0;
    while started.elapsed() < Duration::from_secs(seconds) {
        ticker.tick().await;
        n += 1;
        let (request, valid_id) = match n % 100 {
            // 1%: a duplicate of a recent delivery (the provider's retry of a success).
            0 if !recent.is_empty() => (recent[(n as usize / 100) % recent.len()].clone(), None),
            // 1%: a forgery with its own id.
            50 => {
                let id = format!("forged_{n}");
                (
                    SignedRequest::new(&forger, &sample(Event::MESSAGE_READ, &id)),
                    None,
                )
            }
            _ => {
                let id = format!("whk_soak_{n}");
                let request = SignedRequest::new(&secret, &sample(Event::MESSAGE_DELIVERED, &id));
                if recent.len() < 1000 {
                    recent.push(request.clone());
                } else {
                    recent[(n % 1000) as usize] = request.clone();
                }
                (request, Some(id))
            }
        };
        if let Some(id) = &valid_id {
            sent_valid.lock().expect("sent").insert(id.clone());
        }
        let (client, url, retries, statuses) = (
            client.clone(),
            url.clone(),
            Arc::clone(&retries),
            Arc::clone(&statuses),
        );
        tasks.spawn(async move {
            // The provider retries until it gets a 2xx; forgeries are not retried.
            for attempt in 0..20u32 {
                let response = client
                    .post(&url)
                    .header("x-webhook-signature", &request.signature)
                    .header("content-type", "application/json")
                    .body(request.body.clone())
                    .send()
                    .await;
                let status = response.map(|r| r.status().as_u16()).unwrap_or(0);
                *statuses
                    .lock()
                    .expect("statuses")
                    .entry(status)
                    .or_default() += 1;
                if (200..300).contains(&status) || valid_id.is_none() {
                    return;
                }
                retries.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt + 1))).await;
            }
        });
        if n.is_multiple_of(rate.max(1)) {
            memory.push((started.elapsed().as_secs(), rss_kib(pid)));
        }
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    // Let the receiver's last stdout lines arrive: wait until the counts stop changing.
    let mut last = usize::MAX;
    loop {
        let now = processed.lock().expect("counts").len();
        if now == last {
            break;
        }
        last = now;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let _ = child.kill();
    let _ = child.wait();

    let processed = processed.lock().expect("counts");
    let sent_valid = sent_valid.lock().expect("sent");
    let lost = sent_valid
        .iter()
        .filter(|id| !processed.contains_key(*id))
        .count();
    let twice = processed.values().filter(|&&count| count > 1).count();
    let forged = processed
        .keys()
        .filter(|id| id.starts_with("forged_"))
        .count();
    println!("receiver        {receiver}");
    println!("duration        {seconds} s at {rate} req/s ({n} deliveries sent)");
    println!("unique valid    {}", sent_valid.len());
    println!("processed       {}", processed.len());
    println!("lost            {lost}");
    println!("processed twice {twice}");
    println!("forged accepted {forged}");
    println!("retries         {}", retries.load(Ordering::Relaxed));
    println!("statuses        {:?}", statuses.lock().expect("statuses"));
    // Every minute's resident set, so that growth and its plateau (once the store is full)
    // can be read off.
    let mut next_minute = 0;
    let timeline: Vec<String> = memory
        .iter()
        .filter(|(second, _)| {
            let due = *second >= next_minute;
            if due {
                next_minute = second / 60 * 60 + 60;
            }
            due
        })
        .map(|(second, kib)| format!("{second}s:{}M", kib / 1024))
        .collect();
    println!("memory timeline {}", timeline.join(" "));
    if let (Some(first), Some(last)) = (memory.first(), memory.last()) {
        let max = memory.iter().map(|(_, kib)| *kib).max().unwrap_or(0);
        println!(
            "memory (RSS)    {} KiB at {} s, {} KiB at {} s, max {} KiB",
            first.1, first.0, last.1, last.0, max
        );
    }
    if lost + twice + forged == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}
