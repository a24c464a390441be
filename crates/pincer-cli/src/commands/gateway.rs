//! `pincer gateway [--bind ADDR] [--port N]`: serve the OpenAI-compatible API.
//!
//! It prints the address it listens on once ready (port 0 picks a free one) and stops on
//! SIGINT or SIGTERM, letting requests in flight finish. Binding to a non-loopback address
//! without a token is refused.

use std::net::{IpAddr, SocketAddr};

use anyhow::{Context, Result};
use pincer_config::{Config, ConfigLocation};
use pincer_core::env::EnvVars;
use pincer_gateway::http::{GatewayState, serve};
use pincer_gateway::providers::Providers;

use crate::cli::GatewayArgs;
use crate::commands::models::load_catalog;
use crate::exit::{ExitStatus, UsageError};
use crate::printer::Printer;

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
    let token = EnvVars::get_string(EnvVars::PINCER_GATEWAY_TOKEN)
        .or_else(|| settings.auth.as_ref().and_then(|a| a.token.clone()));
    if !ip.is_loopback() && token.is_none() {
        return Err(UsageError(format!(
            "refusing to listen on {ip} without a token: anyone who can reach it could use your AWS credentials; set gateway.auth.token or PINCER_GATEWAY_TOKEN, or bind to 127.0.0.1"
        ))
        .into());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (setup, catalog) = load_catalog(&config, &location.path, false, printer).await?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        let local = listener.local_addr()?;
        let state = GatewayState {
            options: config.options.clone(),
            catalog,
            providers: Providers::with_setup(setup, Default::default()),
            token,
        };
        printer.outln(&format!("pincer gateway listening on http://{local}"))?;
        serve(listener, state, shutdown_signal())
            .await
            .context("serving")?;
        printer.status("pincer gateway stopped");
        Ok(ExitStatus::Success)
    })
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
