//! `pincer models status [--json] [--probe] [--check]`: the default model and its fallbacks, the
//! credential source (in the seed document's order, plus the provider that really supplied
//! them), the region, and discovery's state. `--probe` sends a minimal request to every
//! configured model in parallel and classifies the outcome; `--check` exits 1 when the default
//! model is unusable.

use std::time::{Duration, Instant};

use anyhow::Result;
use futures_util::StreamExt;
use futures_util::future::join_all;
use pincer_bedrock::aws::ProcessEnvironment;
use pincer_bedrock::credentials::{CredentialReport, detect};
use pincer_config::{Config, ConfigLocation};
use pincer_core::{ErrorKind, ModelRef, ProviderRequest, RequestOptions, StreamEvent};
use pincer_runtime::catalog::Catalog;
use pincer_runtime::providers::Providers;
use serde::Serialize;
use serde_json::json;

use super::{load_catalog, table};
use crate::cli::ModelsStatusArgs;
use crate::exit::ExitStatus;
use crate::printer::Printer;

/// One model reference from the config and what is known about it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ModelCheck {
    key: String,
    role: &'static str,
    in_catalog: bool,
    problem: Option<String>,
}

/// The outcome of a probe.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    key: String,
    result: &'static str,
    latency_ms: u128,
    detail: Option<String>,
}

/// Shows the model setup.
pub fn run(
    location: &ConfigLocation,
    args: &ModelsStatusArgs,
    printer: &Printer,
) -> Result<ExitStatus> {
    let config = Config::load(&location.path)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(status(&config, location, args, printer))
}

