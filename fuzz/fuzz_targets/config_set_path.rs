//! Fuzz target `config_set_path`: `pincer config set KEY VALUE`, in memory.
//!
//! Input format (text, so seeds stay readable): the first byte picks the variant (bit 0: the
//! value is `--strict-json`; the rest, modulo the number of bases, picks the config text to
//! edit), then the key path up to the first newline, then the value (the rest). The seeds start
//! with `0` (JSON5 base), `2` (JSON-style base) or `4` (a file holding only a comment); `1`, `3`
//! and `5` are the same with `--strict-json`.
//!
//! The steps are those of `config set`: parse the key path, parse the value, check the file's
//! syntax, apply the edit on the syntax tree, validate the result. Invariants checked:
//! - a key path prints as text that parses back to the same path;
//! - a rejected edit leaves the original text untouched;
//! - an accepted edit gives JSON5 with no duplicate keys, holding the new value at the path, with
//!   the file's leading comment still in place; setting the same value again changes no value,
//!   and unsetting the path keeps the comment and the syntax;
//! - a result the loader accepts is accepted again when loaded a second time.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pincer_config::document::Document;
use pincer_config::{KeyPath, edit, validate};
use serde_json::Value;

const ORIGIN: &str = "fuzz.json5";

const LEADING_COMMENT: &str = "// Pincer config used by the fuzzer; this comment must survive.\n";

/// The texts edits are applied to. Each is a valid config starting with [`LEADING_COMMENT`].
const BASES: [&str; 3] = [
    // The seed document's style: unquoted keys, trailing commas, comments throughout.
    r#"// Pincer config used by the fuzzer; this comment must survive.
{
  models: {
    // Discovery finds the models this account can invoke.
    bedrockDiscovery: {
      enabled: true,
      region: "us-east-1",
      providerFilter: ["anthropic", "amazon"], // matched case-insensitively
      refreshInterval: 3600,
    },
    providers: {
      "amazon-bedrock": {
        baseUrl: "https://bedrock-runtime.us-east-1.amazonaws.com",
        api: "bedrock-converse-stream",
        auth: "aws-sdk",
        models: [
          {
            id: "us.anthropic.claude-opus-4-6-v1:0",
            name: "Claude Opus 4.6 (Bedrock)",
            reasoning: true,
            input: ["text", "image"],
            cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
            contextWindow: 200000,
            maxTokens: 8192,
          },
        ],
      },
    },
  },
  /* Agents use the default model unless told otherwise. */
  agents: {
    defaults: {
      model: { primary: "amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0" },
    },
  },
}
"#,
    // Plain JSON with quoted keys, after a comment.
    r#"// Pincer config used by the fuzzer; this comment must survive.
{
  "models": {
    "bedrockDiscovery": { "enabled": false, "defaultMaxTokens": 4096 }
  },
  "gateway": { "port": 4000, "auth": { "token": "secret-token" } }
}
"#,
    // A file with nothing but the comment: the edit creates the document.
    "// Pincer config used by the fuzzer; this comment must survive.\n",
];

fuzz_target!(|data: &[u8]| {
    let Some((&variant, rest)) = data.split_first() else {
        return;
    };
    let Ok(rest) = std::str::from_utf8(rest) else {
        return;
    };
    let strict = variant & 1 == 1;
    let base = BASES[usize::from(variant >> 1) % BASES.len()];
    let (raw_path, raw_value) = rest.split_once('\n').unwrap_or((rest, ""));

    let path = match raw_path.parse::<KeyPath>() {
        Ok(path) => path,
        Err(err) => return drop(err.to_string()),
    };
    let printed = path.to_string();
    assert_eq!(
        printed.parse::<KeyPath>().as_ref(),
        Ok(&path),
        "`{raw_path}` prints as `{printed}`, which reads back differently"
    );
    let value = match edit::parse_value(&path, raw_value, strict) {
        Ok(value) => value,
        Err(err) => return drop(err.to_string()),
    };

    let original = base.to_owned();
    assert!(validate::check_syntax(&original, ORIGIN).is_ok());
    let edited = edit::set(&original, &path, &value);
    assert_eq!(original, base, "the edit changed its input");
    let new = match edited {
        Ok(new) => new,
        Err(err) => return drop(err.to_string()),
    };

    assert!(
        new.starts_with(LEADING_COMMENT),
        "set `{path}` lost the leading comment:\n{new}"
    );
    let document = parsed(&new, &path);
    assert_eq!(
        lookup(&document, &path),
        Some(&value),
        "set `{path}` did not store the value:\n{new}"
    );

    // Setting the same value again is a no-op on the values (`config set` run twice).
    if let Ok(again) = edit::set(&new, &path, &value) {
        assert_eq!(
            parsed(&again, &path),
            document,
            "setting `{path}` twice changed the config:\n{again}"
        );
    }
    // And `config unset` of the same path keeps the comment and the syntax.
    match edit::unset(&new, &path) {
        Ok(Some(removed)) => {
            assert!(removed.starts_with(LEADING_COMMENT), "{removed}");
            parsed(&removed, &path);
        }
        Ok(None) => panic!("unset `{path}` found nothing right after setting it:\n{new}"),
        Err(err) => drop(err.to_string()),
    }

    // `config set` writes only what the loader accepts; what it accepts loads again.
    match validate::parse(&new, ORIGIN) {
        Ok(options) => assert_eq!(validate::parse(&new, ORIGIN).ok(), Some(options)),
        Err(err) => drop(err.to_string()),
    }
});

/// Parses an edited text, which must be JSON5 without duplicate keys.
fn parsed(text: &str, path: &KeyPath) -> Value {
    match Document::parse(text) {
        Ok((document, diagnostics)) => {
            let problems: Vec<String> = diagnostics.iter().map(|d| d.headline()).collect();
            assert!(
                problems.is_empty(),
                "editing `{path}` gave {problems:?}:\n{text}"
            );
            document.value
        }
        Err(err) => panic!(
            "editing `{path}` broke the syntax ({}):\n{text}",
            err.message
        ),
    }
}

/// The value at `path`, addressed as `config get` does: an all-digit key indexes an array.
fn lookup<'a>(root: &'a Value, path: &KeyPath) -> Option<&'a Value> {
    let mut current = root;
    for segment in path.segments() {
        current = match current {
            Value::Object(map) => map.get(&segment.object_key())?,
            Value::Array(items) => items.get(segment.as_index()?)?,
            _ => return None,
        };
    }
    Some(current)
}
