//! The deliveries' filters, as a query string and as SQL: each filter reads an index kept
//! in the list's order (received_at, webhook_id, account), and pages go by keyset, never
//! `OFFSET`.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use sqlx::{Postgres, QueryBuilder};

/// A delivery's state as the console shows it (the inbox's `pending` split in two).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DeliveryState {
    /// Pending, never attempted.
    Pending,
    /// Pending after failed attempts: waiting for a retry.
    Failed,
    Dead,
    Processed,
}

impl DeliveryState {
    pub(crate) const ALL: [Self; 4] = [Self::Pending, Self::Failed, Self::Dead, Self::Processed];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Failed => "failed",
            Self::Dead => "dead",
            Self::Processed => "processed",
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Failed => "failed, waiting for a retry",
            Self::Dead => "dead",
            Self::Processed => "processed",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == text)
    }

    pub(crate) fn of(status: &str, attempts: i32) -> Self {
        match (status, attempts) {
            ("dead", _) => Self::Dead,
            ("processed", _) => Self::Processed,
            (_, 0) => Self::Pending,
            _ => Self::Failed,
        }
    }

    /// The SQL condition (on the status index).
    pub(crate) fn sql(self) -> &'static str {
        match self {
            Self::Pending => "status = 'pending' AND attempts = 0",
            Self::Failed => "status = 'pending' AND attempts > 0",
            Self::Dead => "status = 'dead'",
            Self::Processed => "status = 'processed'",
        }
    }
}

/// The filters of the deliveries page, from its query string (empty fields are no filter).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Filter {
    pub(crate) state: String,
    pub(crate) account: String,
    pub(crate) event: String,
    /// `YYYY-MM-DDTHH:MM` (an HTML `datetime-local`), UTC.
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) webhook_id: String,
    pub(crate) message_id: String,
    /// The keyset cursor: the last row of the previous page, `received_at|webhook_id|account`.
    pub(crate) after: String,
}

/// Where the next page starts: after this row in the list's order.
#[derive(Clone, Debug)]
pub(crate) struct Cursor {
    pub(crate) received_at: DateTime<Utc>,
    pub(crate) webhook_id: String,
    pub(crate) account: String,
}

impl Cursor {
    pub(crate) fn encode(&self) -> String {
        format!(
            "{}|{}|{}",
            self.received_at.timestamp_micros(),
            self.webhook_id,
            self.account
        )
    }

    fn decode(text: &str) -> Option<Self> {
        let mut parts = text.splitn(3, '|');
        let micros = parts.next()?.parse().ok()?;
        Some(Self {
            received_at: DateTime::from_timestamp_micros(micros)?,
            webhook_id: parts.next()?.to_owned(),
            account: parts.next()?.to_owned(),
        })
    }
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
                .ok()
                .map(|time| time.and_utc())
        })
}

impl Filter {
    pub(crate) fn state(&self) -> Option<DeliveryState> {
        DeliveryState::parse(&self.state)
    }

    /// The messageId filter, when set.
    pub(crate) fn message_id(&self) -> Option<&str> {
        Self::field(&self.message_id)
    }

    fn field(value: &str) -> Option<&str> {
        Some(value.trim()).filter(|value| !value.is_empty())
    }

    /// Appends ` AND …` for each filter (binding its value) to `query`.
    pub(crate) fn push_conditions(&self, query: &mut QueryBuilder<'_, Postgres>) {
        if let Some(state) = self.state() {
            query.push(" AND ").push(state.sql());
        }
        if let Some(account) = Self::field(&self.account) {
            // "-" is the receiver of one secret (stored as '').
            let account = if account == "-" { "" } else { account };
            query.push(" AND account = ").push_bind(account.to_owned());
        }
        if let Some(event) = Self::field(&self.event) {
            query.push(" AND event = ").push_bind(event.to_owned());
        }
        if let Some(from) = Self::field(&self.from).and_then(parse_time) {
            query.push(" AND received_at >= ").push_bind(from);
        }
        if let Some(to) = Self::field(&self.to).and_then(parse_time) {
            query.push(" AND received_at < ").push_bind(to);
        }
        if let Some(webhook_id) = Self::field(&self.webhook_id) {
            query
                .push(" AND webhook_id = ")
                .push_bind(webhook_id.to_owned());
        }
        if let Some(message_id) = self.message_id() {
            query
                .push(" AND quickassist_webhook_message_id(body) = ")
                .push_bind(message_id.to_owned());
        }
    }

    /// Appends the keyset condition of the page after the cursor.
    pub(crate) fn push_cursor(&self, query: &mut QueryBuilder<'_, Postgres>) {
        if let Some(cursor) = Cursor::decode(&self.after) {
            query
                .push(" AND (received_at, webhook_id, account) < (")
                .push_bind(cursor.received_at)
                .push(", ")
                .push_bind(cursor.webhook_id)
                .push(", ")
                .push_bind(cursor.account)
                .push(")");
        }
    }

    /// The query string of these filters (without the cursor), for links.
    pub(crate) fn query_string(&self) -> String {
        let pairs = [
            ("state", &self.state),
            ("account", &self.account),
            ("event", &self.event),
            ("from", &self.from),
            ("to", &self.to),
            ("webhook_id", &self.webhook_id),
            ("message_id", &self.message_id),
        ];
        pairs
            .iter()
            .filter(|(_, value)| !value.trim().is_empty())
            .map(|(key, value)| format!("{key}={}", encode(value.trim())))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes a query string value.
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_its_encoding() {
        let cursor = Cursor {
            received_at: DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap(),
            webhook_id: "whk_1".into(),
            account: "acct|2".into(),
        };
        let decoded = Cursor::decode(&cursor.encode()).unwrap();
        assert_eq!(decoded.received_at, cursor.received_at);
        assert_eq!(decoded.account, "acct|2");
    }

    #[test]
    fn only_given_filters_are_in_the_sql() {
        let filter = Filter {
            state: "dead".into(),
            account: "acme".into(),
            ..Filter::default()
        };
        let mut query = QueryBuilder::new("SELECT 1 WHERE true");
        filter.push_conditions(&mut query);
        assert_eq!(
            query.sql(),
            "SELECT 1 WHERE true AND status = 'dead' AND account = $1"
        );
        assert_eq!(filter.query_string(), "state=dead&account=acme");
    }

    #[test]
    fn times_are_rfc3339_or_html_local_utc() {
        assert!(parse_time("2026-01-15T10:30").is_some());
        assert!(parse_time("2026-01-15T10:30:00Z").is_some());
        assert!(parse_time("yesterday").is_none());
    }
}
