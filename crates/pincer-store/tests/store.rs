//! The store against real databases: an SQLite file in a temp dir, and a PostgreSQL server
//! (`PINCER_TEST_POSTGRES_URL`, started by `scripts/test`), each test in a database of its own.
//! Every test runs on both.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    missing_docs
)]

use pincer_core::env::EnvVars;
use pincer_store::keys::Unusable;
use pincer_store::{GroupBy, KeySpec, Period, Refusal, SpendRow, Store};

/// 2026-12-01T13:45:00Z, a Tuesday.
const NOW: i64 = 1_796_132_700_000;
const DAY: i64 = 86_400_000;

fn at(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

/// A database of its own for one test, dropped with it.
struct Db {
    store: Store,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let url = Store::default_url(&dir.path().join("home"));
    Db {
        store: Store::open(&url).await.unwrap(),
        _dir: Some(dir),
    }
}

/// A fresh database on the test PostgreSQL server, or `None` outside `scripts/test` (in CI a
/// missing server fails the test).
async fn postgres() -> Option<Db> {
    let Some(admin) = EnvVars::get("PINCER_TEST_POSTGRES_URL").and_then(|v| v.into_string().ok())
    else {
        assert!(
            !EnvVars::is_true(EnvVars::CI),
            "PINCER_TEST_POSTGRES_URL is unset: scripts/test starts PostgreSQL"
        );
        eprintln!(
            "skipped on PostgreSQL: PINCER_TEST_POSTGRES_URL is unset (scripts/test sets it)"
        );
        return None;
    };
    let name = format!(
        "pincer_t_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    use sqlx::Executor;
    let mut admin_conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
        .await
        .unwrap();
    admin_conn
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    Some(Db {
        store: Store::open(&format!("{base}/{name}")).await.unwrap(),
        _dir: None,
    })
}

/// Runs `test` on SQLite, then on PostgreSQL when there is one.
macro_rules! on_both {
    ($name:ident, $test:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let db = sqlite().await;
            $test(&db.store).await;
            if let Some(db) = postgres().await {
                $test(&db.store).await;
            }
        }
    };
}

fn spec(name: &str) -> KeySpec {
    KeySpec {
        name: name.to_owned(),
        ..KeySpec::default()
    }
}

fn row(key: &pincer_store::Key, at: i64, tokens: u64, cost: Option<i64>) -> SpendRow {
    SpendRow {
        at,
        key_id: Some(key.id.clone()),
        caller: key.name.clone(),
        period: key.budget_nanos.and(key.period),
        model: "amazon-bedrock/amazon.nova-micro-v1:0".to_owned(),
        door: "chat".to_owned(),
        input: tokens,
        output: 0,
        cache_read: 0,
        cache_write: 0,
        cost_nanos: cost,
        latency_ms: 12,
        outcome: "ok".to_owned(),
        status: 200,
        request_id: Some("req_1".to_owned()),
    }
}

async fn keys_live_rotate_and_die(store: &Store) {
    let made = store
        .create_key(
            &KeySpec {
                models: vec!["*nova*".to_owned()],
                rpm: Some(10),
                ..spec("team-a")
            },
            NOW,
        )
        .await
        .unwrap();
    let secret = made.secret.expose().to_owned();
    assert!(secret.starts_with(pincer_store::SECRET_PREFIX));
    // Only the hash is stored: no column holds the secret.
    let found = store.key_by_secret(&secret).await.unwrap().unwrap();
    assert_eq!(found, made.key);
    assert_eq!(found.models, ["*nova*"]);
    assert!(
        store
            .key_by_secret("pincer-sk-nope")
            .await
            .unwrap()
            .is_none()
    );

    let taken = store.create_key(&spec("team-a"), NOW).await.unwrap_err();
    assert!(taken.to_string().contains("already exists"), "{taken}");
    let bad = store.create_key(&spec("no spaces"), NOW).await.unwrap_err();
    assert!(bad.to_string().contains("key name"), "{bad}");
    let past = KeySpec {
        expires_at: Some(NOW - 1),
        ..spec("late")
    };
    assert!(store.create_key(&past, NOW).await.is_err());

    // Rotation: the old secret is gone at once, the id and limits stay.
    let rotated = store.rotate("team-a", NOW + 1000).await.unwrap();
    assert!(store.key_by_secret(&secret).await.unwrap().is_none());
    let again = store
        .key_by_secret(rotated.secret.expose())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (again.id.as_str(), again.rpm),
        (made.key.id.as_str(), Some(10))
    );
    assert_eq!(again.rotated_at, Some(NOW + 1000));

    // Revocation: the key is found, and says why it cannot be used; its name is free again.
    store.revoke(&made.key.id, NOW + 2000).await.unwrap();
    let revoked = store
        .key_by_secret(rotated.secret.expose())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        revoked.usable(NOW + 3000),
        Err(Unusable::Revoked(NOW + 2000))
    );
    assert!(store.revoke("team-a", NOW).await.is_err());
    store.create_key(&spec("team-a"), NOW).await.unwrap();

    // Expiry.
    let expiring = store
        .create_key(
            &KeySpec {
                expires_at: Some(NOW + DAY),
                ..spec("temp")
            },
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(expiring.key.usable(NOW + DAY - 1), Ok(()));
    assert_eq!(
        expiring.key.usable(NOW + DAY),
        Err(Unusable::Expired(NOW + DAY))
    );
    let names: Vec<_> = store
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.name, k.revoked_at.is_some()))
        .collect();
    assert_eq!(
        names,
        [
            ("team-a".to_owned(), false),
            ("temp".to_owned(), false),
            ("team-a".to_owned(), true)
        ]
    );
}
on_both!(
    keys_live_rotate_and_die_sqlite_and_postgres,
    keys_live_rotate_and_die
);

