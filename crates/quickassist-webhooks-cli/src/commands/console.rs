//! `qa-webhooks console`: the inbox's web console (quickassist-webhooks-console) on its own
//! server, for actix users and operators.

use std::{io::Write, net::SocketAddr};

use quickassist_webhooks_console::{Access, Console};
use quickassist_webhooks_postgres::{redact_url, Inbox, PostgresStatusTracker};
use zeroize::Zeroizing;

use super::inbox::hide;
use crate::failure::{Failure, Outcome};

/// Arguments of `console`.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Serve the inbox's web console for the database at DATABASE_URL (its \
                  migrations are applied first): an overview with charts, the deliveries \
                  with filters, a delivery, a message's timeline; retry, replay, bulk retry \
                  and purge. It prints a login URL with the access token (a new random one \
                  each run unless QA_CONSOLE_TOKEN is set); opening it sets a session cookie."
)]
pub(crate) struct ConsoleArgs {
    /// The address to listen on (keep it on loopback, or put TLS in front).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// No actions: the console only shows.
    #[arg(long)]
    read_only: bool,
    /// Show recipients' phone numbers unmasked to whoever logs in.
    #[arg(long)]
    show_phone_numbers: bool,
    /// Show each message's merged state from the PostgreSQL status tracker's table.
    #[arg(long)]
    tracker: bool,
}

/// A new access token: 32 bytes from the operating system's generator, in hex.
fn random_token() -> Result<Zeroizing<String>, Failure> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(bytes.as_mut())
        .map_err(|error| Failure::usage(format!("no random numbers for a token: {error}")))?;
    Ok(Zeroizing::new(hex::encode(bytes.as_ref())))
}

pub(crate) fn run(args: ConsoleArgs) -> Outcome {
    let url = std::env::var("DATABASE_URL")
        .map_err(|_| Failure::usage("DATABASE_URL is not set: the inbox's database URL"))?;
    let token = match std::env::var("QA_CONSOLE_TOKEN") {
        Ok(token) if !token.is_empty() => Zeroizing::new(token),
        _ => random_token()?,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| Failure::usage(format!("cannot start the async runtime: {error}")))?;
    runtime.block_on(async {
        let inbox = Inbox::connect(&url).await.map_err(|error| {
            Failure::usage(hide(&url, format!("cannot connect to {}: {error}", redact_url(&url))))
        })?;
        let mut console = Console::new(inbox.clone(), Access::token(token.as_str()))
            .read_only(args.read_only)
            .show_phone_numbers(args.show_phone_numbers);
        console
            .migrate()
            .await
            .map_err(|error| Failure::usage(hide(&url, format!("cannot migrate: {error}"))))?;
        if args.tracker {
            console = console.tracker(PostgresStatusTracker::new(inbox.pool().clone()));
        }
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|error| Failure::usage(format!("cannot listen on {}: {error}", args.listen)))?;
        let address = listener
            .local_addr()
            .map_err(|error| Failure::usage(format!("cannot listen: {error}")))?;
        // The URL goes to stdout, as Jupyter prints its own: the operator opens it.
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(
            stdout,
            "qa-webhooks console on http://{address}/ (DATABASE_URL {})\nopen http://{address}/login?token={}",
            redact_url(&url),
            token.as_str()
        );
        let _ = stdout.flush();
        drop(stdout);
        axum::serve(listener, console.router())
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|error| Failure::usage(format!("the server stopped: {error}")))
    })
}
