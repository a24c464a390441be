//! `pincer gateway [--bind ADDR] [--port N]`: serve the OpenAI-compatible API.
//!
//! It prints the address it listens on once ready (port 0 picks a free one), refreshes the
//! model catalog in the background, and stops on SIGINT or SIGTERM, letting requests in flight
//! finish within `gateway.shutdownTimeout`. Binding to a non-loopback address without a token
//! is refused. Managed keys and spend live in the database (`crate::commands::database`),
//! migrated on start; a database that is down does not stop the gateway, whose keyed requests
//! are refused until it answers. Spend rows still queued are written before it exits. Request logs go to stderr (`PINCER_LOG`, `PINCER_LOG_FORMAT`); traces go over
//! OTLP when an endpoint is set (`crate::telemetry`), and are flushed before it exits.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use anyhow::{Context, Result};
use pincer_bedrock::aws::ProcessEnvironment;
use pincer_config::{Config, ConfigLocation};
use pincer_gateway::http::{GatewayState, Stopped, serve};
use pincer_runtime::Runtime;
use pincer_runtime::providers::Providers;
use pincer_runtime::refresh::Refresher;

use crate::cli::GatewayArgs;
use crate::commands::models::{AWS_DEADLINE, home_of, load_serving_catalog};
use crate::exit::{ExitStatus, UsageError};
use crate::printer::Printer;

/// The log filter when `PINCER_LOG` is unset: requests and status at `info`, the rest `warn`.
const GATEWAY_LOG_FILTER: &str = "warn,pincer_gateway=info,pincer::status=info";

/// Runs the gateway until a signal stops it.
pub fn run(location: &ConfigLocation, args: &GatewayArgs, printer: &Printer) -> Result<ExitStatus> {
    let config = Config::load(&location.path)?;
    let settings = config.options.gateway();
    let bind = args
        .bind
        .clone()
        .unwrap_or_else(|| settings.bind().to_owned());
    let ip: IpAddr = if bind == "localhost" {
        IpAddr::from([127, 0, 0, 1])
    } else {
        bind.parse()
            .map_err(|_| UsageError(format!("`{bind}` is not an IP address to listen on")))?
    };
    let addr = SocketAddr::new(ip, args.port.unwrap_or_else(|| settings.port()));
    let token = pincer_config::token::gateway_token(&config.options)
        .map_err(|e| UsageError(e.to_string()))?;
    if !ip.is_loopback() && token.is_none() {
        return Err(UsageError(format!(
            "refusing to listen on {ip} without a token: anyone who can reach it could use your AWS credentials; set gateway.auth.token or PINCER_GATEWAY_TOKEN, or bind to 127.0.0.1"
        ))
        .into());
    }
    // Logs, and traces when an OTLP endpoint is set.
    let telemetry =
        crate::telemetry::Settings::resolve(&settings.telemetry.clone().unwrap_or_default())
            .map_err(UsageError)?;
    let (exporter, tracer) = match &telemetry {
        Some(telemetry) => {
            let (exporter, tracer) = crate::telemetry::Exporter::start(telemetry)?;
            (Some(exporter), Some(tracer))
        }
        None => (None, None),
    };
    if let Some(warning) = crate::logging::init(GATEWAY_LOG_FILTER, tracer) {
        printer.warn(&warning);
    }
    // JSON logs stay all JSON: status lines and warnings become records too.
    let records;
    let printer = if crate::logging::json_format() {
        records = printer.as_log_records();
        &records
    } else {
        printer
    };
    if let Some(telemetry) = &telemetry {
        printer.status(&format!(
            "exporting traces to {} as {}",
            telemetry.traces_url, telemetry.service_name
        ));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    pincer_gateway::http::limits::log_panics();
    let served = runtime.block_on(async {
        let (setup, catalog) = load_serving_catalog(&config, &location.path, printer).await?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        let local = listener.local_addr()?;
        let refresher = Refresher {
            options: config.options.clone(),
            pincer_home: home_of(&location.path),
            aws: setup.clone(),
            env: Arc::new(ProcessEnvironment),
            deadline: AWS_DEADLINE,
            first_retry: pincer_runtime::refresh::FIRST_RETRY,
        };
        let runtime = Arc::new(Runtime::new(
            config.options.clone(),
            catalog,
            Providers::with_setup(setup, Default::default()),
        ));
        let database = crate::commands::database::url(&config, location);
        let store = pincer_store::Store::lazy(&database).map_err(|e| UsageError(e.to_string()))?;
        printer.status(&format!(
            "keys and spend in {}",
            crate::commands::database::shown(&database)
        ));
        let accounts = pincer_gateway::http::accounts::Accounts::start(store);
        if let Err(problem) = accounts.ready_within(std::time::Duration::from_secs(10)).await {
            printer.warn(&format!(
                "the key database is unavailable ({problem}): requests with managed keys are refused with 503 until it answers"
            ));
        }
        let state = Arc::new(
            GatewayState::new(runtime.clone(), token)
                .with_telemetry(exporter.is_some())
                .with_accounts(accounts.clone()),
        );
        let metrics = state.metrics.clone();
        let refresh = refresher.spawn(runtime, move |ok, served| {
            metrics.catalog_refreshed(ok, served);
        });
        printer.outln(&format!("pincer gateway listening on http://{local}"))?;
        let stopped = serve(listener, state, shutdown_signal(), settings.shutdown_timeout())
            .await
            .context("serving")?;
        if let Some(refresh) = refresh {
            refresh.abort();
        }
        if !accounts.flush(std::time::Duration::from_secs(5)).await {
            printer.warn("some spend rows were not written: the key database did not answer within 5 s");
        }
        accounts.store().close().await;
        match stopped {
            Stopped::Drained => printer.status("pincer gateway stopped"),
            Stopped::GraceElapsed => printer.warn(&format!(
                "pincer gateway stopped after gateway.shutdownTimeout ({} s) with requests still in flight",
                settings.shutdown_timeout().as_secs()
            )),
        }
        Ok(ExitStatus::Success)
    });
    if let Some(exporter) = exporter
        && let Err(error) = exporter.shutdown()
    {
        printer.warn(&format!("{error:#}"));
    }
    served
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
