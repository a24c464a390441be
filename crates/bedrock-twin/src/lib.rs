//! `bedrock-twin`: a faithful Amazon Bedrock emulator on loopback, for tests, benchmarks and the
//! offline demo. It depends on no Pincer crate, so any AWS client can use it.
//!
//! It serves, on one port, the control plane (`ListFoundationModels`, `GetFoundationModel`,
//! `ListInferenceProfiles`, `GetInferenceProfile`) and the runtime (`Converse`,
//! `ConverseStream`), and optionally, on ports of their own, the same API over HTTPS with a
//! self-signed certificate, an IMDSv2 emulation and an ECS container-credentials endpoint.
//! Every request is authenticated (SigV4 with signing name `bedrock`, or a bearer token).
//!
//! # Per-request controls
//! - `x-twin-fault: NAME[:ARG]`, or a `~NAME[:ARG]` suffix on the model id: `throttle`,
//!   `5xx[:500|503]`, `midstream-<exception>[:N]` (after N deltas; exceptions
//!   `throttlingException`, `modelStreamErrorException`, `internalServerException`,
//!   `serviceUnavailableException`, `validationException`), `reset[:N]`, `stall[:SECS]`,
//!   `slow[:MS]`, `fail-first[:N]` (counted per caller, path and `x-twin-fault-key`). A fault
//!   after N deltas on a reply with fewer comes after its last delta: it always happens.
//! - `x-twin-deltas`, `x-twin-delta-size`, `x-twin-delay-ms`, `x-twin-zero-delay`: reply shape.
//! - `x-twin-replay: <path>` or model id suffix `~replay=<path>`: send the recorded capture at
//!   that path under the vectors folder byte for byte.
//!
//! # Example
//! ```no_run
//! # async fn demo() -> Result<(), bedrock_twin::TwinError> {
//! let twin = bedrock_twin::Twin::start(bedrock_twin::TwinConfig::default()).await?;
//! let endpoint = twin.url(); // give this to the SDK as its endpoint URL
//! # let _ = endpoint;
//! twin.stop().await;
//! # Ok(()) }
//! ```

pub mod auth;
pub mod catalogue;
mod control;
pub mod embed;
pub mod error;
pub mod faults;
pub mod features;
pub mod imds;
pub mod replay;
mod runtime;
pub mod script;
mod server;
pub mod state;
pub mod stream;
pub mod tls;
pub mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::serve::ListenerExt as _;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use auth::AccessKey;
pub use catalogue::Catalogue;
pub use error::{AwsError, TwinError};
pub use faults::{Fault, Knobs, StreamException};

/// Access key id accepted out of the box.
pub const DEFAULT_ACCESS_KEY_ID: &str = "AKIDTWIN";
/// Secret of [`DEFAULT_ACCESS_KEY_ID`].
pub const DEFAULT_SECRET_ACCESS_KEY: &str = "twin-secret";
/// Bearer token accepted out of the box.
pub const DEFAULT_BEARER_TOKEN: &str = "twin-bearer";

/// How to start a twin.
#[derive(Debug, Clone)]
pub struct TwinConfig {
    /// Port of the Bedrock API (control plane and runtime); 0 picks a free one.
    pub port: u16,
    /// Port of an HTTPS listener serving the same API with a self-signed certificate; `None`
    /// does not start it, `Some(0)` picks a free one.
    pub tls_port: Option<u16>,
    /// Port of the IMDSv2 endpoint; `None` does not start it, `Some(0)` picks a free one.
    pub imds_port: Option<u16>,
    /// Port of the ECS credentials endpoint; `None` does not start it.
    pub ecs_port: Option<u16>,
    /// Token the ECS endpoint requires in `Authorization` (none: no check).
    pub ecs_auth_token: Option<String>,
    /// The catalogue served.
    pub catalogue: Catalogue,
    /// Accepted access keys.
    pub keys: Vec<AccessKey>,
    /// Accepted bearer tokens.
    pub bearer_tokens: Vec<String>,
    /// Allowed difference between a signature's time and now.
    pub clock_skew: Duration,
    /// Lifetime of the credentials IMDS and ECS hand out.
    pub credential_ttl: Duration,
    /// A fault applied to every request.
    pub fault: Option<Fault>,
    /// Reply-shaping defaults.
    pub knobs: Knobs,
    /// Folder of recorded captures for replay.
    pub vectors_dir: Option<PathBuf>,
}

impl TwinConfig {
    /// The default configuration with the built-in catalogue.
    pub fn new() -> Result<Self, TwinError> {
        Ok(Self::with_catalogue(Catalogue::built_in()?))
    }

    /// The default configuration serving `catalogue`.
    pub fn with_catalogue(catalogue: Catalogue) -> Self {
        Self {
            port: 0,
            tls_port: None,
            imds_port: None,
            ecs_port: None,
            ecs_auth_token: None,
            catalogue,
            keys: vec![AccessKey::new(
                DEFAULT_ACCESS_KEY_ID,
                DEFAULT_SECRET_ACCESS_KEY,
            )],
            bearer_tokens: vec![DEFAULT_BEARER_TOKEN.to_owned()],
            clock_skew: Duration::from_secs(300),
            credential_ttl: Duration::from_secs(6 * 3600),
            fault: None,
            knobs: Knobs::default(),
            vectors_dir: None,
        }
    }
}

impl Default for TwinConfig {
    /// The default configuration. The built-in catalogue is compiled in and checked by the
    /// crate's tests; were it ever unreadable, the catalogue would be empty.
    fn default() -> Self {
        Self::new().unwrap_or_else(|_| Self::with_catalogue(Catalogue::empty()))
    }
}

