//! Loading a config from text: syntax, unknown keys and bounds (from the schema), types (serde),
//! then the checks no type can express (model references, URLs, limits that must agree).
//!
//! Every problem becomes a [`Diagnostic`] with its key path and its place in the text; all the
//! problems of a stage are reported together.

use std::net::IpAddr;

use pincer_core::{ModelRef, validate_provider_id};
use serde_json::Value;

use crate::diagnostic::Diagnostic;
use crate::document::Document;
use crate::error::{ConfigError, InvalidConfig};
use crate::keypath::{KeyPath, Segment};
use crate::options::{Api, Options};
use crate::redact::{is_secret_key, mask_secret_lines};
use crate::schema::{KeyLookup, SchemaWalker};

/// Checks only that `text` is JSON5, reporting a syntax error against `origin`.
pub fn check_syntax(text: &str, origin: &str) -> Result<(), ConfigError> {
    Document::parse(text)
        .map(drop)
        .map_err(|err| ConfigError::Syntax {
            origin: origin.to_owned(),
            text: mask_secret_lines(text),
            span: err.span,
            message: err.message,
        })
}

/// Parses and validates config text read from `origin` (a path, or a description of the text).
pub fn parse(text: &str, origin: &str) -> Result<Options, ConfigError> {
    let (document, mut diagnostics) = Document::parse(text).map_err(|err| ConfigError::Syntax {
        origin: origin.to_owned(),
        text: mask_secret_lines(text),
        span: err.span,
        message: err.message,
    })?;
    let invalid = |diagnostics: Vec<Diagnostic>| {
        ConfigError::Invalid(Box::new(InvalidConfig {
            origin: origin.to_owned(),
            text: mask_secret_lines(text),
            diagnostics,
        }))
    };
    match &document.value {
        Value::Null => return Ok(Options::default()),
        Value::Object(_) => {}
        _ => {
            diagnostics.push(Diagnostic::new(
                KeyPath::root(),
                document.span(&KeyPath::root()).map(|s| s.value.clone()),
                "the top level of the config must be an object (`{ … }`)",
            ));
            return Err(invalid(diagnostics));
        }
    }
    let walker = SchemaWalker::default();
    check_against_schema(
        &walker,
        walker.root(),
        &document.value,
        &KeyPath::root(),
        &document,
        &mut diagnostics,
    );
    if !diagnostics.is_empty() {
        return Err(invalid(diagnostics));
    }
    let options: Options = serde_path_to_error::deserialize(&document.value).map_err(|err| {
        let path = convert_path(err.path());
        let span = document.nearest_span(&path).map(|s| s.value.clone());
        let message = if path.last_key().is_some_and(is_secret_key) {
            "this secret has the wrong type: expected a string".to_owned()
        } else {
            err.inner().to_string()
        };
        invalid(vec![Diagnostic::new(path, span, message)])
    })?;
    let mut diagnostics = Vec::new();
    semantic_checks(
        &options,
        &mut |path: KeyPath, message: String, help: Option<&str>| {
            let span = document.nearest_span(&path).map(|s| s.value.clone());
            let mut diagnostic = Diagnostic::new(path, span, message);
            if let Some(help) = help {
                diagnostic = diagnostic.with_help(help);
            }
            diagnostics.push(diagnostic);
        },
    );
    if diagnostics.is_empty() {
        Ok(options)
    } else {
        diagnostics.sort_by_key(|d| d.span.as_ref().map_or(usize::MAX, |s| s.start));
        Err(invalid(diagnostics))
    }
}

fn convert_path(path: &serde_path_to_error::Path) -> KeyPath {
    let segments = path
        .iter()
        .filter_map(|segment| match segment {
            serde_path_to_error::Segment::Map { key } => Some(Segment::Key(key.clone())),
            serde_path_to_error::Segment::Seq { index } => Some(Segment::Index(*index)),
            _ => None,
        })
        .collect::<Vec<_>>();
    KeyPath::from(segments)
}

