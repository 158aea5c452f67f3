//! The spec's correctness rules under faults, on SQLite and PostgreSQL: a JSON-RPC proxy in front
//! of localnet answers some requests with 429, 5xx, malformed JSON or a stall past the client's
//! timeout, and the indexer is SIGKILLed and restarted while it backfills; its answers must equal a
//! clean run's. Also: a transaction whose events do not decode, a database that is slow to take
//! writes, and a websocket that is not there.

use crate::common::{IndexerProcess, fresh_databases, get_text, last_program_slot, story};
use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use gpu_market_tests::{RpcChain, databases::fresh_sqlite};
use indexer::{
    Indexer,
    source::Source,
    store::{Store, Table},
};
use serde_json::Value;
use solana_commitment_config::CommitmentConfig;
use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

/// What the proxy does to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    TooManyRequests,
    ServerError,
    BadGateway,
    Garbage,
    Truncated,
    Stall,
}

const FAULTS: [Fault; 6] = [
    Fault::TooManyRequests,
    Fault::ServerError,
    Fault::BadGateway,
    Fault::Garbage,
    Fault::Truncated,
    Fault::Stall,
];

struct Proxy {
    upstream: String,
    client: reqwest::Client,
    requests: AtomicU64,
    /// One request in `every` is faulted (0: none), picked by a fixed pseudo-random sequence so
    /// that no retry pattern can stay in step with it; the faults cycle through [`FAULTS`].
    every: u64,
    faults: AtomicU64,
    /// getTransaction answers for this signature get an event that does not decode.
    corrupt: Option<String>,
    injected: Mutex<BTreeMap<Fault, u64>>,
}

impl Proxy {
    async fn start(upstream: String, every: u64, corrupt: Option<String>) -> (String, Arc<Self>) {
        let proxy = Arc::new(Self {
            upstream,
            client: reqwest::Client::new(),
            requests: AtomicU64::new(0),
            every,
            faults: AtomicU64::new(0),
            corrupt,
            injected: Mutex::default(),
        });
        let app = Router::new()
            .route("/", post(forward))
            .with_state(proxy.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, proxy)
    }

    fn injected(&self) -> BTreeMap<Fault, u64> {
        self.injected.lock().expect("lock").clone()
    }
}