/// Starts twins.
#[derive(Debug)]
pub struct Twin;

impl Twin {
    /// Binds the configured ports on 127.0.0.1 and starts serving.
    pub async fn start(config: TwinConfig) -> Result<RunningTwin, TwinError> {
        let keys = Arc::new(auth::KeyStore::new(
            config.keys,
            config.bearer_tokens,
            config.clock_skew,
        ));
        let issuer = Arc::new(imds::CredentialIssuer::new(
            keys.clone(),
            config.credential_ttl,
        ));
        let state = Arc::new(state::AppState::new(
            config.catalogue,
            keys,
            config.fault,
            config.knobs,
            config.vectors_dir,
        ));
        let shared = state.clone();
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();

        let router = server::router(state);
        // Each event-stream frame is its own small write; like Bedrock, send it at once rather
        // than let Nagle's algorithm hold it for the previous one's acknowledgement.
        let listener = bind(config.port).await?.tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
        let (addr, task) = serve(listener, router.clone(), stop_rx.clone())?;
        tasks.push(task);
        let url = format!("http://{addr}");

        let tls = match config.tls_port {
            Some(port) => {
                let identity = tls::TlsIdentity::self_signed()?;
                let listener = tls::TlsListener::new(bind(port).await?, &identity)?;
                let (addr, task) = serve(listener, router, stop_rx.clone())?;
                tasks.push(task);
                Some((format!("https://{addr}"), identity))
            }
            None => None,
        };

        let credentials = issuer.clone();
        let imds_url = match config.imds_port {
            Some(port) => {
                let (addr, task) = serve(
                    bind(port).await?,
                    imds::imds_router(issuer.clone()),
                    stop_rx.clone(),
                )?;
                tasks.push(task);
                Some(format!("http://{addr}"))
            }
            None => None,
        };
        let ecs_url = match config.ecs_port {
            Some(port) => {
                let router = imds::ecs_router(issuer, config.ecs_auth_token);
                let (addr, task) = serve(bind(port).await?, router, stop_rx)?;
                tasks.push(task);
                Some(format!("http://{addr}{}", imds::ECS_PATH))
            }
            None => None,
        };
        Ok(RunningTwin {
            url,
            addr,
            tls,
            imds_url,
            ecs_url,
            stop: stop_tx,
            tasks,
            state: shared,
            credentials,
        })
    }
}

async fn bind(port: u16) -> Result<TcpListener, TwinError> {
    let wanted = SocketAddr::from(([127, 0, 0, 1], port));
    TcpListener::bind(wanted)
        .await
        .map_err(|source| TwinError::Bind {
            addr: wanted.to_string(),
            source,
        })
}

fn serve<L>(
    listener: L,
    router: Router,
    mut stop: watch::Receiver<bool>,
) -> Result<(SocketAddr, JoinHandle<()>), TwinError>
where
    L: axum::serve::Listener<Addr = SocketAddr>,
{
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        };
        // Serving only ends on shutdown; there is nobody to report to.
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await;
    });
    Ok((addr, task))
}

/// A running twin; it stops when dropped.
#[derive(Debug)]
pub struct RunningTwin {
    url: String,
    addr: SocketAddr,
    tls: Option<(String, tls::TlsIdentity)>,
    imds_url: Option<String>,
    ecs_url: Option<String>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    state: Arc<state::AppState>,
    credentials: Arc<imds::CredentialIssuer>,
}

impl RunningTwin {
    /// How many event streams were started, sent to their end, and abandoned by their client.
    pub fn stream_counts(&self) -> state::StreamCounts {
        self.state.streams.counts()
    }

    /// The bodies of the last 32 `Converse`/`ConverseStream` requests, oldest first, as the
    /// twin parsed them: what Bedrock would have received.
    pub fn received(&self) -> Vec<serde_json::Value> {
        self.state.received()
    }

    /// How many temporary credentials the IMDS and ECS endpoints have minted (rotations
    /// included).
    pub fn credentials_issued(&self) -> u64 {
        self.credentials.issued()
    }

    /// Applies `fault` to every control-plane request (discovery: model and profile listings)
    /// from now on, or stops doing so (`None`). Runtime requests are not affected.
    pub fn set_control_fault(&self, fault: Option<Fault>) {
        if let Ok(mut slot) = self.state.control_fault.lock() {
            *slot = fault;
        }
    }

    /// Base URL of the Bedrock API, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Socket address of the Bedrock API.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL of the HTTPS listener, if started.
    pub fn tls_url(&self) -> Option<&str> {
        self.tls.as_ref().map(|(url, _)| url.as_str())
    }

    /// PEM certificate of the HTTPS listener, if started, for clients to trust.
    pub fn tls_cert_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|(_, identity)| identity.cert_pem())
    }

    /// DER certificate of the HTTPS listener, if started.
    pub fn tls_cert_der(&self) -> Option<&[u8]> {
        self.tls.as_ref().map(|(_, identity)| identity.cert_der())
    }

    /// Base URL of the IMDS endpoint, if started.
    pub fn imds_url(&self) -> Option<&str> {
        self.imds_url.as_deref()
    }

    /// Full URL of the ECS credentials endpoint, if started.
    pub fn ecs_url(&self) -> Option<&str> {
        self.ecs_url.as_deref()
    }

    /// Stops serving: no new connections, in-flight responses finish (at most a few seconds).
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        for task in self.tasks.drain(..) {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for RunningTwin {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