/// Rejects keys the schema does not know, and numbers outside the schema's bounds.
fn check_against_schema(
    walker: &SchemaWalker,
    schema: &'static Value,
    value: &Value,
    path: &KeyPath,
    document: &Document,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let resolved = walker.resolve(schema);
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_path = path.key(key);
                match walker.key(schema, key) {
                    KeyLookup::Known(child_schema) => {
                        check_against_schema(
                            walker,
                            child_schema,
                            child,
                            &child_path,
                            document,
                            diagnostics,
                        );
                    }
                    KeyLookup::Unknown {
                        suggestion,
                        allowed,
                    } => {
                        let span = document.span(&child_path).and_then(|s| s.key.clone());
                        let help = match suggestion {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!(
                                "allowed keys here: {}",
                                allowed
                                    .iter()
                                    .filter(|k| !k.starts_with('$'))
                                    .map(|k| format!("`{k}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        };
                        diagnostics.push(
                            Diagnostic::new(child_path, span, format!("unknown key `{key}`"))
                                .with_help(help),
                        );
                    }
                    KeyLookup::NotAnObject => {}
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = walker.items(schema) {
                for (index, item) in items.iter().enumerate() {
                    check_against_schema(
                        walker,
                        item_schema,
                        item,
                        &path.index(index),
                        document,
                        diagnostics,
                    );
                }
            }
        }
        Value::Number(number) => {
            let Some(n) = number.as_f64() else { return };
            let span = document.span(path).map(|s| s.value.clone());
            if let Some(min) = resolved.get("minimum").and_then(Value::as_f64)
                && n < min
            {
                let what = if min == 0.0 {
                    "cannot be negative".to_owned()
                } else {
                    format!("must be at least {min}")
                };
                diagnostics.push(Diagnostic::new(
                    path.clone(),
                    span.clone(),
                    format!("{what}, got {number}"),
                ));
                return;
            }
            if let Some(max) = resolved.get("maximum").and_then(Value::as_f64)
                && n > max
            {
                diagnostics.push(Diagnostic::new(
                    path.clone(),
                    span,
                    format!("must be at most {max}, got {number}"),
                ));
            }
        }
        _ => {}
    }
}

type Report<'a> = dyn FnMut(KeyPath, String, Option<&str>) + 'a;

fn semantic_checks(options: &Options, report: &mut Report<'_>) {
    let models_path = KeyPath::root().key("models");
    for (id, provider) in options.providers() {
        let path = models_path.key("providers").key(id);
        if let Err(reason) = validate_provider_id(id) {
            report(
                path.clone(),
                format!("invalid provider id `{id}`: {reason}"),
                Some("model references are `provider/model-id`, split at the first `/`"),
            );
        }
        if let Some(base_url) = &provider.base_url {
            match url::Url::parse(base_url) {
                Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
                Ok(_) => report(
                    path.key("baseUrl"),
                    format!("`{base_url}` is not an http(s) URL"),
                    None,
                ),
                Err(err) => report(
                    path.key("baseUrl"),
                    format!("`{base_url}` is not a valid URL: {err}"),
                    Some(
                        "write the full URL, e.g. `https://bedrock-runtime.us-east-1.amazonaws.com`",
                    ),
                ),
            }
        }
        if provider.api == Some(Api::OpenaiCompletions) && provider.base_url.is_none() {
            report(
                path.key("api"),
                "an `openai-completions` provider needs a `baseUrl`".to_owned(),
                None,
            );
        }
        for (name, _) in provider.headers.iter().flatten() {
            let valid = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !valid {
                report(
                    path.key("headers").key(name),
                    format!("`{name}` is not a valid HTTP header name"),
                    None,
                );
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (index, model) in provider.models.iter().flatten().enumerate() {
            let model_path = path.key("models").index(index);
            if model.id.trim().is_empty() {
                report(
                    model_path.key("id"),
                    "model id cannot be empty".to_owned(),
                    None,
                );
            } else if !seen.insert(model.id.as_str()) {
                report(
                    model_path.key("id"),
                    format!("model `{}` is listed twice in provider `{id}`", model.id),
                    None,
                );
            }
            if let (Some(context), Some(max)) = (model.context_window, model.max_tokens)
                && max > context
            {
                report(
                    model_path.key("maxTokens"),
                    format!("maxTokens ({max}) is larger than contextWindow ({context})"),
                    None,
                );
            }
            if let Some(cost) = &model.cost {
                for (key, value) in [
                    ("input", cost.input),
                    ("output", cost.output),
                    ("cacheRead", cost.cache_read),
                    ("cacheWrite", cost.cache_write),
                ] {
                    if value.is_some_and(|v| !v.is_finite()) {
                        report(
                            model_path.key("cost").key(key),
                            "must be a finite price in USD per 1M tokens".to_owned(),
                            None,
                        );
                    }
                }
            }
        }
    }
    if let Some(discovery) = options
        .models
        .as_ref()
        .and_then(|m| m.bedrock_discovery.as_ref())
    {
        let path = models_path.key("bedrockDiscovery");
        if let Some(region) = &discovery.region
            && !is_region_name(region)
        {
            report(
                path.key("region"),
                format!("`{region}` is not an AWS region name"),
                Some("regions look like `us-east-1` or `eu-central-2`"),
            );
        }
        for (index, filter) in discovery.provider_filter.iter().flatten().enumerate() {
            if filter.trim().is_empty() {
                report(
                    path.key("providerFilter").index(index),
                    "a provider filter cannot be empty".to_owned(),
                    None,
                );
            }
        }
    }
    for (name, target) in options
        .models
        .iter()
        .filter_map(|m| m.aliases.as_ref())
        .flat_map(|a| a.iter())
    {
        if let Err(err) = target.parse::<ModelRef>() {
            report(
                KeyPath::root().key("models").key("aliases").key(name),
                err.to_string(),
                None,
            );
        }
    }
    if let Some(model) = options.default_model() {
        let path = KeyPath::root().key("agents").key("defaults").key("model");
        if let Some(primary) = &model.primary
            && let Err(err) = primary.parse::<ModelRef>()
        {
            report(path.key("primary"), err.to_string(), None);
        }
        for (index, fallback) in model.fallbacks.iter().flatten().enumerate() {
            if let Err(err) = fallback.parse::<ModelRef>() {
                report(path.key("fallbacks").index(index), err.to_string(), None);
            }
        }
    }
    if let Some(token) = options
        .gateway
        .as_ref()
        .and_then(|g| g.auth.as_ref())
        .and_then(|a| a.token.as_deref())
        && let Some(problem) = crate::token::token_problem(token)
    {
        report(
            KeyPath::root().key("gateway").key("auth").key("token"),
            problem,
            Some("remove `gateway.auth.token` to run without a token (loopback only)"),
        );
    }
    if let Some(bind) = options.gateway.as_ref().and_then(|g| g.bind.as_ref())
        && bind != "localhost"
        && bind.parse::<IpAddr>().is_err()
    {
        report(
            KeyPath::root().key("gateway").key("bind"),
            format!("`{bind}` is not an IP address"),
            Some(
                "use `127.0.0.1` (loopback only), `0.0.0.0` (all interfaces, needs gateway.auth.token) or an interface address",
            ),
        );
    }
}

/// Whether `region` looks like an AWS region name (`us-east-1`, `us-gov-west-1`, `eu-central-2`).
fn is_region_name(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
}
