//! Managed keys through every door, with the spend in a real SQLite file: the key's models
//! (also in `/v1/models`), its limits and budget answered in each API's own 429, revocation and
//! rotation seen at once, every request recorded without its contents, and a database that
//! cannot be used refusing keyed requests with 503 while the admin token still works.

use std::sync::Arc;
use std::time::Duration;

use pincer_gateway::http::accounts::Accounts;
use pincer_store::{KeySpec, Period, SpendRow, Store};
use serde_json::{Value, json};

use super::{Gateway, Setup};

const ADMIN: &str = "admin-token-0123456789abcdef";
const NOVA: &str = "amazon-bedrock/us.amazon.nova-micro-v1:0";
const HAIKU45: &str = "amazon-bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0";
const SONNET: &str = "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const TITAN_EMBED: &str = "amazon-bedrock/amazon.titan-embed-text-v2:0";
/// A model whose price nobody published.
const UNPRICED: &str = "amazon-bedrock/amazon.titan-tg1-large";

async fn keyed_gateway(token: Option<&'static str>) -> Gateway {
    Gateway::launch(Setup {
        token,
        keys: true,
        ..Setup::new(super::DISCOVERY_ON)
    })
    .await
}

impl Gateway {
    fn accounts(&self) -> &Arc<Accounts> {
        self.state.accounts.as_ref().unwrap()
    }

    fn store(&self) -> &Store {
        self.accounts().store()
    }

    /// A key made in the gateway's database; its secret.
    async fn key(&self, spec: KeySpec) -> String {
        for _ in 0..200 {
            if self.accounts().is_ready() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let made = self
            .store()
            .create_key(&spec, pincer_store::now_millis())
            .await
            .unwrap();
        made.secret.expose().to_owned()
    }

    /// The requests recorded so far, newest first (after every queued row is written).
    async fn recorded(&self) -> Vec<SpendRow> {
        assert!(self.accounts().flush(Duration::from_secs(5)).await);
        self.store().recent(100).await.unwrap()
    }

    fn call(&self, path: &str, secret: &str, body: Value) -> reqwest::RequestBuilder {
        let request = reqwest::Client::new().post(format!("{}{path}", self.url));
        let request = if path.starts_with("/v1/messages") {
            request
                .header("x-api-key", secret)
                .header("anthropic-version", "2023-06-01")
        } else {
            request.bearer_auth(secret)
        };
        request.json(&body)
    }
}

fn named(name: &str) -> KeySpec {
    KeySpec {
        name: name.to_owned(),
        ..KeySpec::default()
    }
}

fn chat(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hello from a keyed client"}]})
}

async fn status_and_body(response: reqwest::Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.unwrap())
}

