//! The `openai-completions` provider: any OpenAI-compatible chat-completions endpoint (another
//! Pincer gateway included), streamed over SSE and mapped to Pincer's events and error taxonomy.

use std::collections::HashMap;

use async_stream::stream;
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use pincer_core::{
    AssistantContent, ErrorKind, EventStream, Message, MessageBuilder, Provider, ProviderError,
    ProviderRequest, Secret, StopReason, StreamEvent, ToolChoice, ToolResultContent, Usage,
    UserContent,
};
use serde_json::{Value, json};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Streams chat from an OpenAI-compatible endpoint.
#[derive(Debug, Clone)]
pub struct OpenAiProvider {
    client: reqwest::Client,
    base_url: String,
    api_key: Option<Secret>,
    headers: Vec<(String, String)>,
}

impl OpenAiProvider {
    /// A provider for `base_url` (e.g. `http://127.0.0.1:4000/v1`).
    pub fn new(base_url: &str, api_key: Option<Secret>, headers: Vec<(String, String)>) -> Self {
        Self {
            client: reqwest::Client::new(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            headers,
        }
    }
}

/// The request body for `request`; a setting only Bedrock has (a guardrail, latency-optimized
/// inference) is refused rather than dropped.
pub fn body(request: &ProviderRequest) -> Result<Value, ProviderError> {
    let options = &request.options;
    let bedrock_only = [
        (
            "a guardrail",
            options.guardrail.is_some() || request.model.defaults.guardrail.is_some(),
        ),
        (
            "latency-optimized inference",
            options.latency == Some(pincer_core::Latency::Optimized),
        ),
    ];
    if let Some((what, _)) = bedrock_only.iter().find(|(_, set)| *set) {
        return Err(ProviderError::new(
            ErrorKind::Validation,
            format!(
                "{what} applies to Bedrock models only; `{}` is served by an OpenAI-compatible endpoint",
                request.model.id
            ),
        ));
    }
    let mut messages = Vec::new();
    if let Some(system) = &request.conversation.system {
        messages.push(json!({"role": "system", "content": system}));
    }
    for message in &request.conversation.messages {
        match message {
            Message::User { content } => {
                let parts: Vec<Value> = content
                    .iter()
                    .map(|part| match part {
                        UserContent::Text { text } => json!({"type": "text", "text": text}),
                        UserContent::Image(image) => json!({"type": "image_url", "image_url": {"url": format!("data:{};base64,{}", image.media_type, STANDARD.encode(&image.data))}}),
                        UserContent::Document(document) => json!({"type": "file", "file": {
                            "filename": document.name,
                            "file_data": format!("data:{};base64,{}", document.media_type(), STANDARD.encode(&document.data)),
                        }}),
                    })
                    .collect();
                messages.push(json!({"role": "user", "content": parts}));
            }
            Message::Assistant(assistant) => {
                let mut entry = json!({"role": "assistant", "content": assistant.text()});
                let calls: Vec<Value> = assistant
                    .tool_calls()
                    .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments.to_string()}}))
                    .collect();
                if !calls.is_empty() {
                    entry["tool_calls"] = Value::Array(calls);
                }
                for block in &assistant.content {
                    if let AssistantContent::Thinking { text, signature } = block {
                        entry["reasoning_content"] = json!(text);
                        if let Some(signature) = signature {
                            entry["reasoning_signature"] = json!(signature);
                        }
                    }
                }
                messages.push(entry);
            }
            Message::ToolResult(result) => {
                let text = ToolResultContent::join_text(&result.content);
                messages.push(
                    json!({"role": "tool", "tool_call_id": result.tool_call_id, "content": text}),
                );
            }
        }
    }
    let mut body = json!({
        "model": request.model.id,
        "messages": messages,
        "stream": true,
        "stream_options": {"include_usage": true},
    });
    if let Some(max) = options.max_tokens {
        body["max_tokens"] = json!(max);
    }
    if let Some(t) = options.temperature {
        body["temperature"] = json!(t);
    }
    if let Some(p) = options.top_p {
        body["top_p"] = json!(p);
    }
    if !options.stop.is_empty() {
        body["stop"] = json!(options.stop);
    }
    if !request.conversation.tools.is_empty() {
        body["tools"] = Value::Array(
            request
                .conversation
                .tools
                .iter()
                .map(|t| json!({"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}))
                .collect(),
        );
        body["tool_choice"] = match &options.tool_choice {
            ToolChoice::Auto => json!("auto"),
            ToolChoice::None => json!("none"),
            ToolChoice::Required => json!("required"),
            ToolChoice::Named(name) => json!({"type": "function", "function": {"name": name}}),
        };
        if !options.parallel_tool_calls {
            body["parallel_tool_calls"] = json!(false);
        }
    }
    match &options.response_format {
        None => {}
        Some(pincer_core::ResponseFormat::JsonObject) => {
            body["response_format"] = json!({"type": "json_object"});
        }
        Some(pincer_core::ResponseFormat::JsonSchema {
            name,
            description,
            schema,
            strict,
        }) => {
            let mut definition = json!({"name": name, "schema": schema, "strict": strict});
            if let Some(description) = description {
                definition["description"] = json!(description);
            }
            body["response_format"] = json!({"type": "json_schema", "json_schema": definition});
        }
    }
    let mut metadata = options.metadata.clone();
    for field in ["user", "safety_identifier"] {
        if let Some(value) = metadata.remove(field) {
            body[field] = json!(value);
        }
    }
    if !metadata.is_empty() {
        body["metadata"] = json!(metadata);
    }
    if let Some(tier) = options.service_tier.or(request.model.defaults.service_tier) {
        body["service_tier"] = json!(tier.as_str());
    }
    Ok(body)
}

/// An HTTP error status (and OpenAI error body) in Pincer's taxonomy.
pub fn classify(status: u16, body: &Value) -> ProviderError {
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or("the endpoint returned an error")
        .to_owned();
    let code = body["error"]["code"].as_str().unwrap_or_default();
    let kind = match (status, code) {
        (_, "context_length_exceeded") => ErrorKind::ContextOverflow,
        (401, _) => ErrorKind::Auth,
        (403, _) => ErrorKind::AccessDenied,
        (404, _) => ErrorKind::InvalidModel,
        (429, _) => ErrorKind::Throttled { retry_after: None },
        (408 | 504, _) => ErrorKind::Timeout,
        (413, _) => ErrorKind::RequestTooLarge,
        (400..=499, _) => ErrorKind::Validation,
        _ => ErrorKind::ServiceUnavailable,
    };
    ProviderError::new(kind, message)
}

fn stop_reason(reason: &str) -> StopReason {
    match reason {
        "length" => StopReason::Length,
        "tool_calls" | "function_call" => StopReason::ToolUse,
        "content_filter" => StopReason::ContentFiltered,
        _ => StopReason::Stop,
    }
}

/// Maps streamed chunks to events.
#[derive(Debug)]
struct ChunkMapper {
    builder: MessageBuilder,
    text: Option<usize>,
    thinking: Option<usize>,
    signature: Option<String>,
    /// Content index by the endpoint's tool-call index.
    tools: HashMap<u64, usize>,
    stop: Option<StopReason>,
    usage: Usage,
}

impl ChunkMapper {
    fn emit(&mut self, event: StreamEvent, out: &mut Vec<StreamEvent>) {
        self.builder.apply(&event);
        out.push(event);
    }

    fn close_text(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some(index) = self.text.take() {
            self.emit(StreamEvent::TextEnd { index }, out);
        }
    }

    fn close_thinking(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some(index) = self.thinking.take() {
            let signature = self.signature.take();
            self.emit(StreamEvent::ThinkingEnd { index, signature }, out);
        }
    }

    fn on_chunk(&mut self, chunk: &Value) -> Result<Vec<StreamEvent>, ProviderError> {
        let mut out = Vec::new();
        if let Some(error) = chunk.get("error") {
            let kind_body = json!({"error": error});
            return Err(classify(502, &kind_body));
        }
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
            let prompt = usage["prompt_tokens"].as_u64().unwrap_or(0);
            let cached = usage["prompt_tokens_details"]["cached_tokens"]
                .as_u64()
                .unwrap_or(0);
            self.usage = Usage {
                input: prompt.saturating_sub(cached),
                output: usage["completion_tokens"].as_u64().unwrap_or(0),
                cache_read: cached,
                ..Usage::default()
            };
        }
        let Some(choice) = chunk["choices"].get(0) else {
            return Ok(out);
        };
        let delta = &choice["delta"];
        if let Some(reasoning) = delta["reasoning_content"]
            .as_str()
            .filter(|r| !r.is_empty())
        {
            let index = match self.thinking {
                Some(index) => index,
                None => {
                    self.close_text(&mut out);
                    let index = self.builder.next_index();
                    self.thinking = Some(index);
                    self.emit(StreamEvent::ThinkingStart { index }, &mut out);
                    index
                }
            };
            self.emit(
                StreamEvent::ThinkingDelta {
                    index,
                    delta: reasoning.to_owned(),
                },
                &mut out,
            );
        }
        if let Some(signature) = delta["reasoning_signature"].as_str() {
            self.signature = Some(signature.to_owned());
        }
        if let Some(text) = delta["content"].as_str().filter(|t| !t.is_empty()) {
            self.close_thinking(&mut out);
            let index = match self.text {
                Some(index) => index,
                None => {
                    let index = self.builder.next_index();
                    self.text = Some(index);
                    self.emit(StreamEvent::TextStart { index }, &mut out);
                    index
                }
            };
            self.emit(
                StreamEvent::TextDelta {
                    index,
                    delta: text.to_owned(),
                },
                &mut out,
            );
        }
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            self.close_thinking(&mut out);
            self.close_text(&mut out);
            let key = call["index"].as_u64().unwrap_or(0);
            let index = match self.tools.get(&key) {
                Some(index) => *index,
                None => {
                    let index = self.builder.next_index();
                    self.tools.insert(key, index);
                    let id = call["id"].as_str().unwrap_or_default().to_owned();
                    let name = call["function"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    self.emit(StreamEvent::ToolCallStart { index, id, name }, &mut out);
                    index
                }
            };
            if let Some(arguments) = call["function"]["arguments"]
                .as_str()
                .filter(|a| !a.is_empty())
            {
                self.emit(
                    StreamEvent::ToolCallDelta {
                        index,
                        delta: arguments.to_owned(),
                    },
                    &mut out,
                );
            }
        }
        if let Some(reason) = choice["finish_reason"].as_str() {
            self.close_thinking(&mut out);
            self.close_text(&mut out);
            let mut indexes: Vec<usize> = self.tools.values().copied().collect();
            indexes.sort_unstable();
            for index in indexes {
                if let Some(end) = self.builder.end_tool_call(index) {
                    out.push(end?);
                }
            }
            self.tools.clear();
            self.stop = Some(stop_reason(reason));
        }
        Ok(out)
    }
}

impl Provider for OpenAiProvider {
    fn stream(&self, request: ProviderRequest) -> EventStream {
        let this = self.clone();
        Box::pin(stream! {
            let model = request.model.clone();
            let mut mapper = ChunkMapper {
                builder: MessageBuilder::new(&model.provider, &model.id),
                text: None,
                thinking: None,
                signature: None,
                tools: HashMap::new(),
                stop: None,
                usage: Usage::default(),
            };
            let body = match body(&request) {
                Ok(body) => body,
                Err(error) => {
                    yield StreamEvent::Error { partial: mapper.builder.fail(&error, Usage::default()), error };
                    return;
                }
            };
            let mut http = this.client.post(format!("{}/chat/completions", this.base_url)).json(&body);
            if let Some(key) = &this.api_key {
                http = http.bearer_auth(key.expose());
            }
            for (name, value) in &this.headers {
                http = http.header(name, value);
            }
            let response = match http.send().await {
                Ok(response) => response,
                Err(err) => {
                    let kind = if err.is_timeout() { ErrorKind::Timeout } else { ErrorKind::ServiceUnavailable };
                    tracing::warn!(target: "pincer_openai::transport", detail = %err, base_url = %this.base_url, "could not reach the provider");
                    let error = ProviderError::new(kind, format!("could not reach {}", this.base_url));
                    yield StreamEvent::Error { partial: mapper.builder.fail(&error, Usage::default()), error };
                    return;
                }
            };
            let status = response.status().as_u16();
            if status >= 400 {
                let body: Value = response.json().await.unwrap_or(Value::Null);
                let error = classify(status, &body);
                yield StreamEvent::Error { partial: mapper.builder.fail(&error, Usage::default()), error };
                return;
            }
            yield StreamEvent::Start;
            let mut events = response.bytes_stream().eventsource();
            while let Some(event) = events.next().await {
                let data = match event {
                    Ok(event) => event.data,
                    Err(err) => {
                        tracing::warn!(target: "pincer_openai::transport", detail = %err, "the event stream broke off");
                        let error = ProviderError::new(ErrorKind::StreamInterrupted, "the connection to the provider was lost mid-answer");
                        let usage = mapper.usage;
                        yield StreamEvent::Error { partial: mapper.builder.fail(&error, usage), error };
                        return;
                    }
                };
                if data == "[DONE]" {
                    break;
                }
                let chunk: Value = match serde_json::from_str(&data) {
                    Ok(chunk) => chunk,
                    Err(err) => {
                        let error = ProviderError::new(ErrorKind::StreamInterrupted, format!("an event was not JSON: {err}"));
                        let usage = mapper.usage;
                        yield StreamEvent::Error { partial: mapper.builder.fail(&error, usage), error };
                        return;
                    }
                };
                match mapper.on_chunk(&chunk) {
                    Ok(out) => {
                        for event in out {
                            yield event;
                        }
                    }
                    Err(error) => {
                        let usage = mapper.usage;
                        yield StreamEvent::Error { partial: mapper.builder.fail(&error, usage), error };
                        return;
                    }
                }
            }
            match mapper.stop {
                Some(stop) => yield StreamEvent::Done { message: mapper.builder.finish(stop, mapper.usage) },
                None => {
                    let error = ProviderError::new(ErrorKind::StreamInterrupted, "the stream ended without a finish_reason");
                    let usage = mapper.usage;
                    yield StreamEvent::Error { partial: mapper.builder.fail(&error, usage), error };
                }
            }
        })
    }
}
