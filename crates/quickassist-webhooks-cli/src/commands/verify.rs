//! `qa-webhooks verify --signature SIG [FILE]`: does this signature belong to this body?

use quickassist_webhooks::{canonical::canonicalize, SignedForm, Verifier, VerifyError};

use super::write_stdout;
use crate::{
    failure::{Failure, Outcome},
    input::{InputArg, MAX_INPUT},
    secret::SecretArgs,
};

/// Arguments of `verify`.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Check an x-webhook-signature against the input, as a receiver does: the raw \
                  bytes first, then their JSON.stringify form. Exit 0 saying which form (and, \
                  with several secrets, which secret) matched; exit 1 when invalid, saying \
                  whether the JSON.stringify form differs from the raw bytes (the usual cause). \
                  The expected signature is never printed."
)]
pub(crate) struct VerifyArgs {
    /// The x-webhook-signature value: 64 hex digits, optionally prefixed with `sha256=`.
    #[arg(long, short = 's', value_name = "SIG")]
    signature: String,
    #[command(flatten)]
    input: InputArg,
    #[command(flatten)]
    secret: SecretArgs,
    /// Check the raw bytes only, not their JSON.stringify form.
    #[arg(long)]
    raw_only: bool,
}

pub(crate) fn run(args: &VerifyArgs) -> Outcome {
    let (verifier, secrets) = args.secret.verifier()?;
    let mut verifier = verifier.with_max_body(MAX_INPUT);
    if args.raw_only {
        verifier = verifier.raw_only();
    }
    let body = args.input.read()?;
    verify(&verifier, secrets, &args.signature, &body, args.raw_only)
        .and_then(|message| write_stdout(format!("{message}\n").as_bytes()))
}

/// The one-line answer: `Ok` with what matched, or a negative [`Failure`] saying why not.
fn verify(
    verifier: &Verifier,
    secrets: usize,
    signature: &str,
    body: &[u8],
    raw_only: bool,
) -> Result<String, Failure> {
    match verifier.verify(Some(signature), body) {
        Ok(verified) => {
            let form = match verified.form() {
                SignedForm::Raw => "valid: signed over the raw bytes",
                SignedForm::Canonical => {
                    "valid: signed over the JSON.stringify form, not the raw bytes \
                     (the body was re-serialized after signing)"
                }
            };
            Ok(if secrets > 1 {
                format!(
                    "{form}, with secret {} of {secrets}",
                    verified.key_index() + 1
                )
            } else {
                form.to_owned()
            })
        }
        Err(VerifyError::MalformedSignature) => Err(Failure::negative(
            "invalid: the signature is not 64 hexadecimal digits (optionally prefixed with sha256=)",
        )),
        Err(VerifyError::InvalidSignature) => {
            Err(Failure::negative(mismatch(secrets, body, raw_only)))
        }
        Err(other) => Err(Failure::negative(format!("invalid: {other}"))),
    }
}

/// Why a well-formed signature matched nothing: compares the body with its canonical form.
fn mismatch(secrets: usize, body: &[u8], raw_only: bool) -> String {
    let under = if secrets > 1 {
        format!("under any of the {secrets} secrets")
    } else {
        "under this secret".to_owned()
    };
    match canonicalize(body) {
        Err(error) => format!(
            "invalid signature: it does not match the raw bytes {under}; the input is not JSON \
             ({error}), so no JSON.stringify form could have been signed"
        ),
        Ok(canonical) if canonical == body => format!(
            "invalid signature: it does not match the body {under}; the body is already in its \
             JSON.stringify form, so the secret is wrong or the body changed after signing"
        ),
        Ok(canonical) => {
            let first = body
                .iter()
                .zip(&canonical)
                .position(|(a, b)| a != b)
                .unwrap_or(body.len().min(canonical.len()));
            let tried = if raw_only {
                "it does not match the raw bytes (--raw-only: their JSON.stringify form was not tried)"
            } else {
                "it matches neither the raw bytes nor their JSON.stringify form"
            };
            format!(
                "invalid signature: {tried} {under}; the JSON.stringify form differs from the \
                 raw bytes (from byte {first}), the usual cause when a body is re-serialized: \
                 `qa-webhooks canonical` shows that form"
            )
        }
    }
}
