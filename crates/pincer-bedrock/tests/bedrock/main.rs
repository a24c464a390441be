//! The Bedrock provider against the Bedrock twin over loopback, through the official SDK.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    unreachable_pub,
    missing_docs
)]

mod chat;
mod common;
mod credentials;
mod discovery;
mod faults;
mod scenarios;
mod vectors;
