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
                let span = whole_characters(text, span);
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

/// `span` widened to whole characters of `text` (a parser may point into, or just before, a
/// multi-byte character), and an empty span inside the text to the character it stands before,
/// so that there is something to underline.
fn whole_characters(text: &str, span: &Range<usize>) -> Range<usize> {
    let mut start = span.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = span.end.clamp(start, text.len());
    if end == start {
        end += text[start..].chars().next().map_or(0, char::len_utf8);
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    start..end
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

    #[test]
    fn spans_are_widened_to_whole_characters() {
        let text = "a蒒b";
        assert_eq!(whole_characters(text, &(1..1)), 1..4);
        assert_eq!(whole_characters(text, &(2..3)), 1..4);
        assert_eq!(whole_characters(text, &(0..2)), 0..4);
        assert_eq!(whole_characters(text, &(5..5)), 5..5);
    }

    #[test]
    fn a_syntax_error_before_a_multibyte_character_renders() {
        // Found by the `config_load` fuzz target: rendering this error panicked, because the
        // empty span of the error was widened by one byte, into the middle of `蒒`.
        let err = crate::validate::parse("{\"\":5蒒", "config.json5").unwrap_err();
        let rendered = err.to_string();
        assert!(rendered.contains("蒒"), "{rendered}");
        assert!(rendered.contains("config.json5:1:"), "{rendered}");
    }
}
