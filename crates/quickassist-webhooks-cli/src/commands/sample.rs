//! `qa-webhooks sample EVENT`: a realistic payload of a documented event type.

use std::io::IsTerminal;

use quickassist_webhooks::{canonical::canonicalize, testing::sample, Event};

use super::write_stdout;
use crate::{
    failure::{Failure, Outcome},
    webhook_id,
};

/// Arguments of `sample`.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Print a realistic payload of a documented event type (message.delivered, \
                  message.read, template.status_update, message.failed) with a fresh webhookId \
                  and the current timestamp, compact as the provider sends it. No trailing \
                  newline unless standard output is a terminal, so `qa-webhooks sample \
                  message.read | qa-webhooks sign` signs exactly the body."
)]
pub(crate) struct SampleArgs {
    /// Event type: message.delivered, message.read, template.status_update or message.failed.
    #[arg(value_name = "EVENT")]
    event: String,
    /// Use this webhookId instead of a fresh one.
    #[arg(long, value_name = "ID")]
    webhook_id: Option<String>,
    /// Pretty-print (what a re-indenting proxy delivers; not the bytes the provider signs).
    #[arg(long)]
    pretty: bool,
}

pub(crate) fn run(args: &SampleArgs) -> Outcome {
    let event = documented_event(&args.event)?;
    let id = args.webhook_id.clone().unwrap_or_else(webhook_id::fresh);
    let envelope = sample(event, &id);
    let mut body = if args.pretty {
        serde_json::to_vec_pretty(&envelope)
    } else {
        // serde_json's compact form, canonicalized: exactly what `JSON.stringify` prints.
        serde_json::to_vec(&envelope).map(|compact| canonicalize(&compact).unwrap_or(compact))
    }
    .map_err(|error| Failure::usage(format!("cannot serialize the sample: {error}")))?;
    if std::io::stdout().is_terminal() {
        body.push(b'\n');
    }
    write_stdout(&body)
}

/// `name` if it is a documented event type; a usage error listing them otherwise.
pub(crate) fn documented_event(name: &str) -> Result<&'static str, Failure> {
    Event::DOCUMENTED
        .into_iter()
        .find(|documented| *documented == name)
        .ok_or_else(|| {
            Failure::usage(format!(
                "unknown event type {name:?}; documented: {}",
                Event::DOCUMENTED.join(", ")
            ))
        })
}
