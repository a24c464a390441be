//! The `pincer` command line: argument parsing, the commands, and their output.
//!
//! [`main`] parses the arguments, runs the command and turns the outcome into one of the
//! documented exit codes ([`ExitStatus`]). Commands live one per file under `commands/`, take
//! their resolved inputs and a [`Printer`], and return `anyhow::Result<ExitStatus>`.

pub mod cli;
pub mod commands;
pub mod exit;
pub mod logging;
pub mod printer;
pub mod telemetry;

use std::process::ExitCode;

use clap::Parser;

pub use exit::{ExitStatus, UsageError};
pub use printer::Printer;

/// Parses the command line, runs it, and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return match err.exit_code() {
                0 => ExitStatus::Success.into(),
                _ => ExitStatus::Usage.into(),
            };
        }
    };
    let printer = Printer::new(cli.global.quiet, cli.global.color);
    // The gateway sets up its logs itself, once its config (and telemetry) is read.
    if !matches!(cli.command, cli::Command::Gateway(_))
        && let Some(warning) = logging::init("off", None)
    {
        printer.warn(&warning);
    }
    match commands::run(cli, &printer) {
        Ok(status) => status.into(),
        Err(err) => {
            if exit::is_broken_pipe(&err) {
                return ExitStatus::Success.into();
            }
            if err.is::<commands::chat::Interrupted>() {
                return ExitCode::from(commands::chat::interrupted_code());
            }
            printer.error(&err);
            exit::classify(&err).into()
        }
    }
}