#[tokio::test]
async fn a_key_works_on_every_door_and_sees_only_its_models() {
    let gateway = keyed_gateway(Some(ADMIN)).await;
    let secret = gateway
        .key(KeySpec {
            models: vec![
                "*nova-micro*".to_owned(),
                "*claude-haiku-4-5*".to_owned(),
                TITAN_EMBED.to_owned(),
            ],
            ..named("team-a")
        })
        .await;

    // /v1/models lists only the key's models; the admin token sees them all.
    let list = |auth: &str| {
        reqwest::Client::new()
            .get(format!("{}/v1/models", gateway.url))
            .bearer_auth(auth.to_owned())
            .send()
    };
    let mine: Value = list(&secret).await.unwrap().json().await.unwrap();
    let mut ids: Vec<&str> = mine["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, [TITAN_EMBED, NOVA, HAIKU45]);
    let all: Value = list(ADMIN).await.unwrap().json().await.unwrap();
    assert!(all["data"].as_array().unwrap().len() > 10);
    let hidden = reqwest::Client::new()
        .get(format!("{}/v1/models/{SONNET}", gateway.url))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), 404);

    // Every door takes the key.
    let answers = [
        ("/v1/chat/completions", chat(NOVA)),
        (
            "/v1/responses",
            json!({"model": NOVA, "input": "hello from a keyed client"}),
        ),
        (
            "/v1/messages",
            json!({"model": HAIKU45, "max_tokens": 64, "messages": [{"role": "user", "content": "hello from a keyed client"}]}),
        ),
        (
            "/v1/messages/count_tokens",
            json!({"model": HAIKU45, "messages": [{"role": "user", "content": "hello"}]}),
        ),
        (
            "/v1/embeddings",
            json!({"model": TITAN_EMBED, "input": "hello"}),
        ),
    ];
    let mut request_ids = Vec::new();
    for (path, body) in answers {
        let response = gateway.call(path, &secret, body).send().await.unwrap();
        request_ids.push(
            response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned(),
        );
        assert_eq!(
            response.status(),
            200,
            "{path}: {}",
            response.text().await.unwrap()
        );
    }

    // A model outside the list is refused in each API's own shape, naming the model.
    let (status, _, body) = status_and_body(
        gateway
            .call("/v1/chat/completions", &secret, chat(SONNET))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["type"], "permission_error");
    assert_eq!(body["error"]["code"], "model_not_allowed");
    assert_eq!(body["error"]["param"], "model");
    assert!(
        body["error"]["message"].as_str().unwrap().contains(SONNET),
        "{body}"
    );
    let (status, _, body) = status_and_body(
        gateway
            .call(
                "/v1/messages",
                &secret,
                json!({"model": SONNET, "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        (body["type"].as_str(), body["error"]["type"].as_str()),
        (Some("error"), Some("permission_error"))
    );

    // Every request is recorded under the key, with its door and request id, never contents.
    let rows = gateway.recorded().await;
    assert_eq!(rows.len(), 7, "{rows:#?}");
    assert!(
        rows.iter()
            .all(|r| r.caller == "team-a" && r.key_id.is_some())
    );
    let mut doors: Vec<&str> = rows.iter().map(|r| r.door.as_str()).collect();
    doors.sort_unstable();
    assert_eq!(
        doors,
        [
            "chat",
            "chat",
            "count_tokens",
            "embeddings",
            "messages",
            "messages",
            "responses"
        ]
    );
    for id in &request_ids {
        assert!(
            rows.iter().any(|r| r.request_id.as_deref() == Some(id)),
            "{id}"
        );
    }
    let refused: Vec<_> = rows.iter().filter(|r| r.status == 403).collect();
    assert_eq!(refused.len(), 2);
    assert!(
        refused
            .iter()
            .all(|r| r.outcome == "error" && r.model == SONNET && r.input == 0)
    );
    let chat_row = rows
        .iter()
        .find(|r| r.door == "chat" && r.status == 200)
        .unwrap();
    assert!(chat_row.input > 0 && chat_row.output > 0 && chat_row.cost_nanos.unwrap() > 0);
    let embed_row = rows.iter().find(|r| r.door == "embeddings").unwrap();
    assert!(
        embed_row.input > 0 && embed_row.cost_nanos.unwrap() > 0,
        "{embed_row:?}"
    );
    let text = format!("{rows:?}");
    assert!(!text.contains("hello from a keyed client"));

    // /metrics counts per key.
    let metrics = gateway.metrics().await;
    assert!(
        metrics.contains(r#"pincer_key_requests_total{key="team-a",outcome="ok"} 5"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"pincer_key_refusals_total{key="team-a",reason="model"} 2"#));
    assert!(metrics.contains(r#"pincer_key_tokens_total{key="team-a",kind="input"}"#));
    assert!(!metrics.contains(&secret));
    gateway.stop().await;
}

#[tokio::test]
async fn limits_answer_with_each_doors_own_429() {
    let gateway = keyed_gateway(None).await;
    let secret = gateway
        .key(KeySpec {
            rpm: Some(2),
            ..named("slow")
        })
        .await;
    for _ in 0..2 {
        let response = gateway
            .call("/v1/chat/completions", &secret, chat(NOVA))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let (status, headers, body) = status_and_body(
        gateway
            .call("/v1/chat/completions", &secret, chat(NOVA))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 429);
    assert_eq!(body["error"]["type"], "rate_limit_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2 requests per minute"),
        "{body}"
    );
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let (status, headers, body) = status_and_body(
        gateway
            .call(
                "/v1/messages",
                &secret,
                json!({"model": HAIKU45, "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 429);
    assert_eq!(body["error"]["type"], "rate_limit_error");
    assert!(headers.contains_key("retry-after"));

    // Tokens per minute: the answers' tokens count, and the next request waits.
    let wordy = gateway
        .key(KeySpec {
            tpm: Some(5),
            ..named("wordy")
        })
        .await;
    let first = gateway
        .call("/v1/chat/completions", &wordy, chat(NOVA))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    gateway.recorded().await;
    let (status, _, body) = status_and_body(
        gateway
            .call("/v1/chat/completions", &wordy, chat(NOVA))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 429, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("5 tokens per minute"),
        "{body}"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn budgets_charge_the_real_cost_and_refuse_unknown_prices() {
    let gateway = keyed_gateway(None).await;
    let secret = gateway
        .key(KeySpec {
            // 2 µ$ a day: one short answer of Nova Micro costs about 1 µ$.
            budget: Some((2_000, Period::Day)),
            ..named("thrifty")
        })
        .await;

    // A model without a known price is refused rather than counted as free.
    let (status, _, body) = status_and_body(
        gateway
            .call("/v1/chat/completions", &secret, chat(UNPRICED))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "price_unknown");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(UNPRICED),
        "{body}"
    );

    // Answers are charged at the catalog's prices, cache reads and writes included.
    let mut spent = 0;
    let mut answers = 0;
    loop {
        let response = gateway
            .call("/v1/chat/completions", &secret, chat(NOVA))
            .send()
            .await
            .unwrap();
        if response.status() != 200 {
            let (status, headers, body) = status_and_body(response).await;
            assert_eq!(status, 429, "{body}");
            assert_eq!(body["error"]["type"], "insufficient_quota");
            let message = body["error"]["message"].as_str().unwrap();
            let tomorrow =
                pincer_store::period::rfc3339(Period::Day.bounds(pincer_store::now_millis()).1);
            assert!(message.contains("budget of $0.000002 per day"), "{message}");
            assert!(
                message.contains(&format!("resets at {tomorrow}")),
                "{message}"
            );
            assert_eq!(headers["x-should-retry"], "false");
            assert!(
                headers["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap()
                    >= 1
            );
            break;
        }
        answers += 1;
        assert!(answers < 20, "the budget never ran out");
        let rows = gateway.recorded().await;
        let row = &rows[0];
        let prices = gateway
            .state
            .catalog()
            .served()
            .find(|e| e.key == NOVA)
            .unwrap()
            .cost;
        let usd = row.input as f64 * prices.input.unwrap()
            + row.output as f64 * prices.output.unwrap()
            + row.cache_read as f64 * prices.cache_read.unwrap()
            + row.cache_write as f64 * prices.cache_write.unwrap();
        assert_eq!(
            row.cost_nanos,
            Some(pincer_store::spend::nanos(usd / 1e6)),
            "{row:?}"
        );
        spent += row.cost_nanos.unwrap();
    }
    assert!(
        answers >= 1 && spent >= 2_000,
        "{answers} answers, {spent} spent"
    );
    let start = Period::Day.bounds(pincer_store::now_millis()).0;
    let keys = gateway.store().list_keys().await.unwrap();
    assert_eq!(
        gateway.store().spent(&keys[0].id, start).await.unwrap(),
        spent
    );
    gateway.stop().await;
}

#[tokio::test]
async fn revoked_rotated_and_expired_keys_are_refused_at_once() {
    // No admin token: the gateway is open, but a managed key is always checked.
    let gateway = keyed_gateway(None).await;
    let secret = gateway.key(named("short-lived")).await;
    let ask = |secret: &str| {
        gateway
            .call("/v1/chat/completions", secret, chat(NOVA))
            .send()
    };
    assert_eq!(ask(&secret).await.unwrap().status(), 200);

    let rotated = gateway
        .store()
        .rotate("short-lived", pincer_store::now_millis())
        .await
        .unwrap();
    let (status, _, body) = status_and_body(ask(&secret).await.unwrap()).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["type"], "authentication_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not known"),
        "{body}"
    );
    assert_eq!(ask(rotated.secret.expose()).await.unwrap().status(), 200);

    gateway
        .store()
        .revoke("short-lived", pincer_store::now_millis())
        .await
        .unwrap();
    let (status, _, body) = status_and_body(ask(rotated.secret.expose()).await.unwrap()).await;
    assert_eq!(status, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`short-lived` was revoked at"),
        "{body}"
    );
    let (status, _, body) = status_and_body(
        gateway
            .call(
                "/v1/messages",
                rotated.secret.expose(),
                json!({"model": HAIKU45, "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["type"].as_str()),
        (401, Some("authentication_error"))
    );

    let expiring = gateway
        .key(KeySpec {
            expires_at: Some(pincer_store::now_millis() + 300),
            ..named("minutes")
        })
        .await;
    assert_eq!(ask(&expiring).await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (status, _, body) = status_and_body(ask(&expiring).await.unwrap()).await;
    assert_eq!(status, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired at"),
        "{body}"
    );

    // A request without a key on the open gateway is served and recorded as nobody's.
    let open = gateway.post(chat(NOVA)).send().await.unwrap();
    assert_eq!(open.status(), 200);
    let rows = gateway.recorded().await;
    assert_eq!(rows[0].caller, pincer_store::spend::ANONYMOUS);
    assert_eq!(rows[0].key_id, None);
    gateway.stop().await;
}

#[tokio::test]
async fn the_admin_token_keeps_working_and_is_recorded() {
    let gateway = keyed_gateway(Some(ADMIN)).await;
    let response = gateway
        .post(chat(NOVA))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let wrong = gateway
        .post(chat(NOVA))
        .bearer_auth("not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let rows = gateway.recorded().await;
    assert_eq!(rows.len(), 1, "a refused token is not a caller: {rows:?}");
    assert_eq!(
        (
            rows[0].caller.as_str(),
            rows[0].door.as_str(),
            rows[0].status
        ),
        ("(admin)", "chat", 200)
    );
    gateway.stop().await;
}

#[tokio::test]
async fn a_database_that_cannot_be_used_refuses_keyed_requests_with_503() {
    let gateway = Gateway::launch(Setup {
        token: Some(ADMIN),
        ..Setup::new(super::DISCOVERY_ON)
    })
    .await;
    // A database that cannot be opened: /proc takes no files.
    let store = Store::lazy("sqlite:///proc/pincer-keys.db?mode=rwc").unwrap();
    let accounts = Accounts::start(store);
    let state = pincer_gateway::http::GatewayState::new(
        gateway.state.runtime.clone(),
        Some(pincer_core::Secret::new(ADMIN)),
    )
    .with_accounts(accounts);
    let router = pincer_gateway::http::app(Arc::new(state));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    let ask = |auth: &str| {
        reqwest::Client::new()
            .post(format!("{url}/v1/chat/completions"))
            .bearer_auth(auth.to_owned())
            .json(&chat(NOVA))
            .send()
    };
    let (status, headers, body) = status_and_body(
        ask("pincer-sk-000000000000000000000000000000000000000000000000")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("key database is unavailable"),
        "{body}"
    );
    assert!(headers.contains_key("retry-after"));
    // The admin token does not need the database.
    assert_eq!(ask(ADMIN).await.unwrap().status(), 200);
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    gateway.stop().await;
}
