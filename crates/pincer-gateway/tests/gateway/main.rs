//! The OpenAI-compatible API over real HTTP on loopback, in front of the Bedrock twin.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub,
    missing_docs
)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_types::os_shim_internal::Env;
use bedrock_twin::{RunningTwin, Twin, TwinConfig};
use pincer_bedrock::aws::load_with;
use pincer_bedrock::provider::BedrockOptions;
use pincer_gateway::http::{
    BODY_LIMIT, GatewayState, SharedState, Stopped, api_routes, serve_router, with_layers,
};
use pincer_runtime::Runtime;
use pincer_runtime::catalog::{Catalog, CatalogInputs};
use pincer_runtime::providers::Providers;
use pincer_runtime::refresh::Refresher;
use serde_json::{Value, json};
use tokio::sync::oneshot;

mod embeddings;
mod faults;
mod hardening;
mod images;
mod keys;
mod messages;
mod operation;
mod responses;
mod rules;
mod signals;
mod surface;

const CLAUDE: &str = "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const HAIKU: &str = "amazon-bedrock/anthropic.claude-3-haiku-20240307-v1:0";

/// The value of the metric line that starts with `prefix` (name and labels).
fn metric(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|line| line.starts_with(prefix))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

struct Gateway {
    url: String,
    twin: RunningTwin,
    state: SharedState,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Stopped>,
    refresh: Option<tokio::task::JoinHandle<()>>,
    _home: tempfile::TempDir,
}

/// How a test gateway is set up; `Setup::new(config)` gives the defaults.
struct Setup<'a> {
    config: &'a str,
    token: Option<&'a str>,
    grace: Duration,
    twin: TwinConfig,
    credentials: Credentials,
    bedrock: BedrockOptions,
    deadline: Duration,
    /// A fault on the twin's control plane from the start.
    control_fault: Option<bedrock_twin::Fault>,
    /// Also serve `GET /v1/test-panic`, whose handler panics (for the panic tests).
    panic_route: bool,
    /// Managed keys and spend in an SQLite file in the gateway's home.
    keys: bool,
}

