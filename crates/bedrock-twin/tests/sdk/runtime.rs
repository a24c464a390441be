//! Converse and ConverseStream through `aws-sdk-bedrockruntime`: scripted replies and
//! Bedrock's validation.

use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use aws_sdk_bedrockruntime::types::{
    CachePointBlock, CachePointType, ContentBlock, ConversationRole, InferenceConfiguration,
    Message, ReasoningContentBlock, StopReason, SystemContentBlock, Tool, ToolConfiguration,
    ToolInputSchema, ToolResultBlock, ToolResultContentBlock, ToolSpecification, ToolUseBlock,
};
use aws_smithy_types::{Document, Number};
use serde_json::{Value, json};

use crate::common::{MODEL, assistant, collect, runtime, start, user};

pub fn doc(value: Value) -> Document {
    match value {
        Value::Null => Document::Null,
        Value::Bool(b) => Document::Bool(b),
        Value::Number(n) => Document::Number(match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Number::PosInt(u),
            (None, Some(i)) => Number::NegInt(i),
            _ => Number::Float(n.as_f64().unwrap()),
        }),
        Value::String(s) => Document::String(s),
        Value::Array(items) => Document::Array(items.into_iter().map(doc).collect()),
        Value::Object(map) => Document::Object(map.into_iter().map(|(k, v)| (k, doc(v))).collect()),
    }
}

pub fn tools() -> ToolConfiguration {
    let tool = |name: &str, schema: Value| {
        Tool::ToolSpec(
            ToolSpecification::builder()
                .name(name)
                .input_schema(ToolInputSchema::Json(doc(schema)))
                .build()
                .unwrap(),
        )
    };
    ToolConfiguration::builder()
        .tools(tool(
            "get_weather",
            json!({"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city", "days"]}),
        ))
        .tools(tool("get_time", json!({"type": "object", "properties": {"zone": {"type": "string", "enum": ["UTC", "CET"]}}})))
        .build()
        .unwrap()
}

fn thinking(budget: u64) -> Document {
    doc(json!({"thinking": {"type": "enabled", "budget_tokens": budget}}))
}

#[tokio::test]
async fn converse_echoes_the_last_user_message() {
    let twin = start().await;
    let out = runtime(&twin)
        .converse()
        .model_id(MODEL)
        .messages(user("first question"))
        .messages(assistant("first answer"))
        .messages(user("Bonjour 🌍, 你好"))
        .send()
        .await
        .unwrap();
    let message = out.output().unwrap().as_message().unwrap();
    assert_eq!(message.role(), &ConversationRole::Assistant);
    assert_eq!(message.content()[0].as_text().unwrap(), "Bonjour 🌍, 你好");
    assert_eq!(out.stop_reason(), &StopReason::EndTurn);
    let usage = out.usage().unwrap();
    assert!(usage.input_tokens() > 0 && usage.output_tokens() > 0);
    assert_eq!(
        usage.total_tokens(),
        usage.input_tokens() + usage.output_tokens()
    );
    assert!(out.metrics().is_some());
    twin.stop().await;
}

#[tokio::test]
async fn stream_echoes_in_several_deltas() {
    let twin = start().await;
    let out = runtime(&twin)
        .converse_stream()
        .model_id(MODEL)
        .messages(user("a reply long enough for several deltas"))
        .send()
        .await
        .unwrap();
    let got = collect(out).await;
    assert_eq!(got.text, "a reply long enough for several deltas");
    assert_eq!(got.events.first().unwrap(), "messageStart");
    let deltas = got
        .events
        .iter()
        .filter(|e| *e == "contentBlockDelta")
        .count();
    assert!(deltas > 1, "{deltas}");
    assert_eq!(
        &got.events[got.events.len() - 3..],
        ["contentBlockStop", "messageStop", "metadata"]
    );
    assert_eq!(got.stop_reason.as_deref(), Some("end_turn"));
    assert!(got.latency_ms.is_some());
    assert_eq!(got.usage.unwrap().output_tokens(), deltas as i32);
    twin.stop().await;
}

