//! API latency and throughput over a large index: the provider list (several filters and sorts)
//! and one provider's page, over 100,000 providers and 1,000,000 jobs. The database is seeded
//! directly, the API runs in this process, and the load comes from a second process (this
//! program again, as `load`), so client and server do not share a runtime.
//!
//! ```text
//! cargo run -p gpu-market-indexer --example api_bench -- [sqlite|postgres] [PROVIDERS] [JOBS] [SECONDS] [CONNECTIONS]
//! ```
//! Defaults: sqlite, 100,000 providers, 1,000,000 jobs, 15 s per endpoint, 8 connections.

use gpu_market_tests::databases::{fresh_postgres, fresh_sqlite};
use indexer::{
    api::{self, ApiState},
    store::Store,
};
mod support;

use std::time::{Duration, Instant};
use support::{V, insert};

const T0: i64 = 1_767_225_600;
const MODELS: [&str; 6] = ["Rtx3090", "Rtx4090", "A100", "H100", "L40S", "Rtx3080"];
const REGIONS: [&str; 4] = ["Europe", "NorthAmerica", "AsiaPacific", "SouthAmerica"];
const STATES: [&str; 4] = ["completed", "completed", "failed", "running"];

fn key(tag: u8, i: u64) -> String {
    support::key(tag, i).to_string()
}

/// A cheap deterministic spread of values.
fn mix(i: u64, salt: u64) -> u64 {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    x.wrapping_mul(0x94D0_49BB_1331_11EB) >> 11
}

