//! The floor: a do-nothing reverse proxy (hyper via axum and reqwest, TCP_NODELAY, no parsing)
//! run as its own process (`pincer-bench proxy`). Requests sent through it cross the same two
//! loopback hops as through a gateway, so its added latency is what any gateway pays before
//! doing any work on this machine.

use anyhow::Result;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::response::Response;
use axum::serve::ListenerExt;

use crate::contender::Contender;
use crate::load::Target;
use crate::procs::Server;
use crate::setup::MODEL;

/// Its name in the tables.
pub(crate) const NAME: &str = "bare proxy";

#[derive(Clone)]
struct Upstream {
    url: String,
    client: reqwest::Client,
}

async fn forward(State(upstream): State<Upstream>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let mut outgoing = upstream.client.post(format!("{}{path}", upstream.url));
    for name in [
        axum::http::header::AUTHORIZATION,
        axum::http::header::CONTENT_TYPE,
    ] {
        if let Some(value) = request.headers().get(&name) {
            outgoing = outgoing.header(name, value);
        }
    }
    let body = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    match outgoing.body(body).send().await {
        Ok(answer) => {
            let mut response = Response::builder().status(answer.status().as_u16());
            for (name, value) in answer.headers() {
                if name != HeaderName::from_static("content-length")
                    && name != HeaderName::from_static("transfer-encoding")
                {
                    response = response.header(name, value);
                }
            }
            response
                .body(Body::from_stream(answer.bytes_stream()))
                .unwrap_or_else(|_| Response::new(Body::empty()))
        }
        Err(_) => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::BAD_GATEWAY;
            response
        }
    }
}

/// Serves the proxy to `upstream` on a free loopback port, printing its address.
pub(crate) async fn serve(upstream: String) -> Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    let state = Upstream {
        url: upstream,
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(usize::MAX)
            .build()?,
    };
    let app = axum::Router::new().fallback(forward).with_state(state);
    crate::report::announce(&format!("proxy listening on http://{addr}"));
    axum::serve(listener, app).await?;
    Ok(())
}

/// Starts the proxy as a child process in front of `twin_url`.
pub(crate) fn start(twin_url: &str) -> Result<Contender> {
    let mut command = std::process::Command::new(std::env::current_exe()?);
    command.args(["proxy", "--upstream", twin_url]);
    let server = Server::start("proxy", command, "proxy listening on ", None)?;
    Ok(Contender {
        name: NAME.to_owned(),
        target: Target::Bedrock {
            url: server.url.clone(),
            model: MODEL.to_owned(),
        },
        server,
        compared: false,
    })
}
