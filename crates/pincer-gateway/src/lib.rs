//! Pincer's runtime above the providers: resolving `provider/model-id` references against the
//! config and the known-model table, and building the providers that serve them. The
//! OpenAI-compatible HTTP server joins it with the gateway work.
//!
//! Both `pincer chat` and the HTTP gateway need exactly this resolution, and this is the lowest
//! crate that knows every provider, so it lives here rather than in the CLI.

pub mod catalog;
pub mod http;
pub mod providers;
pub mod resolve;
