//! The actions: retry, replay, bulk retry, purge, and logging in. Each is a POST whose CSRF
//! token [`guard`](crate::access::guard) checked, and each is logged with who did it.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{Form, Query, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Extension,
};
use maud::html;
use quickassist_webhooks_postgres::CHANNEL;
use serde::Deserialize;
use sqlx::{PgPool, Postgres, QueryBuilder};

use crate::{
    access::{self, Viewer},
    console::Shared,
    data,
    filter::Filter,
    pages::{self, csrf_field, delivery_href, layout, Base},
};

/// `303 See Other` to `location` (after a POST, so a reload does not post again).
pub(crate) fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// `?token=`: the URL the standalone command prints.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Token {
    #[serde(default)]
    token: String,
}

pub(crate) async fn login_page(
    State(shared): State<Arc<Shared>>,
    Base(base): Base,
    Query(query): Query<Token>,
) -> Response {
    if query.token.is_empty() {
        pages::login(&base, false).into_response()
    } else {
        access::login(&shared, &query.token, &base)
    }
}

pub(crate) async fn login_form(
    State(shared): State<Arc<Shared>>,
    Base(base): Base,
    Form(form): Form<Token>,
) -> Response {
    access::login(&shared, &form.token, &base)
}

/// One delivery: the hidden fields of its forms.
#[derive(Debug, Deserialize)]
pub(crate) struct Target {
    #[serde(default)]
    account: String,
    webhook_id: String,
}

const REQUEUE: &str = "UPDATE quickassist_webhook_inbox \
     SET status = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL, \
         processed_at = NULL WHERE ";

/// Wakes the workers (they would otherwise pick the rows up at their next poll).
async fn wake_workers(pool: &PgPool) {
    if let Err(error) = sqlx::query("SELECT pg_notify($1, '')")
        .bind(CHANNEL)
        .execute(pool)
        .await
    {
        tracing::debug!(%error, "console: NOTIFY failed; workers pick up at their next poll");
    }
}

async fn requeue_one(
    shared: &Shared,
    viewer: &Viewer,
    base: &str,
    target: &Target,
    action: &'static str,
    from: &'static str,
) -> Response {
    let pool = shared.inbox.pool();
    let sql = format!("{REQUEUE}account = $1 AND webhook_id = $2 AND {from}");
    let changed = match sqlx::query(&sql)
        .bind(&target.account)
        .bind(&target.webhook_id)
        .execute(pool)
        .await
    {
        Ok(done) => done.rows_affected(),
        Err(error) => return pages::database_error(base, &error),
    };
    if changed > 0 {
        wake_workers(pool).await;
    }
    tracing::info!(
        operator = %viewer.who,
        action,
        account = %target.account,
        webhook_id = %target.webhook_id,
        changed,
        "console action"
    );
    see_other(&delivery_href(base, &target.account, &target.webhook_id))
}

/// Retries a dead delivery, or a failed one at once (its attempts reset).
pub(crate) async fn retry(
    State(shared): State<Arc<Shared>>,
    Extension(viewer): Extension<Viewer>,
    Base(base): Base,
    Form(target): Form<Target>,
) -> Response {
    let retryable = "(status = 'dead' OR (status = 'pending' AND attempts > 0))";
    requeue_one(&shared, &viewer, &base, &target, "retry", retryable).await
}

/// Replays a processed delivery: the handler runs for it once more.
pub(crate) async fn replay(
    State(shared): State<Arc<Shared>>,
    Extension(viewer): Extension<Viewer>,
    Base(base): Base,
    Form(target): Form<Target>,
) -> Response {
    requeue_one(
        &shared,
        &viewer,
        &base,
        &target,
        "replay",
        "status = 'processed'",
    )
    .await
}

/// The confirmation of a bulk retry: how many deliveries the filter selects.
pub(crate) async fn confirm_bulk_retry(
    State(shared): State<Arc<Shared>>,
    Extension(viewer): Extension<Viewer>,
    Base(base): Base,
    Query(filter): Query<Filter>,
) -> Response {
    let count = match data::count_retryable(shared.inbox.pool(), &filter).await {
        Ok(count) => count,
        Err(error) => return pages::database_error(&base, &error),
    };
    let fields = [
        ("state", &filter.state),
        ("account", &filter.account),
        ("event", &filter.event),
        ("from", &filter.from),
        ("to", &filter.to),
        ("webhook_id", &filter.webhook_id),
        ("message_id", &filter.message_id),
    ];
    let content = html! {
        p #bulk-count { "This filter selects " strong { (count) } " dead or failed deliveries. Retry them all now?" }
        @if !shared.read_only {
            form.action method="post" action={ (base) "/bulk-retry" } {
                (csrf_field(&viewer))
                @for (name, value) in fields {
                    input type="hidden" name=(name) value=(value);
                }
                button #confirm type="submit" { "Retry " (count) " deliveries" }
                " "
                a href={ (base) "/deliveries?" (filter.query_string()) } { "Cancel" }
            }
        }
    };
    layout(&base, "Retry what the filter selects", &content).into_response()
}

/// Retries every dead or failed delivery the filter selects.
pub(crate) async fn bulk_retry(
    State(shared): State<Arc<Shared>>,
    Extension(viewer): Extension<Viewer>,
    Base(base): Base,
    Form(filter): Form<Filter>,
) -> Response {
    let pool = shared.inbox.pool();
    let mut query = QueryBuilder::<Postgres>::new(REQUEUE);
    query.push("(status = 'dead' OR (status = 'pending' AND attempts > 0))");
    filter.push_conditions(&mut query);
    let changed = match query.build().execute(pool).await {
        Ok(done) => done.rows_affected(),
        Err(error) => return pages::database_error(&base, &error),
    };
    if changed > 0 {
        wake_workers(pool).await;
    }
    tracing::info!(operator = %viewer.who, action = "bulk_retry", filter = %filter.query_string(), changed, "console action");
    let mut shown = filter;
    shown.state = String::new();
    see_other(&format!("{base}/deliveries?{}", shown.query_string()))
}

/// `days=`: the purge's age.
#[derive(Debug, Deserialize)]
pub(crate) struct Purge {
    days: u32,
}

/// Retention: deletes the deliveries processed more than `days` ago.
pub(crate) async fn purge(
    State(shared): State<Arc<Shared>>,
    Extension(viewer): Extension<Viewer>,
    Base(base): Base,
    Form(purge): Form<Purge>,
) -> Response {
    let older_than = Duration::from_secs(u64::from(purge.days.max(1)) * 86_400);
    let deleted = match shared.inbox.purge_processed(older_than).await {
        Ok(deleted) => deleted,
        Err(error) => {
            tracing::warn!(%error, "console purge failed");
            return pages::error(
                &base,
                StatusCode::SERVICE_UNAVAILABLE,
                "The purge failed; try again.",
            );
        }
    };
    tracing::info!(operator = %viewer.who, action = "purge", days = purge.days, deleted, "console action");
    see_other(pages::home(&base))
}
