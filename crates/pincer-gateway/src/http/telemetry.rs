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
        url.path = request.uri().path(),
        url.scheme = "http",
        error.type = Empty,
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
    span.set_attribute("http.response.status_code", i64::from(status.as_u16()));
    if status.is_client_error() || status.is_server_error() {
        span.record("error.type", status.as_str());
    }
    if status.is_server_error() {
        span.record("otel.status_code", "error");
    }
    // The span lasts as long as the body: a streamed answer ends when its last event is sent.
    response.map(|body| axum::body::Body::new(Traced { body, span }))
}

/// A response body sent inside its request's span: the span ends with the last frame (the
/// exporter takes a span's end from its last exit).
struct Traced {
    body: axum::body::Body,
    span: tracing::Span,
}

impl http_body::Body for Traced {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let _entered = this.span.enter();
        std::pin::Pin::new(&mut this.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
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
            gen_ai.response.model = Empty,
            gen_ai.system_instructions = Empty,
            gen_ai.input.messages = Empty,
            gen_ai.output.messages = Empty,
            error.type = Empty,
        );
        // Numbers and lists go through OpenTelemetry itself, so they keep their types.
        if operation == "chat" {
            span.set_attribute("gen_ai.request.stream", stream);
        }
        Self { span, contents }
    }

    /// What the request asked.
    pub fn request(&self, asked: &Asked) {
        if let Some(max) = asked.max_tokens {
            self.span
                .set_attribute("gen_ai.request.max_tokens", i64::from(max));
        }
        if let Some(t) = asked.temperature {
            self.span.set_attribute("gen_ai.request.temperature", t);
        }
        if let Some(p) = asked.top_p {
            self.span.set_attribute("gen_ai.request.top_p", p);
        }
        if let Some(system) = &asked.system {
            self.span
                .record("gen_ai.system_instructions", system.as_str());
        }
        if let Some(messages) = &asked.messages {
            self.span.record("gen_ai.input.messages", messages.as_str());
        }
    }

    /// The answer: usage, why it stopped, and its text when contents are recorded.
    pub fn answered(&self, usage: &Usage, message: Option<&AssistantMessage>) {
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.span
            .set_attribute("gen_ai.usage.input_tokens", count(usage.input));
        if message.is_some() {
            self.span
                .set_attribute("gen_ai.usage.output_tokens", count(usage.output));
        }
        if usage.cache_read > 0 {
            self.span.set_attribute(
                "gen_ai.usage.cache_read.input_tokens",
                count(usage.cache_read),
            );
        }
        if usage.cache_write > 0 {
            self.span.set_attribute(
                "gen_ai.usage.cache_creation.input_tokens",
                count(usage.cache_write),
            );
        }
        if let Some(message) = message {
            self.span
                .record("gen_ai.response.model", message.model.as_str());
            let reason = finish_reason(message.stop_reason);
            self.span.set_attribute(
                "gen_ai.response.finish_reasons",
                opentelemetry::Value::Array(vec![opentelemetry::StringValue::from(reason)].into()),
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

    /// The call failed with `kind` (the error taxonomy's name) and `message`.
    pub fn failed(&self, kind: &str, message: &str) {
        self.span.record("error.type", kind);
        self.span
            .set_status(opentelemetry::trace::Status::error(message.to_owned()));
    }
}

/// What a request asked, as its model spans record it.
#[derive(Debug, Clone)]
pub struct Asked {
    max_tokens: Option<u32>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    /// `gen_ai.system_instructions`, when contents are recorded.
    system: Option<String>,
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
            system: conversation
                .system
                .as_ref()
                .filter(|_| contents)
                .map(|system| json!([{"type": "text", "content": system}]).to_string()),
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

/// The conversation's messages as `gen_ai.input.messages` (text parts; media as their kind
/// only); the system prompt goes to `gen_ai.system_instructions`.
fn input_messages(conversation: &Conversation) -> Value {
    let mut out = Vec::new();
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
