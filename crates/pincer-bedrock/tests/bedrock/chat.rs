//! Streaming chat: text, images, reasoning, tools, caching, stop reasons, usage.

use pincer_core::{
    AssistantContent, CacheRetention, Conversation, Image, Message, ReasoningLevel, RequestOptions,
    StopReason, StreamEvent, Tool, ToolResult, ToolResultContent, UserContent,
};
use serde_json::json;

use crate::common::{CLAUDE, HAIKU3, Harness, NOVA2, ask, model};

fn weather_tool() -> Tool {
    Tool {
        name: "get_weather".into(),
        description: "Current weather for a city".into(),
        parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    }
}

fn time_tool() -> Tool {
    Tool {
        name: "get_time".into(),
        description: "Current time in a timezone".into(),
        parameters: json!({"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]}),
    }
}

#[tokio::test]
async fn streams_text_in_several_deltas() {
    let harness = Harness::start().await;
    let events = harness
        .events(
            HAIKU3,
            ask("Hello there, twin of Bedrock!"),
            RequestOptions::default(),
        )
        .await;
    assert_eq!(events.first(), Some(&StreamEvent::Start));
    let deltas: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::TextDelta { index: 0, delta } => Some(delta.as_str()),
            _ => None,
        })
        .collect();
    assert!(deltas.len() > 1, "{events:?}");
    let StreamEvent::Done { message } = events.last().unwrap() else {
        panic!("{events:?}")
    };
    assert_eq!(message.text(), deltas.concat());
    assert!(
        message.text().contains("Hello there, twin of Bedrock!"),
        "{}",
        message.text()
    );
    assert_eq!(message.stop_reason, StopReason::Stop);
    assert!(
        message.usage.input > 0 && message.usage.output > 0,
        "{:?}",
        message.usage
    );
    assert_eq!(message.model, HAIKU3);
    let cost = message.usage.cost(&model(HAIKU3).prices);
    assert!(cost.unwrap().total > 0.0);
    harness.stop().await;
}

#[tokio::test]
async fn images_are_sent() {
    let harness = Harness::start().await;
    let png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0];
    let conversation = Conversation {
        system: Some("Describe images.".into()),
        messages: vec![Message::User {
            content: vec![
                UserContent::Text {
                    text: "What is this?".into(),
                },
                UserContent::Image(Image {
                    media_type: "image/png".into(),
                    data: png,
                }),
            ],
        }],
        tools: vec![],
    };
    let message = harness
        .answer(CLAUDE, conversation, RequestOptions::default())
        .await;
    assert!(message.text().contains("What is this?"));
    let bmp = Conversation {
        messages: vec![Message::User {
            content: vec![UserContent::Image(Image {
                media_type: "image/bmp".into(),
                data: vec![1, 2],
            })],
        }],
        ..Conversation::default()
    };
    let events = harness.events(CLAUDE, bmp, RequestOptions::default()).await;
    let (error, _) = crate::common::error_of(&events);
    assert!(error.message.contains("image/bmp"), "{error}");
    harness.stop().await;
}

#[tokio::test]
async fn budget_thinking_streams_and_replays_signatures() {
    let harness = Harness::start().await;
    let options = RequestOptions {
        reasoning: ReasoningLevel::Medium,
        max_tokens: Some(2000),
        ..RequestOptions::default()
    };
    let first = harness
        .answer(CLAUDE, ask("Think about 2+2"), options.clone())
        .await;
    let Some(AssistantContent::Thinking { text, signature }) = first.content.first() else {
        panic!("{first:?}")
    };
    assert!(!text.is_empty());
    assert!(signature.as_deref().is_some_and(|s| !s.is_empty()));
    // Replay to the same model: accepted (the twin, like Bedrock, checks thinking blocks).
    let conversation = Conversation {
        messages: vec![
            Message::user_text("Think about 2+2"),
            Message::Assistant(first.clone()),
            Message::user_text("And 3+3?"),
        ],
        ..Conversation::default()
    };
    let second = harness
        .answer(CLAUDE, conversation.clone(), options.clone())
        .await;
    assert!(second.text().contains("And 3+3?"));
    // Another model gets no signature: the same history works for Haiku 3 without reasoning.
    let third = harness
        .answer(HAIKU3, conversation, RequestOptions::default())
        .await;
    assert!(third.text().contains("And 3+3?"));
    harness.stop().await;
}

