//! Comment-preserving edits: `set` and `unset` on the JSON5 syntax tree.
//!
//! The file is parsed into a concrete syntax tree (`jsonc-parser`'s CST), the one value at the
//! key path is replaced, inserted or removed, and the tree is printed back: comments, key order,
//! quoting and formatting outside the edited value are untouched. Keys the edit adds follow the
//! file's style: unquoted when the file writes its keys unquoted (as the seed document does).

use jsonc_parser::cst::{
    CstArray, CstInputValue, CstNode, CstObject, CstObjectProp, CstRootNode, TrailingCommaMode,
};
use serde_json::Value;

use crate::document::parse_options;
use crate::error::ConfigError;
use crate::keypath::{KeyPath, Segment};

/// Returns `text` with the value at `path` set to `value`.
pub fn set(text: &str, path: &KeyPath, value: &Value) -> Result<String, ConfigError> {
    let fail = |reason: String| ConfigError::Edit {
        action: "set",
        path: path.clone(),
        reason,
    };
    let root = parse_tree(text)?;
    let style = KeyStyle::of(&root);
    let is_new = root.value().is_none();
    let trailing_commas = uses_trailing_commas(&root);
    let Some((parent_path, last)) = path.split_last() else {
        return Err(fail(
            "give a key path; the whole file cannot be replaced".to_owned(),
        ));
    };
    let mut container = root_container(&root).map_err(fail)?;
    let segments = parent_path.segments();
    // Nodes the edit creates; their keys get the file's style once every lookup is done (a
    // restyled key can no longer be looked up by the tree).
    let mut created: Vec<CstNode> = Vec::new();
    for (depth, segment) in segments.iter().enumerate() {
        let next = segments.get(depth + 1).unwrap_or(last);
        let wants_array = matches!(next, Segment::Index(_));
        container = descend_or_create(&container, segment, wants_array, &mut created).map_err(
            |reason| {
                fail(format!(
                    "`{}` {reason}",
                    KeyPath::from(segments[..=depth].to_vec())
                ))
            },
        )?;
    }
    let input = to_input(value);
    match (&container, last) {
        (Container::Object(object), segment) => {
            let key = segment.object_key();
            match object.get(&key) {
                Some(prop) => {
                    prop.set_value(input);
                    created.extend(prop.value());
                }
                None => {
                    created.push(object.append(&key, input).into());
                    if trailing_commas {
                        object.set_trailing_commas(TrailingCommaMode::IfMultiline);
                    }
                }
            }
        }
        (Container::Array(array), segment) => {
            let Some(index) = segment.as_index() else {
                return Err(fail(format!(
                    "`{parent_path}` is an array; address an element by index, e.g. `{parent_path}[0]`"
                )));
            };
            let elements = array.elements();
            if index < elements.len() {
                created.extend(replace_node(elements[index].clone(), input));
            } else if index == elements.len() {
                created.push(array.append(input));
            } else {
                return Err(fail(format!(
                    "`{parent_path}` has {} elements; index {index} would leave a gap",
                    elements.len()
                )));
            }
        }
    }
    // The nodes were created outermost first, each inside the one before (or it is the one
    // value replaced): restyling the first restyles them all, in one walk. Restyling each in
    // turn walked the same subtree again and again, cubic in the depth of the path.
    if let Some(node) = created.first() {
        if trailing_commas {
            add_trailing_commas(node);
        }
        style.apply(node);
    }
    if is_new {
        // A new file is written in the seed document's style: trailing commas, final newline.
        root.set_trailing_commas(TrailingCommaMode::IfMultiline);
        let mut out = root.to_string();
        if !out.ends_with('\n') {
            out.push('\n');
        }
        return Ok(out);
    }
    Ok(root.to_string())
}

