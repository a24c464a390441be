//! `GET /openapi.json`: an OpenAPI 3.1 description of the gateway. The schemas are generated
//! from the very types the handlers parse and serialize (JSON Schema 2020-12, which OpenAPI 3.1
//! uses as is), so the document cannot drift from the wire format.

use axum::Json;
use pincer_anthropic::types::{CountTokensRequest, MessagesRequest};
use pincer_openai::embeddings::EmbeddingsRequest;
use pincer_openai::response::{ChatCompletion, ChatCompletionChunk};
use pincer_openai::responses::types::ResponsesRequest;
use pincer_openai::types::{ChatCompletionRequest, ErrorBody};
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::http::models::{ModelList, ModelObject};

/// The errors every chat request may answer with, and what each means.
const CHAT_ERRORS: [(&str, &str); 12] = [
    (
        "400",
        "The request is invalid; `error.param` names the field",
    ),
    (
        "401",
        "Missing or wrong gateway token, or a managed key that is unknown, revoked or expired",
    ),
    (
        "403",
        "The credentials may not invoke the model, the managed key may not use it, or the key has a budget and the model's price is unknown",
    ),
    ("404", "Unknown model"),
    (
        "408",
        "The body did not arrive within gateway.limits.bodyTimeout",
    ),
    (
        "413",
        "The body is larger than gateway.limits.maxRequestBytes, or the prompt larger than Bedrock accepts",
    ),
    ("415", "The body is not JSON"),
    (
        "429",
        "Throttled, or the managed key's requests or tokens per minute or its budget are used up; `retry-after` says when to retry",
    ),
    (
        "500",
        "The gateway's config cannot serve the request, or the gateway failed",
    ),
    ("502", "The upstream provider failed"),
    (
        "503",
        "The upstream provider is unavailable, the gateway is at gateway.limits.maxConcurrentRequests, or the key database is unavailable for a managed key; `retry-after` says when to retry",
    ),
    ("504", "No answer within the request timeout"),
];

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn json_content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": json_content(schema_ref("ErrorBody"))})
}

/// One server-sent event of a streamed answer. OpenAPI 3.1 has no `itemSchema` (3.2 has), so the
/// `schema` of `text/event-stream` describes each event, as OpenAPI 3.2's `itemSchema` does and
/// as OpenAPI 3.1 tools such as schemathesis read it: an object with the event's fields, whose
/// `data` is JSON text of a chunk or of an error, or `[DONE]`.
fn stream_event() -> Value {
    let json_of = |name: &str, description: &str| {
        json!({
            "contentMediaType": "application/json",
            "contentSchema": schema_ref(name),
            "description": description,
        })
    };
    json!({
        "type": "object",
        "description": "One server-sent event (this schema applies to each event of the stream, as OpenAPI 3.2's `itemSchema` would)",
        "properties": {
            "data": {
                "type": "string",
                "anyOf": [
                    json_of("ChatCompletionChunk", "A `chat.completion.chunk`"),
                    json_of("ErrorBody", "A failure after streaming began; the stream ends without `[DONE]`"),
                    {"const": "[DONE]", "description": "The end of the stream"},
                ],
            },
            "event": {"type": "string", "description": "Absent: every event is a `message`"},
        },
        "required": ["data"],
    })
}

/// Requests that a gateway with a default model answers, whole and streamed.
fn chat_examples() -> Value {
    let messages = json!([
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello!"},
    ]);
    json!({
        "answer": {
            "summary": "A whole answer from the default model",
            "value": {"model": "default", "messages": messages, "max_tokens": 200},
        },
        "stream": {
            "summary": "A streamed answer, with usage in a last chunk",
            "value": {"model": "default", "messages": messages, "stream": true, "stream_options": {"include_usage": true}},
        },
    })
}

/// The Response object of the Responses API (built as JSON by
/// `pincer_openai::responses::encode`, so described here by hand).
fn response_object() -> Value {
    json!({
        "type": "object",
        "description": "A `response`: its output items (`message`, `reasoning` with `encrypted_content`, `function_call`), status and usage",
        "required": ["id", "object", "created_at", "status", "model", "output", "tools", "tool_choice", "parallel_tool_calls"],
        "properties": {
            "id": {"type": "string", "pattern": "^resp_"},
            "object": {"const": "response"},
            "created_at": {"type": "integer"},
            "status": {"enum": ["in_progress", "completed", "incomplete", "failed"]},
            "model": {"type": "string"},
            "output": {"type": "array", "items": {
                "type": "object",
                "required": ["type", "id"],
                "properties": {
                    "type": {"enum": ["message", "reasoning", "function_call"]},
                    "id": {"type": "string"},
                },
            }},
            "error": {"type": ["object", "null"]},
            "incomplete_details": {"type": ["object", "null"]},
            "usage": {"type": ["object", "null"], "properties": {
                "input_tokens": {"type": "integer"},
                "output_tokens": {"type": "integer"},
                "total_tokens": {"type": "integer"},
            }},
            "tools": {"type": "array"},
            "tool_choice": {},
            "parallel_tool_calls": {"type": "boolean"},
            "store": {"const": false},
        },
    })
}

