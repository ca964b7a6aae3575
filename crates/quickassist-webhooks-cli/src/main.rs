//! `qa-webhooks`: sign, verify, canonicalize, send and receive TheQuickAssist webhooks from a
//! terminal. Run `qa-webhooks --help`.
//!
//! Exit codes: 0 success, 1 a negative answer (invalid signature, input not JSON, a non-2xx
//! response), 2 a usage or I/O error; every failure is one line on stderr.

#![forbid(unsafe_code)]

mod commands;
mod failure;
mod http;
mod input;
mod secret;
mod webhook_id;

use std::process::ExitCode;

use clap::Parser;

use crate::commands::Command;

/// Sign, verify, canonicalize, send and receive TheQuickAssist webhooks.
///
/// The signing secret comes from the QUICKASSIST_WEBHOOK_SECRET environment variable (safer) or
/// `--secret`. Exit codes: 0 success, 1 a negative answer (invalid signature, input not JSON,
/// a non-2xx response), 2 a usage or I/O error.
#[derive(Debug, Parser)]
#[command(name = "qa-webhooks", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("qa-webhooks: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}
