//! The provider trait: stream a request; cancel by dropping the stream.

use std::pin::Pin;

use futures_core::Stream;

use crate::content::Conversation;
use crate::error::ProviderError;
use crate::event::StreamEvent;
use crate::model::Model;
use crate::options::RequestOptions;

/// A stream of response events. Dropping it cancels the upstream request.
pub type EventStream = Pin<Box<dyn Stream<Item = StreamEvent> + Send>>;

/// One request to a provider.
#[derive(Debug, Clone)]
pub struct ProviderRequest {
    /// The model to call.
    pub model: Model,
    /// The conversation so far.
    pub conversation: Conversation,
    /// Options.
    pub options: RequestOptions,
}

/// A model provider (Bedrock ConverseStream, an OpenAI-compatible endpoint, …).
///
/// The stream always ends with exactly one `Done` or `Error` event.
pub trait Provider: Send + Sync + std::fmt::Debug {
    /// Starts streaming a response.
    fn stream(&self, request: ProviderRequest) -> EventStream;

    /// Embeds texts with an embedding model; a provider without embeddings says so.
    fn embed(&self, request: EmbedRequest) -> EmbedFuture<'_> {
        let model = request.model.id;
        Box::pin(async move {
            Err(ProviderError::new(
                crate::ErrorKind::Validation,
                format!("`{model}`'s provider does not embed"),
            ))
        })
    }

    /// Counts the input tokens `request` would take, as the provider counts them (Bedrock's
    /// CountTokens). A provider without a count says so rather than estimating.
    fn count_tokens(&self, request: ProviderRequest) -> CountFuture<'_> {
        let model = request.model.id;
        Box::pin(async move {
            Err(ProviderError::new(
                crate::ErrorKind::Validation,
                format!("`{model}`'s provider cannot count tokens"),
            ))
        })
    }
}

/// Texts to embed with an embedding model.
#[derive(Debug, Clone)]
pub struct EmbedRequest {
    /// The embedding model.
    pub model: Model,
    /// The texts, in order.
    pub inputs: Vec<String>,
    /// The vectors' length, where the model offers several.
    pub dimensions: Option<u32>,
}

/// One vector per input, in order, and the input tokens they took.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Embeddings {
    /// The vectors.
    pub vectors: Vec<Vec<f32>>,
    /// Input tokens, as the provider counted them.
    pub input_tokens: u64,
}

/// What [`Provider::embed`] returns.
pub type EmbedFuture<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Embeddings, ProviderError>> + Send + 'a>,
>;

/// What [`Provider::count_tokens`] returns.
pub type CountFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<u64, ProviderError>> + Send + 'a>>;
