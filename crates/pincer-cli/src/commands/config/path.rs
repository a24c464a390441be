//! `pincer config path`: print where the config file is (whether or not it exists).

use anyhow::Result;
use pincer_config::ConfigLocation;

use crate::exit::ExitStatus;
use crate::printer::Printer;

/// Prints the config path.
pub fn run(location: &ConfigLocation, printer: &Printer) -> Result<ExitStatus> {
    printer.outln(&location.path.display().to_string())?;
    Ok(ExitStatus::Success)
}
