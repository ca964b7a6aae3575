//! Small helpers for the HTTP clients of `send` and `listen --forward-to`: building the
//! client (`--cacert`), reading answers, and describing URLs and failures without the
//! password a URL may carry.

use std::{error::Error, path::Path, time::Duration};

use reqwest::{Certificate, Client, Url};

use crate::failure::Failure;

/// What replaces a URL's password wherever the URL is shown.
const HIDDEN_PASSWORD: &str = "***";

/// The HTTP client of `send` and `listen --forward-to`: `timeout` for each request, and the
/// built-in roots plus, when `cacert` is given, the certificates of that PEM file.
pub(crate) fn client(timeout: Duration, cacert: Option<&Path>) -> Result<Client, Failure> {
    let mut builder = Client::builder().timeout(timeout);
    if let Some(path) = cacert {
        for certificate in certificates(path)? {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder.build().map_err(|error| match cacert {
        // With rustls, building fails only on a certificate it cannot use as a root.
        Some(path) => Failure::usage(format!(
            "--cacert {}: cannot trust its certificates: {}",
            path.display(),
            describe(&error)
        )),
        None => Failure::usage(format!(
            "cannot build the HTTP client: {}",
            describe(&error)
        )),
    })
}

/// The certificates of the PEM file `path`; a file without any is a usage error rather than
/// a silent no-op.
fn certificates(path: &Path) -> Result<Vec<Certificate>, Failure> {
    let name = path.display();
    let pem = std::fs::read(path)
        .map_err(|error| Failure::usage(format!("--cacert {name}: cannot read it: {error}")))?;
    let certificates = Certificate::from_pem_bundle(&pem).map_err(|error| {
        Failure::usage(format!(
            "--cacert {name}: not a PEM certificate file: {}",
            describe(&error)
        ))
    })?;
    if certificates.is_empty() {
        return Err(Failure::usage(format!(
            "--cacert {name}: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)"
        )));
    }
    Ok(certificates)
}

/// `url` as shown to the user: its password, if any, replaced by `***` (the username is
/// kept, it says which account without giving it away).
pub(crate) fn redacted(url: &Url) -> String {
    if url.password().is_none() {
        return url.to_string();
    }
    let mut shown = url.clone();
    match shown.set_password(Some(HIDDEN_PASSWORD)) {
        Ok(()) => shown.to_string(),
        // Only URLs without a host refuse a password, and this one has one: never show it.
        Err(()) => format!("{}://…", url.scheme()),
    }
}

/// [`redacted`] for text that did not parse as a URL (it is echoed in the error): the part
/// between `user:` and `@` is replaced by `***`.
pub(crate) fn redacted_text(text: &str) -> String {
    let start = text.find("://").map_or(0, |scheme| scheme + 3);
    let authority_len = text[start..]
        .find(['/', '?', '#'])
        .unwrap_or(text.len() - start);
    let authority = &text[start..start + authority_len];
    let Some(at) = authority.rfind('@') else {
        return text.to_owned();
    };
    let Some(colon) = authority[..at].find(':') else {
        return text.to_owned();
    };
    format!(
        "{}{HIDDEN_PASSWORD}{}",
        &text[..start + colon + 1],
        &text[start + at..]
    )
}

/// Why a request got no answer, on one line, without its URL (reqwest's message includes it,
/// password and all), with a hint when the server's certificate is not trusted.
pub(crate) fn describe_failed_request(error: reqwest::Error) -> String {
    let mut message = describe(&error.without_url());
    if message.contains("invalid peer certificate") {
        message.push_str(
            " (to trust a self-signed or private CA certificate, pass it with --cacert FILE)",
        );
    }
    message
}

/// Reads up to `limit` bytes of `response`'s body and drops the rest; a body that fails
/// midway is cut there (what was read is still worth showing).
pub(crate) async fn read_body(mut response: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = limit.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= limit {
            break;
        }
    }
    body
}

/// `error` and its causes on one line: reqwest's own message ("error sending request") says
/// little without them ("connection refused").
pub(crate) fn describe(error: &dyn Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use std::{fmt, io};

    #[derive(Debug)]
    struct Outer(io::Error);

    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("error sending request")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn redacted_hides_only_the_password() {
        let shown = |url: &str| super::redacted(&url.parse().unwrap());
        assert_eq!(
            shown("https://alice:s3cret@example.com:8443/hook?x=1"),
            "https://alice:***@example.com:8443/hook?x=1"
        );
        assert_eq!(
            shown("http://alice@example.com/hook"),
            "http://alice@example.com/hook"
        );
        assert_eq!(
            shown("http://127.0.0.1:3000/hook"),
            "http://127.0.0.1:3000/hook"
        );
        // Percent-encoded passwords are hidden too.
        assert_eq!(
            shown("http://bob:p%40ss%3Aword@host/"),
            "http://bob:***@host/"
        );
    }

    #[test]
    fn redacted_text_hides_the_password_of_unparsable_urls() {
        use super::redacted_text;
        assert_eq!(
            redacted_text("http://u:pa:ss@[bad/path@x"),
            "http://u:***@[bad/path@x"
        );
        assert_eq!(redacted_text("u:secret@host:99999"), "u:***@host:99999");
        assert_eq!(redacted_text("http://u@host/x"), "http://u@host/x");
        assert_eq!(redacted_text("not a url"), "not a url");
        assert_eq!(redacted_text("host:80/a:b@c"), "host:80/a:b@c");
    }

    #[test]
    fn describe_joins_the_cause_chain() {
        let error = Outer(io::Error::new(io::ErrorKind::ConnectionRefused, "refused"));
        assert_eq!(super::describe(&error), "error sending request: refused");
    }
}
