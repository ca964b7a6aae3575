//! `--secret-file`: many accounts for local testing, one `account=secret` line each.

use std::{collections::HashMap, path::Path, sync::Arc};

use quickassist_webhooks::{
    accounts::{AccountId, Accounts, SourceError},
    Secret,
};
use zeroize::Zeroizing;

use crate::failure::Failure;

/// Every account's secrets, in the order the file gives them (a repeated account is that
/// account's key rotation).
pub(super) type AccountSecrets = Arc<HashMap<AccountId, Vec<Secret>>>;

/// Reads `account=secret` lines; blank lines and lines starting with `#` are skipped.
/// Errors name the line, never its secret.
pub(super) fn read_secret_file(path: &Path) -> Result<AccountSecrets, Failure> {
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|error| {
        Failure::usage(format!(
            "--secret-file {}: cannot read it: {error}",
            path.display()
        ))
    })?);
    let mut accounts: HashMap<AccountId, Vec<Secret>> = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let invalid = |what: &str| {
            Failure::usage(format!(
                "--secret-file {} line {}: {what} (expected account=secret)",
                path.display(),
                index + 1
            ))
        };
        let (account, secret) = line.split_once('=').ok_or_else(|| invalid("no '='"))?;
        let account = AccountId::new(account.trim())
            .ok_or_else(|| invalid("the account is not 1-128 of A-Z a-z 0-9 . _ -"))?;
        let secret = secret.trim();
        if secret.is_empty() {
            return Err(invalid("empty secret"));
        }
        accounts
            .entry(account)
            .or_default()
            .push(Secret::from(secret));
    }
    if accounts.is_empty() {
        return Err(Failure::usage(format!(
            "--secret-file {}: no account=secret line",
            path.display()
        )));
    }
    Ok(Arc::new(accounts))
}

/// The accounts of the file, named by the last path segment.
pub(super) fn accounts(secrets: &AccountSecrets) -> Accounts {
    let secrets = Arc::clone(secrets);
    Accounts::new(move |account: AccountId| {
        let found = secrets.get(&account).cloned();
        async move { Ok::<_, SourceError>(found) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(contents: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "qa-secret-file-{}-{}",
            std::process::id(),
            contents.len()
        ));
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn lines_give_each_account_its_secrets_in_order() {
        let secrets = read_secret_file(&file(
            "# accounts\nacme=whsec_a\n\nglobex = whsec_g1\nglobex=whsec_g2\n",
        ))
        .unwrap();
        assert_eq!(secrets.len(), 2);
        assert_eq!(secrets[&AccountId::new("globex").unwrap()].len(), 2);
    }

    #[test]
    fn a_bad_line_is_named_without_its_secret() {
        let Err(failure) = read_secret_file(&file("acme=ok\nbad/account=whsec_hidden\n")) else {
            panic!("a bad account id is refused");
        };
        let message = failure.to_string();
        assert!(message.contains("line 2"), "{message}");
        assert!(!message.contains("whsec_hidden"), "{message}");
    }
}
