//! Where the config file lives: `$PINCER_CONFIG`, else `$PINCER_HOME/config.json5`, with
//! `PINCER_HOME` defaulting to `~/.pincer`.

use std::path::PathBuf;

use pincer_core::env::EnvVars;

/// File name of the config inside Pincer's home folder.
pub const CONFIG_FILE_NAME: &str = "config.json5";

/// Why the config path is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocationSource {
    /// Given on the command line (`--config`).
    Flag,
    /// `$PINCER_CONFIG`.
    PincerConfig,
    /// `$PINCER_HOME/config.json5`.
    PincerHome,
    /// `~/.pincer/config.json5`.
    Default,
}

/// The resolved config path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigLocation {
    /// The path.
    pub path: PathBuf,
    /// Where it came from.
    pub source: LocationSource,
}

/// Pincer's home folder: `$PINCER_HOME`, else `~/.pincer`. `None` when no home folder is known.
pub fn pincer_home() -> Option<PathBuf> {
    if let Some(home) = EnvVars::get(EnvVars::PINCER_HOME) {
        return Some(PathBuf::from(home));
    }
    EnvVars::get(EnvVars::HOME)
        .map(PathBuf::from)
        .or_else(std::env::home_dir)
        .map(|home| home.join(".pincer"))
}

impl ConfigLocation {
    /// Resolves the config path; `explicit` (from `--config`) wins over the environment.
    pub fn resolve(explicit: Option<PathBuf>) -> Option<Self> {
        if let Some(path) = explicit {
            return Some(Self {
                path,
                source: LocationSource::Flag,
            });
        }
        if let Some(path) = EnvVars::get(EnvVars::PINCER_CONFIG) {
            return Some(Self {
                path: PathBuf::from(path),
                source: LocationSource::PincerConfig,
            });
        }
        let source = if EnvVars::get(EnvVars::PINCER_HOME).is_some() {
            LocationSource::PincerHome
        } else {
            LocationSource::Default
        };
        pincer_home().map(|home| Self {
            path: home.join(CONFIG_FILE_NAME),
            source,
        })
    }
}
