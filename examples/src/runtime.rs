//! Process plumbing shared by the example binaries: logging and shutdown.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Logs to stderr (stdout carries the events), at `info` unless `RUST_LOG` says otherwise
/// (`RUST_LOG=quickassist_webhooks=debug` shows every rejection and its reason).
pub fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // `try_init`: a second call (tests) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// Completes on Ctrl-C or, on Unix, SIGTERM: pass it to the server's graceful shutdown.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// The exit code for a receiver's result, after printing its error on stderr: 2 for a
/// configuration the receiver refuses (a missing secret, an unreachable `REDIS_URL`, a
/// replay window the de-duplication does not cover), 1 for anything else.
///
/// ```
/// use std::process::ExitCode;
/// use quickassist_examples::{exit_code, ConfigError};
///
/// assert_eq!(exit_code(Ok(())), ExitCode::SUCCESS);
/// assert_eq!(exit_code(Err(ConfigError::MissingSecret.into())), ExitCode::from(2));
/// ```
pub fn exit_code(result: Result<(), Box<dyn std::error::Error>>) -> std::process::ExitCode {
    let Err(error) = result else {
        return std::process::ExitCode::SUCCESS;
    };
    eprintln!("error: {error}");
    let refused_configuration = error.is::<crate::ConfigError>()
        || error.is::<quickassist_webhooks::idempotency::ConfigError>();
    std::process::ExitCode::from(if refused_configuration { 2 } else { 1 })
}

/// Installs the Prometheus recorder for the library's metrics and returns the handle whose
/// [`render`](metrics_exporter_prometheus::PrometheusHandle::render) is the text a
/// `GET /metrics` answers.
///
/// # Errors
///
/// When a recorder is already installed in this process.
#[cfg(feature = "metrics")]
pub fn install_prometheus(
) -> Result<metrics_exporter_prometheus::PrometheusHandle, metrics_exporter_prometheus::BuildError>
{
    metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()
}

/// `app` with `GET /metrics` answering the Prometheus text of the library's metrics (the
/// axum receivers' route; installs the recorder with [`install_prometheus`]).
///
/// # Errors
///
/// When a recorder is already installed in this process.
#[cfg(feature = "metrics")]
pub fn with_metrics_route(
    app: axum::Router,
) -> Result<axum::Router, metrics_exporter_prometheus::BuildError> {
    let prometheus = install_prometheus()?;
    Ok(app.route(
        "/metrics",
        axum::routing::get(move || std::future::ready(prometheus.render())),
    ))
}