/// Where the gateway's AWS credentials come from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Credentials {
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`.
    EnvKeys,
    /// The twin's IMDSv2 endpoint (an EC2 instance role), nothing in the environment.
    InstanceRole,
    /// The twin's ECS container-credentials endpoint.
    Container,
}

impl<'a> Setup<'a> {
    fn new(config: &'a str) -> Self {
        Self {
            config,
            token: None,
            grace: Duration::from_secs(5),
            twin: TwinConfig::default(),
            credentials: Credentials::EnvKeys,
            bedrock: BedrockOptions {
                initial_backoff: Duration::from_millis(5),
                max_attempts: 2,
                ..BedrockOptions::default()
            },
            deadline: Duration::from_secs(10),
            control_fault: None,
            panic_route: false,
            keys: false,
        }
    }
}

impl Gateway {
    async fn start(config: &str, token: Option<&str>) -> Self {
        Self::launch(Setup {
            token,
            ..Setup::new(config)
        })
        .await
    }

    async fn start_with_grace(config: &str, token: Option<&str>, grace: Duration) -> Self {
        Self::launch(Setup {
            token,
            grace,
            ..Setup::new(config)
        })
        .await
    }

    async fn launch(setup: Setup<'_>) -> Self {
        let Setup {
            config,
            token,
            grace,
            twin,
            credentials,
            bedrock,
            deadline,
            control_fault,
            panic_route,
            keys,
        } = setup;
        let twin_config = TwinConfig {
            imds_port: (credentials == Credentials::InstanceRole).then_some(0),
            ecs_port: (credentials == Credentials::Container).then_some(0),
            ecs_auth_token: (credentials == Credentials::Container)
                .then(|| "ecs-test-token".to_owned()),
            ..twin
        };
        let twin = Twin::start(twin_config).await.unwrap();
        twin.set_control_fault(control_fault);
        let mut env: HashMap<String, String> = [
            ("AWS_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", twin.url()),
            ("AWS_ENDPOINT_URL_BEDROCK", twin.url()),
            ("AWS_CONFIG_FILE", "/nonexistent/aws/config"),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/aws/credentials",
            ),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let mut set = |k: &str, v: &str| env.insert(k.to_owned(), v.to_owned());
        match credentials {
            Credentials::EnvKeys => {
                set("AWS_ACCESS_KEY_ID", bedrock_twin::DEFAULT_ACCESS_KEY_ID);
                set(
                    "AWS_SECRET_ACCESS_KEY",
                    bedrock_twin::DEFAULT_SECRET_ACCESS_KEY,
                );
            }
            Credentials::InstanceRole => {
                set("AWS_EC2_METADATA_DISABLED", "false");
                set(
                    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                    twin.imds_url().unwrap(),
                );
            }
            Credentials::Container => {
                set(
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                    twin.ecs_url().unwrap(),
                );
                set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ecs-test-token");
            }
        }
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let loader = aws_config::defaults(BehaviorVersion::latest()).env(Env::from_slice(&pairs));
        let setup = load_with(loader, None, &env).await;
        let options = pincer_config::validate::parse(config, "test config").unwrap();
        let home = tempfile::tempdir().unwrap();
        let catalog = Catalog::build_for_serving(CatalogInputs {
            options: &options,
            pincer_home: home.path(),
            aws: &setup,
            env: &env,
            refresh: false,
            deadline,
        })
        .await;
        let refresher = Refresher {
            options: options.clone(),
            pincer_home: home.path().to_owned(),
            aws: setup.clone(),
            env: Arc::new(env),
            deadline,
            first_retry: Duration::from_millis(200),
        };
        let runtime = Arc::new(Runtime::new(
            options,
            catalog,
            Providers::with_setup(setup, bedrock),
        ));
        let mut state = GatewayState::new(runtime.clone(), token.map(pincer_core::Secret::new));
        if keys {
            let store =
                pincer_store::Store::lazy(&pincer_store::Store::default_url(home.path())).unwrap();
            state = state.with_accounts(pincer_gateway::http::accounts::Accounts::start(store));
        }
        let state = Arc::new(state);
        let metrics = state.metrics.clone();
        let refresh = refresher.spawn(runtime, move |ok, served| {
            metrics.catalog_refreshed(ok, served);
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel();
        let served = state.clone();
        let mut api = api_routes();
        if panic_route {
            api = api.route(
                "/v1/test-panic",
                axum::routing::get(|| async {
                    if true {
                        panic!("a handler failed");
                    }
                    "unreachable"
                }),
            );
        }
        let router = with_layers(api, state.clone());
        let task = tokio::spawn(async move {
            serve_router(
                listener,
                router,
                &served,
                async {
                    let _ = stopped.await;
                },
                grace,
            )
            .await
            .unwrap()
        });
        Self {
            url,
            twin,
            state,
            stop: Some(stop),
            task,
            refresh,
            _home: home,
        }
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new().get(format!("{}{path}", self.url))
    }

    async fn metrics(&self) -> String {
        self.get("/metrics")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The ids `/v1/models` lists.
    async fn model_ids(&self) -> Vec<String> {
        let models: Value = self
            .get("/v1/models")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        models["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["id"].as_str().map(str::to_owned))
            .collect()
    }

    /// Signals shutdown and returns how serving ended.
    async fn shut_down(&mut self) -> Stopped {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.unwrap()
    }

    fn post(&self, body: Value) -> reqwest::RequestBuilder {
        reqwest::Client::new()
            .post(format!("{}/v1/chat/completions", self.url))
            .json(&body)
    }

    async fn stop(mut self) {
        if let Some(refresh) = self.refresh.take() {
            refresh.abort();
        }
        if self.stop.is_some() {
            self.shut_down().await;
        }
        self.twin.stop().await;
    }
}

const DISCOVERY_ON: &str = "{ models: { bedrockDiscovery: { enabled: true } } }";

/// The status and the JSON body of an error response.
async fn error_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Asserts that `response` is a `status` whose OpenAI error message mentions `needle`
/// (case-insensitively); returns the error body.
async fn refused(response: reqwest::Response, status: u16, needle: &str) -> Value {
    let (got, error) = error_of(response).await;
    assert_eq!(got, status, "{error}");
    let message = error["error"]["message"].as_str().unwrap().to_lowercase();
    assert!(
        message.contains(&needle.to_lowercase()),
        "{needle}: {error}"
    );
    error
}

/// The `data:` payloads of an SSE body.
fn sse_data(body: &str) -> Vec<String> {
    body.lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn non_streaming_completion() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let response = gateway
        .post(json!({"model": CLAUDE, "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello gateway"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], CLAUDE);
    assert_eq!(body["choices"][0]["message"]["role"], "assistant");
    assert!(
        body["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("Hello gateway")
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    let usage = &body["usage"];
    assert_eq!(
        usage["total_tokens"],
        usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
    );
    gateway.stop().await;
}

#[tokio::test]
async fn streaming_with_usage_and_dense_tool_indexes() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let tool = |name: &str| json!({"type": "function", "function": {"name": name, "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}});
    let response = gateway
        .post(json!({
            "model": CLAUDE,
            "stream": true,
            "stream_options": {"include_usage": true},
            "messages": [{"role": "user", "content": "Use get_weather and get_time"}],
            "tools": [tool("get_weather"), tool("get_time")],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let data = sse_data(&response.text().await.unwrap());
    assert_eq!(data.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let mut indexes = Vec::new();
    let mut names = Vec::new();
    for chunk in &chunks {
        for call in chunk["choices"][0]["delta"]["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
        {
            indexes.push(call["index"].as_u64().unwrap());
            if let Some(name) = call["function"]["name"].as_str() {
                names.push(name.to_owned());
            }
        }
    }
    assert_eq!(names, ["get_weather", "get_time"]);
    assert_eq!(indexes.first(), Some(&0));
    assert!(
        indexes.iter().all(|i| *i <= 1) && indexes.contains(&1),
        "{indexes:?}"
    );
    let finish = chunks
        .iter()
        .find_map(|c| c["choices"][0]["finish_reason"].as_str())
        .unwrap();
    assert_eq!(finish, "tool_calls");
    let usage = chunks.last().unwrap();
    assert!(usage["choices"].as_array().unwrap().is_empty());
    assert!(usage["usage"]["completion_tokens"].as_u64().unwrap() > 0);
    assert!(usage["usage"]["prompt_tokens_details"]["cached_tokens"].is_u64());
    gateway.stop().await;
}

#[tokio::test]
async fn errors_have_the_openai_shape_and_status() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let cases = [
        (
            json!({"model": "amazon-bedrock/us.nope-v1:0", "messages": [{"role": "user", "content": "x"}]}),
            404,
            "model_not_found",
        ),
        (
            json!({"model": "nope", "messages": [{"role": "user", "content": "x"}]}),
            404,
            "model_not_found",
        ),
        (
            json!({"model": "amazon-bedrock/anthropic.claude-3-7-sonnet-20250219-v1:0", "messages": [{"role": "user", "content": "x"}]}),
            400,
            "on_demand_not_supported",
        ),
        (
            json!({"model": "amazon-bedrock/anthropic.claude-3-haiku-20240307-v1:0~throttle", "messages": [{"role": "user", "content": "x"}]}),
            429,
            "rate_limit_exceeded",
        ),
        (
            json!({"model": "amazon-bedrock/anthropic.claude-3-haiku-20240307-v1:0~5xx:503", "messages": [{"role": "user", "content": "x"}]}),
            503,
            "service_unavailable",
        ),
        (
            json!({"model": "amazon-bedrock/meta.llama3-70b-instruct-v1:0", "messages": [{"role": "user", "content": "x"}]}),
            403,
            "model_access_denied",
        ),
        (
            json!({"model": CLAUDE, "messages": []}),
            400,
            "invalid_request",
        ),
        (
            json!({"model": CLAUDE, "stream": true, "messages": [{"role": "user", "content": "  "}]}),
            400,
            "validation",
        ),
    ];
    for (body, status, code) in cases {
        let response = gateway.post(body.clone()).send().await.unwrap();
        assert_eq!(response.status(), status, "{body}");
        if status == 429 {
            assert!(response.headers().contains_key("retry-after"));
        }
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], code, "{body}: {error}");
        assert!(
            error["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let bad_json = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gateway.url))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_json.status(), 400);
    gateway.stop().await;
}

#[tokio::test]
async fn a_failure_after_streaming_began_is_an_sse_error() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let model = "amazon-bedrock/anthropic.claude-3-haiku-20240307-v1:0~midstream-modelStreamErrorException:2";
    let response = gateway
        .post(json!({"model": model, "stream": true, "messages": [{"role": "user", "content": "a long enough answer to break"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let data = sse_data(&response.text().await.unwrap());
    assert!(!data.contains(&"[DONE]".to_owned()));
    let last: Value = serde_json::from_str(data.last().unwrap()).unwrap();
    assert_eq!(last["error"]["code"], "stream_interrupted", "{last}");
    let text: String = data[..data.len() - 1]
        .iter()
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert!(!text.is_empty(), "the partial answer was streamed first");
    gateway.stop().await;
}

#[tokio::test]
async fn models_are_listed_and_tokens_required() {
    let gateway = Gateway::start(DISCOVERY_ON, Some("gw-secret-token-1")).await;
    let client = reqwest::Client::new();
    let unauthorized = client
        .get(format!("{}/v1/models", gateway.url))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), 401);
    let wrong = client
        .get(format!("{}/v1/models", gateway.url))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert!(!body.to_string().contains("gw-secret-token"));
    let list: Value = client
        .get(format!("{}/v1/models", gateway.url))
        .bearer_auth("gw-secret-token-1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["object"], "list");
    assert!(
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == CLAUDE)
    );
    let one = client
        .get(format!("{}/v1/models/{CLAUDE}", gateway.url))
        .bearer_auth("gw-secret-token-1")
        .send()
        .await
        .unwrap();
    assert_eq!(one.status(), 200);
    let health = client
        .get(format!("{}/healthz", gateway.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "health needs no token");
    gateway.stop().await;
}

#[tokio::test]
async fn a_second_pincer_chains_through_the_first_with_openai_completions() {
    let first = Gateway::start(DISCOVERY_ON, None).await;
    let second_config = format!(
        r#"{{
  models: {{
    bedrockDiscovery: {{ enabled: false }},
    providers: {{ upstream: {{ api: "openai-completions", baseUrl: "{}/v1", models: [{{ id: "{CLAUDE}" }}] }} }},
  }},
}}"#,
        first.url
    );
    let second = Gateway::start(&second_config, None).await;
    let chained = format!("upstream/{CLAUDE}");
    // Text, non-streamed.
    let body: Value = second
        .post(json!({"model": chained, "messages": [{"role": "user", "content": "through two gateways"}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        body["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("through two gateways"),
        "{body}"
    );
    assert!(
        body["usage"]["completion_tokens"].as_u64().unwrap() > 0,
        "{body}"
    );
    // Tool calls and usage, streamed end to end.
    let tool = |name: &str| json!({"type": "function", "function": {"name": name, "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}});
    let response = second
        .post(json!({
            "model": chained,
            "stream": true,
            "stream_options": {"include_usage": true},
            "messages": [{"role": "user", "content": "Use get_weather and get_time"}],
            "tools": [tool("get_weather"), tool("get_time")],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let data = sse_data(&response.text().await.unwrap());
    assert_eq!(data.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    let names: Vec<&str> = chunks
        .iter()
        .flat_map(|c| {
            c["choices"][0]["delta"]["tool_calls"]
                .as_array()
                .into_iter()
                .flatten()
        })
        .filter_map(|t| t["function"]["name"].as_str())
        .collect();
    assert_eq!(names, ["get_weather", "get_time"]);
    assert_eq!(
        chunks
            .iter()
            .find_map(|c| c["choices"][0]["finish_reason"].as_str()),
        Some("tool_calls")
    );
    assert!(
        chunks.last().unwrap()["usage"]["completion_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
    // Errors keep their kind across the chain.
    let missing = second
        .post(json!({"model": "upstream/amazon-bedrock/us.nope-v1:0", "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    second.stop().await;
    first.stop().await;
}

#[tokio::test]
async fn a_client_that_disconnects_cancels_the_upstream_request() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let model = "amazon-bedrock/anthropic.claude-3-haiku-20240307-v1:0~slow:200";
    let mut response = gateway
        .post(json!({"model": model, "stream": true, "messages": [{"role": "user", "content": "one two three four five six seven eight nine ten eleven"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Read until text arrives, then hang up.
    loop {
        let chunk = response.chunk().await.unwrap().unwrap();
        if String::from_utf8_lossy(&chunk).contains("\"content\"") {
            break;
        }
    }
    drop(response);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while gateway.twin.stream_counts().abandoned == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            gateway.twin.stream_counts()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(gateway.twin.stream_counts().completed, 0);
    gateway.stop().await;
}
