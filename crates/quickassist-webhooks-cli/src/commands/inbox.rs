//! `qa-webhooks inbox list | lag | retry | replay | purge | plans`: the PostgreSQL inbox from a
//! shell.

use std::time::Duration;

use chrono::{DateTime, Utc};
use quickassist_webhooks_postgres::{
    redact_url, AccountLag, Inbox, InboxStatus, Listed, QueryPlan, Selection,
};

use super::write_stdout;
use crate::failure::{Failure, Outcome};

/// Arguments of `inbox`.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Inspect and operate the durable inbox (quickassist-webhooks-postgres) in the \
                  database at DATABASE_URL: list deliveries, show how far behind each account \
                  is, retry dead ones, replay processed ones, delete old processed ones. The \
                  URL's password is never printed."
)]
pub(crate) struct InboxArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// List deliveries, newest first: id, event, status, attempts, receive time, last error,
    /// account.
    List {
        /// Only deliveries in this state.
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// How far behind each account is: its due deliveries and how long the oldest has waited
    /// (seconds), the account waiting longest first.
    Lag,
    /// Make dead deliveries pending again (attempts reset); workers pick them up at once.
    Retry(SelectionArgs),
    /// Make processed deliveries pending again, so the handler runs for them once more.
    Replay(SelectionArgs),
    /// Retention: delete the deliveries processed longer ago than AGE, 1,000 per statement
    /// (keep them at least as long as the receiver's replay window plus its clock-skew
    /// allowance, 24 h by default: copies of purged deliveries are then refused as stale).
    Purge {
        /// How long ago: a number and a unit, s, m, h or d (e.g. 7d, 12h).
        #[arg(long, value_name = "AGE", value_parser = parse_age)]
        older_than: Duration,
    },
    /// How PostgreSQL would run each hot query of the inbox on this database now: the
    /// indexes it reads, and whether it reads the whole table (which it prefers while the
    /// table is small; at size, every one should read through an index).
    Plans {
        /// Print each query's plan as EXPLAIN does, too.
        #[arg(long)]
        explain: bool,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum StatusArg {
    Pending,
    Processed,
    Dead,
}

/// Which deliveries: ids, a receive-time range, or all.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = true)]
struct SelectionArgs {
    /// These webhookIds.
    #[arg(value_name = "WEBHOOK_ID", conflicts_with_all = ["since", "until", "all"])]
    ids: Vec<String>,
    /// Those received at or after this time (RFC 3339, e.g. 2026-01-15T10:30:00Z).
    #[arg(long, value_name = "TIME", value_parser = parse_time, conflicts_with = "all")]
    since: Option<DateTime<Utc>>,
    /// Those received before this time (RFC 3339); default: now.
    #[arg(long, value_name = "TIME", value_parser = parse_time, conflicts_with = "all")]
    until: Option<DateTime<Utc>>,
    /// All of them.
    #[arg(long)]
    all: bool,
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|error| format!("not an RFC 3339 time ({error})"))
}

fn parse_age(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text:?} has no unit: add s, m, h or d (e.g. 7d)"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} does not start with a number (e.g. 7d)"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(format!("unit {unit:?}: use s, m, h or d (e.g. 7d)")),
    };
    number
        .checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{text:?} is too long ago"))
}

impl SelectionArgs {
    fn selection(&self) -> Selection {
        if self.all {
            Selection::All
        } else if !self.ids.is_empty() {
            Selection::Ids(self.ids.clone())
        } else {
            Selection::ReceivedBetween(
                self.since.unwrap_or(DateTime::<Utc>::MIN_UTC),
                self.until.unwrap_or_else(Utc::now),
            )
        }
    }
}

