//! Pincer's HTTP gateway: the doors clients speak (OpenAI chat completions and Responses), each
//! a thin translation between its wire format and the runtime's provider-neutral requests and
//! events, and what every door shares (authentication, limits, metrics, logs, errors, OpenAPI).
//! Model lookup, fallbacks, the catalog and the providers live in `pincer-runtime`, which
//! `pincer chat` uses too.

pub mod http;
