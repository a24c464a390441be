//! The conversation edge cases of SCENARIOS.md, each against the twin, whose validation mirrors
//! Bedrock's: every case must succeed or fail with a clear validation error, never a raw 400.

use pincer_core::{
    AssistantContent, AssistantMessage, Conversation, ErrorKind, Image, Message, ReasoningLevel,
    RequestOptions, StopReason, Tool, ToolCall, ToolResult, ToolResultContent, UserContent,
};
use serde_json::json;

use crate::common::{CLAUDE, HAIKU3, Harness, ask, error_of};

fn tool(name: &str) -> Tool {
    Tool {
        name: name.into(),
        description: "a tool".into(),
        parameters: json!({"type": "object", "properties": {"q": {"type": "string"}}}),
    }
}

fn assistant(model: &str, content: Vec<AssistantContent>) -> Message {
    Message::Assistant(AssistantMessage {
        content,
        provider: "amazon-bedrock".into(),
        model: model.into(),
        stop_reason: StopReason::ToolUse,
        ..AssistantMessage::default()
    })
}

fn call(id: &str, name: &str) -> AssistantContent {
    AssistantContent::ToolCall(ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: json!({"q": "x"}),
    })
}

fn result(id: &str, name: &str, content: Vec<ToolResultContent>) -> Message {
    Message::ToolResult(ToolResult {
        tool_call_id: id.into(),
        tool_name: name.into(),
        content,
        is_error: false,
    })
}

fn text(t: &str) -> ToolResultContent {
    ToolResultContent::Text { text: t.into() }
}

#[tokio::test]
async fn s1_two_turns() {
    let harness = Harness::start().await;
    let first = harness
        .answer(HAIKU3, ask("What is Rust?"), RequestOptions::default())
        .await;
    let conversation = Conversation {
        messages: vec![
            Message::user_text("What is Rust?"),
            Message::Assistant(first),
            Message::user_text("And Go?"),
        ],
        ..Conversation::default()
    };
    assert!(
        harness
            .answer(HAIKU3, conversation, RequestOptions::default())
            .await
            .text()
            .contains("And Go?")
    );
    harness.stop().await;
}

#[tokio::test]
async fn s4_s5_tool_call_without_result_and_without_tools_offered() {
    let harness = Harness::start().await;
    let conversation = Conversation {
        messages: vec![
            Message::user_text("search please"),
            assistant(HAIKU3, vec![call("call_1", "search")]),
            Message::user_text("never mind, just say hi"),
        ],
        tools: vec![],
        system: None,
    };
    // The unanswered call gets a synthetic error result (the twin, like a model, quotes it).
    let answer = harness
        .answer(HAIKU3, conversation, RequestOptions::default())
        .await;
    assert!(
        answer.text().contains("No result was provided"),
        "{}",
        answer.text()
    );
    harness.stop().await;
}

#[tokio::test]
async fn s3_several_results_grouped_and_s8_images_in_results() {
    let harness = Harness::start().await;
    let png = Image {
        media_type: "image/png".into(),
        data: vec![0x89, b'P', b'N', b'G', 1, 2, 3],
    };
    let conversation = Conversation {
        messages: vec![
            Message::user_text("use both"),
            assistant(CLAUDE, vec![call("a", "one"), call("b", "two")]),
            result("a", "one", vec![ToolResultContent::Image(png.clone())]),
            result(
                "b",
                "two",
                vec![text("two done"), ToolResultContent::Image(png)],
            ),
        ],
        tools: vec![tool("one"), tool("two")],
        system: None,
    };
    let answer = harness
        .answer(CLAUDE, conversation, RequestOptions::default())
        .await;
    assert!(answer.text().contains("two done"), "{}", answer.text());
    harness.stop().await;
}