/// One server-sent event of a streamed Response: `event` names it, `data` is its JSON.
fn response_stream_event() -> Value {
    json!({
        "type": "object",
        "description": "One server-sent event (this schema applies to each event of the stream, as OpenAPI 3.2's `itemSchema` would): `response.created`, `response.in_progress`, `response.output_item.added`/`.done`, `response.content_part.added`/`.done`, `response.output_text.delta`/`.done`, `response.output_text.annotation.added`, `response.reasoning_summary_part.added`/`.done`, `response.reasoning_summary_text.delta`/`.done`, `response.function_call_arguments.delta`/`.done`, then `response.completed`, `response.incomplete` or `response.failed`",
        "properties": {
            "event": {"type": "string", "pattern": "^(response\\.|error$)"},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": {"type": "object", "required": ["type", "sequence_number"]},
            },
        },
        "required": ["data"],
    })
}

/// A Messages API `message` (built as JSON by `pincer_anthropic::encode`).
fn anthropic_message() -> Value {
    json!({
        "type": "object",
        "description": "A `message`: content blocks (`text`, `thinking`, `redacted_thinking`, `tool_use`), stop reason and usage",
        "required": ["id", "type", "role", "model", "content", "stop_reason", "usage"],
        "properties": {
            "id": {"type": "string", "pattern": "^msg_"},
            "type": {"const": "message"},
            "role": {"const": "assistant"},
            "model": {"type": "string"},
            "content": {"type": "array", "items": {"type": "object", "required": ["type"], "properties": {
                "type": {"enum": ["text", "thinking", "redacted_thinking", "tool_use"]},
            }}},
            "stop_reason": {"enum": ["end_turn", "max_tokens", "model_context_window_exceeded", "stop_sequence", "tool_use", "refusal"]},
            "stop_sequence": {"type": ["string", "null"]},
            "usage": {"type": "object", "required": ["input_tokens", "output_tokens"], "properties": {
                "input_tokens": {"type": "integer"},
                "output_tokens": {"type": "integer"},
                "cache_read_input_tokens": {"type": "integer"},
                "cache_creation_input_tokens": {"type": "integer"},
            }},
        },
    })
}

