//! Diagnostics: one problem in a config, with its key path, its place in the text, and a hint.
//!
//! Rendering uses `annotate-snippets`, so an error reads like a compiler's: the file, line and
//! column, the offending line with the span underlined, and a `help:` line when there is one.

use std::fmt::Write as _;
use std::ops::Range;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use crate::keypath::KeyPath;

/// One problem found in a config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where in the config tree.
    pub path: KeyPath,
    /// Where in the text (byte range), when known.
    pub span: Option<Range<usize>>,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic without a hint.
    pub fn new(path: KeyPath, span: Option<Range<usize>>, message: impl Into<String>) -> Self {
        Self {
            path,
            span,
            message: message.into(),
            help: None,
        }
    }

    /// The same diagnostic with a hint.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The headline: `key.path: message`, or just the message at the root.
    pub fn headline(&self) -> String {
        if self.path.is_root() {
            self.message.clone()
        } else {
            format!("{}: {}", self.path, self.message)
        }
    }
}

/// 1-based line and column (in characters) of byte offset `offset` in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Renders diagnostics against `text`, which was read from `origin`.
pub fn render(diagnostics: &[Diagnostic], origin: &str, text: &str) -> String {
    let renderer = Renderer::plain();
    let mut out = String::new();
    for (i, diagnostic) in diagnostics.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let headline = diagnostic.headline();
        let mut group = Group::with_title(Level::ERROR.primary_title(headline.as_str()));
        match &diagnostic.span {
            Some(span) if span.end <= text.len() => {
                let span = if span.is_empty() && span.end < text.len() {
                    span.start..span.start + 1
                } else {
                    span.clone()
                };
                group = group.element(
                    Snippet::source(text)
                        .path(origin)
                        .annotation(AnnotationKind::Primary.span(span)),
                );
            }
            _ => {
                group = group.element(Level::NOTE.message(format!("in {origin}")));
            }
        }
        if let Some(help) = &diagnostic.help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        let _ = write!(out, "{}", renderer.render(&[group]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let text = "ab\nçd\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 3), (2, 1));
        assert_eq!(line_column(text, 5), (2, 2));
        assert_eq!(line_column(text, 99), (3, 1));
    }
}