async fn status(
    config: &Config,
    location: &ConfigLocation,
    args: &ModelsStatusArgs,
    printer: &Printer,
) -> Result<ExitStatus> {
    let (setup, catalog) = load_catalog(config, &location.path, false, printer).await?;
    let credentials = match catalog.discovery.credentials.clone() {
        Some(report) => report,
        None => detect(&setup.config, &ProcessEnvironment, Duration::from_secs(3)).await,
    };
    let checks = model_checks(config, &catalog);
    let probes = if args.probe {
        probe(config, &catalog, setup.clone(), &checks).await
    } else {
        Vec::new()
    };
    let default = checks.iter().find(|c| c.role == "default");
    let default_probe = default.and_then(|d| probes.iter().find(|p| p.key == d.key));
    let needs_aws = default.is_some_and(|d| {
        d.key
            .starts_with(&format!("{}/", pincer_bedrock::provider::PROVIDER_ID))
    });
    let default_ok = default.is_some_and(|d| d.problem.is_none())
        && default_probe.is_none_or(|p| p.result == "ok")
        && (credentials.present || !needs_aws);
    if args.json {
        let value = json!({
            "models": checks,
            "credentials": credentials,
            "region": {"name": setup.region, "source": catalog.discovery.region_source},
            "discovery": catalog.discovery,
            "probes": probes,
            "defaultUsable": default_ok,
        });
        printer.outln(&serde_json::to_string_pretty(&value)?)?;
    } else {
        printer.out(&render(&checks, &credentials, &catalog, &probes))?;
    }
    Ok(if args.check && !default_ok {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

fn model_checks(config: &Config, catalog: &Catalog) -> Vec<ModelCheck> {
    let default = config.options.default_model();
    let mut refs: Vec<(String, &'static str)> = Vec::new();
    match default.and_then(|m| m.primary.clone()) {
        Some(primary) => refs.push((primary, "default")),
        None => {
            return vec![ModelCheck {
                key: String::new(),
                role: "default",
                in_catalog: false,
                problem: Some("no default model: set agents.defaults.model.primary".to_owned()),
            }];
        }
    }
    refs.extend(
        default
            .and_then(|m| m.fallbacks.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|f| (f, "fallback")),
    );
    // Every other model configured by hand is probed too.
    for (provider, options) in config.options.providers() {
        for model in options.models.iter().flatten() {
            let key = format!("{provider}/{}", model.id);
            if !refs.iter().any(|(k, _)| *k == key) {
                refs.push((key, "configured"));
            }
        }
    }
    refs.into_iter()
        .map(|(key, role)| {
            let parsed: Result<ModelRef, String> = key
                .parse()
                .map_err(|e: pincer_core::ModelRefError| e.to_string());
            let (in_catalog, problem) = match parsed {
                Err(e) => (false, Some(e)),
                Ok(reference) => match catalog.resolve(&config.options, &reference) {
                    Err(e) => (false, Some(e.to_string())),
                    Ok(_) if catalog.get(&reference).is_some() => (true, None),
                    Ok(_) => {
                        let near: Vec<String> = catalog
                            .closest(&key, 3)
                            .iter()
                            .map(|e| format!("`{}`", e.key))
                            .collect();
                        let hint = if near.is_empty() {
                            String::new()
                        } else {
                            format!("; closest: {}", near.join(", "))
                        };
                        (false, Some(format!("not in the model catalog{hint}")))
                    }
                },
            };
            ModelCheck {
                key,
                role,
                in_catalog,
                problem,
            }
        })
        .collect()
}

async fn probe(
    config: &Config,
    catalog: &Catalog,
    setup: pincer_bedrock::aws::AwsSetup,
    checks: &[ModelCheck],
) -> Vec<Probe> {
    let providers = Providers::with_setup(setup, Default::default());
    let providers = &providers;
    let jobs = checks
        .iter()
        .filter(|c| !c.key.is_empty())
        .map(|check| async move {
            let started = Instant::now();
            let finish = |result: &'static str, detail: Option<String>| Probe {
                key: check.key.clone(),
                result,
                latency_ms: started.elapsed().as_millis(),
                detail,
            };
            let Ok(reference) = check.key.parse::<ModelRef>() else {
                return finish("invalid", check.problem.clone());
            };
            let resolved = match catalog.resolve(&config.options, &reference) {
                Ok(resolved) => resolved,
                Err(e) => return finish("not found", Some(e.to_string())),
            };
            let provider = match providers.get(&resolved.backend).await {
                Ok(provider) => provider,
                Err(e) => return finish("unsupported", Some(e.to_string())),
            };
            let request = ProviderRequest {
                model: resolved.model,
                conversation: pincer_core::Conversation {
                    messages: vec![pincer_core::Message::user_text("ping")],
                    ..Default::default()
                },
                options: RequestOptions {
                    max_tokens: Some(1),
                    ..RequestOptions::default()
                },
            };
            let last = tokio::time::timeout(
                Duration::from_secs(20),
                provider.stream(request).collect::<Vec<_>>(),
            )
            .await;
            match last.map(|mut events| events.pop()) {
                Err(_) => finish("timeout", None),
                Ok(Some(StreamEvent::Done { .. })) => finish("ok", None),
                Ok(Some(StreamEvent::Error { error, .. })) => {
                    let result = match error.kind {
                        ErrorKind::Auth => "auth",
                        ErrorKind::AccessDenied => "access denied",
                        ErrorKind::OnDemandNotSupported { .. } => "on-demand not supported",
                        ErrorKind::Throttled { .. } => "throttled",
                        ErrorKind::InvalidModel => "not found",
                        ErrorKind::Timeout => "timeout",
                        _ => "error",
                    };
                    finish(result, Some(error.to_string()))
                }
                Ok(_) => finish(
                    "error",
                    Some("the stream ended without an answer".to_owned()),
                ),
            }
        });
    join_all(jobs).await
}

fn render(
    checks: &[ModelCheck],
    credentials: &CredentialReport,
    catalog: &Catalog,
    probes: &[Probe],
) -> String {
    let mut out = String::new();
    for check in checks {
        let label = match check.role {
            "default" => "Default model",
            "fallback" => "Fallback",
            _ => "Configured",
        };
        let state = match &check.problem {
            None => "ok".to_owned(),
            Some(problem) => problem.clone(),
        };
        let key = if check.key.is_empty() {
            "(none)"
        } else {
            check.key.as_str()
        };
        out.push_str(&format!("{label:<14} {key} — {state}\n"));
    }
    let found = if credentials.present {
        let kind = if credentials.temporary {
            "temporary"
        } else {
            "long-term"
        };
        format!(
            "{} ({kind})",
            credentials.provider.as_deref().unwrap_or("resolved")
        )
    } else {
        format!(
            "none found: {}",
            credentials.error.as_deref().unwrap_or("no source")
        )
    };
    out.push_str(&format!(
        "{:<14} {} → {found}\n",
        "Credentials",
        credentials.source.label()
    ));
    let discovery = &catalog.discovery;
    out.push_str(&format!(
        "{:<14} {} (from {})\n",
        "Region", discovery.region, discovery.region_source
    ));
    let state = if discovery.enabled { "on" } else { "off" };
    out.push_str(&format!(
        "{:<14} {state}: {}\n",
        "Discovery", discovery.reason
    ));
    if discovery.enabled {
        let cache = match discovery.cache_age_secs {
            Some(age) if discovery.from_cache => format!("from cache, {age} s old"),
            _ => "fetched now".to_owned(),
        };
        out.push_str(&format!(
            "{:<14} {} models, {cache}\n",
            "", discovery.discovered
        ));
    }
    if let Some(error) = &discovery.error {
        out.push_str(&format!("{:<14} last error: {error}\n", ""));
    }
    if !probes.is_empty() {
        out.push('\n');
        let rows: Vec<Vec<String>> = probes
            .iter()
            .map(|p| {
                vec![
                    p.key.clone(),
                    p.result.to_owned(),
                    format!("{} ms", p.latency_ms),
                    p.detail.clone().unwrap_or_default(),
                ]
            })
            .collect();
        out.push_str(&table(&["Probe", "Result", "Latency", "Detail"], &rows));
    }
    out
}