/// One server-sent event of a streamed `message`.
fn anthropic_stream_event() -> Value {
    json!({
        "type": "object",
        "description": "One server-sent event (this schema applies to each event of the stream, as OpenAPI 3.2's `itemSchema` would): `message_start`, `ping`, `content_block_start`, `content_block_delta`, `content_block_stop`, `message_delta`, `message_stop`, or `error`",
        "properties": {
            "event": {"enum": ["message_start", "ping", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop", "error"]},
            "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": {"type": "object", "required": ["type"]}},
        },
        "required": ["data"],
    })
}

fn text_response(description: &str) -> Value {
    json!({"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}})
}

/// Builds the document.
pub fn document() -> Value {
    let settings =
        |s: SchemaSettings| s.with(|s| s.definitions_path = "/components/schemas".into());
    let mut requests = settings(SchemaSettings::draft2020_12())
        .for_deserialize()
        .into_generator();
    let request = requests.subschema_for::<ChatCompletionRequest>();
    let responses_request = requests.subschema_for::<ResponsesRequest>();
    let messages_request = requests.subschema_for::<MessagesRequest>();
    let count_request = requests.subschema_for::<CountTokensRequest>();
    let embeddings_request = requests.subschema_for::<EmbeddingsRequest>();
    let mut responses = settings(SchemaSettings::draft2020_12())
        .for_serialize()
        .into_generator();
    let completion = responses.subschema_for::<ChatCompletion>();
    let chunk = responses.subschema_for::<ChatCompletionChunk>();
    let error = responses.subschema_for::<ErrorBody>();
    let anthropic_error = responses.subschema_for::<pincer_anthropic::types::ErrorBody>();
    let model = responses.subschema_for::<ModelObject>();
    let list = responses.subschema_for::<ModelList>();
    let mut schemas = Map::new();
    schemas.extend(requests.take_definitions(true));
    schemas.extend(responses.take_definitions(true));
    // Named top-level types are referenced by name; make sure each one is a component.
    for (name, schema) in [
        ("ChatCompletionRequest", request),
        ("ResponsesRequest", responses_request),
        ("MessagesRequest", messages_request),
        ("CountTokensRequest", count_request),
        ("EmbeddingsRequest", embeddings_request),
        ("ChatCompletion", completion),
        ("ChatCompletionChunk", chunk),
        ("ErrorBody", error),
        ("AnthropicErrorBody", anthropic_error),
        ("ModelObject", model),
        ("ModelList", list),
    ] {
        let value = schema.to_value();
        let is_ref = value
            .get("$ref")
            .and_then(Value::as_str)
            .is_some_and(|r| r.ends_with(&format!("/{name}")));
        if !is_ref {
            schemas.insert(name.to_owned(), value);
        }
    }

    let mut chat_responses = Map::new();
    chat_responses.insert(
        "200".to_owned(),
        json!({
            "description": "The answer: a `chat.completion`, or with `stream: true` server-sent events, each `data:` a `chat.completion.chunk` (see the ChatCompletionChunk schema), ending with `data: [DONE]`",
            "content": {
                "application/json": {"schema": schema_ref("ChatCompletion")},
                "text/event-stream": {"schema": stream_event()},
            },
        }),
    );
    for (status, description) in CHAT_ERRORS {
        chat_responses.insert(status.to_owned(), error_response(description));
    }
    let unauthorized = error_response("Missing or wrong gateway token");
    schemas.insert("Response".to_owned(), response_object());
    let mut responses_responses = Map::new();
    responses_responses.insert(
        "200".to_owned(),
        json!({
            "description": "The answer: a `response`, or with `stream: true` server-sent events named by their `type`, ending with `response.completed`, `response.incomplete` or `response.failed`",
            "content": {
                "application/json": {"schema": schema_ref("Response")},
                "text/event-stream": {"schema": response_stream_event()},
            },
        }),
    );
    for (status, description) in CHAT_ERRORS {
        responses_responses.insert(status.to_owned(), error_response(description));
    }
    schemas.insert("Message".to_owned(), anthropic_message());
    let anthropic_error = |description: &str| json!({"description": description, "content": json_content(schema_ref("AnthropicErrorBody"))});
    let mut messages_responses = Map::new();
    messages_responses.insert(
        "200".to_owned(),
        json!({
            "description": "The answer: a `message`, or with `stream: true` Anthropic's server-sent events",
            "content": {
                "application/json": {"schema": schema_ref("Message")},
                "text/event-stream": {"schema": anthropic_stream_event()},
            },
        }),
    );
    let mut embeddings_responses = Map::new();
    embeddings_responses.insert(
        "200".to_owned(),
        json!({"description": "One vector per input, in order: floats, or base64 of little-endian f32s", "content": json_content(json!({
            "type": "object", "required": ["object", "data", "model", "usage"],
            "properties": {
                "object": {"const": "list"},
                "data": {"type": "array", "items": {"type": "object", "required": ["object", "index", "embedding"], "properties": {
                    "object": {"const": "embedding"},
                    "index": {"type": "integer", "minimum": 0},
                    "embedding": {"anyOf": [{"type": "array", "items": {"type": "number"}}, {"type": "string"}]},
                }}},
                "model": {"type": "string"},
                "usage": {"type": "object", "required": ["prompt_tokens", "total_tokens"]},
            },
        }))}),
    );
    for (status, description) in CHAT_ERRORS {
        embeddings_responses.insert(status.to_owned(), error_response(description));
    }
    let mut count_responses = Map::new();
    count_responses.insert(
        "200".to_owned(),
        json!({"description": "Bedrock's count of the request's input tokens", "content": json_content(json!({
            "type": "object", "required": ["input_tokens"], "properties": {"input_tokens": {"type": "integer", "minimum": 0}},
        }))}),
    );
    for (status, description) in CHAT_ERRORS {
        messages_responses.insert(status.to_owned(), anthropic_error(description));
        count_responses.insert(status.to_owned(), anthropic_error(description));
    }

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Pincer gateway",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "OpenAI-compatible chat-completions and Responses APIs and Anthropic's Messages API in front of Amazon Bedrock and other providers. When the gateway has a token, every /v1 route needs `Authorization: Bearer <token>`.",
        },
        "paths": {
            "/v1/chat/completions": {
                "post": {
                    "operationId": "createChatCompletion",
                    "summary": "Answer a conversation",
                    "security": [{"bearer": []}],
                    "requestBody": {"required": true, "content": {"application/json": {
                        "schema": schema_ref("ChatCompletionRequest"),
                        "examples": chat_examples(),
                    }}},
                    "responses": chat_responses,
                }
            },
            "/v1/responses": {
                "post": {
                    "operationId": "createResponse",
                    "summary": "Answer input items (OpenAI's Responses API, stateless)",
                    "security": [{"bearer": []}],
                    "requestBody": {"required": true, "content": {"application/json": {
                        "schema": schema_ref("ResponsesRequest"),
                        "examples": {
                            "answer": {"summary": "A whole answer from the default model", "value": {"model": "default", "input": "Hello!", "instructions": "Be brief.", "max_output_tokens": 200}},
                            "stream": {"summary": "A streamed answer", "value": {"model": "default", "input": [{"role": "user", "content": "Hello!"}], "stream": true}},
                        },
                    }}},
                    "responses": responses_responses,
                }
            },
            "/v1/embeddings": {
                "post": {
                    "operationId": "createEmbedding",
                    "summary": "Embed texts with an embedding model (InvokeModel)",
                    "security": [{"bearer": []}],
                    "requestBody": {"required": true, "content": {"application/json": {
                        "schema": schema_ref("EmbeddingsRequest"),
                        "examples": {"embed": {"summary": "Two texts", "value": {"model": "amazon-bedrock/amazon.titan-embed-text-v2:0", "input": ["first", "second"], "dimensions": 256}}},
                    }}},
                    "responses": embeddings_responses,
                }
            },
            "/v1/messages": {
                "post": {
                    "operationId": "createMessage",
                    "summary": "Answer a conversation (Anthropic's Messages API)",
                    "security": [{"bearer": []}, {"apiKey": []}],
                    "parameters": [
                        {"name": "anthropic-version", "in": "header", "required": false, "schema": {"type": "string", "pattern": "^20[2-9][0-9]-[0-9]{2}-[0-9]{2}$"}},
                        {"name": "anthropic-beta", "in": "header", "required": false, "description": "Comma-separated flags; those Bedrock takes go on, others are dropped", "schema": {"type": "string"}},
                    ],
                    "requestBody": {"required": true, "content": {"application/json": {
                        "schema": schema_ref("MessagesRequest"),
                        "examples": {"answer": {"summary": "A whole answer", "value": {"model": "claude-sonnet-4-5", "max_tokens": 200, "messages": [{"role": "user", "content": "Hello!"}]}}},
                    }}},
                    "responses": messages_responses,
                }
            },
            "/v1/messages/count_tokens": {
                "post": {
                    "operationId": "countMessageTokens",
                    "summary": "Count a request's input tokens (Bedrock's CountTokens)",
                    "security": [{"bearer": []}, {"apiKey": []}],
                    "requestBody": {"required": true, "content": {"application/json": {
                        "schema": schema_ref("CountTokensRequest"),
                    }}},
                    "responses": count_responses,
                }
            },
            "/v1/models": {
                "get": {
                    "operationId": "listModels",
                    "summary": "The model catalog",
                    "security": [{"bearer": []}],
                    "responses": {
                        "200": {"description": "The models (a managed key's own)", "content": json_content(schema_ref("ModelList"))},
                        "401": unauthorized,
                        "503": error_response("A managed key cannot be checked: the key database is unavailable"),
                    },
                }
            },
            "/v1/models/{id}": {
                "get": {
                    "operationId": "retrieveModel",
                    "summary": "One model of the catalog",
                    "security": [{"bearer": []}],
                    "parameters": [{
                        "name": "id",
                        "in": "path",
                        "required": true,
                        "description": "`provider/model-id` (its `/` may stay unencoded) or a bare model id",
                        "schema": {"type": "string", "minLength": 1},
                        "example": "amazon-bedrock/anthropic.claude-3-haiku-20240307-v1:0",
                    }],
                    "responses": {
                        "200": {"description": "The model", "content": json_content(schema_ref("ModelObject"))},
                        "400": error_response("The id in the path is not valid (not UTF-8 once decoded)"),
                        "401": unauthorized,
                        "404": error_response("Unknown model, or one the managed key may not use"),
                        "503": error_response("A managed key cannot be checked: the key database is unavailable"),
                    },
                }
            },
            "/healthz": {"get": {"operationId": "health", "summary": "Liveness", "responses": {"200": text_response("The process serves requests")}}},
            "/readyz": {"get": {"operationId": "ready", "summary": "Readiness", "responses": {
                "200": text_response("The catalog holds models to serve"),
                "503": text_response("No model to serve yet, and why"),
            }}},
            "/metrics": {"get": {"operationId": "metrics", "summary": "Prometheus metrics", "responses": {"200": {
                "description": "OpenMetrics text",
                "content": {"application/openmetrics-text": {"schema": {"type": "string"}}},
            }}}},
            "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document", "responses": {"200": {
                "description": "OpenAPI 3.1",
                "content": json_content(json!({"type": "object"})),
            }}}},
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
            },
        },
    })
}

/// The handler; the document is built on first request.
pub async fn serve() -> Json<&'static Value> {
    static DOCUMENT: std::sync::LazyLock<Value> = std::sync::LazyLock::new(document);
    Json(&DOCUMENT)
}
