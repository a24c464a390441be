//! The Bedrock provider: one SDK client per region, ConverseStream with retries before the first
//! byte, a stall timeout between events, and cancellation by dropping the stream.
//!
//! Retries are the SDK's own (standard mode: exponential backoff with full jitter, on throttling,
//! 5xx and connection errors), bounded in attempts and by an operation timeout. They can only
//! happen before the response stream begins: once an event has arrived nothing is retried, and
//! a mid-stream exception or reset ends the stream with a typed error and the partial message.

use std::sync::Arc;
use std::time::Duration;

use async_stream::stream;
use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError;
use pincer_core::{ErrorKind, EventStream, Provider, ProviderError, ProviderRequest};

use crate::call::Call;
use crate::errors::{CallContext, classify, from_sdk_error};
use crate::request::{self, ConverseRequest};
use crate::stream::StreamMapper;

/// Provider id of the Bedrock provider in the config.
pub const PROVIDER_ID: &str = "amazon-bedrock";

/// Tunables of the Bedrock provider.
#[derive(Debug, Clone)]
pub struct BedrockOptions {
    /// Attempts per request, including the first (retries happen only before the first byte).
    pub max_attempts: u32,
    /// First retry delay; later ones grow exponentially, with jitter.
    pub initial_backoff: Duration,
    /// Longest a request may take to start streaming, retries included.
    pub start_timeout: Duration,
    /// Longest silence between two stream events before the stream is a `Timeout`.
    pub stall_timeout: Duration,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Endpoint URL instead of the regional one (a VPC endpoint, a proxy, the twin). The SDK's
    /// `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` works too, without this.
    pub endpoint: Option<String>,
    /// Where credentials were looked for (the seed-order source), named in auth errors.
    pub credential_source: Option<String>,
}

impl Default for BedrockOptions {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(250),
            start_timeout: Duration::from_secs(120),
            stall_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(5),
            endpoint: None,
            credential_source: None,
        }
    }
}

/// Streams chat through Bedrock's ConverseStream API.
#[derive(Debug, Clone)]
pub struct BedrockProvider {
    client: Client,
    region: Arc<str>,
    options: BedrockOptions,
}

impl BedrockProvider {
    /// A provider using `config` (credentials, region and endpoint as resolved by `aws-config`).
    pub fn new(config: &SdkConfig, options: BedrockOptions) -> Self {
        let region = config.region().map_or_else(
            || crate::region::DEFAULT_REGION.to_owned(),
            ToString::to_string,
        );
        let retry = RetryConfig::standard()
            .with_max_attempts(options.max_attempts.max(1))
            .with_initial_backoff(options.initial_backoff);
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(options.connect_timeout)
            .operation_timeout(options.start_timeout)
            .build();
        // Pincer watches every event with its own stall timeout; the SDK's throughput monitor
        // would only add work to each chunk.
        let mut service = aws_sdk_bedrockruntime::config::Builder::from(config)
            .retry_config(retry)
            .timeout_config(timeouts)
            .stalled_stream_protection(
                aws_sdk_bedrockruntime::config::StalledStreamProtectionConfig::disabled(),
            )
            .interceptor(crate::call::Counters);
        if let Some(endpoint) = &options.endpoint {
            service = service.endpoint_url(endpoint);
        }
        let service = service.build();
        Self {
            client: Client::from_conf(service),
            region: region.into(),
            options,
        }
    }

    /// The region requests go to.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// One InvokeModel call with an embedding body; its answer as JSON.
    async fn invoke_embedding(
        &self,
        model: String,
        body: String,
        call: &Call,
    ) -> Result<serde_json::Value, ProviderError> {
        // The embedding request's batches share `call`'s token count; attempts are per batch.
        let call = call.another();
        let output = self
            .client
            .invoke_model()
            .model_id(model.clone())
            .content_type("application/json")
            .accept("application/json")
            .body(aws_smithy_types::Blob::new(body))
            .send();
        let output = call.scope(output).await.map_err(|err| {
            let context = CallContext {
                model: &model,
                region: &self.region,
            };
            call.attempts.note(
                name_credential_source(
                    from_sdk_error(&err, context),
                    self.options.credential_source.as_deref(),
                ),
                self.options.initial_backoff,
            )
        })?;
        serde_json::from_slice(output.body().as_ref()).map_err(|e| {
            ProviderError::new(
                ErrorKind::Other,
                format!("Bedrock's embedding answer is not JSON: {e}"),
            )
        })
    }

