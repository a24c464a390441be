//! Shared state of a running twin.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::auth::KeyStore;
use crate::catalogue::Catalogue;
use crate::faults::{FailCounters, Fault, Knobs};
use crate::script::PromptCache;

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) catalogue: Catalogue,
    pub(crate) keys: Arc<KeyStore>,
    pub(crate) global_fault: Option<Fault>,
    pub(crate) fail_counters: FailCounters,
    pub(crate) knobs: Knobs,
    pub(crate) cache: PromptCache,
    pub(crate) vectors_dir: Option<PathBuf>,
    pub(crate) streams: Arc<StreamStats>,
    /// A fault for the control plane only (discovery), switchable while running.
    pub(crate) control_fault: Mutex<Option<Fault>>,
    requests: AtomicU64,
    /// The last runtime request bodies, newest last (for tests to see what Bedrock received).
    received: Mutex<std::collections::VecDeque<serde_json::Value>>,
}

/// Runtime request bodies kept for [`AppState::received`].
const RECEIVED_KEPT: usize = 32;

/// What happened to the event streams the twin sent: how many ran to their end, and how many
/// the client abandoned (closed the connection) before the end.
#[derive(Debug, Default)]
pub struct StreamStats {
    invocations: AtomicU64,
    listings: AtomicU64,
    profile_lookups: AtomicU64,
    started: AtomicU64,
    completed: AtomicU64,
    abandoned: AtomicU64,
}

/// A snapshot of [`StreamStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamCounts {
    /// `Converse` and `ConverseStream` requests received, failed ones and retries included:
    /// the number of upstream attempts a client made.
    pub invocations: u64,
    /// `ListFoundationModels` calls answered (discovery runs).
    pub listings: u64,
    /// `GetInferenceProfile` calls answered.
    pub profile_lookups: u64,
    /// Streams begun.
    pub started: u64,
    /// Streams sent to their end.
    pub completed: u64,
    /// Streams the client dropped before their end.
    pub abandoned: u64,
}

impl StreamStats {
    /// The counts now.
    pub fn counts(&self) -> StreamCounts {
        StreamCounts {
            invocations: self.invocations.load(Ordering::Relaxed),
            listings: self.listings.load(Ordering::Relaxed),
            profile_lookups: self.profile_lookups.load(Ordering::Relaxed),
            started: self.started.load(Ordering::Relaxed),
            completed: self.completed.load(Ordering::Relaxed),
            abandoned: self.abandoned.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn invoked(&self) {
        self.invocations.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn listed(&self) {
        self.listings.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn profile_looked_up(&self) {
        self.profile_lookups.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn start(self: &Arc<Self>) -> StreamGuard {
        self.started.fetch_add(1, Ordering::Relaxed);
        StreamGuard {
            stats: self.clone(),
            finished: false,
        }
    }
}

/// Counts a stream as completed or abandoned when the body is dropped.
#[derive(Debug)]
pub(crate) struct StreamGuard {
    stats: Arc<StreamStats>,
    finished: bool,
}

impl StreamGuard {
    /// The stream was sent to its end.
    pub(crate) fn complete(mut self) {
        self.finished = true;
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let counter = if self.finished {
            &self.stats.completed
        } else {
            &self.stats.abandoned
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

impl AppState {
    pub(crate) fn new(
        catalogue: Catalogue,
        keys: Arc<KeyStore>,
        global_fault: Option<Fault>,
        knobs: Knobs,
        vectors_dir: Option<PathBuf>,
    ) -> Self {
        Self {
            catalogue,
            keys,
            global_fault,
            fail_counters: FailCounters::default(),
            knobs,
            cache: PromptCache::default(),
            vectors_dir,
            streams: Arc::new(StreamStats::default()),
            control_fault: Mutex::new(None),
            requests: AtomicU64::new(0),
            received: Mutex::new(std::collections::VecDeque::new()),
        }
    }

    /// Keeps a runtime request body.
    pub(crate) fn receive(&self, body: &serde_json::Value) {
        if let Ok(mut received) = self.received.lock() {
            if received.len() == RECEIVED_KEPT {
                received.pop_front();
            }
            received.push_back(body.clone());
        }
    }

    /// The runtime request bodies kept, oldest first.
    pub(crate) fn received(&self) -> Vec<serde_json::Value> {
        self.received
            .lock()
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The control-plane fault now in force.
    pub(crate) fn control_fault(&self) -> Option<Fault> {
        self.control_fault.lock().ok().and_then(|f| *f)
    }

    /// A fresh request number.
    pub(crate) fn next_request(&self) -> u64 {
        self.requests.fetch_add(1, Ordering::Relaxed)
    }
}

/// What the authentication layer learned, handed to the handlers.
#[derive(Debug, Clone)]
pub(crate) struct RequestCtx {
    pub(crate) region: Option<String>,
    pub(crate) fault: Option<Fault>,
    pub(crate) fault_key: String,
    pub(crate) serial: u64,
}

/// A request id in the shape AWS uses.
pub(crate) fn request_id(serial: u64) -> String {
    let mixed = serial.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (mixed >> 32) as u32,
        (mixed >> 16) as u16,
        (mixed >> 4) as u16 & 0xfff,
        serial as u16 & 0xfff,
        serial & 0xffff_ffff_ffff
    )
}
