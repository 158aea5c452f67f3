//! What the indexer's integration tests share: fresh databases of both kinds, the binary started
//! as a user would, and HTTP helpers.

use gpu_market_tests::{
    Chain, RpcChain,
    databases::{fresh_postgres, fresh_sqlite},
    fixtures::*,
    ix,
    ix::MarketKeys,
};
use serde_json::Value;
use solana_client::rpc_client::GetConfirmedSignaturesForAddress2Config;
use solana_sdk::signer::Signer;
use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A fresh, empty database of each kind: `[("sqlite", path), ("postgres", url)]`.
pub async fn fresh_databases(name: &str) -> Vec<(&'static str, String)> {
    let name = format!("{name}_{}", std::process::id());
    vec![
        ("sqlite", fresh_sqlite(&name)),
        ("postgres", fresh_postgres(&name).await),
    ]
}

/// The slot of the program's newest finalized transaction.
pub async fn last_program_slot(chain: &RpcChain) -> u64 {
    chain
        .rpc
        .get_signatures_for_address_with_config(
            &gpu_market::ID,
            GetConfirmedSignaturesForAddress2Config {
                limit: Some(1),
                commitment: Some(solana_commitment_config::CommitmentConfig::finalized()),
                ..Default::default()
            },
        )
        .await
        .expect("signatures")[0]
        .slot
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port()
}

/// `gpu-market-indexer` running as its own process, killed when dropped.
pub struct IndexerProcess {
    pub child: Child,
    pub api_url: String,
}

impl IndexerProcess {
    /// Starts the binary against `rpc_url` (and its websocket) with the database at `database`.
    pub fn start_with(rpc_url: &str, ws_url: &str, database: &str, extra: &[&str]) -> Self {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_gpu-market-indexer"))
            .args(["--rpc-url", rpc_url, "--ws-url", ws_url, "--poll-secs", "1"])
            .args(["--database-url", database])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stderr(Stdio::null())
            .spawn()
            .expect("the indexer starts");
        Self {
            child,
            api_url: format!("http://127.0.0.1:{port}"),
        }
    }

    pub fn start(chain: &RpcChain, database: &str, extra: &[&str]) -> Self {
        Self::start_with(&chain.rpc.url(), &chain.ws_url(), database, extra)
    }

    /// Waits until the API reports a checkpoint at `slot` or later.
    pub async fn wait_for_slot(&self, slot: u64) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let health = tokio::time::timeout(
                Duration::from_secs(5),
                reqwest::get(format!("{}/healthz", self.api_url)),
            )
            .await;
            if let Ok(Ok(response)) = health
                && let Ok(health) = response.json::<Value>().await
                && health["checkpoint_slot"]
                    .as_u64()
                    .is_some_and(|s| s >= slot)
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("the indexer did not reach slot {slot} in 120 s"));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for IndexerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

pub async fn get_text(base: &str, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("{base}{path}"))
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = response.status().as_u16();
    (status, response.text().await.expect("a body"))
}

pub async fn get_json(base: &str, path: &str) -> Value {
    let (status, body) = get_text(base, path).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

pub struct Story {
    pub market: MarketKeys,
    pub reliable: ProviderFixture,
    pub silent: ProviderFixture,
    pub paid_job: JobKeys,
    pub window_job: JobKeys,
    pub expired_job: JobKeys,
    pub cancelled_job: JobKeys,
}

/// Two providers: one completes two jobs (one accepted, one through the challenge window) and
/// claims its payout; the other takes a job and never answers (expired, slashed). A third job is
/// cancelled.
pub async fn story(chain: &mut RpcChain) -> Story {
    let market = MarketFixture::new(chain).await;
    let m = market.keys;
    let reliable = ProviderFixture::staked(chain, &m, 500, 500).await;
    let silent = ProviderFixture::staked(chain, &m, 500, 500).await;
    let client = ClientFixture::new(chain, &m, 100).await;
    for p in [&reliable, &silent] {
        chain
            .ok(&[ix::heartbeat(&m, &p.key())], &[&p.authority])
            .await;
    }

    let paid_job = client.post(chain, &m, job_args(1)).await;
    chain
        .ok(
            &[ix::claim_job(&m, &reliable.key(), &paid_job.job)],
            &[&reliable.authority],
        )
        .await;
    chain.advance_time(600).await;
    chain
        .ok(
            &[ix::submit_result(
                &m,
                &reliable.key(),
                &paid_job.job,
                result_of(600),
            )],
            &[&reliable.authority],
        )
        .await;
    chain
        .ok(
            &[ix::accept_result(
                &m,
                &client.key(),
                &paid_job.job,
                &reliable.provider,
            )],
            &[&client.authority],
        )
        .await;

    let window_job = client.post(chain, &m, job_args(2)).await;
    chain
        .ok(
            &[ix::claim_job(&m, &reliable.key(), &window_job.job)],
            &[&reliable.authority],
        )
        .await;
    chain.advance_time(1_200).await;
    chain
        .ok(
            &[ix::submit_result(
                &m,
                &reliable.key(),
                &window_job.job,
                result_of(1_200),
            )],
            &[&reliable.authority],
        )
        .await;
    let window = default_params().challenge_window_secs;
    chain.advance_time(i64::from(window) + 1).await;
    record_seed(chain, &m, &window_job.job).await;
    chain
        .ok(
            &[ix::finalize_job(&m, &window_job.job, &reliable.provider)],
            &[],
        )
        .await;
    chain
        .ok(
            &[ix::claim_payout(
                &m,
                &reliable.key(),
                &reliable.payment_account,
            )],
            &[&reliable.authority],
        )
        .await;

    let expired_job = client.post(chain, &m, job_args(3)).await;
    chain
        .ok(
            &[ix::claim_job(&m, &silent.key(), &expired_job.job)],
            &[&silent.authority],
        )
        .await;
    chain.advance_time(3_601).await;
    let cranker = chain.funded_wallet(1).await;
    chain
        .ok(
            &[ix::expire_job(
                &m,
                &cranker.pubkey(),
                &expired_job.job,
                &silent.provider,
            )],
            &[&cranker],
        )
        .await;

    let cancelled_job = client.post(chain, &m, job_args(4)).await;
    chain
        .ok(
            &[ix::cancel_job(&client.key(), &cancelled_job.job)],
            &[&client.authority],
        )
        .await;
    chain
        .ok(
            &[ix::heartbeat(&m, &reliable.key())],
            &[&reliable.authority],
        )
        .await;
    Story {
        market: m,
        reliable,
        silent,
        paid_job,
        window_job,
        expired_job,
        cancelled_job,
    }
}
