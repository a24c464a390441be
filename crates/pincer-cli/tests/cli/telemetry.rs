//! `pincer gateway` exporting traces over OTLP/HTTP to a receiver on loopback that decodes the
//! official protobuf messages (`opentelemetry-proto`): the server span continues the client's
//! `traceparent`, the model span carries the GenAI semantic conventions, a failure is marked,
//! contents appear only with `gateway.logContents`, and the spans queued at shutdown are
//! flushed.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;

use crate::common::{GatewayProcess, TestContext, TwinGuard};

/// An OTLP/HTTP trace receiver: every span it was sent, with its service name.
struct Receiver {
    url: String,
    spans: Arc<Mutex<Vec<(String, Span)>>>,
    runtime: tokio::runtime::Runtime,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Receiver {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let spans: Arc<Mutex<Vec<(String, Span)>>> = Arc::default();
        let kept = spans.clone();
        let app = axum::Router::new().route(
            "/v1/traces",
            axum::routing::post(
                move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                    let kept = kept.clone();
                    async move {
                        assert_eq!(headers["content-type"], "application/x-protobuf");
                        let request = ExportTraceServiceRequest::decode(body).unwrap();
                        for resource in request.resource_spans {
                            let service = resource
                                .resource
                                .iter()
                                .flat_map(|r| &r.attributes)
                                .find(|kv| kv.key == "service.name")
                                .and_then(|kv| text(kv.value.as_ref()?.value.as_ref()?))
                                .unwrap_or_default();
                            for scope in resource.scope_spans {
                                for span in scope.spans {
                                    kept.lock().unwrap().push((service.clone(), span));
                                }
                            }
                        }
                        ""
                    }
                },
            ),
        );
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        runtime.spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Self {
            url,
            spans,
            runtime,
            stop: Some(stop),
        }
    }

    fn spans(&self) -> Vec<(String, Span)> {
        self.spans.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let runtime = std::mem::replace(
            &mut self.runtime,
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
        );
        runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    }
}

fn text(value: &Any) -> Option<String> {
    match value {
        Any::StringValue(s) => Some(s.clone()),
        _ => None,
    }
}

/// A span's attributes, as strings.
fn attributes(span: &Span) -> HashMap<String, String> {
    span.attributes
        .iter()
        .filter_map(|kv| {
            let value = match kv.value.as_ref()?.value.as_ref()? {
                Any::StringValue(s) => s.clone(),
                Any::IntValue(i) => i.to_string(),
                Any::BoolValue(b) => b.to_string(),
                Any::DoubleValue(d) => d.to_string(),
                other => format!("{other:?}"),
            };
            Some((kv.key.clone(), value))
        })
        .collect()
}

