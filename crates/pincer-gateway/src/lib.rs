//! Pincer's runtime above the providers: resolving `provider/model-id` references against the
//! config and the known-model table, building the providers that serve them, the model catalog
//! (and its background refresh), and the OpenAI-compatible HTTP server.
//!
//! Both `pincer chat` and the HTTP gateway need exactly this resolution, and this is the lowest
//! crate that knows every provider, so it lives here rather than in the CLI.

pub mod catalog;
pub mod http;
pub mod providers;
pub mod refresh;
pub mod resolve;
pub mod signatures;
