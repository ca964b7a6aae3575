//! Where the signing secret comes from: `--secret`, or the `QUICKASSIST_WEBHOOK_SECRET`
//! environment variable.
//!
//! Several secrets (key rotation) are given by repeating `--secret`, or in the environment
//! variable separated by commas. `--secret` takes each value literally (commas included), and
//! when it is given the environment variable is ignored. Signing uses the first secret.

use std::fmt;

use quickassist_webhooks::{Secret, Verifier};
use zeroize::Zeroizing;

use crate::failure::Failure;

/// The environment variable that holds the secret(s).
pub(crate) const SECRET_ENV: &str = "QUICKASSIST_WEBHOOK_SECRET";

/// The `--secret` option shared by every command that signs or verifies.
#[derive(clap::Args)]
pub(crate) struct SecretArgs {
    /// Signing secret. Prefer the QUICKASSIST_WEBHOOK_SECRET environment variable: command-line
    /// arguments are visible to other users (`ps`) and kept in shell history. Repeat to give
    /// several (key rotation; the first one signs); the variable takes several separated by
    /// commas. When given, the variable is ignored.
    #[arg(long = "secret", value_name = "SECRET")]
    secrets: Vec<String>,
}

impl SecretArgs {
    /// The secrets in the order given: the `--secret`s, else the environment variable's.
    pub(crate) fn secrets(&self) -> Result<Vec<Secret>, Failure> {
        let secrets: Vec<Secret> = if self.secrets.is_empty() {
            // Wiped on drop: the variable's copy should not linger in freed memory.
            let value = Zeroizing::new(std::env::var(SECRET_ENV).unwrap_or_default());
            value
                .split(',')
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(Secret::from)
                .collect()
        } else {
            self.secrets
                .iter()
                .filter(|secret| !secret.is_empty())
                .map(|secret| Secret::from(secret.as_str()))
                .collect()
        };
        if secrets.is_empty() {
            return Err(Failure::usage(format!(
                "no secret: set {SECRET_ENV} (safer) or pass --secret"
            )));
        }
        Ok(secrets)
    }

    /// The secret that signs: the first one given.
    pub(crate) fn signing_secret(&self) -> Result<Secret, Failure> {
        let mut secrets = self.secrets()?;
        Ok(secrets.swap_remove(0))
    }

    /// A verifier accepting any of the secrets, and how many there are.
    pub(crate) fn verifier(&self) -> Result<(Verifier, usize), Failure> {
        let secrets = self.secrets()?;
        let count = secrets.len();
        let mut secrets = secrets.into_iter();
        let Some(first) = secrets.next() else {
            return Err(Failure::usage("no secret"));
        };
        let verifier = secrets.fold(Verifier::new(first), Verifier::with_secret);
        Ok((verifier, count))
    }
}

impl fmt::Debug for SecretArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // How many, never which.
        f.debug_struct("SecretArgs")
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Drop for SecretArgs {
    fn drop(&mut self) {
        // Wipe the arguments' copies too, once the command is done with them.
        self.secrets.iter_mut().for_each(zeroize::Zeroize::zeroize);
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::SecretArgs;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        secret: SecretArgs,
    }

    #[test]
    fn debug_counts_secrets_without_showing_them() {
        let cli = Cli::parse_from(["qa", "--secret", "hunter2", "--secret", "a,b"]);
        let shown = format!("{cli:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("secrets: 2"), "{shown}");
        // The flag is taken literally: the comma is part of the second secret.
        assert_eq!(cli.secret.secrets().unwrap().len(), 2);
    }
}
