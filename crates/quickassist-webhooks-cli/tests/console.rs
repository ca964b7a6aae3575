//! `qa-webhooks console`: prints a login URL with a token; without it, 401; with it, a
//! session cookie and the pages.

#![allow(clippy::unwrap_used)]

mod common;

use std::{
    io::{BufRead, BufReader},
    process::Stdio,
};

use common::qa;
use quickassist_webhooks_postgres::Inbox;
use quickassist_webhooks_test::postgres::PostgresServer;

/// The console process, killed when dropped.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn console_prints_a_login_url_whose_token_opens_a_session() {
    let server = tokio::task::spawn_blocking(PostgresServer::start)
        .await
        .unwrap()
        .unwrap();
    let mut child = std::process::Command::new(qa().get_program())
        .env("DATABASE_URL", server.url())
        .env_remove("QA_CONSOLE_TOKEN")
        .args(["console", "--listen", "127.0.0.1:0", "--read-only"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _running = Running(child);
    // The second line is the URL to open; reading it waits for the server to listen.
    let lines: Vec<String> = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .take(2)
            .map(Result::unwrap)
            .collect()
    })
    .await
    .unwrap();
    assert!(
        !lines[0].contains(quickassist_webhooks_test::postgres::PASSWORD),
        "{}",
        lines[0]
    );
    let login = lines[1].strip_prefix("open ").unwrap().to_owned();
    let root = login[..login.find("/login").unwrap()].to_owned();
    let token = &login[login.find("token=").unwrap() + 6..];
    assert_eq!(token.len(), 64, "32 random bytes in hex");

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let refused = client
        .get(format!("{root}/deliveries"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let logged_in = client.get(&login).send().await.unwrap();
    assert_eq!(logged_in.status(), 303);
    let cookie = logged_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = client
        .get(format!("{root}/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(page.text().await.unwrap().contains("Inbox overview"));

    // It applied the migrations: the inbox is usable.
    let inbox = Inbox::connect(&server.url()).await.unwrap();
    assert!(inbox.list(None, 1).await.unwrap().is_empty());
}
