//! The console in a real browser: Debian's chromium driven over WebDriver (chromedriver,
//! started here on a free port), against the console on a throwaway PostgreSQL with
//! deliveries in every state and a running worker. `scripts/test` installs `chromium` and
//! `chromium-driver`; the test fails, rather than skips, without them.
//!
//! It also takes the README's screenshot of the overview: to `$CARGO_TARGET_TMPDIR`, or to
//! the crate's `overview.png` with `UPDATE_SCREENSHOT=1`.

// Test helpers panic on failure like the tests that call them.
#![allow(clippy::unwrap_used)]

mod common;

use std::{
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator};
use quickassist_webhooks_console::{Access, Console};
use quickassist_webhooks_postgres::{handler_fn, Worker};
use serde_json::json;

const TOKEN: &str = "browser-test-token-0123456789";
const DEADLINE: Duration = Duration::from_secs(30);

/// chromedriver, killed when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn find_program(env: &str, names: &[&str]) -> PathBuf {
    if let Some(path) = std::env::var_os(env) {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut candidates: Vec<PathBuf> = std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .collect();
    candidates.extend(
        names
            .iter()
            .map(|name| Path::new("/usr/lib/chromium").join(name)),
    );
    candidates
        .into_iter()
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{} not found: apt-get install chromium chromium-driver (or set {env})",
                names[0]
            )
        })
}

fn start_driver() -> (Driver, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(find_program("CHROMEDRIVER", &["chromedriver"]))
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver(child);
    // Ready when it accepts connections: retry with a deadline.
    let started = Instant::now();
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
        assert!(
            started.elapsed() < DEADLINE,
            "chromedriver did not listen within {DEADLINE:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (driver, port)
}

async fn browser(port: u16) -> Client {
    let chromium = find_program("CHROMIUM", &["chromium", "chromium-browser"]);
    let capabilities = json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1100", "--hide-scrollbars"]
        }
    });
    let capabilities = capabilities.as_object().unwrap().clone();
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a chromium session")
}

async fn text(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

/// The delivery's state on the page, `None` while no page with one is loaded.
async fn state_text(client: &Client) -> Option<String> {
    client
        .find(Locator::Id("state"))
        .await
        .ok()?
        .text()
        .await
        .ok()
}

/// Waits until the browser is at a URL whose query contains `part` (a click's navigation
/// may still be under way when the click returns).
async fn wait_for_query(client: &Client, part: &str) {
    let started = Instant::now();
    loop {
        let url = client.current_url().await.unwrap();
        if url.query().is_some_and(|query| query.contains(part)) {
            return;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "still at {url}, not at ?…{part}…"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (reloading) until the element's text contains `expected`.
async fn eventually_text(client: &Client, css: &str, expected: &str) {
    let started = Instant::now();
    loop {
        let now = text(client, css).await;
        if now.contains(expected) {
            return;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "{css} still shows {now:?}, not {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        client.refresh().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_finds_a_dead_delivery_and_retries_it_in_a_browser() {
    let (_server, inbox) = common::inbox().await;
    common::seed(&inbox).await;
    common::seed_history(&inbox, 600).await;

    let console = Console::new(inbox.clone(), Access::token(TOKEN));
    let app = axum::Router::new().nest("/admin/webhooks", console.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/admin/webhooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let (_driver, port) = start_driver();
    let client = browser(port).await;

    // Log in with the printed URL.
    client
        .goto(&format!("{base}/login?token={TOKEN}"))
        .await
        .unwrap();
    assert_eq!(
        client.current_url().await.unwrap().path(),
        "/admin/webhooks"
    );

    // The overview's counts are the table's.
    let counts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT CASE WHEN status = 'pending' AND attempts > 0 THEN 'failed' ELSE status END, count(*) \
         FROM quickassist_webhook_inbox GROUP BY 1",
    )
    .fetch_all(inbox.pool())
    .await
    .unwrap();
    for (state, count) in &counts {
        assert_eq!(
            text(&client, &format!("#count-{state} .number")).await,
            count.to_string(),
            "{state}"
        );
    }
    let screenshot = client.screenshot().await.unwrap();
    let path = if std::env::var_os("UPDATE_SCREENSHOT").is_some() {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("overview.png")
    } else {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("overview.png")
    };
    std::fs::write(&path, screenshot).unwrap();

    // Filter to the dead deliveries of one account.
    client
        .find(Locator::Css("nav a[href$='/deliveries']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .find(Locator::Css("select[name=state]"))
        .await
        .unwrap()
        .select_by_value("dead")
        .await
        .unwrap();
    client
        .find(Locator::Css("input[name=account]"))
        .await
        .unwrap()
        .send_keys("globex")
        .await
        .unwrap();
    client
        .find(Locator::Css("#filters button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_query(&client, "state=dead&account=globex").await;
    let rows = client
        .find_all(Locator::Css("#deliveries tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "globex has two dead deliveries");
    let listed = text(&client, "#deliveries tbody").await;
    assert!(
        listed.contains("whk_globex_d1")
            && listed.contains("whk_globex_d2")
            && !listed.contains("acme")
    );

    // Open one and read its last error.
    client
        .find(Locator::LinkText("whk_globex_d2"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_query(&client, "id=whk_globex_d2").await;
    assert_eq!(
        text(&client, "#last-error").await,
        "handler: template store unavailable"
    );
    assert!(text(&client, "#state").await.contains("dead"));

    // Retry it; a running worker processes it and the page shows it processed.
    let worker = Worker::new(
        inbox.clone(),
        handler_fn(|_delivery, _tx| Box::pin(async { Ok(()) })),
    )
    .poll_interval(Duration::from_millis(100))
    .spawn();
    client
        .find(Locator::Id("action"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The POST's answer redirects back here: the page no longer shows it dead.
    let started = Instant::now();
    while state_text(&client)
        .await
        .is_none_or(|state| state.contains("dead"))
    {
        assert!(
            started.elapsed() < DEADLINE,
            "the retry's answer did not load"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eventually_text(&client, "#state", "processed").await;
    assert_eq!(text(&client, "#attempts").await, "1");

    // A template named `<script>…</script>` is text, and ran nothing.
    client
        .goto(&format!("{base}/delivery?account=acme&id=whk_acme_x1"))
        .await
        .unwrap();
    assert!(text(&client, "#payload")
        .await
        .contains("<script>document.title='pwned'</script>"));
    assert_ne!(client.title().await.unwrap(), "pwned");
    assert!(text(&client, "#payload").await.contains("+1•••••7890"));

    client.close().await.unwrap();
    worker.shutdown().await;
}
