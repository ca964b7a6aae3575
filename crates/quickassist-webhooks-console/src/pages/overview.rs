//! The overview: deliveries by state and by account, the oldest pending delivery's age,
//! and the charts.

use std::sync::Arc;

use axum::{
    extract::State,
    response::{IntoResponse, Response},
    Extension,
};
use chrono::Utc;
use maud::{html, Markup};

use super::{account_label, age, csrf_field, layout, Base};
use crate::{
    access::Viewer,
    chart::{self, Line},
    console::Shared,
    data::{self, Counts, Series},
    filter::{encode, DeliveryState},
};

pub(crate) async fn page(
    State(shared): State<Arc<Shared>>,
    Extension(viewer): Extension<Viewer>,
    Base(base): Base,
) -> Response {
    let pool = shared.inbox.pool();
    let loaded = async {
        let counts = data::counts(pool).await?;
        Ok::<_, sqlx::Error>((counts, shared.activity.get(pool).await?))
    }
    .await;
    let (counts, activity) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return super::database_error(&base, &error),
    };
    let content = html! {
        (states(&base, &counts))
        div.charts {
            (series_charts(&activity.hour, &activity.day))
            (chart::bars("Processing lag (received → processed), last hour", &lag_bars(&activity.lag)))
        }
        p.note { "Charts and accounts as of " (super::time(activity.at)) " (read at most every "
            (data::ACTIVITY_FRESH_FOR.as_secs()) " s)." }
        h2 { "By account" }
        table #accounts {
            thead { tr { th { "account" } th.num { "pending" } th.num { "failed, waiting" } th.num { "dead" } th.num { "processed (24 h)" } } }
            tbody {
                @for account in &activity.accounts {
                    @let href = |state: &str| format!("{base}/deliveries?state={state}&account={}", encode(account_label(&account.account)));
                    tr {
                        td { (account_label(&account.account)) }
                        td.num { a href=(href("pending")) { (account.pending) } }
                        td.num { a href=(href("failed")) { (account.failed) } }
                        td.num { a href=(href("dead")) { (account.dead) } }
                        td.num { a href=(href("processed")) { (account.processed_day) } }
                    }
                }
            }
        }
        @if !shared.read_only {
            h2 { "Retention" }
            form.action method="post" action={ (base) "/purge" } {
                (csrf_field(&viewer))
                label { "Delete processed deliveries older than "
                    input type="number" name="days" min="1" value="30" required; " days" }
                button type="submit" { "Purge" }
            }
        }
    };
    layout(&base, "Inbox overview", &content).into_response()
}

fn states(base: &str, counts: &Counts) -> Markup {
    html! {
        section.states {
            @for state in DeliveryState::ALL {
                a class={ "count " (state.as_str()) } id={ "count-" (state.as_str()) }
                    href={ (base) "/deliveries?state=" (state.as_str()) } {
                    span.number {
                        @let count = counts.of(state);
                        @if count.estimated { "≈ " }
                        (count.value)
                    }
                    span.label { (state.label()) }
                }
            }
            div.count {
                span.number #oldest-pending {
                    @match counts.oldest_pending {
                        Some(oldest) => (age((Utc::now() - oldest).num_seconds())),
                        None => "–",
                    }
                }
                span.label { "oldest pending delivery's age" }
            }
        }
    }
}

fn series_charts(hour: &Series, day: &Series) -> Markup {
    fn lines(series: &Series) -> [Line<'_>; 3] {
        [
            Line {
                class: "received",
                label: "received",
                values: &series.received,
            },
            Line {
                class: "processed",
                label: "processed",
                values: &series.processed,
            },
            Line {
                class: "failed",
                label: "failed (by receive time)",
                values: &series.failed,
            },
        ]
    }
    html! {
        (chart::lines("Per minute, last hour:", &lines(hour), "−60 min", "now"))
        (chart::lines("Per hour, last day:", &lines(day), "−24 h", "now"))
    }
}

fn lag_bars(histogram: &data::Histogram) -> Vec<(String, i64)> {
    histogram
        .iter()
        .map(|(bound, count)| {
            let label = match bound {
                Some(ms) if *ms < 1_000 => format!("< {ms} ms"),
                Some(ms) if *ms < 60_000 => format!("< {} s", ms / 1_000),
                Some(ms) => format!("< {} min", ms / 60_000),
                None => "longer".to_owned(),
            };
            (label, *count)
        })
        .collect()
}
