//! Small helpers for the HTTP clients of `send` and `listen --forward-to`.

use std::error::Error;

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
    fn describe_joins_the_cause_chain() {
        let error = Outer(io::Error::new(io::ErrorKind::ConnectionRefused, "refused"));
        assert_eq!(super::describe(&error), "error sending request: refused");
    }
}
