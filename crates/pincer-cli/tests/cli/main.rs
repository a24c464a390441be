//! Tests of the real `pincer` binary, one module per command, each in its own temp home.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub,
    missing_docs
)] // test code: a panic is a failed test

mod chat;
mod common;
mod config_get;
mod config_path;
mod config_set;
mod config_unset;
mod config_validate;
mod durability;
mod gateway;
mod hardening;
mod install;
mod keys;
mod models;
mod repl;
mod secrets;
mod surface;
mod telemetry;