/// Returns `text` without the value at `path`, or `None` if nothing is there.
pub fn unset(text: &str, path: &KeyPath) -> Result<Option<String>, ConfigError> {
    let fail = |reason: String| ConfigError::Edit {
        action: "unset",
        path: path.clone(),
        reason,
    };
    let root = parse_tree(text)?;
    let Some((parent_path, last)) = path.split_last() else {
        return Err(fail(
            "give a key path; to start over, delete the file".to_owned(),
        ));
    };
    let Ok(mut container) = root_container(&root) else {
        return Ok(None);
    };
    for segment in parent_path.segments() {
        match descend(&container, segment) {
            Some(next) => container = next,
            None => return Ok(None),
        }
    }
    match (&container, last) {
        (Container::Object(object), segment) => match object.get(&segment.object_key()) {
            Some(prop) => prop.remove(),
            None => return Ok(None),
        },
        (Container::Array(array), segment) => {
            match segment
                .as_index()
                .and_then(|i| array.elements().get(i).cloned())
            {
                Some(node) => remove_node(node),
                None => return Ok(None),
            }
        }
    }
    Ok(Some(root.to_string()))
}

/// Parses a value given on the command line: JSON5 (`true`, `3600`, `["a"]`, `{id: "m"}`), else —
/// unless `strict`, which requires strict JSON — the text as a plain string (`us-east-1`). Text
/// that starts like an object or array but does not parse is an error, not a string.
pub fn parse_value(path: &KeyPath, raw: &str, strict: bool) -> Result<Value, ConfigError> {
    let invalid = |message: String| ConfigError::Value {
        path: path.clone(),
        message,
    };
    if strict {
        return serde_json::from_str(raw).map_err(|err| invalid(format!("not strict JSON: {err}")));
    }
    if raw.trim().is_empty() {
        return Ok(Value::String(raw.to_owned()));
    }
    let looks_structured = raw.trim_start().starts_with(['{', '[']);
    match crate::document::Document::parse(raw) {
        // Only a comment: there is no value (the text `null` has a span; a comment has none).
        Ok((document, _)) if document.span(&KeyPath::root()).is_none() => Err(invalid(
            "the value is only a comment; give a value (quote it, e.g. '\"// x\"', to set that text)"
                .to_owned(),
        )),
        Ok((document, diagnostics)) if diagnostics.is_empty() => Ok(document.value),
        Ok((_, diagnostics)) if looks_structured => Err(invalid(
            diagnostics
                .into_iter()
                .map(|d| d.headline())
                .collect::<Vec<_>>()
                .join("; "),
        )),
        Err(err) if looks_structured => {
            let (_, column) = crate::diagnostic::line_column(raw, err.span.start);
            Err(invalid(format!(
                "not valid JSON5 at column {column}: {}",
                err.message
            )))
        }
        _ => Ok(Value::String(raw.to_owned())),
    }
}

fn parse_tree(text: &str) -> Result<CstRootNode, ConfigError> {
    CstRootNode::parse(text, &parse_options()).map_err(|err| ConfigError::Syntax {
        origin: "the config file".to_owned(),
        text: crate::redact::mask_secret_lines(text),
        span: err.range().start..err.range().end,
        message: err.kind().to_string(),
    })
}

#[derive(Clone)]
enum Container {
    Object(CstObject),
    Array(CstArray),
}

fn root_container(root: &CstRootNode) -> Result<Container, String> {
    match root.value() {
        None => Ok(Container::Object(root.object_value_or_set())),
        Some(node) => node
            .as_object()
            .map(Container::Object)
            .ok_or_else(|| "the top level of the config is not an object".to_owned()),
    }
}

fn as_container(node: Option<CstNode>) -> Option<Container> {
    let node = node?;
    if let Some(object) = node.as_object() {
        return Some(Container::Object(object));
    }
    node.as_array().map(Container::Array)
}

fn descend(container: &Container, segment: &Segment) -> Option<Container> {
    match container {
        Container::Object(object) => as_container(object.get(&segment.object_key())?.value()),
        Container::Array(array) => as_container(array.elements().get(segment.as_index()?).cloned()),
    }
}

