//! The console over real HTTP requests (axum's router, `oneshot`) on a throwaway
//! PostgreSQL: access, CSRF, escaping, masking, headers, counts, pagination.

// Test helpers panic on failure like the tests that call them.
#![allow(clippy::unwrap_used)]

mod common;

use axum::{
    body::Body,
    http::{header, Request, Response, StatusCode},
    Router,
};
use http_body_util::BodyExt;
use quickassist_webhooks::status::{MessageStatus, StatusTracker, StatusUpdate};
use quickassist_webhooks_console::{Access, Console, Operator};
use quickassist_webhooks_postgres::{Inbox, PostgresStatusTracker};
use tower::ServiceExt;

const TOKEN: &str = "test-token-0123456789";

fn app(console: Console) -> Router {
    Router::new().nest("/admin/webhooks", console.router())
}

async fn send(app: &Router, request: Request<Body>) -> (Response<Body>, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    (Response::from_parts(parts, Body::empty()), text)
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::empty()).unwrap()
}

fn post(path: &str, cookie: &str, form: &str) -> Request<Body> {
    Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .unwrap()
}

/// Logs in with the token; returns the session cookie (`name=value`).
async fn login(app: &Router) -> String {
    let (response, _) = send(
        app,
        get(&format!("/admin/webhooks/login?token={TOKEN}"), None),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[header::LOCATION], "/admin/webhooks");
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/admin/webhooks"), "{cookie}");
    cookie.split(';').next().unwrap().to_owned()
}

/// The CSRF token in a page's forms.
fn csrf_of(page: &str) -> String {
    let start = page
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    page[start..start + 64].to_owned()
}

async fn status_of(inbox: &Inbox, webhook_id: &str) -> (String, i32) {
    sqlx::query_as("SELECT status, attempts FROM quickassist_webhook_inbox WHERE webhook_id = $1")
        .bind(webhook_id)
        .fetch_one(inbox.pool())
        .await
        .unwrap()
}

