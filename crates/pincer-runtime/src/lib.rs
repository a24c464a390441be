//! What `pincer chat` and every door of the gateway share, below HTTP: the model catalog (config,
//! Bedrock's listing and the known-model table merged) and its background refresh, the one model
//! lookup (`provider/id`, a bare id, `default`), the one fallback policy, the providers that serve
//! each backend, and the reasoning signatures handed out.
//!
//! Settings are resolved once, when a [`Runtime`] is built, before a command or the server runs;
//! a front door only translates its wire format to a [`pincer_core::ProviderRequest`] and the
//! events back.

pub mod catalog;
pub mod providers;
pub mod refresh;
pub mod resolve;
mod runtime;
pub mod signatures;

pub use runtime::{Begun, Candidates, LookupError, Progress, Runtime};
