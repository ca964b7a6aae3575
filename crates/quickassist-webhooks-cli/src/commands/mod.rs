//! One module per subcommand; each has its clap `Args` and a `run`.

mod canonical;
mod console;
mod inbox;
mod listen;
mod sample;
mod send;
mod sign;
mod verify;

use crate::failure::Outcome;

/// The subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Print the signature of the input: lowercase hex HMAC-SHA256 of its bytes.
    Sign(sign::SignArgs),
    /// Check a signature against the input; says which form of the body and which secret matched.
    Verify(verify::VerifyArgs),
    /// Write exactly the bytes the provider signs: JSON.stringify(JSON.parse(input)).
    Canonical(canonical::CanonicalArgs),
    /// Print a realistic payload of a documented event type.
    Sample(sample::SampleArgs),
    /// Sign and POST events to a receiver; with --repeat, a load test with a summary.
    Send(send::SendArgs),
    /// Receive webhooks: verify, de-duplicate, print each event, optionally forward it.
    Listen(listen::ListenArgs),
    /// The PostgreSQL inbox at DATABASE_URL: list deliveries, retry dead ones, replay processed ones.
    Inbox(inbox::InboxArgs),
    /// The inbox's web console at DATABASE_URL: prints a login URL with a one-run token.
    Console(console::ConsoleArgs),
}

impl Command {
    /// Runs the subcommand.
    pub(crate) fn run(self) -> Outcome {
        match self {
            Self::Sign(args) => sign::run(&args),
            Self::Verify(args) => verify::run(&args),
            Self::Canonical(args) => canonical::run(&args),
            Self::Sample(args) => sample::run(&args),
            Self::Send(args) => send::run(args),
            Self::Listen(args) => listen::run(args),
            Self::Inbox(args) => inbox::run(args),
            Self::Console(args) => console::run(args),
        }
    }
}

/// Writes `bytes` to standard output and flushes; a closed pipe (`| head`) is not an error
/// worth a message, any other write failure is an I/O error.
pub(crate) fn write_stdout(bytes: &[u8]) -> Outcome {
    use std::io::Write;

    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => Err(crate::failure::Failure::usage(format!(
            "cannot write to standard output: {error}"
        ))),
    }
}
