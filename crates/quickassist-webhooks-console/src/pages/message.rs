//! A message's status timeline: the tracker's merged state and the message's deliveries in
//! signed order.

use std::sync::Arc;

use axum::{
    extract::{Query, State},
    response::{IntoResponse, Response},
    Extension,
};
use maud::html;
use quickassist_webhooks::status::{StatusTracker, SubjectKind};
use serde::Deserialize;

use super::{delivery_href, layout, state_badge, time, Base};
use crate::{access::Viewer, console::Shared, data};

/// Which message: `?id=`.
#[derive(Debug, Deserialize)]
pub(crate) struct Key {
    #[serde(default)]
    id: String,
}

pub(crate) async fn page(
    State(shared): State<Arc<Shared>>,
    Extension(_viewer): Extension<Viewer>,
    Base(base): Base,
    Query(key): Query<Key>,
) -> Response {
    let id = key.id.trim();
    let deliveries = match data::message(shared.inbox.pool(), id).await {
        Ok(deliveries) => deliveries,
        Err(error) => return super::database_error(&base, &error),
    };
    let merged = match &shared.tracker {
        Some(tracker) => match tracker.current(SubjectKind::Message, id).await {
            Ok(state) => Some(state),
            Err(error) => {
                tracing::warn!(%error, "console: the status tracker did not answer");
                None
            }
        },
        None => None,
    };
    let content = html! {
        @match (&shared.tracker, merged) {
            (None, _) => p.note { "No status tracker is configured: the deliveries below are the timeline." },
            (Some(_), None) => p.error { "The status tracker did not answer." },
            (Some(_), Some(None)) => p #merged { "The status tracker has no state for this message." },
            (Some(_), Some(Some(state))) => p #merged {
                "Merged state: " strong { (state.clone().into_status().to_string()) }
                " (event time " (time(state.at())) ")"
            },
        }
        @if deliveries.is_empty() {
            p #empty { "No delivery of this message is in the inbox." }
        } @else {
            table #timeline {
                thead { tr { th { "signed at" } th { "event" } th { "webhookId" } th { "state" } th { "received" } } }
                tbody {
                    @for delivery in &deliveries {
                        tr {
                            td { (time(delivery.signed_at)) }
                            td { (delivery.row.event) }
                            td { a href=(delivery_href(&base, &delivery.row.account, &delivery.row.webhook_id)) { (delivery.row.webhook_id) } }
                            td { (state_badge(delivery.row.state())) }
                            td { (time(delivery.row.received_at)) }
                        }
                    }
                }
            }
        }
    };
    layout(&base, &format!("Message {id}"), &content).into_response()
}
