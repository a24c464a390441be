//! Diagnostic logs on stderr through `tracing`: the filter comes from `PINCER_LOG` (else
//! `RUST_LOG`, else the command's default), the format from `PINCER_LOG_FORMAT` (`text` or
//! `json`). Command output never goes through here; it goes through the [`crate::Printer`].

use pincer_core::env::EnvVars;
use tracing_subscriber::EnvFilter;

/// Installs the subscriber. `default` is the filter used when neither variable is set; `off`
/// installs nothing. An invalid filter falls back to `default`, and the warning is returned.
pub fn init(default: &str) -> Option<String> {
    let directives = EnvVars::get_string(EnvVars::PINCER_LOG)
        .or_else(|| EnvVars::get_string(EnvVars::RUST_LOG))
        .unwrap_or_else(|| default.to_owned());
    if directives == "off" {
        return None;
    }
    let mut warning = None;
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|e| {
        warning = Some(format!(
            "ignoring the log filter `{directives}` ({e}); using `{default}`"
        ));
        EnvFilter::new(default)
    });
    let json = EnvVars::get_string(EnvVars::PINCER_LOG_FORMAT).is_some_and(|f| f == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second call (only possible in tests) keeps the first subscriber.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.with_ansi(false).try_init()
    };
    warning
}