#[tokio::test]
async fn s6_empty_messages() {
    let harness = Harness::start().await;
    for empty in ["", "   \n\t"] {
        let (error, _) = error_of(
            &harness
                .events(HAIKU3, ask(empty), RequestOptions::default())
                .await,
        );
        assert_eq!(error.kind, ErrorKind::Validation);
        assert!(error.message.contains("empty"), "{error}");
    }
    let (error, _) = error_of(
        &harness
            .events(HAIKU3, Conversation::default(), RequestOptions::default())
            .await,
    );
    assert!(error.message.contains("no messages"), "{error}");
    // An empty assistant turn and an empty user turn in the history are dropped.
    let conversation = Conversation {
        messages: vec![
            Message::user_text("first"),
            assistant(HAIKU3, vec![]),
            Message::user_text(""),
            Message::user_text("second"),
        ],
        ..Conversation::default()
    };
    assert!(
        harness
            .answer(HAIKU3, conversation, RequestOptions::default())
            .await
            .text()
            .contains("second")
    );
    harness.stop().await;
}

#[tokio::test]
async fn s7_unicode_everywhere() {
    let harness = Harness::start().await;
    let wide = "héllo 🦀 你好 \u{fffd}";
    let conversation = Conversation {
        messages: vec![
            Message::user_text(wide),
            assistant(HAIKU3, vec![call("u1", "echo")]),
            result("u1", "echo", vec![text(wide)]),
        ],
        tools: vec![tool("echo")],
        system: None,
    };
    let answer = harness
        .answer(HAIKU3, conversation, RequestOptions::default())
        .await;
    assert!(answer.text().contains("🦀"), "{}", answer.text());
    harness.stop().await;
}

#[tokio::test]
async fn s9_thinking_tool_round_trip_then_another_turn() {
    let harness = Harness::start().await;
    let options = RequestOptions {
        reasoning: ReasoningLevel::Low,
        ..RequestOptions::default()
    };
    let mut conversation = Conversation {
        messages: vec![Message::user_text("use lookup now")],
        tools: vec![tool("lookup")],
        system: None,
    };
    let first = harness
        .answer(CLAUDE, conversation.clone(), options.clone())
        .await;
    assert_eq!(first.stop_reason, StopReason::ToolUse, "{first:?}");
    assert!(matches!(
        first.content.first(),
        Some(AssistantContent::Thinking {
            signature: Some(_),
            ..
        })
    ));
    let id = first.tool_calls().next().unwrap().id.clone();
    conversation.messages.push(Message::Assistant(first));
    conversation
        .messages
        .push(result(&id, "lookup", vec![text("found it")]));
    let second = harness
        .answer(CLAUDE, conversation.clone(), options.clone())
        .await;
    assert!(second.text().contains("found it"));
    conversation.messages.push(Message::Assistant(second));
    conversation.messages.push(Message::user_text("thanks"));
    harness.answer(CLAUDE, conversation.clone(), options).await;
    // The same history to another model: signatures are not sent.
    harness
        .answer(HAIKU3, conversation, RequestOptions::default())
        .await;
    harness.stop().await;
}

#[tokio::test]
async fn s10_failed_turn_then_continue() {
    let harness = Harness::start().await;
    let mut model = crate::common::model(HAIKU3);
    model.id = format!("{HAIKU3}~midstream-modelStreamErrorException:2");
    let request = pincer_core::ProviderRequest {
        model,
        conversation: ask("tell me a long story please"),
        options: RequestOptions::default(),
    };
    let events: Vec<_> =
        futures_util::StreamExt::collect(pincer_core::Provider::stream(&harness.provider, request))
            .await;
    let (_, partial) = error_of(&events);
    let conversation = Conversation {
        messages: vec![
            Message::user_text("tell me a long story please"),
            Message::Assistant(partial),
            Message::user_text("go on"),
        ],
        ..Conversation::default()
    };
    assert!(
        harness
            .answer(HAIKU3, conversation, RequestOptions::default())
            .await
            .text()
            .contains("go on")
    );
    // A turn cancelled before any byte leaves only the user message: two user turns are merged.
    let conversation = Conversation {
        messages: vec![
            Message::user_text("first try"),
            Message::user_text("second try"),
        ],
        ..Conversation::default()
    };
    assert!(
        harness
            .answer(HAIKU3, conversation, RequestOptions::default())
            .await
            .text()
            .contains("second try")
    );
    harness.stop().await;
}

