//! The config layer's error type.
//!
//! Every variant names the file and, where it can, the key path and line:column; `is_usage`
//! tells the CLI which exit code to use (2 for problems the user can fix in their input or file,
//! 1 for I/O failures).

use std::path::PathBuf;

use crate::diagnostic::{Diagnostic, render};
use crate::keypath::{KeyPath, KeyPathError};

/// A config that parsed but failed validation: every problem found, with the text to point into.
#[derive(Debug, Clone)]
pub struct InvalidConfig {
    /// Where the text came from (a file path, or a description such as `… after the change`).
    pub origin: String,
    /// The text the spans point into, with secret values masked.
    pub text: String,
    /// The problems, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl std::fmt::Display for InvalidConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.diagnostics.len();
        let noun = if count == 1 { "problem" } else { "problems" };
        writeln!(f, "invalid config {}: {count} {noun}", self.origin)?;
        f.write_str(render(&self.diagnostics, &self.origin, &self.text).trim_end())
    }
}

/// Errors from loading, validating, editing or writing a config.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not UTF-8.
    #[error(
        "config file {path} is not UTF-8: invalid byte at offset {offset} (line {line}, column {column}); save it as UTF-8"
    )]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Byte offset of the first invalid byte.
        offset: usize,
        /// Its 1-based line.
        line: usize,
        /// Its 1-based column, in characters of the valid text before it.
        column: usize,
    },
    /// The file is not valid JSON5.
    #[error("{}", render_syntax(.origin, .text, .span.clone(), .message))]
    Syntax {
        /// The file (or description of the text).
        origin: String,
        /// The text, with secrets masked.
        text: String,
        /// Byte range of the error.
        span: std::ops::Range<usize>,
        /// What is wrong.
        message: String,
    },
    /// The file is JSON5 but not a valid config.
    #[error("{0}")]
    Invalid(Box<InvalidConfig>),
    /// A key path given on the command line is malformed.
    #[error(transparent)]
    KeyPath(#[from] KeyPathError),
    /// A key path names something the schema does not have.
    #[error("unknown key `{path}`{}", .help.as_ref().map(|h| format!(": {h}")).unwrap_or_default())]
    UnknownKey {
        /// The path given.
        path: KeyPath,
        /// A suggestion.
        help: Option<String>,
    },
    /// An edit cannot be applied to the file's structure.
    #[error("cannot {action} `{path}`: {reason}")]
    Edit {
        /// `set` or `unset`.
        action: &'static str,
        /// The path given.
        path: KeyPath,
        /// Why.
        reason: String,
    },
    /// The value given to `config set` is not valid JSON5 (and was not taken as a string).
    #[error("invalid value for `{path}`: {message}")]
    Value {
        /// The path being set.
        path: KeyPath,
        /// The parser's message.
        message: String,
    },
    /// The file could not be written; it was left as it was.
    #[error("cannot write config file {path} (left unchanged): {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The lock guarding concurrent writers could not be taken.
    #[error("cannot lock {path}: {source}")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl ConfigError {
    /// Whether this is the user's input or file being wrong (exit code 2) rather than the system
    /// failing (exit code 1).
    pub fn is_usage(&self) -> bool {
        !matches!(
            self,
            ConfigError::Read { .. } | ConfigError::Write { .. } | ConfigError::Lock { .. }
        )
    }
}

fn render_syntax(origin: &str, text: &str, span: std::ops::Range<usize>, message: &str) -> String {
    let diagnostic = Diagnostic::new(
        KeyPath::root(),
        Some(span),
        format!("syntax error: {message}"),
    );
    format!(
        "{origin} is not valid JSON5\n{}",
        render(&[diagnostic], origin, text).trim_end()
    )
}