fn descend_or_create(
    container: &Container,
    segment: &Segment,
    wants_array: bool,
    created: &mut Vec<CstNode>,
) -> Result<Container, String> {
    let empty = || {
        if wants_array {
            CstInputValue::Array(Vec::new())
        } else {
            CstInputValue::Object(Vec::new())
        }
    };
    match container {
        Container::Object(object) => {
            let key = segment.object_key();
            match object.get(&key) {
                Some(prop) => as_container(prop.value()).ok_or_else(|| {
                    "holds a value that is neither an object nor an array".to_owned()
                }),
                None => {
                    let prop = object.append(&key, empty());
                    created.push(prop.clone().into());
                    as_container(prop.value()).ok_or_else(|| "could not be created".to_owned())
                }
            }
        }
        Container::Array(array) => {
            let Some(index) = segment.as_index() else {
                return Err("is an array; address its elements by index, e.g. `[0]`".to_owned());
            };
            let elements = array.elements();
            if let Some(node) = elements.get(index) {
                as_container(Some(node.clone())).ok_or_else(|| {
                    "holds a value that is neither an object nor an array".to_owned()
                })
            } else if index == elements.len() {
                let node = array.append(empty());
                created.push(node.clone());
                as_container(Some(node)).ok_or_else(|| "could not be created".to_owned())
            } else {
                Err(format!(
                    "has {} elements; index {index} would leave a gap",
                    elements.len()
                ))
            }
        }
    }
}

/// Whether the file ends its multi-line objects and arrays with a comma (JSON5 style).
fn uses_trailing_commas(root: &CstRootNode) -> bool {
    let mut stack: Vec<CstNode> = root.value().into_iter().collect();
    while let Some(node) = stack.pop() {
        let children: Vec<CstNode> = if let Some(object) = node.as_object() {
            object.properties().into_iter().map(CstNode::from).collect()
        } else if let Some(array) = node.as_array() {
            array.elements()
        } else if let Some(prop) = node.as_object_prop() {
            prop.value().into_iter().collect()
        } else {
            Vec::new()
        };
        if (node.as_object().is_some() || node.as_array().is_some())
            && children
                .last()
                .is_some_and(|last| last.trailing_comma().is_some())
        {
            return true;
        }
        stack.extend(children);
    }
    false
}

/// Gives every multi-line object and array under a created node a trailing comma, as the file
/// around it has.
fn add_trailing_commas(node: &CstNode) {
    let mut stack = vec![node.clone()];
    while let Some(node) = stack.pop() {
        if let Some(prop) = node.as_object_prop() {
            stack.extend(prop.value());
        } else if let Some(object) = node.as_object() {
            object.set_trailing_commas(TrailingCommaMode::IfMultiline);
            stack.extend(object.properties().into_iter().filter_map(|p| p.value()));
        } else if let Some(array) = node.as_array() {
            array.set_trailing_commas(TrailingCommaMode::IfMultiline);
            stack.extend(array.elements());
        }
    }
}

fn remove_node(node: CstNode) {
    node.remove();
}

/// Replaces a value node in place (keeping its surrounding whitespace and comma).
fn replace_node(node: CstNode, input: CstInputValue) -> Option<CstNode> {
    if let Some(n) = node.as_object() {
        return n.replace_with(input);
    }
    if let Some(n) = node.as_array() {
        return n.replace_with(input);
    }
    if let Some(n) = node.as_string_lit() {
        return n.replace_with(input);
    }
    if let Some(n) = node.as_number_lit() {
        return n.replace_with(input);
    }
    if let Some(n) = node.as_boolean_lit() {
        return n.replace_with(input);
    }
    if let Some(n) = node.as_null_keyword() {
        return n.replace_with(input);
    }
    node.as_word_lit()?.replace_with(input)
}

fn to_input(value: &Value) -> CstInputValue {
    match value {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(items) => CstInputValue::Array(items.iter().map(to_input).collect()),
        Value::Object(map) => {
            CstInputValue::Object(map.iter().map(|(k, v)| (k.clone(), to_input(v))).collect())
        }
    }
}

