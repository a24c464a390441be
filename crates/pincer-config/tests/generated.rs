//! Committed files generated from the config types must match the code: the JSON Schema
//! (`pincer.schema.json`) and the configuration reference in `README.md`.
//! Run with `PINCER_UPDATE_GENERATED=1` to rewrite them after changing the types.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub,
    missing_docs
)] // test code: a panic is a failed test

use std::path::PathBuf;

use pincer_core::env::EnvVars;

const START: &str = "<!-- config-reference:start -->\n";
const END: &str = "<!-- config-reference:end -->";

fn repo_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(name)
}

fn check(path: PathBuf, expected: String) {
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current == expected {
        return;
    }
    if EnvVars::is_true(EnvVars::PINCER_UPDATE_GENERATED) {
        std::fs::write(&path, expected).unwrap();
        return;
    }
    panic!(
        "{} is out of date with the config types; run `PINCER_UPDATE_GENERATED=1 cargo test -p pincer-config --test generated` and commit the result",
        path.display()
    );
}

#[test]
fn json_schema_is_up_to_date() {
    check(
        repo_file("pincer.schema.json"),
        pincer_config::schema::schema_text(),
    );
}

#[test]
fn readme_reference_is_up_to_date() {
    let path = repo_file("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme
        .find(START)
        .expect("README.md lacks the config-reference start marker")
        + START.len();
    let end = readme
        .find(END)
        .expect("README.md lacks the config-reference end marker");
    let expected = format!(
        "{}{}{}",
        &readme[..start],
        pincer_config::schema::reference_markdown(),
        &readme[end..]
    );
    check(path, expected);
}

#[test]
fn schema_rejects_unknown_keys_everywhere() {
    // Every object in the schema is closed, so a typo anywhere is caught.
    let schema = pincer_config::schema::json_schema();
    let mut open = Vec::new();
    let mut stack = vec![(String::from("#"), schema)];
    while let Some((at, node)) = stack.pop() {
        if let Some(object) = node.as_object() {
            if object.contains_key("properties")
                && object.get("additionalProperties") != Some(&serde_json::Value::Bool(false))
            {
                open.push(at.clone());
            }
            for (key, child) in object {
                stack.push((format!("{at}/{key}"), child));
            }
        } else if let Some(items) = node.as_array() {
            for (i, child) in items.iter().enumerate() {
                stack.push((format!("{at}/{i}"), child));
            }
        }
    }
    assert!(
        open.is_empty(),
        "objects that accept unknown keys: {open:?}"
    );
}
