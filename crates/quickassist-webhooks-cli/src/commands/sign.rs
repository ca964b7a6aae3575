//! `qa-webhooks sign [FILE]`: the signature a sender puts in `x-webhook-signature`.

use quickassist_webhooks::{canonical::canonicalize, sign};

use super::write_stdout;
use crate::{
    failure::{Failure, Outcome},
    input::InputArg,
    secret::SecretArgs,
};

/// Arguments of `sign`.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Print the lowercase hex HMAC-SHA256 of the input's raw bytes and a newline: \
                  the x-webhook-signature a sender puts on that body. With several secrets, \
                  the first one signs."
)]
pub(crate) struct SignArgs {
    #[command(flatten)]
    input: InputArg,
    #[command(flatten)]
    secret: SecretArgs,
    /// Sign the input's JSON.stringify form instead of its raw bytes, as the provider's
    /// documented receiver computes it (exit 1 when the input is not JSON).
    #[arg(long)]
    canonical: bool,
}

pub(crate) fn run(args: &SignArgs) -> Outcome {
    let secret = args.secret.signing_secret()?;
    let body = args.input.read()?;
    let signature = if args.canonical {
        let canonical = canonicalize(&body)
            .map_err(|error| Failure::negative(format!("input is not JSON: {error}")))?;
        sign(&secret, &canonical)
    } else {
        sign(&secret, &body)
    };
    write_stdout(format!("{signature}\n").as_bytes())
}