#[tokio::test]
async fn effort_reasoning_and_redacted_thinking() {
    let harness = Harness::start().await;
    let options = RequestOptions {
        reasoning: ReasoningLevel::Low,
        ..RequestOptions::default()
    };
    let nova = harness
        .answer(NOVA2, ask("Reason a little"), options.clone())
        .await;
    assert!(
        nova.content
            .iter()
            .any(|b| matches!(b, AssistantContent::Thinking { .. })),
        "{nova:?}"
    );
    let redacted = harness
        .answer(CLAUDE, ask("twin:redacted please"), options)
        .await;
    assert!(
        redacted
            .content
            .iter()
            .any(|b| matches!(b, AssistantContent::RedactedThinking { data } if !data.is_empty())),
        "{redacted:?}"
    );
    harness.stop().await;
}

#[tokio::test]
async fn several_tool_calls_then_a_round_trip() {
    let harness = Harness::start().await;
    let mut conversation = Conversation {
        system: None,
        messages: vec![Message::user_text("Use get_weather and get_time for Paris")],
        tools: vec![weather_tool(), time_tool()],
    };
    let events = harness
        .events(CLAUDE, conversation.clone(), RequestOptions::default())
        .await;
    let starts: Vec<(usize, String)> = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::ToolCallStart { index, name, .. } => Some((*index, name.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(starts.len(), 2, "{events:?}");
    let StreamEvent::Done { message } = events.last().unwrap() else {
        panic!()
    };
    assert_eq!(message.stop_reason, StopReason::ToolUse);
    let calls: Vec<_> = message.tool_calls().cloned().collect();
    assert_eq!(
        calls.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["get_weather", "get_time"]
    );
    assert!(calls.iter().all(|c| c.arguments.is_object()));
    // Results go back together, in one user turn.
    conversation
        .messages
        .push(Message::Assistant(message.clone()));
    for call in &calls {
        conversation.messages.push(Message::ToolResult(ToolResult {
            tool_call_id: call.id.clone(),
            tool_name: call.name.clone(),
            content: vec![ToolResultContent::Text {
                text: format!("{} says 21C", call.name),
            }],
            is_error: false,
        }));
    }
    let answer = harness
        .answer(CLAUDE, conversation, RequestOptions::default())
        .await;
    assert_eq!(answer.stop_reason, StopReason::Stop);
    assert!(
        answer.text().contains("get_weather says 21C"),
        "{}",
        answer.text()
    );
    harness.stop().await;
}

#[tokio::test]
async fn prompt_cache_writes_then_reads() {
    let harness = Harness::start().await;
    let conversation = Conversation {
        system: Some("You are a careful assistant. ".repeat(50)),
        messages: vec![Message::user_text("cache me")],
        tools: vec![],
    };
    let options = RequestOptions {
        cache_retention: CacheRetention::Short,
        ..RequestOptions::default()
    };
    let first = harness
        .answer(CLAUDE, conversation.clone(), options.clone())
        .await;
    assert!(first.usage.cache_write > 0, "{:?}", first.usage);
    let second = harness.answer(CLAUDE, conversation.clone(), options).await;
    assert!(second.usage.cache_read > 0, "{:?}", second.usage);
    let none = RequestOptions {
        cache_retention: CacheRetention::None,
        ..RequestOptions::default()
    };
    let third = harness.answer(CLAUDE, conversation, none).await;
    assert_eq!((third.usage.cache_read, third.usage.cache_write), (0, 0));
    harness.stop().await;
}

#[tokio::test]
async fn every_stop_reason_is_mapped() {
    let harness = Harness::start().await;
    for (forced, expected) in [
        ("end_turn", StopReason::Stop),
        ("stop_sequence", StopReason::Stop),
        ("max_tokens", StopReason::Length),
        ("model_context_window_exceeded", StopReason::Length),
        ("tool_use", StopReason::ToolUse),
        ("guardrail_intervened", StopReason::Guardrail),
        ("content_filtered", StopReason::ContentFiltered),
    ] {
        let message = harness
            .answer(
                HAIKU3,
                ask(&format!("twin:stop={forced}")),
                RequestOptions::default(),
            )
            .await;
        assert_eq!(message.stop_reason, expected, "{forced}");
    }
    let cut = harness
        .answer(
            HAIKU3,
            ask("a long answer that will not fit at all"),
            RequestOptions {
                max_tokens: Some(2),
                ..RequestOptions::default()
            },
        )
        .await;
    assert_eq!(cut.stop_reason, StopReason::Length);
    harness.stop().await;
}
