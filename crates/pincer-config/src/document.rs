//! Parsing JSON5 text into a value plus an index of where every key and value sits in the text.
//!
//! The index is what lets every later error (unknown key, wrong type, bad model reference) name
//! its line and column. Parsing uses `jsonc-parser` with every JSON5 extension turned on.

use std::collections::HashMap;
use std::ops::Range;

use jsonc_parser::ast::{self, ObjectPropName};
use jsonc_parser::{CollectOptions, CommentCollectionStrategy, ParseOptions};
use serde_json::{Map, Value};

use crate::diagnostic::Diagnostic;
use crate::keypath::KeyPath;

/// The JSON5 dialect Pincer reads: comments, unquoted keys, trailing commas, single quotes, hex,
/// `+1`, `.5`, `Infinity`/`NaN` (rejected later as values), and JSON5 string escapes. Missing
/// commas are not JSON5 and stay an error.
pub fn parse_options() -> ParseOptions {
    ParseOptions {
        allow_comments: true,
        allow_loose_object_property_names: true,
        allow_trailing_commas: true,
        allow_missing_commas: false,
        allow_single_quoted_strings: true,
        allow_hexadecimal_numbers: true,
        allow_unary_plus_numbers: true,
        allow_bare_decimal_point_numbers: true,
        allow_non_finite_numbers: true,
        allow_extended_string_escapes: true,
    }
}

/// Where one node sits in the text, as byte ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSpan {
    /// The property name, for object members.
    pub key: Option<Range<usize>>,
    /// The value.
    pub value: Range<usize>,
}

/// A parsed document: its value and the spans of every node by key path.
#[derive(Debug, Clone)]
pub struct Document {
    /// The document's value (`Null` for an empty or whitespace-only text).
    pub value: Value,
    spans: HashMap<KeyPath, NodeSpan>,
}

/// A syntax error: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte range of the offending text.
    pub span: Range<usize>,
    /// What is wrong.
    pub message: String,
}

impl Document {
    /// Parses `text`. Syntax errors are returned as `Err`; problems a parser accepts but a config
    /// cannot hold (duplicate keys, non-finite numbers) come back as diagnostics beside the value.
    pub fn parse(text: &str) -> Result<(Self, Vec<Diagnostic>), SyntaxError> {
        let collect = CollectOptions {
            comments: CommentCollectionStrategy::Off,
            tokens: false,
        };
        let parsed =
            jsonc_parser::parse_to_ast(text, &collect, &parse_options()).map_err(|err| {
                SyntaxError {
                    span: err.range().start..err.range().end,
                    message: lowercase_first(&err.kind().to_string()),
                }
            })?;
        let mut builder = Builder {
            spans: HashMap::new(),
            diagnostics: Vec::new(),
        };
        let value = match &parsed.value {
            Some(root) => {
                let range = root_range(root);
                builder.spans.insert(
                    KeyPath::root(),
                    NodeSpan {
                        key: None,
                        value: range,
                    },
                );
                builder.convert(root, &KeyPath::root())
            }
            None => Value::Null,
        };
        Ok((
            Self {
                value,
                spans: builder.spans,
            },
            builder.diagnostics,
        ))
    }

    /// The span of the node at `path`, if it is in the text.
    pub fn span(&self, path: &KeyPath) -> Option<&NodeSpan> {
        self.spans.get(path)
    }

    /// The span of the node at `path`, or of its nearest ancestor that is in the text.
    pub fn nearest_span(&self, path: &KeyPath) -> Option<&NodeSpan> {
        let mut current = path.clone();
        loop {
            if let Some(span) = self.spans.get(&current) {
                return Some(span);
            }
            let (parent, _) = current.split_last()?;
            current = parent;
        }
    }
}

