//! The JSON Schema generated from [`Options`], and a small walker over it.
//!
//! The schema is the single description of which keys exist: validation uses it to reject
//! unknown keys with a "did you mean" hint and to check numeric bounds, `config get` uses it to
//! tell a misspelt key from an unset one, and the README's configuration reference is generated
//! from it. The committed copy (`pincer.schema.json`) is checked against it by a test.

use std::sync::OnceLock;

use serde_json::Value;

use crate::keypath::{KeyPath, Segment};
use crate::options::Options;

/// The JSON Schema of the config file.
pub fn json_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| schemars::schema_for!(Options).to_value())
}

/// The schema as committed: pretty JSON with a final newline.
pub fn schema_text() -> String {
    let mut text = serde_json::to_string_pretty(json_schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// What the schema says about one key of an object.
#[derive(Debug)]
pub enum KeyLookup<'a> {
    /// The key exists; here is its schema.
    Known(&'a Value),
    /// The object does not allow this key.
    Unknown {
        /// The closest allowed key, if one is close.
        suggestion: Option<String>,
        /// Every allowed key.
        allowed: Vec<String>,
    },
    /// The schema here is not an object (or is not described).
    NotAnObject,
}

/// Navigates the generated schema, following `$ref`s and optional (`null`) alternatives.
#[derive(Debug, Clone, Copy)]
pub struct SchemaWalker {
    root: &'static Value,
}

impl Default for SchemaWalker {
    fn default() -> Self {
        Self {
            root: json_schema(),
        }
    }
}

impl SchemaWalker {
    /// The root schema node.
    pub fn root(&self) -> &'static Value {
        self.root
    }

    /// Follows `$ref` and picks the non-null alternative of an `anyOf`.
    pub fn resolve(&self, node: &'static Value) -> &'static Value {
        let mut node = node;
        for _ in 0..16 {
            if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
                let name = reference.rsplit('/').next().unwrap_or_default();
                match self.root.get("$defs").and_then(|defs| defs.get(name)) {
                    Some(target) => {
                        node = target;
                        continue;
                    }
                    None => return node,
                }
            }
            if let Some(options) = node.get("anyOf").and_then(Value::as_array) {
                let non_null: Vec<_> = options
                    .iter()
                    .filter(|option| option.get("type").and_then(Value::as_str) != Some("null"))
                    .collect();
                if let [only] = non_null.as_slice() {
                    node = only;
                    continue;
                }
            }
            return node;
        }
        node
    }

    /// The schema of key `key` inside the object schema `node`.
    pub fn key(&self, node: &'static Value, key: &str) -> KeyLookup<'static> {
        let node = self.resolve(node);
        let properties = node.get("properties").and_then(Value::as_object);
        if let Some(schema) = properties.and_then(|p| p.get(key)) {
            return KeyLookup::Known(schema);
        }
        match node.get("additionalProperties") {
            Some(Value::Bool(false)) => {
                let allowed: Vec<String> = properties
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default();
                KeyLookup::Unknown {
                    suggestion: closest(key, &allowed),
                    allowed,
                }
            }
            Some(schema @ Value::Object(_)) => KeyLookup::Known(schema),
            _ if properties.is_some() => KeyLookup::Known(&Value::Bool(true)),
            _ => KeyLookup::NotAnObject,
        }
    }

    /// The schema of the elements of the array schema `node`.
    pub fn items(&self, node: &'static Value) -> Option<&'static Value> {
        self.resolve(node).get("items")
    }

    /// Checks that `path` names something the schema allows; returns the schema node at it.
    pub fn lookup(&self, path: &KeyPath) -> Result<&'static Value, (KeyPath, Option<String>)> {
        let mut node = self.root;
        let mut walked = KeyPath::root();
        for segment in path.segments() {
            walked = walked.child(segment.clone());
            let resolved = self.resolve(node);
            let is_array = resolved.get("items").is_some();
            node = match segment {
                Segment::Index(_) => self.items(node).ok_or_else(|| (walked.clone(), None))?,
                Segment::Key(_) if is_array && segment.as_index().is_some() => {
                    self.items(node).ok_or_else(|| (walked.clone(), None))?
                }
                Segment::Key(key) => match self.key(node, key) {
                    KeyLookup::Known(schema) => schema,
                    KeyLookup::Unknown { suggestion, .. } => {
                        return Err((walked, suggestion));
                    }
                    KeyLookup::NotAnObject => return Err((walked, None)),
                },
            };
        }
        Ok(node)
    }
}

/// The allowed key closest to `key`, if it is close enough to be a likely typo.
pub fn closest(key: &str, allowed: &[String]) -> Option<String> {
    let lowered = key.to_lowercase();
    allowed
        .iter()
        .map(|candidate| {
            let score = strsim::normalized_damerau_levenshtein(&lowered, &candidate.to_lowercase());
            (score, candidate)
        })
        .filter(|(score, _)| *score >= 0.6)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate.clone())
}

/// One row of the configuration reference.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceRow {
    /// Key path pattern (`models.providers.<id>.baseUrl`).
    pub path: String,
    /// Type, as a short phrase.
    pub kind: String,
    /// Default, if the schema has one.
    pub default: Option<String>,
    /// First sentence(s) of the doc comment.
    pub description: String,
}

