//! Exit codes and how errors map to them.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success (also when stdout is closed early, e.g. piped into `head`) |
//! | 1 | runtime failure: I/O, network, a value that is not set |
//! | 2 | usage or config error: bad arguments, an invalid config, a rejected edit |

use std::process::ExitCode;

use pincer_config::ConfigError;

/// The outcome of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Exit code 0.
    Success,
    /// Exit code 1.
    Failure,
    /// Exit code 2.
    Usage,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => ExitCode::from(0),
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::Usage => ExitCode::from(2),
        }
    }
}

/// An error in what the user asked for (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The exit status for an error: 2 when the user's input or config is at fault, else 1.
pub fn classify(err: &anyhow::Error) -> ExitStatus {
    for cause in err.chain() {
        if cause.is::<UsageError>() {
            return ExitStatus::Usage;
        }
        if let Some(config) = cause.downcast_ref::<ConfigError>() {
            return if config.is_usage() {
                ExitStatus::Usage
            } else {
                ExitStatus::Failure
            };
        }
    }
    ExitStatus::Failure
}

/// Whether the error is a write to a closed pipe (`pincer … | head`), which is not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
