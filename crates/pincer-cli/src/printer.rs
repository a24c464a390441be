//! All terminal output goes through [`Printer`].
//!
//! Results go to stdout; progress, status lines, warnings and errors go to stderr, and `--quiet`
//! silences status lines only. Colour follows `--color` (auto: only on a terminal, honouring
//! `NO_COLOR`/`CLICOLOR_FORCE`, via `anstream`). Writes return `io::Result`, so a closed pipe
//! surfaces as an error that `main` turns into a clean exit. A process that logs JSON (the
//! gateway with `PINCER_LOG_FORMAT=json`) gets its status lines and warnings as log records
//! instead ([`Printer::as_log_records`]), so its stderr is all JSON.

use std::io::{self, Write};

use anstream::{AutoStream, ColorChoice};
use owo_colors::OwoColorize;

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorMode {
    /// Colour when writing to a terminal.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Where output goes, and how.
#[derive(Debug, Clone)]
pub struct Printer {
    quiet: bool,
    choice: ColorChoice,
    /// Status lines and warnings go to the log (`pincer::status`) rather than to stderr.
    records: bool,
}

impl Printer {
    /// A printer with the given verbosity and colour mode.
    pub fn new(quiet: bool, color: ColorMode) -> Self {
        let choice = match color {
            ColorMode::Auto => ColorChoice::Auto,
            ColorMode::Always => ColorChoice::Always,
            ColorMode::Never => ColorChoice::Never,
        };
        Self {
            quiet,
            choice,
            records: false,
        }
    }

    /// The same printer, its status lines and warnings written as log records.
    pub fn as_log_records(&self) -> Self {
        Self {
            records: true,
            ..self.clone()
        }
    }

    fn stdout(&self) -> AutoStream<io::StdoutLock<'static>> {
        AutoStream::new(io::stdout().lock(), self.choice)
    }

    fn stderr(&self) -> AutoStream<io::StderrLock<'static>> {
        AutoStream::new(io::stderr().lock(), self.choice)
    }

    /// Writes `text` to stdout as is.
    pub fn out(&self, text: &str) -> io::Result<()> {
        let mut out = self.stdout();
        out.write_all(text.as_bytes())?;
        out.flush()
    }

    /// Writes one line to stdout.
    pub fn outln(&self, line: &str) -> io::Result<()> {
        let mut out = self.stdout();
        writeln!(out, "{line}")?;
        out.flush()
    }

    /// Writes `text` to stderr as is, dimmed when colour is on (streamed reasoning, prompts).
    pub fn err_dim(&self, text: &str) {
        let mut err = self.stderr();
        let _ = write!(err, "{}", text.dimmed());
        let _ = err.flush();
    }

    /// A spinner on stderr while something slow runs, only on a terminal and not with
    /// `--quiet`; clear it with `finish_and_clear`.
    pub fn spinner(&self, message: String) -> Option<indicatif::ProgressBar> {
        use std::io::IsTerminal;
        if self.quiet || !io::stderr().is_terminal() {
            return None;
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message(message);
        bar.enable_steady_tick(std::time::Duration::from_millis(100));
        Some(bar)
    }

    /// A status line on stderr (silenced by `--quiet`).
    pub fn status(&self, line: &str) {
        if self.quiet {
            return;
        }
        if self.records {
            tracing::info!(target: "pincer::status", "{line}");
        } else {
            let _ = writeln!(self.stderr(), "{line}");
        }
    }

    /// A warning on stderr (never silenced).
    pub fn warn(&self, line: &str) {
        if self.records {
            tracing::warn!(target: "pincer::status", "{line}");
        } else {
            let _ = writeln!(self.stderr(), "{}: {line}", "warning".yellow().bold());
        }
    }

    /// A one-line error on stderr (for failures reported without ending the program).
    pub fn warn_error(&self, line: &str) {
        let _ = writeln!(self.stderr(), "{}: {line}", "error".red().bold());
    }

    /// An error and its causes on stderr.
    pub fn error(&self, err: &anyhow::Error) {
        let mut stderr = self.stderr();
        let _ = writeln!(stderr, "{}: {err}", "error".red().bold());
        for cause in err.chain().skip(1) {
            let _ = writeln!(stderr, "  {}: {cause}", "caused by".red());
        }
    }
}