async fn seed(store: &Store, providers: u64, jobs: u64) -> anyhow::Result<()> {
    let now = T0 + 40 * 86_400;
    let started = Instant::now();
    let sqlite = store.is_sqlite();
    let mut db = store.pool().begin().await?;
    insert(
        &mut db,
        sqlite,
        "INSERT INTO providers (provider, seq, market, authority, gpu_model, gpu_count, vram_gb, \
         cpu_cores, ram_gb, bandwidth_up_mbps, bandwidth_down_mbps, region, price_per_gpu_hour, \
         endpoint, status, heartbeat_interval_secs, registered_at, last_heartbeat_at, gpus_in_use, \
         staked, unbonding, jobs_completed, jobs_failed, total_earned, total_claimed, total_slashed, score)",
        27,
        (0..providers).map(|i| {
            let model = MODELS[(mix(i, 1) % 6) as usize];
            vec![
                V::T(key(7, i)),
                V::I(((1_000 + i) << 24) as i64),
                V::T(key(1, 0)),
                V::T(key(8, i)),
                V::T(model.into()),
                V::I(1 + (mix(i, 2) % 8) as i64),
                V::I([12, 16, 24, 40, 48, 80][(mix(i, 3) % 6) as usize]),
                V::I(16),
                V::I(64),
                V::I(500),
                V::I(1_000),
                V::T(REGIONS[(mix(i, 4) % 4) as usize].into()),
                V::I(100_000 + (mix(i, 5) % 3_000_000) as i64),
                V::T("https://gpu-host.example.org:7070".into()),
                V::T(if mix(i, 6).is_multiple_of(20) { "inactive" } else { "active" }.into()),
                V::I(60),
                V::I(T0 + (mix(i, 7) % (30 * 86_400)) as i64),
                V::I(now - (mix(i, 8) % 600) as i64),
                V::I(0),
                V::I(500_000_000),
                V::I(0),
                V::I(10),
                V::I(1),
                V::I(130_000),
                V::I(100_000),
                V::I(0),
                V::I((mix(i, 9) % 10_001) as i64),
            ]
        }),
    )
    .await?;
    insert(
        &mut db,
        sqlite,
        "INSERT INTO reputation (provider, as_of, score, completed_milli, failed_milli, \
         completion_bps, verified_pass_milli, verified_fail_milli, verification_bps, uptime_7d_bps, \
         uptime_30d_bps, tenure_days, no_shows, abandons, frauds, slashes, penalty_bps)",
        17,
        (0..providers).map(|i| {
            let mut row = vec![V::T(key(7, i)), V::I(now), V::I((mix(i, 9) % 10_001) as i64)];
            row.extend([10_000, 1_000, 5_958, 3_000, 0, 8_000, 9_500, 9_700, 20, 1, 0, 0, 1, 8_000].map(V::I));
            row
        }),
    )
    .await?;
    insert(
        &mut db,
        sqlite,
        "INSERT INTO utilization (provider, hour, busy_gpu_secs, online_gpu_secs, online_secs)",
        5,
        (0..providers * 6).map(|n| {
            let (i, h) = (n / 6, n % 6);
            vec![
                V::T(key(7, i)),
                V::I(now - now % 3_600 - h as i64 * 3_600),
                V::I((mix(n, 10) % 7_200) as i64),
                V::I(7_200),
                V::I(3_600),
            ]
        }),
    )
    .await?;
    insert(
        &mut db,
        sqlite,
        "INSERT INTO jobs (seq, job, current, market, client, nonce, named_provider, provider, \
         workload, gpu_count, min_vram_gb, max_price_per_gpu_hour, max_duration_secs, deposit, \
         state, outcome, price_per_gpu_hour, created_at, started_at, deadline, submitted_at, \
         challenge_ends_at, ended_at, metered_secs, billed_secs, provider_share, fee, refund, closed)",
        29,
        (0..jobs).map(|j| {
            let state = STATES[(mix(j, 11) % 4) as usize];
            let created = T0 + (j as i64 * 40 * 86_400) / jobs as i64;
            let done = state != "running";
            let maybe = |v: i64| if done { V::I(v) } else { V::N };
            vec![
                V::I(((2_000_000 + j) << 24) as i64),
                V::T(key(9, j)),
                V::I(1),
                V::T(key(1, 0)),
                V::T(key(10, j % 5_000)),
                V::T(j.to_string()),
                V::NT,
                V::T(key(7, mix(j, 12) % providers)),
                V::T("matmul".into()),
                V::I(2),
                V::I(16),
                V::I(1_000_000),
                V::I(3_600),
                V::I(2_000_000),
                V::T(state.into()),
                if done { V::T(if state == "failed" { "expired" } else { "accepted_by_client" }.into()) } else { V::NT },
                V::I(400_000),
                V::I(created),
                V::I(created + 5),
                V::I(created + 3_605),
                maybe(created + 65),
                maybe(created + 3_665),
                maybe(created + 70),
                maybe(60),
                maybe(60),
                maybe(13_333),
                maybe(333),
                maybe(1_986_334),
                V::I(0),
            ]
        }),
    )
    .await?;
    db.commit().await?;
    sqlx::query(
        "INSERT INTO checkpoint (id, slot, signature, block_time, reputation_as_of) \
         VALUES (1, $1, $2, $3, $4)",
    )
    .bind(3_000_000_i64)
    .bind(solana_sdk::signature::Signature::default().to_string())
    .bind(now)
    .bind(now - now % 3_600)
    .execute(store.pool())
    .await?;
    println!(
        "seeded {providers} providers, {jobs} jobs, {} utilization rows in {:.1} s",
        providers * 6,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The second process: `connections` workers request `paths` in turn for `seconds`.
async fn load(
    base: String,
    seconds: u64,
    connections: usize,
    providers: u64,
    endpoint: String,
) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut workers = vec![];
    for w in 0..connections {
        let client = client.clone();
        let base = base.clone();
        let endpoint = endpoint.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = vec![];
            let mut n = w as u64;
            while Instant::now() < deadline {
                let path = match endpoint.as_str() {
                    "list" => match n % 4 {
                        0 => "/v1/providers?limit=50".to_string(),
                        1 => format!(
                            "/v1/providers?gpu_model={}&min_vram_gb=24&limit=50",
                            MODELS[(n % 6) as usize]
                        ),
                        2 => "/v1/providers?sort=price&status=online&limit=50".to_string(),
                        _ => format!(
                            "/v1/providers?region={}&min_score=50&max_price=2000000&limit=50",
                            REGIONS[(n % 4) as usize]
                        ),
                    },
                    _ => format!("/v1/providers/{}", key(7, mix(n, 13) % providers)),
                };
                let started = Instant::now();
                let response = client.get(format!("{base}{path}")).send().await?;
                let ok = response.status().is_success();
                let _ = response.bytes().await?;
                anyhow::ensure!(ok, "{path} failed");
                latencies.push(started.elapsed());
                n += connections as u64;
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut all = vec![];
    for worker in workers {
        all.extend(worker.await??);
    }
    all.sort();
    let pct =
        |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1e3;
    println!(
        "{endpoint:<14} {:>8} requests {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms",
        all.len(),
        all.len() as f64 / seconds as f64,
        pct(0.50),
        pct(0.99)
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("load") {
        return load(
            args[1].clone(),
            args[2].parse()?,
            args[3].parse()?,
            args[4].parse()?,
            args[5].clone(),
        )
        .await;
    }
    let kind = args.first().cloned().unwrap_or_else(|| "sqlite".into());
    let providers: u64 = args.get(1).map_or(Ok(100_000), |a| a.parse())?;
    let jobs: u64 = args.get(2).map_or(Ok(1_000_000), |a| a.parse())?;
    let seconds: u64 = args.get(3).map_or(Ok(15), |a| a.parse())?;
    let connections: usize = args.get(4).map_or(Ok(8), |a| a.parse())?;
    let url = match kind.as_str() {
        "sqlite" => fresh_sqlite("api-bench"),
        "postgres" => fresh_postgres("api_bench").await,
        other => anyhow::bail!("unknown database {other:?}: sqlite or postgres"),
    };
    let store = Store::connect(&url).await?;
    seed(&store, providers, jobs).await?;
    if kind == "postgres" {
        sqlx::raw_sql("ANALYZE").execute(store.pool()).await?;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(api::serve(listener, ApiState { store, rpc: None }));
    println!("{kind}: {connections} connections from a second process, {seconds} s per endpoint");
    for endpoint in ["list", "provider_page"] {
        let status = tokio::process::Command::new(std::env::current_exe()?)
            .args([
                "load",
                &base,
                &seconds.to_string(),
                &connections.to_string(),
                &providers.to_string(),
                endpoint,
            ])
            .status()
            .await?;
        anyhow::ensure!(status.success(), "the load generator failed");
    }
    Ok(())
}
