//! One delivery: its times, attempts, last error, account, event and payload.

use std::sync::Arc;

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Extension,
};
use maud::html;
use serde::Deserialize;

use super::{account_label, csrf_field, layout, state_badge, time, Base};
use crate::{
    access::Viewer,
    console::Shared,
    data,
    filter::{encode, DeliveryState},
    mask,
};

/// Which delivery: `?account=&id=`.
#[derive(Debug, Deserialize)]
pub(crate) struct Key {
    #[serde(default)]
    account: String,
    id: String,
}

pub(crate) async fn page(
    State(shared): State<Arc<Shared>>,
    Extension(viewer): Extension<Viewer>,
    Base(base): Base,
    Query(key): Query<Key>,
) -> Response {
    let delivery = match data::delivery(shared.inbox.pool(), &key.account, &key.id).await {
        Ok(Some(delivery)) => delivery,
        Ok(None) => return super::error(&base, StatusCode::NOT_FOUND, "No such delivery."),
        Err(error) => return super::database_error(&base, &error),
    };
    let state = delivery.row.state();
    let action = match state {
        DeliveryState::Dead | DeliveryState::Failed => Some(("retry", "Retry now")),
        DeliveryState::Processed => Some(("replay", "Replay")),
        DeliveryState::Pending => None,
    };
    let content = html! {
        dl.facts {
            dt { "state" } dd #state { (state_badge(state)) }
            dt { "account" } dd #account { (account_label(&delivery.row.account)) }
            dt { "event" } dd #event { (delivery.row.event) }
            dt { "signed at" } dd { (time(delivery.signed_at)) }
            dt { "received" } dd #received { (time(delivery.row.received_at)) }
            dt { "processed" } dd #processed { (delivery.row.processed_at.map(time).unwrap_or_else(|| "–".to_owned())) }
            dt { "attempts" } dd #attempts { (delivery.row.attempts) }
            @if state == DeliveryState::Failed {
                dt { "next attempt" } dd { (time(delivery.next_attempt_at)) }
            }
            dt { "last error" } dd #last-error.error { (delivery.row.last_error.as_deref().unwrap_or("–")) }
            @if let Some(message_id) = &delivery.message_id {
                dt { "message" } dd { a #message href={ (base) "/message?id=" (encode(message_id)) } { (message_id) } }
            }
        }
        @if let (Some((path, label)), false) = (action, shared.read_only) {
            form.action method="post" action={ (base) "/" (path) } {
                (csrf_field(&viewer))
                input type="hidden" name="account" value=(delivery.row.account);
                input type="hidden" name="webhook_id" value=(delivery.row.webhook_id);
                button #action type="submit" { (label) }
            }
        }
        h2 { "Payload" }
        @if !viewer.show_phone_numbers { p.note { "Phone numbers are masked." } }
        pre #payload { (mask::pretty_body(&delivery.body, viewer.show_phone_numbers)) }
    };
    layout(
        &base,
        &format!("Delivery {}", delivery.row.webhook_id),
        &content,
    )
    .into_response()
}
