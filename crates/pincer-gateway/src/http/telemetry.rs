//! Spans for OpenTelemetry, when the gateway exports traces (`GatewayState::telemetry`; the
//! command line installs the exporter). Off, none of this runs.
//!
//! Each API request is a `SERVER` span (`POST /v1/chat/completions`) continuing the client's
//! W3C `traceparent`; each model call under it is a `CLIENT` span named and described with the
//! OpenTelemetry GenAI semantic conventions (`chat {model}`, `gen_ai.operation.name`,
//! `gen_ai.provider.name = aws.bedrock`, `gen_ai.request.*`, `gen_ai.response.*`,
//! `gen_ai.usage.*`, `error.type`). A fallback is a second model span. Message contents
//! (`gen_ai.input.messages`, `gen_ai.output.messages`) are recorded only with
//! `gateway.logContents`.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use pincer_core::{AssistantMessage, Conversation, Message, RequestOptions, StopReason, Usage};
use serde_json::{Value, json};
use tracing::Instrument as _;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The target of every span here (the exporter listens to it alone).
pub const TARGET: &str = "pincer_gateway::otel";

/// Wraps each request in its server span, continuing the client's trace.
pub async fn trace_requests(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || request.uri().path().to_owned(),
        |p| p.as_str().to_owned(),
    );
    let method = request.method().clone();
    let span = tracing::info_span!(
        target: TARGET,
        "request",
        otel.name = %format!("{method} {route}"),
        otel.kind = "server",
        http.request.method = %method,
        http.route = %route,
        http.response.status_code = Empty,
        otel.status_code = Empty,
        pincer.request_id = crate::http::request_id::of(request.headers()),
    );
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&opentelemetry_http::HeaderExtractor(request.headers()))
    });
    // A span the exporter does not see (tracing filtered it) has no parent to set.
    let _ = span.set_parent(parent);
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status();
    span.record("http.response.status_code", status.as_u16());
    if status.is_server_error() {
        span.record("otel.status_code", "error");
    }
    response
}

/// One model call's span.
#[derive(Debug)]
pub struct ModelSpan {
    span: tracing::Span,
    contents: bool,
}

impl ModelSpan {
    /// A span for `operation` (`chat`, `embeddings`) on the catalog key `key`
    /// (`provider/model-id`), a child of the request's span.
    pub fn new(operation: &'static str, key: &str, stream: bool, contents: bool) -> Self {
        let (provider, model) = key.split_once('/').unwrap_or(("", key));
        let span = tracing::info_span!(
            target: TARGET,
            "model",
            otel.name = %format!("{operation} {model}"),
            otel.kind = "client",
            gen_ai.operation.name = operation,
            gen_ai.provider.name = provider_name(provider),
            gen_ai.request.model = model,
            gen_ai.request.stream = stream,
            gen_ai.request.max_tokens = Empty,
            gen_ai.request.temperature = Empty,
            gen_ai.request.top_p = Empty,
            gen_ai.response.model = Empty,
            gen_ai.response.finish_reasons = Empty,
            gen_ai.usage.input_tokens = Empty,
            gen_ai.usage.output_tokens = Empty,
            gen_ai.usage.cache_read.input_tokens = Empty,
            gen_ai.usage.cache_creation.input_tokens = Empty,
            gen_ai.input.messages = Empty,
            gen_ai.output.messages = Empty,
            error.type = Empty,
            otel.status_code = Empty,
        );
        Self { span, contents }
    }

    /// What the request asked.
    pub fn request(&self, asked: &Asked) {
        if let Some(max) = asked.max_tokens {
            self.span.record("gen_ai.request.max_tokens", max);
        }
        if let Some(t) = asked.temperature {
            self.span.record("gen_ai.request.temperature", t);
        }
        if let Some(p) = asked.top_p {
            self.span.record("gen_ai.request.top_p", p);
        }
        if let Some(messages) = &asked.messages {
            self.span.record("gen_ai.input.messages", messages.as_str());
        }
    }