/// How the file writes its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyStyle {
    /// `key: value` where the key is an identifier (JSON5 style, as in the seed document).
    Unquoted,
    /// `"key": value` (JSON style).
    Quoted,
}

impl KeyStyle {
    /// The file's style: unquoted if any key is written bare, quoted if all are quoted, and
    /// unquoted for an empty file.
    fn of(root: &CstRootNode) -> Self {
        let mut saw_quoted = false;
        let mut stack: Vec<CstNode> = root.value().into_iter().collect();
        while let Some(node) = stack.pop() {
            if let Some(object) = node.as_object() {
                for prop in object.properties() {
                    match prop.name() {
                        Some(name) if name.as_word_lit().is_some() => return KeyStyle::Unquoted,
                        Some(_) => saw_quoted = true,
                        None => {}
                    }
                    stack.extend(prop.value());
                }
            } else if let Some(array) = node.as_array() {
                stack.extend(array.elements());
            }
        }
        if saw_quoted {
            KeyStyle::Quoted
        } else {
            KeyStyle::Unquoted
        }
    }

    /// Restyles the keys of a node the edit created (a property or a value), recursively.
    fn apply(&self, node: &CstNode) {
        if *self == KeyStyle::Quoted {
            return;
        }
        if let Some(prop) = node.as_object_prop() {
            self.apply_to_prop(&prop);
        } else if let Some(object) = node.as_object() {
            for prop in object.properties() {
                self.apply_to_prop(&prop);
            }
        } else if let Some(array) = node.as_array() {
            for element in array.elements() {
                self.apply(&element);
            }
        }
    }

    fn apply_to_prop(&self, prop: &CstObjectProp) {
        if let Some(name) = prop.name().and_then(|n| n.as_string_lit()) {
            let raw = name.raw_value();
            // Only a still-quoted name can be decoded; one already restyled is left alone.
            if raw.starts_with(['"', '\''])
                && let Ok(decoded) = name.decoded_value()
                && is_identifier(&decoded)
                && reads_back_bare(&decoded)
            {
                name.set_raw_value(decoded);
            }
        }
        if let Some(value) = prop.value() {
            self.apply(&value);
        }
    }
}