    async fn start(
        client: &Client,
        built: ConverseRequest,
        call: &Call,
    ) -> Result<
        aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamOutput,
        SdkError<
            aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamError,
            aws_sdk_bedrockruntime::config::http::HttpResponse,
        >,
    > {
        // Everything moves into the SDK's input, which it serializes once.
        let send = client
            .converse_stream()
            .model_id(built.model_id)
            .set_system((!built.system.is_empty()).then_some(built.system))
            .set_messages(Some(built.messages))
            .set_tool_config(built.tool_config)
            .inference_config(built.inference)
            .set_additional_model_request_fields(built.additional_fields)
            .set_output_config(built.output_config)
            .set_request_metadata(
                (!built.request_metadata.is_empty()).then_some(built.request_metadata),
            )
            .set_service_tier(built.service_tier)
            .set_performance_config(built.performance)
            .set_guardrail_config(built.guardrail);
        // A per-call interceptor costs the SDK a rebuild of its runtime components, so only a
        // request that needs one has it.
        if built.exact_sampling.is_empty() {
            call.scope(send.send()).await
        } else {
            let send = send
                .customize()
                .interceptor(crate::exact::ExactSampling(built.exact_sampling));
            call.scope(send.send()).await
        }
    }
}

fn stream_error(
    err: &SdkError<ConverseStreamOutputError, aws_smithy_types::event_stream::RawMessage>,
    context: CallContext<'_>,
) -> ProviderError {
    let SdkError::ServiceError(service) = err else {
        return crate::errors::transport(
            ErrorKind::StreamInterrupted,
            "the connection to Bedrock was lost mid-answer",
            err,
        );
    };
    // Exception frames arrive as modelled variants; their code is the variant.
    let inner = service.err();
    let code = match inner {
        ConverseStreamOutputError::ThrottlingException(_) => "ThrottlingException",
        ConverseStreamOutputError::ModelStreamErrorException(_) => "ModelStreamErrorException",
        ConverseStreamOutputError::InternalServerException(_) => "InternalServerException",
        ConverseStreamOutputError::ServiceUnavailableException(_) => "ServiceUnavailableException",
        ConverseStreamOutputError::ValidationException(_) => "ValidationException",
        _ => inner.code().unwrap_or("ModelStreamErrorException"),
    };
    let mut error = classify(
        Some(code),
        inner.message().unwrap_or_default(),
        None,
        context,
    );
    if error.kind == ErrorKind::Other {
        error.kind = ErrorKind::StreamInterrupted;
    }
    error
}

