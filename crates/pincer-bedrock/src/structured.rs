//! Structured answers (`response_format`) on Bedrock, never answered as if a schema had been
//! applied when it was not:
//!
//! - a JSON schema for a model that takes structured output (the known-model table's
//!   `structuredOutput`) goes in Converse's `outputConfig.textFormat`, after checking it against
//!   the subset Bedrock accepts (no `minimum`/`maximum`/`multipleOf`, no `minLength`/
//!   `maxLength`, no `maxItems`, `minItems` only 0 or 1, `additionalProperties` only `false`, no
//!   external or recursive `$ref`), so an unsupported schema is a clear 400 naming the keyword;
//! - any other model, and a JSON object of any shape (`json_object`), get a forced call of a
//!   tool whose input schema is the answer's schema, and the call's input comes back as the
//!   answer's text. That needs the tool choice, so it is refused when the request offers tools
//!   of its own.

use aws_sdk_bedrockruntime::types::{
    JsonSchemaDefinition, OutputConfig, OutputFormat, OutputFormatStructure, OutputFormatType,
};
use pincer_core::{ErrorKind, Model, ProviderError, ResponseFormat, Tool};
use serde_json::{Value, json};

/// How a structured answer is obtained.
#[derive(Debug)]
pub enum Plan {
    /// None was asked for.
    None,
    /// Converse's own structured output.
    OutputConfig(OutputConfig),
    /// A forced call of this tool.
    Tool(Tool),
}

fn refuse(message: impl Into<String>) -> ProviderError {
    ProviderError::new(ErrorKind::Validation, message)
}

/// The plan for `format` on `model`, whose request offers `offered` tools.
pub fn plan(
    format: Option<&ResponseFormat>,
    model: &Model,
    offered: &[Tool],
) -> Result<Plan, ProviderError> {
    let (name, description, schema) = match format {
        None => return Ok(Plan::None),
        Some(ResponseFormat::JsonSchema {
            name,
            description,
            schema,
            ..
        }) => {
            let schema = &without_safe_integer_bounds(schema);
            if model.capabilities.structured_output {
                if let Some((path, keyword)) = unsupported(schema, "") {
                    return Err(refuse(format!(
                        "response_format.json_schema.schema{path}: `{keyword}` is not supported by Bedrock's structured output; remove it"
                    )));
                }
                let definition = JsonSchemaDefinition::builder()
                    .schema(schema.to_string())
                    .name(name.clone())
                    .set_description(description.clone())
                    .build()
                    .map_err(|e| refuse(e.to_string()))?;
                let config = OutputConfig::builder()
                    .text_format(
                        OutputFormat::builder()
                            .r#type(OutputFormatType::JsonSchema)
                            .structure(OutputFormatStructure::JsonSchema(definition))
                            .build()
                            .map_err(|e| refuse(e.to_string()))?,
                    )
                    .build();
                return Ok(Plan::OutputConfig(config));
            }
            (name.clone(), description.clone(), schema.clone())
        }
        Some(ResponseFormat::JsonObject) => (
            "json_object".to_owned(),
            Some("Any JSON object".to_owned()),
            json!({"type": "object"}),
        ),
    };
    if !offered.is_empty() {
        return Err(refuse(format!(
            "`{}` does not take a JSON schema for its answer, and a structured answer cannot be combined with the request's own tools on it; drop response_format or the tools, or use a model with structured output",
            model.id
        )));
    }
    let schema = if schema.get("type").and_then(Value::as_str) == Some("object") {
        schema
    } else {
        // A tool's input is an object: wrap a non-object answer.
        json!({"type": "object", "properties": {"value": schema}, "required": ["value"]})
    };
    Ok(Plan::Tool(Tool {
        name: tool_name(&name),
        description: description.unwrap_or_else(|| {
            "Give the answer as this tool's input, which must match its schema".to_owned()
        }),
        parameters: schema,
    }))
}

/// The stand-in tool's name: the schema's name in Bedrock's tool-name alphabet.
fn tool_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if cleaned.is_empty() {
        "structured_answer".to_owned()
    } else {
        cleaned
    }
}

/// The largest integer a JSON number holds exactly (2^53 − 1).
const SAFE_INTEGER: i64 = 9_007_199_254_740_991;

/// `schema` without the `minimum: -(2^53 − 1)` / `maximum: 2^53 − 1` pair that schema libraries
/// put on every integer (zod's `.int()` does): a bound no JSON integer can cross constrains
/// nothing, so leaving it out changes no answer, where Bedrock would refuse the keyword. Any
/// other bound stays, and is refused.
pub fn without_safe_integer_bounds(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, value)| {
                    !((key.as_str() == "minimum" && value.as_i64() == Some(-SAFE_INTEGER))
                        || (key.as_str() == "maximum" && value.as_i64() == Some(SAFE_INTEGER)))
                })
                .map(|(key, value)| (key.clone(), without_safe_integer_bounds(value)))
                .collect(),
        ),
        Value::Array(items) => {
            Value::Array(items.iter().map(without_safe_integer_bounds).collect())
        }
        other => other.clone(),
    }
}