pub(crate) fn run(args: InboxArgs) -> Outcome {
    let url = std::env::var("DATABASE_URL")
        .map_err(|_| Failure::usage("DATABASE_URL is not set: the inbox's database URL"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::usage(format!("cannot start the async runtime: {error}")))?;
    runtime.block_on(async {
        let inbox = Inbox::connect(&url).await.map_err(|error| {
            Failure::usage(hide(
                &url,
                format!("cannot connect to {}: {error}", redact_url(&url)),
            ))
        })?;
        let failed = |error: quickassist_webhooks_postgres::Error| {
            Failure::usage(hide(&url, error.to_string()))
        };
        match args.action {
            Action::List { status, limit } => {
                let status = status.map(|status| match status {
                    StatusArg::Pending => InboxStatus::Pending,
                    StatusArg::Processed => InboxStatus::Processed,
                    StatusArg::Dead => InboxStatus::Dead,
                });
                let listed = inbox.list(status, limit).await.map_err(failed)?;
                write_stdout(table(&listed).as_bytes())
            }
            Action::Lag => {
                let lag = inbox.lag().await.map_err(failed)?;
                write_stdout(lag_table(&lag).as_bytes())
            }
            Action::Retry(selection) => {
                let count = inbox.retry(&selection.selection()).await.map_err(failed)?;
                write_stdout(format!("retried {count} dead deliveries\n").as_bytes())
            }
            Action::Replay(selection) => {
                let count = inbox.replay(&selection.selection()).await.map_err(failed)?;
                write_stdout(format!("replaying {count} processed deliveries\n").as_bytes())
            }
            Action::Purge { older_than } => {
                let count = inbox.purge_processed(older_than).await.map_err(failed)?;
                write_stdout(format!("purged {count} processed deliveries\n").as_bytes())
            }
            Action::Plans { explain } => {
                let plans = inbox.query_plans().await.map_err(failed)?;
                let mut out = plans_table(&plans, explain);
                if plans.iter().any(|plan| plan.scans_table) {
                    out.push_str(
                        "note: PostgreSQL reads a small table whole rather than through an \
                         index; with many rows, a TABLE SCAN above means a missing index\n",
                    );
                }
                write_stdout(out.as_bytes())
            }
        }
    })
}

/// One line per delivery, tab-separated: id, event, status, attempts, received, last error,
/// and the account (`-` for a receiver of one secret).
fn table(listed: &[Listed]) -> String {
    let mut out =
        String::from("WEBHOOK_ID\tEVENT\tSTATUS\tATTEMPTS\tRECEIVED_AT\tLAST_ERROR\tACCOUNT\n");
    for delivery in listed {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            delivery.webhook_id,
            delivery.event,
            delivery.status.as_str(),
            delivery.attempts,
            delivery
                .received_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            delivery
                .last_error
                .as_deref()
                .unwrap_or("-")
                .replace(['\n', '\t'], " "),
            delivery.account.as_deref().unwrap_or("-"),
        ));
    }
    out
}

/// One line per account with due deliveries, tab-separated: the account (`-` for a receiver
/// of one secret), how many are due, the oldest's wait in seconds, and since when.
fn lag_table(lag: &[AccountLag]) -> String {
    let mut out = String::from("ACCOUNT\tDUE\tOLDEST_DUE_AGE_S\tOLDEST_DUE_SINCE\n");
    for account in lag {
        out.push_str(&format!(
            "{}\t{}\t{:.1}\t{}\n",
            account.account.as_deref().unwrap_or("-"),
            account.due,
            account.oldest_due_age.as_secs_f64(),
            account
                .oldest_due_since
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        ));
    }
    out
}

/// One line per hot query, tab-separated: the query, `index` or `TABLE SCAN`, the indexes
/// read; with `explain`, each plan after its line, indented.
fn plans_table(plans: &[QueryPlan], explain: bool) -> String {
    let mut out = String::from("QUERY\tREADS\tINDEXES\n");
    for plan in plans {
        let reads = if plan.scans_table {
            "TABLE SCAN"
        } else {
            "index"
        };
        out.push_str(&format!(
            "{}\t{reads}\t{}\n",
            plan.query,
            plan.indexes.join(",")
        ));
        if explain {
            for line in plan.text.lines() {
                out.push_str(&format!("    {line}\n"));
            }
        }
    }
    out
}

/// `message` with the URL's password, should a backend ever echo it, replaced by `***`.
pub(super) fn hide(url: &str, message: String) -> String {
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split(['/', '?', '#']).next())
        .and_then(|authority| authority.rsplit_once('@'))
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .map(|(_, password)| password)
        .filter(|password| !password.is_empty());
    match password {
        Some(password) => message.replace(password, "***"),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::{hide, parse_age, Duration};

    #[test]
    fn ages_take_a_unit_and_refuse_anything_else() {
        assert_eq!(parse_age("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_age("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_age("0h"), Ok(Duration::ZERO));
        for wrong in ["7", "d", "7 d", "7w", "-1d", "99999999999999999999d"] {
            assert!(parse_age(wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn a_password_echoed_in_an_error_is_hidden() {
        assert_eq!(
            hide("postgres://u:s3cret@h/d", "auth failed for s3cret".into()),
            "auth failed for ***"
        );
        assert_eq!(hide("postgres://h/d", "x".into()), "x");
    }
}