async fn requests_per_minute_hold_under_concurrency(store: &Store) {
    let key = store
        .create_key(
            &KeySpec {
                rpm: Some(10),
                ..spec("busy")
            },
            NOW,
        )
        .await
        .unwrap()
        .key;
    // 25 requests at once in one minute: exactly 10 get through.
    let minute = NOW - NOW % 60_000;
    let tasks: Vec<_> = (0..25)
        .map(|i| {
            let (store, key) = (store.clone(), key.clone());
            tokio::spawn(async move { store.admit(&key, minute + i).await.unwrap() })
        })
        .collect();
    let mut admitted = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => admitted += 1,
            Err(Refusal::Requests { limit, retry_after }) => {
                assert_eq!(limit, 10);
                assert!((59..=60).contains(&retry_after), "{retry_after}");
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(admitted, 10);
    // The next minute is a new window.
    assert_eq!(store.admit(&key, minute + 60_000).await.unwrap(), Ok(()));
}
on_both!(
    requests_per_minute_hold_under_concurrency_sqlite_and_postgres,
    requests_per_minute_hold_under_concurrency
);

async fn tokens_per_minute_count_answers(store: &Store) {
    let key = store
        .create_key(
            &KeySpec {
                tpm: Some(1000),
                ..spec("wordy")
            },
            NOW,
        )
        .await
        .unwrap()
        .key;
    let minute = NOW - NOW % 60_000;
    assert_eq!(store.admit(&key, minute).await.unwrap(), Ok(()));
    store
        .record(&[row(&key, minute + 5, 600, Some(1))])
        .await
        .unwrap();
    assert_eq!(store.admit(&key, minute + 10).await.unwrap(), Ok(()));
    // Two answers in one batch: their tokens add up in the minute.
    store
        .record(&[
            row(&key, minute + 20, 300, Some(1)),
            row(&key, minute + 21, 100, Some(1)),
        ])
        .await
        .unwrap();
    assert_eq!(
        store
            .tokens_this_minute(&key.id, minute + 30)
            .await
            .unwrap(),
        1000
    );
    match store.admit(&key, minute + 30_000).await.unwrap() {
        Err(Refusal::Tokens {
            limit: 1000,
            used: 1000,
            retry_after: 30,
        }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(store.admit(&key, minute + 60_000).await.unwrap(), Ok(()));
}
on_both!(
    tokens_per_minute_count_answers_sqlite_and_postgres,
    tokens_per_minute_count_answers
);

async fn budgets_reset_at_the_period_boundary(store: &Store) {
    let made = store
        .create_key(
            &KeySpec {
                budget: Some((1_000_000, Period::Day)),
                ..spec("daily")
            },
            at("2026-12-01T00:00:00Z"),
        )
        .await
        .unwrap();
    let key = made.key.clone();
    let last = at("2026-12-01T23:59:59.999Z");
    assert_eq!(store.admit(&key, last - 10).await.unwrap(), Ok(()));
    // Spent in the day's last millisecond: it counts against that day.
    store
        .record(&[row(&key, last, 100, Some(1_000_000))])
        .await
        .unwrap();
    match store.admit(&key, last).await.unwrap() {
        Err(Refusal::Budget {
            budget: 1_000_000,
            spent: 1_000_000,
            period: Period::Day,
            resets_at,
            retry_after: 1,
        }) => assert_eq!(resets_at, at("2026-12-02T00:00:00Z")),
        other => panic!("{other:?}"),
    }
    let message = match store.admit(&key, last).await.unwrap() {
        Err(refusal) => refusal.to_string(),
        Ok(()) => panic!("admitted over budget"),
    };
    assert_eq!(
        message,
        "this key's budget of $0.001000 per day is spent ($0.001000 used); it resets at 2026-12-02T00:00:00Z"
    );
    // The gateway's lookup reads the key and its spend this period in one statement.
    let found = store
        .lookup(made.secret.expose(), last)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.key.id.as_str(), found.spent),
        (key.id.as_str(), 1_000_000)
    );
    assert_eq!(
        store
            .lookup(made.secret.expose(), last + 1)
            .await
            .unwrap()
            .unwrap()
            .spent,
        0
    );
    assert!(matches!(
        store
            .admit_having_spent(&key, found.spent, last)
            .await
            .unwrap(),
        Err(Refusal::Budget { .. })
    ));
    // The next millisecond is a new day with a fresh budget.
    assert_eq!(store.admit(&key, last + 1).await.unwrap(), Ok(()));
    assert_eq!(
        store
            .spent(&key.id, at("2026-12-02T00:00:00Z"))
            .await
            .unwrap(),
        0
    );
}
on_both!(
    budgets_reset_at_the_period_boundary_sqlite_and_postgres,
    budgets_reset_at_the_period_boundary
);

async fn a_budget_crossed_by_concurrent_requests_keeps_every_cost(store: &Store) {
    let key = store
        .create_key(
            &KeySpec {
                budget: Some((1_000, Period::Month)),
                ..spec("shared")
            },
            NOW,
        )
        .await
        .unwrap()
        .key;
    // Two requests are admitted together while nothing is spent...
    let (a, b) = tokio::join!(store.admit(&key, NOW), store.admit(&key, NOW + 1));
    assert_eq!((a.unwrap(), b.unwrap()), (Ok(()), Ok(())));
    // ...and both answers are written at once, each costing 80% of the budget.
    let (one, two) = (store.clone(), store.clone());
    let rows_a = [row(&key, NOW + 50, 10, Some(800))];
    let rows_b = [row(&key, NOW + 51, 10, Some(800))];
    let (wa, wb) = tokio::join!(one.record(&rows_a), two.record(&rows_b));
    wa.unwrap();
    wb.unwrap();
    // Neither cost is lost, and the next request is refused.
    let start = Period::Month.bounds(NOW).0;
    assert_eq!(store.spent(&key.id, start).await.unwrap(), 1_600);
    assert!(matches!(
        store.admit(&key, NOW + 100).await.unwrap(),
        Err(Refusal::Budget { spent: 1_600, .. })
    ));
}
on_both!(
    a_budget_crossed_by_concurrent_requests_keeps_every_cost_sqlite_and_postgres,
    a_budget_crossed_by_concurrent_requests_keeps_every_cost
);

async fn usage_groups_and_keeps_unknown_prices_apart(store: &Store) {
    let a = store.create_key(&spec("alpha"), NOW).await.unwrap().key;
    let b = store.create_key(&spec("beta"), NOW).await.unwrap().key;
    let mut unpriced = row(&b, NOW + 2, 50, None);
    unpriced.model = "custom/unknown-price".to_owned();
    let mut failed = row(&a, NOW + DAY, 0, Some(0));
    failed.outcome = "error".to_owned();
    failed.status = 429;
    let mut admin = row(&a, NOW + 3, 5, Some(7));
    admin.key_id = None;
    admin.caller = pincer_store::spend::ADMIN.to_owned();
    store
        .record(&[
            row(&a, NOW, 100, Some(3_000)),
            row(&a, NOW + 1, 20, Some(500)),
            unpriced,
            failed,
            admin,
        ])
        .await
        .unwrap();
    let by_key = store.usage(GroupBy::Key, NOW - DAY).await.unwrap();
    let summary: Vec<_> = by_key
        .iter()
        .map(|r| {
            (
                r.group.as_str(),
                r.requests,
                r.failed,
                r.input_tokens,
                r.cost_nanos,
                r.unpriced,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("alpha", 3, 1, 120, 3_500, 0),
            ("(admin)", 1, 0, 5, 7, 0),
            ("beta", 1, 0, 50, 0, 1)
        ]
    );
    let by_day = store.usage(GroupBy::Day, NOW - DAY).await.unwrap();
    let days: Vec<_> = by_day
        .iter()
        .map(|r| (r.group.as_str(), r.requests))
        .collect();
    assert_eq!(days, [("2026-12-01", 4), ("2026-12-02", 1)]);
    let by_model = store.usage(GroupBy::Model, NOW + 1).await.unwrap();
    assert_eq!(by_model.len(), 2);
    assert_eq!(by_model.iter().map(|r| r.requests).sum::<u64>(), 4);
    // A batch larger than one INSERT takes (500 rows) is written whole, its costs summed.
    let budgeted = store
        .create_key(
            &KeySpec {
                budget: Some((1_000_000_000, Period::Month)),
                ..spec("bulk")
            },
            NOW,
        )
        .await
        .unwrap()
        .key;
    let bulk: Vec<SpendRow> = (0..1_234)
        .map(|i| row(&budgeted, NOW + i, 3, Some(7)))
        .collect();
    store.record(&bulk).await.unwrap();
    let spent = store
        .spent(&budgeted.id, Period::Month.bounds(NOW).0)
        .await
        .unwrap();
    assert_eq!(spent, 1_234 * 7);
    let bulk_usage = store.usage(GroupBy::Key, NOW - DAY).await.unwrap();
    let bulk_row = bulk_usage.iter().find(|r| r.group == "bulk").unwrap();
    assert_eq!(
        (bulk_row.requests, bulk_row.input_tokens),
        (1_234, 3 * 1_234)
    );
    // Opening the database again runs no migration twice.
    store.migrate().await.unwrap();
}
on_both!(
    usage_groups_and_keeps_unknown_prices_apart_sqlite_and_postgres,
    usage_groups_and_keeps_unknown_prices_apart
);