/// POSTs `body` to `path` with extra `headers`; returns the raw response.
fn post(addr: &str, path: &str, headers: &str, body: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

const NOVA: &str = "amazon-bedrock/us.amazon.nova-micro-v1:0";
const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT: &str = "00f067aa0ba902b7";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn requests_become_spans_with_the_genai_conventions() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    let receiver = Receiver::start();
    context.write_config(
        r#"{ models: { bedrockDiscovery: { enabled: true } }, gateway: { telemetry: { serviceName: "edge-gateway" } } }"#,
    );
    let gateway = GatewayProcess::start(
        &context,
        &twin,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url.as_str()),
            // Held in the batch until shutdown: the flush on exit must send them.
            ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
        ],
    );
    let traceparent = format!("traceparent: 00-{TRACE}-{PARENT}-01\r\n");
    let body = format!(
        r#"{{"model": "{NOVA}", "max_tokens": 50, "temperature": 0.5, "messages": [{{"role": "user", "content": "secret words in the prompt"}}]}}"#
    );
    let answer = post(&gateway.addr, "/v1/chat/completions", &traceparent, &body);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A streamed answer: its request span lasts until the stream ends.
    let slow = post(
        &gateway.addr,
        "/v1/chat/completions",
        "",
        &format!(
            r#"{{"model": "{NOVA}~slow:100", "stream": true, "messages": [{{"role": "user", "content": "one two three four"}}]}}"#
        ),
    );
    assert!(slow.contains("[DONE]"), "{slow}");
    let throttled = post(
        &gateway.addr,
        "/v1/chat/completions",
        "",
        &format!(
            r#"{{"model": "{NOVA}~throttle", "messages": [{{"role": "user", "content": "x"}}]}}"#
        ),
    );
    assert!(throttled.starts_with("HTTP/1.1 429"), "{throttled}");
    assert!(receiver.spans().is_empty(), "batched until the flush");
    let output = gateway.terminate();
    assert!(output.status.success(), "{output:?}");
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(logs.contains("exporting traces to"), "{logs}");

    let spans = receiver.spans();
    assert!(spans.iter().all(|(service, _)| service == "edge-gateway"));
    let server: Vec<&Span> = spans
        .iter()
        .map(|(_, s)| s)
        .filter(|s| s.name == "POST /v1/chat/completions")
        .collect();
    assert_eq!(server.len(), 3, "{spans:#?}");
    // The first continues the client's trace.
    let first = server
        .iter()
        .find(|s| hex(&s.trace_id) == TRACE)
        .unwrap_or_else(|| panic!("no span in the client's trace: {server:#?}"));
    assert_eq!(hex(&first.parent_span_id), PARENT);
    assert_eq!(first.kind, 2, "SERVER");
    let attrs = attributes(first);
    assert_eq!(attrs["http.response.status_code"], "200");
    assert_eq!(attrs["http.route"], "/v1/chat/completions");

    let model_spans: Vec<&Span> = spans
        .iter()
        .map(|(_, s)| s)
        .filter(|s| s.name.starts_with("chat us.amazon.nova-micro-v1:0"))
        .collect();
    assert_eq!(model_spans.len(), 3, "{spans:#?}");
    let answered = model_spans
        .iter()
        .find(|s| s.parent_span_id == first.span_id)
        .unwrap_or_else(|| panic!("the model span is the server span's child"));
    assert_eq!(answered.kind, 3, "CLIENT");
    assert_eq!(answered.trace_id, first.trace_id);
    let attrs = attributes(answered);
    for (key, value) in [
        ("gen_ai.operation.name", "chat"),
        ("gen_ai.provider.name", "aws.bedrock"),
        ("gen_ai.request.model", "us.amazon.nova-micro-v1:0"),
        ("gen_ai.request.max_tokens", "50"),
        ("gen_ai.request.temperature", "0.5"),
        ("gen_ai.request.stream", "false"),
    ] {
        assert_eq!(
            attrs.get(key).map(String::as_str),
            Some(value),
            "{key}: {attrs:?}"
        );
    }
    // Numbers are numbers and the finish reasons a list, as the conventions type them.
    let typed = |key: &str| {
        answered
            .attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref()?.value.clone())
            .unwrap_or_else(|| panic!("no {key}"))
    };
    assert!(matches!(typed("gen_ai.usage.input_tokens"), Any::IntValue(n) if n > 0));
    assert!(matches!(
        typed("gen_ai.request.max_tokens"),
        Any::IntValue(50)
    ));
    match typed("gen_ai.response.finish_reasons") {
        Any::ArrayValue(list) => {
            let reasons: Vec<String> = list
                .values
                .iter()
                .filter_map(|v| text(v.value.as_ref()?))
                .collect();
            assert_eq!(reasons, ["stop"]);
        }
        other => panic!("finish reasons are {other:?}"),
    }
    assert!(
        !attrs
            .keys()
            .any(|k| k.starts_with("code.") || k.starts_with("thread.") || k == "busy_ns"),
        "{attrs:?}"
    );
    assert!(attrs["gen_ai.usage.input_tokens"].parse::<u64>().unwrap() > 0);
    assert!(attrs["gen_ai.usage.output_tokens"].parse::<u64>().unwrap() > 0);
    assert!(
        !attrs.contains_key("gen_ai.input.messages"),
        "contents are off"
    );
    let all = format!("{spans:?}");
    assert!(
        !all.contains("secret words"),
        "no contents without logContents"
    );
    let streamed = model_spans
        .iter()
        .find(|s| s.name.ends_with("~slow:100"))
        .unwrap();
    let parent = server
        .iter()
        .find(|s| s.span_id == streamed.parent_span_id)
        .unwrap();
    assert!(
        parent.end_time_unix_nano >= streamed.end_time_unix_nano,
        "the request span ended before its stream: {} {} / {} {}",
        parent.start_time_unix_nano,
        parent.end_time_unix_nano,
        streamed.start_time_unix_nano,
        streamed.end_time_unix_nano
    );
    assert_eq!(attributes(streamed)["gen_ai.request.stream"], "true");
    // The throttled call is marked failed with its kind, and so is its request.
    let failed = model_spans
        .iter()
        .find(|s| s.name.ends_with("~throttle"))
        .unwrap();
    let attrs = attributes(failed);
    assert_eq!(attrs["error.type"], "throttled");
    assert_eq!(
        failed.status.as_ref().map(|s| s.code),
        Some(2),
        "STATUS_CODE_ERROR"
    );
    let request = server
        .iter()
        .find(|s| s.span_id == failed.parent_span_id)
        .unwrap();
    assert_eq!(attributes(request)["error.type"], "429");
}

