//! The deliveries: filters, a page at a time by keyset.

use std::sync::Arc;

use axum::{
    extract::{Query, State},
    response::{IntoResponse, Response},
    Extension,
};
use maud::{html, Markup};

use super::{account_label, delivery_href, layout, state_badge, time, Base};
use crate::{
    access::Viewer,
    console::Shared,
    data,
    filter::{DeliveryState, Filter},
};

pub(crate) async fn page(
    State(shared): State<Arc<Shared>>,
    Extension(_viewer): Extension<Viewer>,
    Base(base): Base,
    Query(filter): Query<Filter>,
) -> Response {
    let (rows, more) = match data::list(shared.inbox.pool(), &filter).await {
        Ok(page) => page,
        Err(error) => return super::database_error(&base, &error),
    };
    let query = filter.query_string();
    let next = more.then(|| rows.last().map(data::Row::cursor)).flatten();
    let retryable = matches!(
        filter.state(),
        Some(DeliveryState::Dead | DeliveryState::Failed)
    );
    let content = html! {
        (form(&base, &filter))
        @if retryable && !shared.read_only && !rows.is_empty() {
            p { a.button #bulk-retry href={ (base) "/bulk-retry?" (query) } { "Retry all that this filter selects…" } }
        }
        @if rows.is_empty() {
            p #empty { "No delivery matches." }
        } @else {
            table #deliveries {
                thead { tr { th { "received" } th { "webhookId" } th { "account" } th { "event" } th { "state" } th { "processed" } th.num { "attempts" } th { "last error" } } }
                tbody {
                    @for row in &rows {
                        tr {
                            td { (time(row.received_at)) }
                            td { a href=(delivery_href(&base, &row.account, &row.webhook_id)) { (row.webhook_id) } }
                            td { (account_label(&row.account)) }
                            td { (row.event) }
                            td { (state_badge(row.state())) }
                            td { (row.processed_at.map(time).unwrap_or_default()) }
                            td.num { (row.attempts) }
                            td.error { (row.last_error.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
        @if let Some(next) = next {
            p { a #next-page href={ (base) "/deliveries?" (query) @if !query.is_empty() { "&" } "after=" (crate::filter::encode(&next.encode())) } { "Older →" } }
        }
    };
    layout(&base, "Deliveries", &content).into_response()
}

fn form(base: &str, filter: &Filter) -> Markup {
    html! {
        form.filters #filters method="get" action={ (base) "/deliveries" } {
            label { "state "
                select name="state" {
                    option value="" { "any" }
                    @for state in DeliveryState::ALL {
                        option value=(state.as_str()) selected[filter.state() == Some(state)] { (state.label()) }
                    }
                }
            }
            label { "account " input type="text" name="account" value=(filter.account) placeholder="- for none"; }
            label { "event " input type="text" name="event" value=(filter.event) placeholder="message.failed"; }
            label { "from (UTC) " input type="datetime-local" name="from" value=(filter.from); }
            label { "to (UTC) " input type="datetime-local" name="to" value=(filter.to); }
            label { "webhookId " input type="text" name="webhook_id" value=(filter.webhook_id); }
            label { "messageId " input type="text" name="message_id" value=(filter.message_id); }
            button type="submit" { "Filter" }
        }
    }
}
