//! Drives the twin with the official AWS SDK clients, unmodified, over loopback HTTP.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods,
    missing_docs,
    unreachable_pub
)]

mod auth;
mod binary;
mod common;
mod control;
mod creds;
mod faults;
mod replay;
mod runtime;
mod tls;
