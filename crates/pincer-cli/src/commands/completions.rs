//! `pincer completions SHELL`: the completion script clap generates from the same definitions
//! that parse the command line, so it never falls behind a flag.

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::exit::ExitStatus;
use crate::printer::Printer;

/// Prints the script for `args.shell`.
pub fn run(args: &CompletionsArgs, printer: &Printer) -> Result<ExitStatus> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "pincer", &mut script);
    printer.out(&String::from_utf8_lossy(&script))?;
    Ok(ExitStatus::Success)
}
