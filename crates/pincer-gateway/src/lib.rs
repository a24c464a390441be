//! The Pincer gateway: an axum server exposing an OpenAI-compatible API in front of the catalog.
//!
//! Filled by the gateway work; it never writes to the terminal.