#[tokio::test]
async fn s13_limits_are_adjusted_not_rejected() {
    let harness = Harness::start().await;
    let huge = RequestOptions {
        max_tokens: Some(10_000_000),
        ..RequestOptions::default()
    };
    harness.answer(HAIKU3, ask("big limit"), huge).await;
    let thinking = RequestOptions {
        max_tokens: Some(1500),
        reasoning: ReasoningLevel::High,
        ..RequestOptions::default()
    };
    harness.answer(CLAUDE, ask("think hard"), thinking).await;
    harness.stop().await;
}

#[tokio::test]
async fn s14_foreign_tool_names_and_ids() {
    let harness = Harness::start().await;
    let long = format!("mcp.server.{}", "x".repeat(70));
    let conversation = Conversation {
        messages: vec![
            Message::user_text("go"),
            assistant(HAIKU3, vec![call("call.abc/1", "web.search")]),
            result("call.abc/1", "web.search", vec![text("results")]),
            Message::Assistant(AssistantMessage {
                content: vec![AssistantContent::Text {
                    text: "Found results.".into(),
                }],
                provider: "amazon-bedrock".into(),
                model: HAIKU3.into(),
                ..AssistantMessage::default()
            }),
            Message::user_text("twin:tools now"),
        ],
        tools: vec![tool("web.search"), tool(&long)],
        system: None,
    };
    let message = harness
        .answer(HAIKU3, conversation, RequestOptions::default())
        .await;
    // Names come back as the caller wrote them.
    let names: Vec<String> = message.tool_calls().map(|c| c.name.clone()).collect();
    assert!(names.contains(&long), "{names:?}");
    assert!(
        names.iter().all(|n| n == &long || n == "web.search"),
        "{names:?}"
    );
    harness.stop().await;
}

#[tokio::test]
async fn s12_s15_s16_outcomes_are_distinct() {
    let harness = Harness::start().await;
    let guard = harness
        .answer(
            HAIKU3,
            ask("twin:stop=guardrail_intervened"),
            RequestOptions::default(),
        )
        .await;
    assert_eq!(guard.stop_reason, StopReason::Guardrail);
    let filtered = harness
        .answer(
            HAIKU3,
            ask("twin:stop=content_filtered"),
            RequestOptions::default(),
        )
        .await;
    assert_eq!(filtered.stop_reason, StopReason::ContentFiltered);
    let long = "word ".repeat(200_000);
    let events = harness
        .events(HAIKU3, ask(&long), RequestOptions::default())
        .await;
    let (error, _) = error_of(&events);
    assert_eq!(error.kind, ErrorKind::ContextOverflow, "{error}");
    harness.stop().await;
}

#[tokio::test]
async fn user_content_images_rejected_for_text_only_models() {
    let harness = Harness::start().await;
    let mut model = crate::common::model(HAIKU3);
    model.input = vec![pincer_core::Modality::Text];
    let conversation = Conversation {
        messages: vec![Message::User {
            content: vec![UserContent::Image(Image {
                media_type: "image/png".into(),
                data: vec![1],
            })],
        }],
        ..Conversation::default()
    };
    let request = pincer_core::ProviderRequest {
        model,
        conversation,
        options: RequestOptions::default(),
    };
    let events: Vec<_> =
        futures_util::StreamExt::collect(pincer_core::Provider::stream(&harness.provider, request))
            .await;
    let (error, _) = error_of(&events);
    assert!(error.message.contains("does not accept images"), "{error}");
    harness.stop().await;
}