#[tokio::test]
async fn profile_ids_and_arns_invoke_the_underlying_model() {
    let twin = start().await;
    let client = runtime(&twin);
    for id in [
        "us.anthropic.claude-sonnet-4-20250514-v1:0",
        "global.anthropic.claude-haiku-4-5-20251001-v1:0",
        "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/tw1nappprof1",
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0",
    ] {
        let out = client
            .converse_stream()
            .model_id(id)
            .messages(user("hi"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{id}: {e:?}"));
        assert_eq!(collect(out).await.text, "hi", "{id}");
    }
    twin.stop().await;
}

#[tokio::test]
async fn thinking_streams_reasoning_with_a_signature() {
    let twin = start().await;
    let client = runtime(&twin);
    let out = client
        .converse_stream()
        .model_id("us.anthropic.claude-sonnet-4-20250514-v1:0")
        .messages(user("think first"))
        .inference_config(InferenceConfiguration::builder().max_tokens(4096).build())
        .additional_model_request_fields(thinking(2048))
        .send()
        .await
        .unwrap();
    let got = collect(out).await;
    assert!(!got.reasoning.is_empty());
    assert!(got.signature.is_some());
    assert_eq!(got.text, "think first");
    let stops = got
        .events
        .iter()
        .filter(|e| *e == "contentBlockStop")
        .count();
    assert_eq!(stops, 2);

    let out = client
        .converse()
        .model_id("us.anthropic.claude-sonnet-4-20250514-v1:0")
        .messages(user("think first"))
        .additional_model_request_fields(thinking(2048))
        .send()
        .await
        .unwrap();
    let content = out.output().unwrap().as_message().unwrap().content();
    let ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(text)) = &content[0]
    else {
        panic!("{content:?}")
    };
    assert_eq!(text.signature(), got.signature.as_deref());

    let redacted = client
        .converse_stream()
        .model_id("us.anthropic.claude-sonnet-4-20250514-v1:0")
        .messages(user("twin:redacted please"))
        .additional_model_request_fields(thinking(2048))
        .send()
        .await
        .unwrap();
    assert_eq!(collect(redacted).await.redacted, 1);
    twin.stop().await;
}

#[tokio::test]
async fn tools_stream_partial_json_and_several_calls() {
    let twin = start().await;
    let client = runtime(&twin);
    let out = client
        .converse_stream()
        .model_id(MODEL)
        .messages(user("call get_weather and get_time"))
        .tool_config(tools())
        .send()
        .await
        .unwrap();
    let got = collect(out).await;
    assert_eq!(got.stop_reason.as_deref(), Some("tool_use"));
    assert_eq!(got.tool_inputs.len(), 2);
    let weather: Value = serde_json::from_str(&got.tool_inputs[0].1).unwrap();
    assert_eq!(weather, json!({"city": "twin-city", "days": 1}));
    let time: Value = serde_json::from_str(&got.tool_inputs[1].1).unwrap();
    assert_eq!(time, json!({"zone": "UTC"}));
    let starts = got
        .events
        .iter()
        .filter(|e| *e == "contentBlockStart")
        .count();
    assert_eq!(starts, 2);
    let tool_deltas = got.events.len() - 7 - 4;
    assert!(
        tool_deltas > 2,
        "input arrives in several partial-JSON deltas: {:?}",
        got.events
    );

    let first = client
        .converse()
        .model_id(MODEL)
        .messages(user("twin:tools"))
        .tool_config(tools())
        .send()
        .await
        .unwrap();
    let content = first
        .output()
        .unwrap()
        .as_message()
        .unwrap()
        .content()
        .to_vec();
    let ids: Vec<String> = content
        .iter()
        .filter_map(|b| b.as_tool_use().ok())
        .map(|t| t.tool_use_id().to_owned())
        .collect();
    assert_eq!(ids.len(), 2);
    let results = Message::builder()
        .role(ConversationRole::User)
        .set_content(Some(
            ids.iter()
                .map(|id| {
                    ContentBlock::ToolResult(
                        ToolResultBlock::builder()
                            .tool_use_id(id)
                            .content(ToolResultContentBlock::Text(format!("result-{id}")))
                            .build()
                            .unwrap(),
                    )
                })
                .collect(),
        ))
        .build()
        .unwrap();
    let second = client
        .converse()
        .model_id(MODEL)
        .messages(user("twin:tools"))
        .messages(
            Message::builder()
                .role(ConversationRole::Assistant)
                .set_content(Some(content))
                .build()
                .unwrap(),
        )
        .messages(results)
        .tool_config(tools())
        .send()
        .await
        .unwrap();
    let answer = second.output().unwrap().as_message().unwrap().content()[0]
        .as_text()
        .unwrap()
        .clone();
    assert!(answer.contains(&format!("result-{}", ids[1])), "{answer}");
    assert_eq!(second.stop_reason(), &StopReason::EndTurn);
    twin.stop().await;
}

#[tokio::test]
async fn every_stop_reason_can_be_scripted() {
    let twin = start().await;
    let client = runtime(&twin);
    for reason in [
        "end_turn",
        "tool_use",
        "max_tokens",
        "stop_sequence",
        "guardrail_intervened",
        "content_filtered",
    ] {
        let out = client
            .converse_stream()
            .model_id(MODEL)
            .messages(user(&format!("twin:stop={reason}")))
            .send()
            .await
            .unwrap();
        assert_eq!(collect(out).await.stop_reason.as_deref(), Some(reason));
    }
    let cut = client
        .converse()
        .model_id(MODEL)
        .messages(user("one two three four five six seven eight nine ten"))
        .inference_config(InferenceConfiguration::builder().max_tokens(2).build())
        .send()
        .await
        .unwrap();
    assert_eq!(cut.stop_reason(), &StopReason::MaxTokens);
    assert_eq!(cut.usage().unwrap().output_tokens(), 2);
    let stopped = client
        .converse()
        .model_id(MODEL)
        .messages(user("alpha STOP beta"))
        .inference_config(
            InferenceConfiguration::builder()
                .stop_sequences("STOP")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(stopped.stop_reason(), &StopReason::StopSequence);
    assert_eq!(
        stopped.output().unwrap().as_message().unwrap().content()[0]
            .as_text()
            .unwrap(),
        "alpha "
    );
    twin.stop().await;
}

#[tokio::test]
async fn cache_point_writes_then_reads() {
    let twin = start().await;
    let client = runtime(&twin);
    let call = || {
        client
            .converse_stream()
            .model_id("us.anthropic.claude-3-7-sonnet-20250219-v1:0")
            .system(SystemContentBlock::Text(
                "a long and stable system prompt ".repeat(20),
            ))
            .system(SystemContentBlock::CachePoint(
                CachePointBlock::builder()
                    .r#type(CachePointType::Default)
                    .build()
                    .unwrap(),
            ))
            .messages(user("question"))
            .send()
    };
    let first = collect(call().await.unwrap()).await.usage.unwrap();
    let second = collect(call().await.unwrap()).await.usage.unwrap();
    assert!(first.cache_write_input_tokens().unwrap() > 0);
    assert_eq!(first.cache_read_input_tokens(), Some(0));
    assert_eq!(
        second.cache_read_input_tokens(),
        first.cache_write_input_tokens()
    );
    assert_eq!(second.cache_write_input_tokens(), Some(0));
    let plain = client
        .converse()
        .model_id(MODEL)
        .messages(user("no cache"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.usage().unwrap().cache_read_input_tokens(), None);
    twin.stop().await;
}

#[tokio::test]
async fn knobs_shape_the_stream() {
    let twin = start().await;
    let out = runtime(&twin)
        .converse_stream()
        .model_id(MODEL)
        .messages(user("xyz"))
        .customize()
        .mutate_request(|req| {
            req.headers_mut().insert("x-twin-deltas", "9");
            req.headers_mut().insert("x-twin-delta-size", "4");
            req.headers_mut().insert("x-twin-delay-ms", "1");
        })
        .send()
        .await
        .unwrap();
    let got = collect(out).await;
    assert_eq!(
        got.events
            .iter()
            .filter(|e| *e == "contentBlockDelta")
            .count(),
        9
    );
    assert_eq!(got.text.chars().count(), 36);
    assert!(got.text.starts_with("xyzxyz"));
    twin.stop().await;
}

async fn refusal(
    client: &aws_sdk_bedrockruntime::Client,
    model: &str,
    messages: Vec<Message>,
    edit: impl FnOnce(
        aws_sdk_bedrockruntime::operation::converse_stream::builders::ConverseStreamFluentBuilder,
    ) -> aws_sdk_bedrockruntime::operation::converse_stream::builders::ConverseStreamFluentBuilder,
) -> (String, String) {
    let builder = client
        .converse_stream()
        .model_id(model)
        .set_messages(Some(messages));
    let err = edit(builder).send().await.unwrap_err();
    let raw = err.raw_response().map(|r| r.status().as_u16());
    let code = err.code().unwrap_or_default().to_owned();
    let message = err.message().unwrap_or_default().to_owned();
    assert!(raw.is_some_and(|s| s >= 400), "{err:?}");
    (code, message)
}

#[tokio::test]
async fn validation_mirrors_bedrock() {
    let twin = start().await;
    let client = runtime(&twin);
    let same = |b| b;
    let (code, message) = refusal(
        &client,
        "us.does-not-exist-model-v1:0",
        vec![user("hi")],
        same,
    )
    .await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "ValidationException",
            "The provided model identifier is invalid."
        )
    );

    let (_, message) = refusal(&client, MODEL, vec![user("a"), user("b")], same).await;
    assert!(
        message.contains("must alternate between user and assistant"),
        "{message}"
    );

    let (_, message) = refusal(&client, MODEL, vec![assistant("a")], same).await;
    assert!(
        message.contains("must start with a user message"),
        "{message}"
    );

    let (_, message) = refusal(&client, MODEL, vec![user("  ")], same).await;
    assert!(message.contains("is blank"), "{message}");

    let (code, message) = refusal(
        &client,
        "eu.anthropic.claude-sonnet-4-20250514-v1:0",
        vec![user("a")],
        same,
    )
    .await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "ValidationException",
            "The provided model identifier is invalid."
        ),
        "an eu. profile called from us-east-1"
    );

    let tool_use = Message::builder()
        .role(ConversationRole::Assistant)
        .content(ContentBlock::ToolUse(
            ToolUseBlock::builder()
                .tool_use_id("tooluse_1")
                .name("get_time")
                .input(doc(json!({})))
                .build()
                .unwrap(),
        ))
        .build()
        .unwrap();
    let (_, message) = refusal(
        &client,
        MODEL,
        vec![user("a"), tool_use.clone(), user("next")],
        same,
    )
    .await;
    assert_eq!(
        message,
        "The toolConfig field must be defined when using toolUse and toolResult content blocks."
    );

    let (_, message) = refusal(
        &client,
        MODEL,
        vec![user("a"), tool_use, user("next")],
        |b| b.tool_config(tools()),
    )
    .await;
    assert!(
        message.contains("`tool_use` ids were found without `tool_result`"),
        "{message}"
    );

    let (_, message) = refusal(&client, MODEL, vec![user("a")], |b| {
        b.inference_config(
            InferenceConfiguration::builder()
                .max_tokens(100_000)
                .build(),
        )
    })
    .await;
    assert!(
        message.contains("exceeds the model limit of 8192"),
        "{message}"
    );

    let (_, message) = refusal(
        &client,
        "us.anthropic.claude-sonnet-4-20250514-v1:0",
        vec![user("a")],
        |b| {
            b.inference_config(InferenceConfiguration::builder().max_tokens(2048).build())
                .additional_model_request_fields(thinking(4096))
        },
    )
    .await;
    assert!(
        message.contains("must be greater than `thinking.budget_tokens`"),
        "{message}"
    );

    let (code, message) = refusal(
        &client,
        "anthropic.claude-sonnet-4-20250514-v1:0",
        vec![user("a")],
        same,
    )
    .await;
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "Invocation of model ID anthropic.claude-sonnet-4-20250514-v1:0 with on-demand throughput isn't supported. Retry your request with the ID or ARN of an inference profile that contains this model."
    );

    let (code, message) = refusal(
        &client,
        "meta.llama3-70b-instruct-v1:0",
        vec![user("a")],
        same,
    )
    .await;
    assert_eq!(code, "AccessDeniedException");
    assert_eq!(
        message,
        "You don't have access to the model with the specified model ID."
    );

    let (code, _) = refusal(
        &client,
        "amazon.titan-embed-text-v2:0",
        vec![user("a")],
        same,
    )
    .await;
    assert_eq!(code, "ValidationException");

    let (_, message) = refusal(
        &client,
        MODEL,
        vec![user(&"long input ".repeat(90_000))],
        same,
    )
    .await;
    assert!(
        message.contains("Input is too long for requested model"),
        "{message}"
    );
    twin.stop().await;
}

#[tokio::test]
async fn empty_content_is_refused_with_its_index() {
    let twin = start().await;
    let err = runtime(&twin)
        .converse()
        .model_id(MODEL)
        .messages(user("a"))
        .messages(
            Message::builder()
                .role(ConversationRole::Assistant)
                .set_content(Some(vec![]))
                .build()
                .unwrap(),
        )
        .messages(user("b"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some(
            "The content field in the Message object at messages.1 is empty. Add a ContentBlock object to the content field and try again."
        )
    );
    twin.stop().await;
}