/// Whether `key` can be written unquoted in JSON5 (an ECMAScript identifier name; ASCII only).
fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// Whether `key`, written bare, reads back as that key: the parser takes `true_` or `null_` for
/// a keyword followed by `_`, so such a key must stay quoted.
fn reads_back_bare(key: &str) -> bool {
    crate::document::Document::parse(&format!("{{{key}: 0}}")).is_ok_and(|(document, problems)| {
        problems.is_empty()
            && document
                .value
                .as_object()
                .is_some_and(|object| object.len() == 1 && object.contains_key(key))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(path: &str) -> KeyPath {
        path.parse().unwrap()
    }

    #[test]
    fn set_preserves_comments_and_matches_unquoted_style() {
        let text = "// top comment\n{\n  models: {\n    // discovery below\n    bedrockDiscovery: {\n      enabled: false, // off for now\n    },\n  },\n}\n";
        let out = set(text, &p("models.bedrockDiscovery.enabled"), &json!(true)).unwrap();
        assert_eq!(out, text.replace("enabled: false", "enabled: true"));
        let out = set(
            &out,
            &p("models.bedrockDiscovery.region"),
            &json!("us-east-1"),
        )
        .unwrap();
        assert!(out.contains("// top comment"));
        assert!(out.contains("// discovery below"));
        assert!(out.contains("enabled: true, // off for now"));
        assert!(out.contains("region: \"us-east-1\""), "{out}");
        assert!(!out.contains("\"region\""));
    }

    #[test]
    fn set_creates_missing_objects_and_arrays() {
        let out = set(
            "",
            &p(r#"models.providers["amazon-bedrock"].models[0].id"#),
            &json!("m"),
        )
        .unwrap();
        let (doc, _) = crate::document::Document::parse(&out).unwrap();
        assert_eq!(
            doc.value,
            json!({"models": {"providers": {"amazon-bedrock": {"models": [{"id": "m"}]}}}})
        );
        assert!(out.contains("\"amazon-bedrock\""), "{out}");
        assert!(out.contains("models:"), "{out}");
    }

    #[test]
    fn set_keeps_quoted_style_of_a_json_file() {
        let out = set("{\n  \"a\": 1\n}\n", &p("b.c"), &json!({"d": 2})).unwrap();
        assert!(out.contains("\"b\""), "{out}");
        assert!(out.contains("\"d\""), "{out}");
    }

    #[test]
    fn set_replaces_array_elements_and_refuses_gaps() {
        let out = set("{a: [1, 2, 3]}", &p("a[1]"), &json!(9)).unwrap();
        assert_eq!(out, "{a: [1, 9, 3]}");
        let out = set(&out, &p("a.3"), &json!(4)).unwrap();
        let (doc, _) = crate::document::Document::parse(&out).unwrap();
        assert_eq!(doc.value, json!({"a": [1, 9, 3, 4]}));
        let err = set(&out, &p("a[9]"), &json!(0)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot set `a[9]`: `a` has 4 elements; index 9 would leave a gap"
        );
        let err = set("{a: 'x'}", &p("a.b"), &json!(0)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot set `a.b`: `a` holds a value that is neither an object nor an array"
        );
    }

    #[test]
    fn set_keeps_quotes_on_keys_that_would_read_back_as_keywords() {
        // Found by the `config_set_path` fuzz target: `null_` was written bare, and the file
        // no longer parsed (`null_` reads as the keyword `null`, then `_`).
        for key in ["null_", "true_", "false_"] {
            let out = set("{a: 1}", &KeyPath::root().key(key).key("b"), &json!(0)).unwrap();
            assert!(out.contains(&format!("\"{key}\"")), "{out}");
            let (doc, _) = crate::document::Document::parse(&out).unwrap();
            assert_eq!(doc.value, json!({"a": 1, key: {"b": 0}}));
        }
        let out = set("{a: 1}", &p("nullable"), &json!(true)).unwrap();
        assert!(out.contains("nullable: true"), "{out}");
    }

    #[test]
    fn set_numbers_read_back_exactly() {
        // Found by the `config_set_path` fuzz target: this integer is written in its shortest
        // float form, which used to read back as a neighbouring float.
        for raw in [
            "33333333323323333333333332",
            "3.3333333333333334e+85",
            "0.1",
            "-0",
        ] {
            let value = parse_value(&p("a"), raw, false).unwrap();
            let out = set("{}", &p("a"), &value).unwrap();
            let (doc, _) = crate::document::Document::parse(&out).unwrap();
            assert_eq!(doc.value, json!({ "a": value }), "{raw} became {out}");
        }
    }

    #[test]
    fn a_value_that_is_only_a_comment_is_refused() {
        for raw in ["// x", "/* c */", "  // a\n /* b */ "] {
            let error = parse_value(&p("a"), raw, false).unwrap_err();
            assert!(
                error.to_string().contains("only a comment"),
                "{raw:?}: {error}"
            );
        }
        assert_eq!(parse_value(&p("a"), "null", false).unwrap(), Value::Null);
        assert_eq!(parse_value(&p("a"), "5 // five", false).unwrap(), json!(5));
        assert_eq!(
            parse_value(&p("a"), "\"// x\"", false).unwrap(),
            json!("// x")
        );
    }

    #[test]
    fn unset_removes_and_reports_absence() {
        let text = "{\n  a: 1, // one\n  b: 2,\n}\n";
        let out = unset(text, &p("b")).unwrap().unwrap();
        assert!(!out.contains("b:"));
        assert!(out.contains("// one"));
        assert_eq!(unset(text, &p("zzz")).unwrap(), None);
        assert_eq!(unset(text, &p("a.b.c")).unwrap(), None);
        let out = unset("{a: [1, 2]}", &p("a[0]")).unwrap().unwrap();
        let (doc, _) = crate::document::Document::parse(&out).unwrap();
        assert_eq!(doc.value, json!({"a": [2]}));
    }
}
