//! Pincer's configuration: the JSON5 file, its schema, validation with precise errors, and safe
//! comment-preserving edits.
//!
//! - [`options`]: the serde types (the seed document's schema), with defaults.
//! - [`validate::parse`]: text → [`Options`], every problem with key path and line:column.
//! - [`edit`]: `set`/`unset` on the syntax tree, keeping comments and formatting.
//! - [`store`]: locked, atomic writes.
//! - [`schema`]: the generated JSON Schema and the configuration reference.
//! - [`redact`]: which keys hold secrets, and hiding them.
//! - [`token`]: the gateway token's rule and where it comes from.

pub mod diagnostic;
pub mod document;
pub mod edit;
pub mod error;
pub mod keypath;
pub mod location;
pub mod options;
pub mod redact;
pub mod schema;
pub mod store;
pub mod token;
pub mod validate;

use std::path::Path;

pub use error::ConfigError;
pub use keypath::KeyPath;
pub use location::ConfigLocation;
pub use options::Options;

/// A loaded, validated config.
#[derive(Debug, Clone)]
pub struct Config {
    /// The validated options (defaults when the file is missing).
    pub options: Options,
    /// Whether the file exists.
    pub exists: bool,
}

impl Config {
    /// Loads and validates the file at `path`; a missing file is an empty config.
    /// Every secret it holds is registered for log scrubbing.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        match store::read(path)? {
            Some(text) => {
                let options = validate::parse(&text, &path.display().to_string())?;
                redact::register_secrets(&options);
                Ok(Self {
                    options,
                    exists: true,
                })
            }
            None => Ok(Self {
                options: Options::default(),
                exists: false,
            }),
        }
    }
}
