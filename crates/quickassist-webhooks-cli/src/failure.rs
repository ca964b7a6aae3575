//! [`Failure`]: how a command ends badly, and the exit code that says so.

use std::fmt;

/// A command's unsuccessful outcome: a one-line message for stderr and its exit code.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A negative answer (exit 1): an invalid signature, input that is not JSON, a non-2xx
    /// response.
    Negative(String),
    /// A usage or I/O error (exit 2): no secret, an unreadable file, an unknown event type,
    /// an unreachable server.
    Usage(String),
}

impl Failure {
    /// The process exit code for this failure.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Negative(_) => 1,
            Self::Usage(_) => 2,
        }
    }

    /// A usage or I/O error.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }

    /// A negative answer.
    pub(crate) fn negative(message: impl Into<String>) -> Self {
        Self::Negative(message.into())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Negative(message) | Self::Usage(message) => f.write_str(message),
        }
    }
}

/// What every command returns.
pub(crate) type Outcome = Result<(), Failure>;
