//! Provider-neutral types shared by every Pincer crate.
//!
//! This crate knows nothing of HTTP, AWS or files. It holds the vocabulary the rest of the
//! workspace speaks: model references (`provider/model-id`), the conversation and its content
//! blocks, models and their capabilities, request options, the events a provider streams,
//! usage and cost, the error taxonomy, the [`Provider`] trait, and the environment variables
//! Pincer reads.

pub mod accumulate;
pub mod content;
pub mod env;
pub mod error;
pub mod event;
pub mod model;
pub mod model_ref;
pub mod options;
pub mod provider;
pub mod sealed;
pub mod secret;
pub mod usage;

pub use accumulate::MessageBuilder;
pub use content::{
    AssistantContent, AssistantMessage, Citation, Conversation, Document, Image, Message,
    StopReason, Tool, ToolCall, ToolResult, ToolResultContent, UserContent,
};
pub use error::{ErrorKind, ProviderError, Retried};
pub use event::StreamEvent;
pub use model::{
    BudgetRange, Capabilities, Modality, Model, ReasoningStyle, RequestDefaults, Sampling,
};
pub use model_ref::{
    ModelIdError, ModelRef, ModelRefError, ProviderIdError, validate_model_id, validate_provider_id,
};
pub use options::{
    CacheRetention, Guardrail, Latency, ReasoningLevel, RequestOptions, ResponseFormat,
    ServiceTier, ToolChoice,
};
pub use provider::{
    CountFuture, EmbedFuture, EmbedRequest, Embeddings, EventStream, Provider, ProviderRequest,
};
pub use secret::Secret;
pub use usage::{Cost, Prices, TierPrices, Usage};