async fn forward(State(proxy): State<Arc<Proxy>>, body: Bytes) -> Response {
    let n = proxy.requests.fetch_add(1, Ordering::SeqCst);
    if proxy.every > 0 && scramble(n).is_multiple_of(proxy.every) {
        let k = proxy.faults.fetch_add(1, Ordering::SeqCst);
        let fault = FAULTS[k as usize % FAULTS.len()];
        *proxy
            .injected
            .lock()
            .expect("lock")
            .entry(fault)
            .or_default() += 1;
        return match fault {
            Fault::TooManyRequests => {
                let mut headers = HeaderMap::new();
                headers.insert("retry-after", "1".parse().expect("header"));
                (StatusCode::TOO_MANY_REQUESTS, headers, "slow down").into_response()
            }
            Fault::ServerError => (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response(),
            Fault::BadGateway => (StatusCode::BAD_GATEWAY, "upstream gone").into_response(),
            Fault::Garbage => (StatusCode::OK, "<html>not json</html>").into_response(),
            Fault::Truncated => {
                (StatusCode::OK, r#"{"jsonrpc":"2.0","result":{"slot":"#).into_response()
            }
            Fault::Stall => {
                // Longer than the indexer's --rpc-timeout-secs.
                tokio::time::sleep(Duration::from_secs(3)).await;
                (StatusCode::GATEWAY_TIMEOUT, "stalled").into_response()
            }
        };
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let answer = match proxy
        .client
        .post(&proxy.upstream)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
    {
        Ok(answer) => answer,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = answer.status();
    let mut text = answer.text().await.unwrap_or_default();
    if request["method"] == "getTransaction"
        && proxy
            .corrupt
            .as_deref()
            .is_some_and(|sig| request["params"][0] == sig)
    {
        text = corrupt_events(&text);
    }
    (status, [("content-type", "application/json")], text).into_response()
}

/// A fixed pseudo-random permutation of request numbers (splitmix64's finalizer).
fn scramble(n: u64) -> u64 {
    let mut x = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Replaces the data of every inner instruction with an event tag and an unknown discriminator.
fn corrupt_events(answer: &str) -> String {
    let mut answer: Value = serde_json::from_str(answer).expect("a JSON answer");
    let bogus =
        bs58::encode([anchor_lang::event::EVENT_IX_TAG_LE, &[0xEE; 8][..]].concat()).into_string();
    for inner in answer["result"]["meta"]["innerInstructions"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        for ix in inner["instructions"].as_array_mut().into_iter().flatten() {
            ix["data"] = Value::String(bogus.clone());
        }
    }
    answer.to_string()
}

/// The answers that must not depend on how the indexer got there.
async fn answers(api: &str, story: &crate::common::Story) -> Vec<(String, String)> {
    let mut paths = vec![
        "/v1/providers".to_string(),
        "/v1/jobs?limit=500".into(),
        "/v1/network".into(),
    ];
    for p in [&story.reliable, &story.silent] {
        paths.push(format!("/v1/providers/{}", p.provider));
    }
    for j in [
        &story.paid_job,
        &story.window_job,
        &story.expired_job,
        &story.cancelled_job,
    ] {
        paths.push(format!("/v1/jobs/{}", j.job));
    }
    let mut out = vec![];
    for path in paths {
        let (status, body) = get_text(api, &path).await;
        assert_eq!(status, 200, "{path}: {body}");
        out.push((path, body));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_and_crashes_change_nothing() {
    let mut chain = RpcChain::start_localnet().await;
    let s = story(&mut chain).await;
    let last_slot = last_program_slot(&chain).await;

    // A clean run to compare with.
    let clean_db = fresh_sqlite("indexer-clean");
    let clean = IndexerProcess::start(&chain, &clean_db, &[]);
    clean.wait_for_slot(last_slot).await.expect("the clean run");
    let expected = answers(&clean.api_url, &s).await;

    // One request in five faulted; no websocket (polling alone finds everything); small batches;
    // and a SIGKILL every so often while it works.
    let (proxy_url, proxy) = Proxy::start(chain.rpc.url(), 5, None).await;
    let dead_ws = format!("ws://127.0.0.1:{}", crate::common::free_port());
    for (kind, database) in fresh_databases("faults").await {
        let args = ["--batch-size", "2", "--rpc-timeout-secs", "1"];
        let mut kills = 0;
        for delay_ms in [700, 1_100, 1_500, 1_900] {
            let mut indexer = IndexerProcess::start_with(&proxy_url, &dead_ws, &database, &args);
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            indexer.kill();
            kills += 1;
        }
        let indexer = IndexerProcess::start_with(&proxy_url, &dead_ws, &database, &args);
        indexer
            .wait_for_slot(last_slot)
            .await
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        let got = answers(&indexer.api_url, &s).await;
        for ((path, want), (_, have)) in expected.iter().zip(&got) {
            assert_eq!(want, have, "{kind} after {kills} kills: {path}");
        }
        let store = Store::connect(&database).await.expect("store");
        assert_eq!(
            store.count(Table::Undecodable).await.expect("count"),
            0,
            "{kind}"
        );
    }
    let injected = proxy.injected();
    for fault in FAULTS {
        assert!(
            injected.get(&fault).copied().unwrap_or(0) > 0,
            "{fault:?} injected: {injected:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_transaction_is_recorded_and_skipped() {
    let mut chain = RpcChain::start_localnet().await;
    let s = story(&mut chain).await;
    // The paid job's JobCreated transaction.
    let history = chain
        .rpc
        .get_signatures_for_address(&s.paid_job.job)
        .await
        .expect("the job's history");
    let created: solana_sdk::signature::Signature = history
        .last()
        .expect("its first transaction")
        .signature
        .parse()
        .expect("a signature");
    let (proxy_url, _proxy) = Proxy::start(chain.rpc.url(), 0, Some(created.to_string())).await;
    for (kind, database) in fresh_databases("undecodable").await {
        let indexer = Indexer {
            source: Source::new(
                proxy_url.clone(),
                gpu_market::ID,
                CommitmentConfig::finalized(),
            )
            .expect("source"),
            store: Store::connect(&database).await.expect("store"),
            batch_size: 4,
        };
        let report = indexer.sync_once().await.expect("the pass goes on");
        assert_eq!(report.undecodable, 1, "{kind}");
        let error: String =
            sqlx::query_scalar("SELECT error FROM undecodable WHERE signature = $1")
                .bind(created.to_string())
                .fetch_one(indexer.store.pool())
                .await
                .expect("recorded with its error");
        assert!(
            error.contains("unknown event discriminator"),
            "{kind}: {error}"
        );
        // Everything after it is indexed: the other jobs are there, this one is not.
        let jobs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs")
            .fetch_one(indexer.store.pool())
            .await
            .expect("jobs");
        assert_eq!(jobs, 3, "{kind}");
        assert!(indexer::metrics::render().contains("gpu_market_indexer_undecodable_total"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_database_delays_the_batch_and_loses_nothing() {
    let mut chain = RpcChain::start_localnet().await;
    story(&mut chain).await;
    for (kind, database) in fresh_databases("slow").await {
        let store = Store::connect(&database).await.expect("store");
        let indexer = Indexer {
            source: Source::new(
                chain.rpc.url(),
                gpu_market::ID,
                CommitmentConfig::finalized(),
            )
            .expect("source"),
            store: store.clone(),
            batch_size: 5,
        };
        // Another writer holds the database for 3 s; the indexer's batch waits for it.
        let mut blocker = store.pool().begin().await.expect("a transaction");
        let lock = if kind == "sqlite" {
            // Any schema change takes SQLite's single write lock.
            "CREATE TABLE lock_probe (x BIGINT)"
        } else {
            "LOCK TABLE checkpoint IN ACCESS EXCLUSIVE MODE"
        };
        sqlx::query(lock)
            .execute(&mut *blocker)
            .await
            .expect("the lock");
        let started = std::time::Instant::now();
        let release = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            blocker.rollback().await.expect("released");
        });
        let report = indexer.sync_once().await.expect("waits, then writes");
        release.await.expect("released");
        assert!(started.elapsed() >= Duration::from_secs(3), "{kind}");
        assert_eq!(report.new_transactions, report.transactions, "{kind}");
        assert_eq!(
            store.count(Table::Transactions).await.expect("count") as usize,
            report.transactions,
            "{kind}"
        );
    }
}