#[test]
fn contents_are_exported_only_with_log_contents() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    let receiver = Receiver::start();
    context.write_config(
        r#"{ models: { bedrockDiscovery: { enabled: true } }, gateway: { logContents: true } }"#,
    );
    let gateway = GatewayProcess::start(
        &context,
        &twin,
        &[(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            &format!("{}/v1/traces", receiver.url),
        )],
    );
    let body = format!(
        r#"{{"model": "{NOVA}", "messages": [{{"role": "system", "content": "Be brief."}}, {{"role": "user", "content": "words to trace"}}]}}"#
    );
    assert!(post(&gateway.addr, "/v1/chat/completions", "", &body).starts_with("HTTP/1.1 200"));
    assert!(gateway.terminate().status.success());
    let spans = receiver.spans();
    let model = spans
        .iter()
        .map(|(_, s)| s)
        .find(|s| s.name.starts_with("chat "))
        .unwrap_or_else(|| panic!("{spans:#?}"));
    let attrs = attributes(model);
    let input: serde_json::Value = serde_json::from_str(&attrs["gen_ai.input.messages"]).unwrap();
    assert_eq!(input[0]["role"], "user");
    assert_eq!(input[0]["parts"][0]["content"], "words to trace");
    let system: serde_json::Value =
        serde_json::from_str(&attrs["gen_ai.system_instructions"]).unwrap();
    assert_eq!(system[0]["content"], "Be brief.");
    let output: serde_json::Value = serde_json::from_str(&attrs["gen_ai.output.messages"]).unwrap();
    assert_eq!(output[0]["role"], "assistant");
    assert!(
        output[0]["parts"][0]["content"]
            .as_str()
            .unwrap()
            .contains("words to trace")
    );
    assert_eq!(spans[0].0, "pincer", "the default service name");
}

#[test]
fn the_standard_switches_turn_export_off_or_refuse_grpc() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    context.write_config("{ models: { bedrockDiscovery: { enabled: true } } }");
    let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317");
    let mut command = context.pincer(&["gateway", "--port", "0"]);
    twin.configure(&mut command);
    command.envs([endpoint, ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]);
    let refused = command.output().unwrap();
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("http/protobuf only"), "{stderr}");
    for off in [
        ("OTEL_SDK_DISABLED", "true"),
        ("OTEL_TRACES_EXPORTER", "none"),
    ] {
        let gateway = GatewayProcess::start(&context, &twin, &[endpoint, off]);
        let output = gateway.terminate();
        let logs = String::from_utf8_lossy(&output.stderr);
        assert!(!logs.contains("exporting traces"), "{off:?}: {logs}");
    }
}
