//! Provider-neutral types shared by every Pincer crate.
//!
//! This crate knows nothing of HTTP, AWS or files. It holds the vocabulary the rest of the
//! workspace speaks: model references (`provider/model-id`) and the environment variables Pincer
//! reads. The conversation types, the stream events, usage and cost arithmetic, the error taxonomy
//! and the `Provider` trait join them as the provider work lands.

pub mod env;
pub mod model_ref;

pub use model_ref::{ModelRef, ModelRefError, ProviderIdError, validate_provider_id};