impl Provider for BedrockProvider {
    fn embed(&self, request: pincer_core::EmbedRequest) -> pincer_core::EmbedFuture<'_> {
        Box::pin(async move {
            let model = request.model.id.clone();
            let Some(family) = crate::embed::Family::of(&model) else {
                return Err(ProviderError::new(
                    ErrorKind::Validation,
                    format!(
                        "`{model}` is not an embedding model Pincer knows how to call (Titan Text Embeddings, Cohere Embed, Nova Multimodal Embeddings)"
                    ),
                ));
            };
            crate::embed::check_dimensions(family, &model, request.dimensions)?;
            if let Some(max) = family.max_chars()
                && let Some(i) = request.inputs.iter().position(|t| t.chars().count() > max)
            {
                return Err(ProviderError::new(
                    ErrorKind::Validation,
                    format!("input[{i}] is longer than the {max} characters `{model}` takes"),
                ));
            }
            let counted = Call::default();
            let bodies: Vec<String> = request
                .inputs
                .chunks(family.batch())
                .map(|texts| family.body(texts, request.dimensions).to_string())
                .collect();
            // A few calls at once, answers kept in order.
            let mut answers = Vec::with_capacity(bodies.len());
            for group in bodies.chunks(4) {
                let mut calls = Vec::with_capacity(group.len());
                for body in group {
                    calls.push(self.invoke_embedding(model.clone(), body.clone(), &counted));
                }
                for answer in futures_util::future::join_all(calls).await {
                    answers.push(answer.and_then(|body| family.read(&body)));
                }
            }
            let mut out = pincer_core::Embeddings::default();
            let mut body_tokens = 0;
            for answer in answers {
                let (vectors, tokens) = answer?;
                out.vectors.extend(vectors);
                body_tokens += tokens.unwrap_or(0);
            }
            let header_tokens = counted.input_tokens();
            out.input_tokens = if body_tokens > 0 {
                body_tokens
            } else {
                header_tokens
            };
            if out.vectors.len() != request.inputs.len() {
                return Err(ProviderError::new(
                    ErrorKind::Other,
                    format!(
                        "Bedrock gave {} vectors for {} inputs",
                        out.vectors.len(),
                        request.inputs.len()
                    ),
                ));
            }
            Ok(out)
        })
    }

    fn count_tokens(&self, request: ProviderRequest) -> pincer_core::CountFuture<'_> {
        Box::pin(async move {
            let model = request.model.id.clone();
            let context = CallContext {
                model: &model,
                region: &self.region,
            };
            // The very request a chat would send, counted by Bedrock's CountTokens, which takes
            // the foundation model's id only (a `us.`/`global.` profile id is refused there).
            if model.starts_with("arn:") {
                return Err(ProviderError::new(
                    ErrorKind::Validation,
                    format!(
                        "Bedrock counts the tokens of foundation models, not of the application inference profile `{model}`; count with its model id"
                    ),
                ));
            }
            let built = request::build(request)?;
            let base = crate::known::base_model_id(&built.model_id).to_owned();
            let converse = aws_sdk_bedrockruntime::types::ConverseTokensRequest::builder()
                .set_messages(Some(built.messages))
                .set_system((!built.system.is_empty()).then_some(built.system))
                .set_tool_config(built.tool_config)
                .set_additional_model_request_fields(built.additional_fields)
                .build();
            let output = self
                .client
                .count_tokens()
                .model_id(base)
                .input(aws_sdk_bedrockruntime::types::CountTokensInput::Converse(
                    converse,
                ))
                .send()
                .await
                .map_err(|err| {
                    name_credential_source(
                        from_sdk_error(&err, context),
                        self.options.credential_source.as_deref(),
                    )
                })?;
            Ok(u64::try_from(output.input_tokens()).unwrap_or(0))
        })
    }

    fn stream(&self, request: ProviderRequest) -> EventStream {
        let client = self.client.clone();
        let region = self.region.clone();
        let stall = self.options.stall_timeout;
        let initial_backoff = self.options.initial_backoff;
        let source = self.options.credential_source.clone();
        Box::pin(stream! {
            let model = request.model.clone();
            let context = CallContext { model: &model.id, region: &region };
            let built = match request::build(request) {
                Ok(built) => built,
                Err(error) => {
                    yield StreamMapper::new(&model.provider, &model.id).fail(error);
                    return;
                }
            };
            let mut mapper = StreamMapper::new(&model.provider, &model.id)
                .with_tool_names(built.tool_names.clone())
                .with_structured_tool(built.structured_tool.clone())
                .with_single_tool_call(built.single_tool_call);
            let call = Call::default();
            let output = match Self::start(&client, built, &call).await {
                Ok(output) => output,
                Err(err) => {
                    let error = name_credential_source(from_sdk_error(&err, context), source.as_deref());
                    yield mapper.fail(call.attempts.note(error, initial_backoff));
                    return;
                }
            };
            let mut receiver = output.stream;
            loop {
                match tokio::time::timeout(stall, receiver.recv()).await {
                    Err(_) => {
                        let error = ProviderError::new(
                            ErrorKind::Timeout,
                            format!("no event from Bedrock for {} s", stall.as_secs_f32()),
                        );
                        yield mapper.fail(error);
                        return;
                    }
                    Ok(Ok(Some(event))) => match mapper.on_event(event) {
                        Ok(events) => {
                            for event in events {
                                yield event;
                            }
                        }
                        Err(error) => {
                            yield mapper.fail(error);
                            return;
                        }
                    },
                    Ok(Ok(None)) => {
                        yield mapper.finish();
                        return;
                    }
                    Ok(Err(err)) => {
                        yield mapper.fail(stream_error(&err, context));
                        return;
                    }
                }
            }
        })
    }
}

/// Adds the credential source to an authentication error.
fn name_credential_source(mut error: ProviderError, source: Option<&str>) -> ProviderError {
    if let (ErrorKind::Auth, Some(source)) = (&error.kind, source) {
        let hint = error
            .hint
            .take()
            .map(|h| format!("; {h}"))
            .unwrap_or_default();
        error.hint = Some(format!("credentials came from {source}{hint}"));
    }
    error
}
