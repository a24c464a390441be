//! `pincer config schema`: print the config's JSON Schema (for editors and tooling).

use anyhow::Result;

use crate::exit::ExitStatus;
use crate::printer::Printer;

/// Prints the JSON Schema.
pub fn run(printer: &Printer) -> Result<ExitStatus> {
    printer.out(&pincer_config::schema::schema_text())?;
    Ok(ExitStatus::Success)
}
