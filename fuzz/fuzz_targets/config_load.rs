//! Fuzz target `config_load`: arbitrary text through the config loader and the editing layer.
//!
//! The input, when it is UTF-8, is read the ways Pincer reads a config file: the full loader
//! (`validate::parse`: syntax, schema, types, cross-field checks), the syntax check that guards
//! `config set`, the span-indexed document, and the syntax tree that `config set`/`config unset`
//! edit. Errors are expected; a panic is a bug. Every error is rendered, because rendering quotes
//! the text around a byte span. Invariants checked:
//! - secret masking keeps every byte offset (it is documented to mask byte for byte);
//! - spans the document reports lie inside the text, on character boundaries;
//! - an edit of a text that is JSON5 gives text that is JSON5 again.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pincer_config::document::Document;
use pincer_config::redact::mask_secret_lines;
use pincer_config::{ConfigError, KeyPath, Options, edit, validate};
use pincer_core::ModelRef;
use serde_json::json;

const ORIGIN: &str = "fuzz.json5";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    assert_eq!(
        mask_secret_lines(text).len(),
        text.len(),
        "masking must keep byte offsets"
    );

    match validate::parse(text, ORIGIN) {
        Ok(options) => use_options(&options),
        Err(err) => drop(err.to_string()),
    }
    if let Err(err) = validate::check_syntax(text, ORIGIN) {
        drop(err.to_string());
    }

    let parsed = Document::parse(text);
    let is_json5 = parsed.is_ok();
    if let Ok((document, diagnostics)) = parsed {
        for diagnostic in &diagnostics {
            drop(diagnostic.headline());
        }
        drop(pincer_config::diagnostic::render(
            &diagnostics,
            ORIGIN,
            text,
        ));
        for path in [
            "models.providers",
            "models.providers.amazon-bedrock.models[0].id",
        ] {
            if let Ok(path) = path.parse::<KeyPath>()
                && let Some(span) = document.nearest_span(&path)
            {
                assert!(text.get(span.value.clone()).is_some(), "span {span:?}");
                if let Some(key) = &span.key {
                    assert!(text.get(key.clone()).is_some(), "span {span:?}");
                }
            }
        }
    }

    let enabled = KeyPath::root()
        .key("models")
        .key("bedrockDiscovery")
        .key("enabled");
    check_edit(text, is_json5, edit::set(text, &enabled, &json!(true)));
    let hosts = KeyPath::root()
        .key("gateway")
        .key("remoteImages")
        .key("allowHosts");
    check_edit(
        text,
        is_json5,
        edit::set(text, &hosts.index(0), &json!("images.internal")),
    );
    let unset = edit::unset(text, &KeyPath::root().key("models"));
    check_edit(text, is_json5, unset.map(|out| out.unwrap_or_default()));
});

/// An edit of a text that is JSON5 must give text that is JSON5 again.
fn check_edit(text: &str, is_json5: bool, edited: Result<String, ConfigError>) {
    match edited {
        Ok(out) => assert!(
            !is_json5 || Document::parse(&out).is_ok(),
            "the edit broke the syntax of\n{text}\ninto\n{out}"
        ),
        Err(err) => drop(err.to_string()),
    }
}

/// Reads a valid config the ways the commands do: the defaulted accessors, and the resolution
/// of every model reference it holds (as `pincer chat` and the gateway resolve them).
fn use_options(options: &Options) {
    let discovery = options.discovery();
    let _ = (
        discovery.refresh_interval_secs(),
        discovery.default_context_window(),
        discovery.default_max_tokens(),
    );
    let gateway = options.gateway();
    let _ = (
        gateway.bind(),
        gateway.port(),
        gateway.request_timeout(),
        gateway.shutdown_timeout(),
    );
    let images = gateway.remote_images();
    let _ = (images.enabled(), images.max_bytes(), images.timeout());
    let mut references: Vec<String> = Vec::new();
    if let Some(model) = options.default_model() {
        references.extend(model.primary.iter().cloned());
        references.extend(model.fallbacks.iter().flatten().cloned());
    }
    for (id, provider) in options.providers() {
        for model in provider.models.iter().flatten() {
            references.push(format!("{id}/{}", model.id));
        }
    }
    for reference in references {
        if let Ok(reference) = reference.parse::<ModelRef>() {
            drop(pincer_runtime::resolve::resolve(options, &reference));
        }
    }
}
