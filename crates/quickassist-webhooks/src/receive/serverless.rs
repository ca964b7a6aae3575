//! Serverless runtimes, where a process-local idempotency store de-duplicates only inside
//! one instance of a function.

use std::ffi::OsString;

/// The serverless runtime the environment (read through `var`) names, if any.
fn runtime(var: impl Fn(&str) -> Option<OsString>) -> Option<&'static str> {
    let set = |name| var(name).is_some_and(|value| !value.is_empty());
    (set("AWS_LAMBDA_FUNCTION_NAME") || set("AWS_LAMBDA_RUNTIME_API")).then_some("AWS Lambda")
}

/// The warning a receiver logs when the environment is a serverless runtime and its store
/// keeps its claims inside this process (`process_local`, see
/// [`IdempotencyStore::is_process_local`](crate::idempotency::IdempotencyStore::is_process_local)).
pub(super) fn process_local_warning(
    process_local: bool,
    var: impl Fn(&str) -> Option<OsString>,
) -> Option<String> {
    if !process_local {
        return None;
    }
    let runtime = runtime(var)?;
    Some(format!(
        "on {runtime}, the in-memory idempotency store de-duplicates only inside this \
         instance: concurrent instances each keep their own, so a retry that reaches another \
         one is processed again. Share the claims (quickassist-webhooks-redis) or use the \
         PostgreSQL intake; call ReceiverBuilder::allow_process_local_store() if this is \
         deliberate"
    ))
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use super::process_local_warning;

    fn lambda(name: &str) -> Option<OsString> {
        (name == "AWS_LAMBDA_FUNCTION_NAME").then(|| "receiver".into())
    }

    fn emulated(name: &str) -> Option<OsString> {
        (name == "AWS_LAMBDA_RUNTIME_API").then(|| "127.0.0.1:9001".into())
    }

    fn server(name: &str) -> Option<OsString> {
        (name == "HOME").then(|| "/root".into())
    }

    #[test]
    fn a_process_local_store_on_lambda_is_warned_about() {
        let warning = process_local_warning(true, lambda).expect("a warning");
        assert!(warning.contains("AWS Lambda"), "{warning}");
        assert!(warning.contains("allow_process_local_store"), "{warning}");
        // The runtime API alone (as cargo-lambda's emulator sets it) is Lambda too.
        assert!(process_local_warning(true, emulated).is_some());
    }

    #[test]
    fn a_server_or_a_shared_store_is_not_warned_about() {
        assert_eq!(process_local_warning(true, server), None);
        assert_eq!(process_local_warning(false, lambda), None);
    }
}