    /// The answer: usage, why it stopped, and its text when contents are recorded.
    pub fn answered(&self, usage: &Usage, message: Option<&AssistantMessage>) {
        self.span.record("gen_ai.usage.input_tokens", usage.input);
        self.span.record("gen_ai.usage.output_tokens", usage.output);
        if usage.cache_read > 0 {
            self.span
                .record("gen_ai.usage.cache_read.input_tokens", usage.cache_read);
        }
        if usage.cache_write > 0 {
            self.span.record(
                "gen_ai.usage.cache_creation.input_tokens",
                usage.cache_write,
            );
        }
        if let Some(message) = message {
            self.span
                .record("gen_ai.response.model", message.model.as_str());
            let reason = finish_reason(message.stop_reason);
            self.span.record(
                "gen_ai.response.finish_reasons",
                json!([reason]).to_string(),
            );
            if self.contents {
                let output = json!([{
                    "role": "assistant",
                    "parts": [{"type": "text", "content": message.text()}],
                    "finish_reason": reason,
                }]);
                self.span
                    .record("gen_ai.output.messages", output.to_string());
            }
        }
    }

    /// The call failed with `kind` (the error taxonomy's name).
    pub fn failed(&self, kind: &str) {
        self.span.record("error.type", kind);
        self.span.record("otel.status_code", "error");
    }
}

/// What a request asked, as its model spans record it.
#[derive(Debug, Clone)]
pub struct Asked {
    max_tokens: Option<u32>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    /// `gen_ai.input.messages`, when contents are recorded.
    messages: Option<String>,
}

impl Asked {
    /// From the request's conversation and options; the messages only when `contents`.
    pub fn new(conversation: &Conversation, options: &RequestOptions, contents: bool) -> Self {
        Self {
            max_tokens: options.max_tokens,
            temperature: options.temperature,
            top_p: options.top_p,
            messages: contents.then(|| input_messages(conversation).to_string()),
        }
    }
}

/// `gen_ai.provider.name` for a catalog provider.
fn provider_name(provider: &str) -> &str {
    match provider {
        "amazon-bedrock" => "aws.bedrock",
        other => other,
    }
}

/// The semantic conventions' finish reasons.
fn finish_reason(reason: StopReason) -> &'static str {
    match reason {
        StopReason::Stop => "stop",
        StopReason::Length => "length",
        StopReason::ToolUse => "tool_call",
        StopReason::Guardrail | StopReason::ContentFiltered => "content_filter",
        StopReason::Error => "error",
        StopReason::Aborted => "cancelled",
    }
}

/// The conversation as `gen_ai.input.messages` (text parts; media as their kind only).
fn input_messages(conversation: &Conversation) -> Value {
    let mut out = Vec::new();
    if let Some(system) = &conversation.system {
        out.push(json!({"role": "system", "parts": [{"type": "text", "content": system}]}));
    }
    for message in &conversation.messages {
        out.push(match message {
            Message::User { content } => {
                let parts: Vec<Value> = content
                    .iter()
                    .map(|part| match part {
                        pincer_core::UserContent::Text { text } => {
                            json!({"type": "text", "content": text})
                        }
                        pincer_core::UserContent::Image(image) => {
                            json!({"type": "blob", "modality": "image", "mime_type": image.media_type})
                        }
                        pincer_core::UserContent::Document(document) => {
                            json!({"type": "blob", "modality": "document", "mime_type": document.format})
                        }
                    })
                    .collect();
                json!({"role": "user", "parts": parts})
            }
            Message::Assistant(answer) => {
                json!({"role": "assistant", "parts": [{"type": "text", "content": answer.text()}]})
            }
            Message::ToolResult(result) => json!({"role": "tool", "parts": [{
                "type": "tool_call_response",
                "id": result.tool_call_id,
            }]}),
        });
    }
    Value::Array(out)
}
