//! The accept loop: hyper's HTTP/1 server with the limits that keep one slow or greedy client
//! from starving the rest.
//!
//! - **Connections** are capped at `gateway.limits.maxConnections`: at the cap the loop stops
//!   accepting, and new connections wait in the kernel's listen queue until one closes. The
//!   soft limit on open files is raised to the hard limit at start, and the cap is lowered to
//!   fit under it (with a warning) when the system allows fewer files than that.
//! - **Headers** must arrive within `gateway.limits.headerTimeout` (hyper's own
//!   `header_read_timeout`, which also closes idle keep-alive connections); a client that
//!   trickles its headers one byte at a time is cut off.
//! - Bodies, concurrency and panics are handled per request, in [`super::limits`].
//!
//! On shutdown the listener closes at once; connections in flight get the grace period, then
//! are cut.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use super::Stopped;

/// File descriptors kept free for everything that is not a client connection: the listener,
/// upstream connections to Bedrock, the discovery cache, logs.
const RESERVED_FDS: u64 = 128;

/// How many client connections the process can hold: `wanted`, or fewer when the open-file limit
/// (raised to its hard limit first) leaves less room. Returns the number and, when it is lower
/// than `wanted`, a warning saying why.
pub fn connection_capacity(wanted: usize) -> (usize, Option<String>) {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(_) => return (wanted, None),
    };
    let room = usize::try_from(limit.saturating_sub(RESERVED_FDS).max(1)).unwrap_or(usize::MAX);
    if room < wanted {
        (
            room,
            Some(format!(
                "gateway.limits.maxConnections is {wanted}, but this process may open only {limit} files; serving at most {room} connections (raise the limit with `ulimit -n`)"
            )),
        )
    } else {
        (wanted, None)
    }
}

/// Serves `app` on `listener` until `shutdown` resolves; see the module documentation.
pub async fn run(
    listener: TcpListener,
    app: Router,
    max_connections: usize,
    header_timeout: Duration,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<Stopped> {
    let permits = Arc::new(Semaphore::new(max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors or a connection reset before accept: wait a moment
                    // instead of spinning, then go on serving.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Without TCP_NODELAY, Nagle's algorithm holds a small SSE chunk written right after
        // another until the client acknowledges the first: a stream would lag one delta behind.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
        let service =
            TowerToHyperService::new(app.clone().map_request(
                |request: hyper::Request<Incoming>| request.map(axum::body::Body::new),
            ));
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => Ok(Stopped::Drained),
        () = tokio::time::sleep(grace) => Ok(Stopped::GraceElapsed),
    }
}