/// Every documented key, depth first, in declaration order.
pub fn reference_rows() -> Vec<ReferenceRow> {
    let walker = SchemaWalker::default();
    let mut rows = Vec::new();
    collect_rows(&walker, walker.root(), "", &mut rows);
    rows
}

fn collect_rows(
    walker: &SchemaWalker,
    node: &'static Value,
    prefix: &str,
    rows: &mut Vec<ReferenceRow>,
) {
    let resolved = walker.resolve(node);
    let Some(properties) = resolved.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, schema) in properties {
        if name == "$schema" {
            continue;
        }
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        let target = walker.resolve(schema);
        let description = schema
            .get("description")
            .or_else(|| target.get("description"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .replace('\n', " ");
        rows.push(ReferenceRow {
            path: path.clone(),
            kind: type_phrase(walker, schema),
            default: schema.get("default").map(Value::to_string),
            description,
        });
        if target.get("properties").is_some() {
            collect_rows(walker, schema, &path, rows);
        } else if let Some(items) = target.get("items") {
            if walker.resolve(items).get("properties").is_some() {
                collect_rows(walker, items, &format!("{path}[]"), rows);
            }
        } else if let Some(values @ Value::Object(_)) = target.get("additionalProperties")
            && walker.resolve(values).get("properties").is_some()
        {
            collect_rows(walker, values, &format!("{path}.<id>"), rows);
        }
    }
}

fn type_phrase(walker: &SchemaWalker, schema: &'static Value) -> String {
    let target = walker.resolve(schema);
    if let Some(variants) = target.get("oneOf").or_else(|| target.get("enum")) {
        let values: Vec<String> = variants
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.get("const").or(Some(v)).and_then(Value::as_str))
            .map(|v| format!("`{v}`"))
            .collect();
        return values.join(" \\| ");
    }
    let kind = match target.get("type") {
        Some(Value::String(kind)) => kind.clone(),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .filter(|k| *k != "null")
            .collect::<Vec<_>>()
            .join(" or "),
        _ => String::new(),
    };
    match kind.as_str() {
        "array" => match target.get("items") {
            Some(items) => format!("array of {}", type_phrase(walker, items)),
            None => "array".to_owned(),
        },
        "object" if target.get("properties").is_none() => {
            match target.get("additionalProperties") {
                Some(values @ Value::Object(_)) => {
                    format!("map of {}", type_phrase(walker, values))
                }
                _ => "object".to_owned(),
            }
        }
        "integer" => {
            let minimum = target.get("minimum").and_then(Value::as_u64);
            match minimum {
                Some(min) if min > 0 => format!("integer ≥ {min}"),
                _ => "integer".to_owned(),
            }
        }
        _ => kind,
    }
}

/// The configuration reference as a Markdown table.
pub fn reference_markdown() -> String {
    let mut out = String::from("| key | type | default | description |\n|---|---|---|---|\n");
    for row in reference_rows() {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            row.path,
            row.kind,
            row.default.map(|d| format!("`{d}`")).unwrap_or_default(),
            row.description.replace('|', "\\|")
        ));
    }
    out
}