fn root_range(value: &ast::Value<'_>) -> Range<usize> {
    let range = match value {
        ast::Value::StringLit(v) => v.range,
        ast::Value::NumberLit(v) => v.range,
        ast::Value::BooleanLit(v) => v.range,
        ast::Value::Object(v) => v.range,
        ast::Value::Array(v) => v.range,
        ast::Value::NullKeyword(v) => v.range,
    };
    range.start..range.end
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

struct Builder {
    spans: HashMap<KeyPath, NodeSpan>,
    diagnostics: Vec<Diagnostic>,
}

impl Builder {
    fn convert(&mut self, value: &ast::Value<'_>, path: &KeyPath) -> Value {
        match value {
            ast::Value::StringLit(s) => Value::String(s.value.to_string()),
            ast::Value::BooleanLit(b) => Value::Bool(b.value),
            ast::Value::NullKeyword(_) => Value::Null,
            ast::Value::NumberLit(n) => self.number(n, path),
            ast::Value::Array(array) => {
                let mut out = Vec::with_capacity(array.elements.len());
                for (index, element) in array.elements.iter().enumerate() {
                    let child = path.index(index);
                    self.spans.insert(
                        child.clone(),
                        NodeSpan {
                            key: None,
                            value: root_range(element),
                        },
                    );
                    out.push(self.convert(element, &child));
                }
                Value::Array(out)
            }
            ast::Value::Object(object) => {
                let mut out = Map::new();
                for prop in &object.properties {
                    let (name, name_range) = match &prop.name {
                        ObjectPropName::String(s) => (s.value.to_string(), s.range),
                        ObjectPropName::Word(w) => (w.value.to_owned(), w.range),
                    };
                    let child = path.key(&name);
                    let span = NodeSpan {
                        key: Some(name_range.start..name_range.end),
                        value: root_range(&prop.value),
                    };
                    if out.contains_key(&name) {
                        self.diagnostics.push(
                            Diagnostic::new(
                                child.clone(),
                                Some(span.key.clone().unwrap_or(span.value.clone())),
                                format!("duplicate key `{name}`"),
                            )
                            .with_help(
                                "remove one of the two; JSON5 readers disagree on which one wins",
                            ),
                        );
                        continue;
                    }
                    self.spans.insert(child.clone(), span);
                    let converted = self.convert(&prop.value, &child);
                    out.insert(name, converted);
                }
                Value::Object(out)
            }
        }
    }

    fn number(&mut self, n: &ast::NumberLit<'_>, path: &KeyPath) -> Value {
        let converted = Value::from(ast::Value::NumberLit(n.clone()));
        if converted.is_number() {
            return converted;
        }
        self.diagnostics.push(Diagnostic::new(
            path.clone(),
            Some(n.range.start..n.range.end),
            format!(
                "`{}` is not a finite number that fits in a config value",
                n.value
            ),
        ));
        Value::Null
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_keys_and_values() {
        let text = "{\n  // c\n  a: { 'b': [1, 0x10, .5] },\n}\n";
        let (doc, diags) = Document::parse(text).unwrap();
        assert!(diags.is_empty());
        assert_eq!(doc.value, serde_json::json!({"a": {"b": [1, 16, 0.5]}}));
        let span = doc.span(&"a.b".parse().unwrap()).unwrap();
        assert_eq!(&text[span.key.clone().unwrap()], "'b'");
        assert_eq!(&text[span.value.clone()], "[1, 0x10, .5]");
        let span = doc.span(&"a.b[2]".parse().unwrap()).unwrap();
        assert_eq!(&text[span.value.clone()], ".5");
        let nearest = doc.nearest_span(&"a.b[2].x.y".parse().unwrap()).unwrap();
        assert_eq!(&text[nearest.value.clone()], ".5");
    }

    #[test]
    fn empty_text_is_null() {
        let (doc, diags) = Document::parse("  // nothing\n").unwrap();
        assert_eq!(doc.value, Value::Null);
        assert!(diags.is_empty());
    }

    #[test]
    fn reports_duplicates_and_non_finite_numbers() {
        let (doc, diags) = Document::parse("{a: 1, a: 2, b: Infinity}").unwrap();
        assert_eq!(doc.value, serde_json::json!({"a": 1, "b": null}));
        let messages: Vec<_> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "duplicate key `a`",
                "`Infinity` is not a finite number that fits in a config value"
            ]
        );
    }

    #[test]
    fn syntax_errors_carry_a_span() {
        let err = Document::parse("{a: 1 b: 2}").unwrap_err();
        assert_eq!(err.message, "expected comma");
        assert!((5..=6).contains(&err.span.start), "{:?}", err.span);
    }
}