fn assert_secure_headers(response: &Response<Body>) {
    let headers = response.headers();
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn console_behaviour_over_http() {
    let (_server, inbox) = common::inbox().await;
    common::seed(&inbox).await;
    let app = app(Console::new(inbox.clone(), Access::token(TOKEN)));

    // Without a token: 401, the login page, no data; the headers even on errors.
    for path in [
        "/admin/webhooks",
        "/admin/webhooks/deliveries",
        "/admin/webhooks/delivery?account=acme&id=whk_acme_d1",
    ] {
        let (response, page) = send(&app, get(path, None)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            "Bearer realm=\"inbox console\""
        );
        assert_secure_headers(&response);
        assert!(!page.contains("whk_"), "{path} leaked: {page}");
        assert!(!page.contains("acme"), "{path} leaked: {page}");
    }
    let (response, _) = send(&app, get("/admin/webhooks/login?token=wrong", None)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let forged = "qa_console_session=00.99999999999.00";
    let (response, _) = send(&app, get("/admin/webhooks", Some(forged))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // A bearer token works without a session.
    let bearer = Request::get("/admin/webhooks/deliveries?state=dead")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let (response, page) = send(&app, bearer).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(page.contains("whk_globex_d1"));

    let cookie = login(&app).await;

    // Headers on pages, the stylesheet and 404s.
    for path in [
        "/admin/webhooks",
        "/admin/webhooks/console.css",
        "/admin/webhooks/nope",
    ] {
        let (response, _) = send(&app, get(path, Some(&cookie))).await;
        assert_secure_headers(&response);
    }

    // The overview's counts are the table's.
    let (response, overview) = send(&app, get("/admin/webhooks", Some(&cookie))).await;
    assert_eq!(response.status(), StatusCode::OK);
    for (state, expected) in [("pending", 2), ("failed", 1), ("dead", 3), ("processed", 3)] {
        let marker = format!("id=\"count-{state}\"");
        let at = overview
            .find(&marker)
            .unwrap_or_else(|| panic!("{marker} in {overview}"));
        let number = &overview[at..];
        let number = &number[number.find("class=\"number\">").unwrap() + 15..];
        let number: String = number.chars().take_while(char::is_ascii_digit).collect();
        assert_eq!(number, expected.to_string(), "{state}");
    }
    assert!(overview.contains("<svg"), "charts are inline SVG");
    assert!(!overview.contains("<script"), "no script");

    // Filters: the dead deliveries of one account.
    let (_, page) = send(
        &app,
        get(
            "/admin/webhooks/deliveries?state=dead&account=globex",
            Some(&cookie),
        ),
    )
    .await;
    assert!(page.contains("whk_globex_d1") && page.contains("whk_globex_d2"));
    assert!(!page.contains("whk_acme_d1"));
    let (_, page) = send(
        &app,
        get(
            "/admin/webhooks/deliveries?message_id=msg_a1",
            Some(&cookie),
        ),
    )
    .await;
    assert!(page.contains("whk_acme_p1") && page.contains("whk_acme_f1"));
    assert!(!page.contains("whk_acme_d1"));
    let (_, page) = send(
        &app,
        get(
            "/admin/webhooks/deliveries?event=template.status_update",
            Some(&cookie),
        ),
    )
    .await;
    assert!(page.contains("whk_globex_d2") && !page.contains("whk_globex_d1"));

    // A payload's template `<script>…</script>` is text; phone numbers are masked.
    let (response, page) = send(
        &app,
        get(
            "/admin/webhooks/delivery?account=acme&id=whk_acme_x1",
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!page.contains("<script"), "{page}");
    assert!(page.contains("&lt;script&gt;document.title="), "{page}");
    assert!(page.contains("+1•••••7890"));
    assert!(!page.contains("+1234567890"));

    // A POST without its CSRF token: 403 and nothing changed; with it: retried.
    let (_, page) = send(
        &app,
        get(
            "/admin/webhooks/delivery?account=globex&id=whk_globex_d1",
            Some(&cookie),
        ),
    )
    .await;
    assert!(page.contains("handler: recipient +1234567890 blocked") || page.contains("blocked"));
    let csrf = csrf_of(&page);
    let form = "account=globex&webhook_id=whk_globex_d1";
    let (response, _) = send(&app, post("/admin/webhooks/retry", &cookie, form)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_secure_headers(&response);
    let (response, _) = send(
        &app,
        post(
            "/admin/webhooks/retry",
            &cookie,
            &format!("{form}&csrf={}", "0".repeat(64)),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        status_of(&inbox, "whk_globex_d1").await,
        ("dead".to_owned(), 5)
    );
    let (response, _) = send(
        &app,
        post(
            "/admin/webhooks/retry",
            &cookie,
            &format!("{form}&csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        status_of(&inbox, "whk_globex_d1").await,
        ("pending".to_owned(), 0)
    );

    // Replay a processed one.
    let form = format!("account=acme&webhook_id=whk_acme_s1&csrf={csrf}");
    let (response, _) = send(&app, post("/admin/webhooks/replay", &cookie, &form)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_of(&inbox, "whk_acme_s1").await.0, "pending");

    // Bulk retry: the confirmation counts, the POST retries exactly those.
    let (_, page) = send(
        &app,
        get("/admin/webhooks/bulk-retry?account=acme", Some(&cookie)),
    )
    .await;
    assert!(page.contains("<strong>2</strong>"), "{page}"); // whk_acme_f1 and whk_acme_d1
    let (response, _) = send(
        &app,
        post(
            "/admin/webhooks/bulk-retry",
            &cookie,
            &format!("account=acme&csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        status_of(&inbox, "whk_acme_d1").await,
        ("pending".to_owned(), 0)
    );
    assert_eq!(
        status_of(&inbox, "whk_acme_f1").await,
        ("pending".to_owned(), 0)
    );
    assert_eq!(status_of(&inbox, "whk_globex_d2").await.0, "dead");

    // A message's timeline: its deliveries in signed order.
    let (_, page) = send(
        &app,
        get("/admin/webhooks/message?id=msg_a1", Some(&cookie)),
    )
    .await;
    let delivered = page.find("whk_acme_f1").unwrap();
    let read = page.find("whk_acme_p1").unwrap();
    assert!(
        delivered < read,
        "signed order: f1 was signed 3 min ago, p1 1 min ago"
    );
}

#[tokio::test]
async fn phone_numbers_need_a_permission_and_read_only_refuses_actions() {
    let (_server, inbox) = common::inbox().await;
    common::seed(&inbox).await;
    let path = "/admin/webhooks/delivery?account=acme&id=whk_acme_s1";

    // Behind the application's own auth: an operator allowed to see phone numbers does.
    let console = Console::new(inbox.clone(), Access::behind_own_auth()).read_only(true);
    let app = app(console);
    let (response, page) = send(&app, get(path, None)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(page.contains("+1•••••7890") && !page.contains("+1234567890"));
    assert!(
        !page.contains("type=\"submit\">Replay"),
        "read-only shows no action"
    );
    let mut allowed = get(path, None);
    allowed
        .extensions_mut()
        .insert(Operator::new("alice").show_phone_numbers(true));
    let (_, page) = send(&app, allowed).await;
    assert!(page.contains("+1234567890"));

    // Read-only: a POST is refused even with its CSRF token.
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let (_, page) = send(&app, get(path, Some(&cookie))).await;
    assert!(!page.contains("name=\"csrf\""));
    let (response, _) = send(
        &app,
        post(
            "/admin/webhooks/replay",
            &cookie,
            "account=acme&webhook_id=whk_acme_s1&csrf=x",
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(status_of(&inbox, "whk_acme_s1").await.0, "processed");

    // The console-wide permission.
    let app = self::app(Console::new(inbox.clone(), Access::token(TOKEN)).show_phone_numbers(true));
    let cookie = login(&app).await;
    let (_, page) = send(&app, get(path, Some(&cookie))).await;
    assert!(page.contains("+1234567890"));
}

#[tokio::test]
async fn pages_follow_by_keyset_and_every_filter_reads_an_index() {
    let (_server, inbox) = common::inbox().await;
    common::seed_history(&inbox, 120).await;
    let app = app(Console::new(inbox.clone(), Access::token(TOKEN)));
    let cookie = login(&app).await;
    let mut seen = std::collections::HashSet::new();
    let mut next = Some("/admin/webhooks/deliveries?account=acme".to_owned());
    let mut pages = 0;
    while let Some(path) = next.take() {
        let (_, page) = send(&app, get(&path, Some(&cookie))).await;
        pages += 1;
        for id in page.match_indices("whk_hist_").map(|(at, _)| {
            page[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        }) {
            seen.insert(id);
        }
        if let Some(at) = page.find("id=\"next-page\" href=\"") {
            let href = &page[at + 21..];
            next = Some(href[..href.find('"').unwrap()].replace("&amp;", "&"));
        }
    }
    assert_eq!(pages, 2, "80 of acme's deliveries: a page of 50, then 30");
    assert_eq!(seen.len(), 80);

    // Each filter's query can be answered from an index (the planner, told not to read the
    // whole table, still finds a plan: no Seq Scan).
    let mut connection = inbox.pool().acquire().await.unwrap();
    sqlx::query("SET enable_seqscan = off")
        .execute(&mut *connection)
        .await
        .unwrap();
    for condition in [
        "status = 'dead'",
        "status = 'pending' AND attempts > 0",
        "account = 'acme'",
        "event = 'message.read'",
        "webhook_id = 'whk_hist_1'",
        "quickassist_webhook_message_id(body) = 'msg_h1'",
        "received_at >= now() - interval '1 hour'",
    ] {
        let plan: Vec<(String,)> = sqlx::query_as(&format!(
            "EXPLAIN SELECT * FROM quickassist_webhook_inbox WHERE {condition} \
             AND (received_at, webhook_id, account) < (now(), 'z', 'z') \
             ORDER BY received_at DESC, webhook_id DESC, account DESC LIMIT 51"
        ))
        .fetch_all(&mut *connection)
        .await
        .unwrap();
        let plan: String = plan.into_iter().map(|(line,)| line + "\n").collect();
        assert!(!plan.contains("Seq Scan"), "{condition}:\n{plan}");
        assert!(plan.contains("Index"), "{condition}:\n{plan}");
    }
}

#[tokio::test]
async fn a_messages_page_shows_the_trackers_merged_state_and_its_deliveries() {
    let (_server, inbox) = common::inbox().await;
    common::seed(&inbox).await;
    let tracker = PostgresStatusTracker::new(inbox.pool().clone());
    let at = chrono::Utc::now();
    for (status, applied) in [
        (MessageStatus::Read, true),
        (MessageStatus::Delivered, false),
    ] {
        let merge = tracker
            .apply(&StatusUpdate::new("msg_a1", status, at))
            .await
            .unwrap();
        // read first, then a late delivered: the merge keeps read
        assert_eq!(merge.is_applied(), applied);
    }
    let app = app(Console::new(inbox.clone(), Access::token(TOKEN)).tracker(tracker));
    let cookie = login(&app).await;
    let (_, page) = send(
        &app,
        get("/admin/webhooks/message?id=msg_a1", Some(&cookie)),
    )
    .await;
    assert!(
        page.contains("Merged state: <strong>read</strong>"),
        "{page}"
    );
    assert!(page.contains("whk_acme_f1") && page.contains("whk_acme_p1"));
    let (_, page) = send(
        &app,
        get("/admin/webhooks/message?id=msg_unknown", Some(&cookie)),
    )
    .await;
    assert!(page.contains("no state for this message"), "{page}");
    assert!(page.contains("No delivery of this message"));
}

#[tokio::test]
async fn an_empty_token_lets_nobody_in() {
    let (_server, inbox) = common::inbox().await;
    let app = app(Console::new(inbox, Access::token("")));
    let bearer = Request::get("/admin/webhooks")
        .header(header::AUTHORIZATION, "Bearer ")
        .body(Body::empty())
        .unwrap();
    let (response, _) = send(&app, bearer).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (response, _) = send(&app, get("/admin/webhooks/login?token=", None)).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the login form, no session"
    );
    assert!(response.headers().get(header::SET_COOKIE).is_none());
}