/// The first keyword of `schema` (at `path`) outside the subset Bedrock's structured output
/// accepts, with its path.
pub fn unsupported(schema: &Value, path: &str) -> Option<(String, String)> {
    const REFUSED: [&str; 8] = [
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "maxItems",
    ];
    let Value::Object(map) = schema else {
        if let Value::Array(items) = schema {
            for (i, item) in items.iter().enumerate() {
                if let Some(found) = unsupported(item, &format!("{path}[{i}]")) {
                    return Some(found);
                }
            }
        }
        return None;
    };
    for (key, value) in map {
        let here = format!("{path}.{key}");
        // Property names are data, not keywords.
        let is_keyword_position = !path.ends_with(".properties")
            && !path.ends_with(".$defs")
            && !path.ends_with(".definitions");
        if is_keyword_position {
            if REFUSED.contains(&key.as_str()) {
                return Some((path.to_owned(), key.clone()));
            }
            if key == "minItems" && value.as_u64().is_some_and(|n| n > 1) {
                return Some((path.to_owned(), "minItems greater than 1".to_owned()));
            }
            if key == "additionalProperties" && value != &Value::Bool(false) {
                return Some((
                    path.to_owned(),
                    "additionalProperties other than false".to_owned(),
                ));
            }
            if key == "$ref" {
                let target = value.as_str().unwrap_or_default();
                if !target.starts_with("#/") {
                    return Some((path.to_owned(), "an external $ref".to_owned()));
                }
                // A reference to the root, or into the definition that holds it, recurses.
                if target == "#" || path.contains(&target.replace("#/", ".").replace('/', ".")) {
                    return Some((path.to_owned(), "a recursive $ref".to_owned()));
                }
            }
        }
        if let Some(found) = unsupported(value, &here) {
            return Some(found);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(structured: bool) -> Model {
        let mut model = Model {
            id: "m".into(),
            ..Model::default()
        };
        model.capabilities.structured_output = structured;
        model
    }

    fn schema_format(schema: Value) -> ResponseFormat {
        ResponseFormat::JsonSchema {
            name: "Person".into(),
            description: None,
            schema,
            strict: true,
        }
    }

    #[test]
    fn a_schema_goes_to_output_config_when_the_model_takes_one() {
        let format = schema_format(
            json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"], "additionalProperties": false}),
        );
        assert!(matches!(
            plan(Some(&format), &model(true), &[]).unwrap(),
            Plan::OutputConfig(_)
        ));
        let Plan::Tool(tool) = plan(Some(&format), &model(false), &[]).unwrap() else {
            panic!("a forced tool");
        };
        assert_eq!(tool.name, "Person");
        let error = plan(
            Some(&format),
            &model(false),
            &[Tool {
                name: "t".into(),
                description: String::new(),
                parameters: json!({}),
            }],
        )
        .unwrap_err();
        assert!(
            error.message.contains("cannot be combined"),
            "{}",
            error.message
        );
    }

    #[test]
    fn keywords_bedrock_refuses_are_named_with_their_path() {
        let format = schema_format(
            json!({"type": "object", "properties": {"age": {"type": "integer", "minimum": 0}}}),
        );
        let error = plan(Some(&format), &model(true), &[]).unwrap_err();
        assert!(
            error.message.contains("schema.properties.age: `minimum`"),
            "{}",
            error.message
        );
        // A property named like a keyword is fine.
        let named = schema_format(
            json!({"type": "object", "properties": {"maximum": {"type": "string"}}, "additionalProperties": false}),
        );
        assert!(plan(Some(&named), &model(true), &[]).is_ok());
        let open = schema_format(json!({"type": "object", "additionalProperties": true}));
        assert!(plan(Some(&open), &model(true), &[]).is_err());
    }

    #[test]
    fn bounds_no_json_integer_can_cross_are_left_out() {
        // What zod's `z.number().int()` gives.
        let schema = json!({"type": "object", "properties": {"age": {"type": "integer", "minimum": -9007199254740991i64, "maximum": 9007199254740991i64}}});
        assert_eq!(
            without_safe_integer_bounds(&schema),
            json!({"type": "object", "properties": {"age": {"type": "integer"}}})
        );
        assert!(plan(Some(&schema_format(schema)), &model(true), &[]).is_ok());
        let real = json!({"type": "object", "properties": {"age": {"type": "integer", "minimum": 0, "maximum": 9007199254740991i64}}});
        assert!(plan(Some(&schema_format(real)), &model(true), &[]).is_err());
    }

    #[test]
    fn json_object_is_a_forced_object_tool() {
        let Plan::Tool(tool) = plan(Some(&ResponseFormat::JsonObject), &model(true), &[]).unwrap()
        else {
            panic!("a forced tool");
        };
        assert_eq!(tool.parameters, json!({"type": "object"}));
    }
}
