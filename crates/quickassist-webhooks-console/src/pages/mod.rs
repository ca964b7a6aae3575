//! The pages: a layout, and one module per page. Templates are `maud` macros, checked at
//! compile time and escaping every value.

pub(crate) mod deliveries;
pub(crate) mod delivery;
pub(crate) mod message;
pub(crate) mod overview;

use axum::{
    extract::{FromRequestParts, OriginalUri},
    http::{request::Parts, StatusCode},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};

use crate::{access::Viewer, filter::DeliveryState};

/// Where the console is mounted (`/admin/webhooks`, or `` at the root): every link starts
/// with it.
#[derive(Debug)]
pub(crate) struct Base(pub(crate) String);

impl<S: Sync> FromRequestParts<S> for Base {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let original = parts
            .extensions
            .get::<OriginalUri>()
            .map(|uri| uri.0.clone());
        Ok(Self(crate::access::base_of(
            original.as_ref().map(axum::http::Uri::path),
            parts.uri.path(),
        )))
    }
}

/// The overview's address: the mount path itself (axum's `nest` does not route its path
/// with a trailing slash), `/` at the root.
pub(crate) fn home(base: &str) -> &str {
    if base.is_empty() {
        "/"
    } else {
        base
    }
}

/// The page around `content`.
pub(crate) fn layout(base: &str, title: &str, content: &Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · inbox console" }
                link rel="stylesheet" href={ (base) "/console.css" };
            }
            body {
                header {
                    nav {
                        a href=(home(base)) { "Overview" }
                        a href={ (base) "/deliveries" } { "Deliveries" }
                        form.inline method="get" action={ (base) "/message" } {
                            input type="search" name="id" placeholder="message id" aria-label="message id";
                            button type="submit" { "Timeline" }
                        }
                    }
                }
                main { h1 { (title) } (content) }
            }
        }
    }
}

/// The login page (with the token in a form; the printed URL's `?token=` logs in at once).
pub(crate) fn login(base: &str, refused: bool) -> Markup {
    layout(
        base,
        "Log in",
        &html! {
            @if refused { p.error { "That token is not the console's." } }
            p { "This console needs its access token." }
            form method="post" action={ (base) "/login" } {
                label { "Token " input type="password" name="token" autocomplete="off" required; }
                button type="submit" { "Log in" }
            }
        },
    )
}

/// An error page with `status`.
pub(crate) fn error(base: &str, status: StatusCode, message: &str) -> Response {
    let markup = layout(
        base,
        status.canonical_reason().unwrap_or("Error"),
        &html! {
            p.error { (message) }
        },
    );
    (status, markup).into_response()
}

/// 404 for routes the console does not have.
pub(crate) async fn not_found(base: Base) -> Response {
    error(
        &base.0,
        StatusCode::NOT_FOUND,
        "No such page in the console.",
    )
}

/// The answer when a query fails (the details go to the log, not to the page).
pub(crate) fn database_error(base: &str, failure: &sqlx::Error) -> Response {
    tracing::warn!(error = %failure, "console query failed");
    error(
        base,
        StatusCode::SERVICE_UNAVAILABLE,
        "The database did not answer; try again.",
    )
}

pub(crate) fn time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string()
}

/// A duration in words: `3 s`, `4 min 2 s`, `2 h 5 min`, `3 d 4 h`.
pub(crate) fn age(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3_600 => format!("{} min {} s", seconds / 60, seconds % 60),
        3_600..86_400 => format!("{} h {} min", seconds / 3_600, seconds % 3_600 / 60),
        _ => format!("{} d {} h", seconds / 86_400, seconds % 86_400 / 3_600),
    }
}

pub(crate) fn state_badge(state: DeliveryState) -> Markup {
    html! { span class={ "state " (state.as_str()) } { (state.label()) } }
}

pub(crate) fn account_label(account: &str) -> &str {
    if account.is_empty() {
        "-"
    } else {
        account
    }
}

pub(crate) fn delivery_href(base: &str, account: &str, webhook_id: &str) -> String {
    format!(
        "{base}/delivery?account={}&id={}",
        crate::filter::encode(account),
        crate::filter::encode(webhook_id)
    )
}

/// The hidden CSRF field of every form that posts.
pub(crate) fn csrf_field(viewer: &Viewer) -> Markup {
    html! { input type="hidden" name="csrf" value=(viewer.csrf); }
}
