//! Ingest throughput: decoded program transactions per second through the store (rows, derived
//! tables, reputation, checkpoint; one database transaction per batch), side by side with a plain
//! bulk insert of the same transaction and event rows into the same kind of database.
//!
//! ```text
//! cargo run -p gpu-market-indexer --example ingest_bench -- [TRANSACTIONS]
//! ```
//! Default: 20,000 transactions. PostgreSQL is the server at `DATABASE_URL` (a throwaway cluster
//! when it is unset, see `gpu_market_tests::databases`), where databases `gpu_market_ingest_bench`
//! and `gpu_market_ingest_bulk` are created afresh.

use anchor_lang::{AnchorSerialize, Discriminator};
use base64::{Engine, prelude::BASE64_STANDARD};
use gpu_market::{
    events::{self, CompletionReason},
    state::{JobRequirements, MarketParams, ResultCommitment, Settlement, WorkloadKind},
};
use gpu_market_tests::{
    databases::{fresh_postgres, fresh_sqlite},
    fixtures::rtx4090_spec,
};
use indexer::{
    decode::{DecodedEvent, DecodedTransaction, MarketEvent},
    store::{Checkpoint, Indexed, Outcome, Store, chain_seq},
};
use solana_sdk::{pubkey::Pubkey, signature::Signature};
use support::{V, insert, key};

mod support;
use std::time::Instant;

const BATCH: usize = 100;
const PROVIDERS: u64 = 200;
/// Seconds of chain time between transactions (the run spans several days, so reputation is
/// rescored for every provider at each hour boundary, as it would be live).
const STEP: i64 = 30;
const T0: i64 = 1_767_225_600;

fn encode<E: AnchorSerialize + Discriminator>(event: &E) -> Vec<u8> {
    let mut data = E::DISCRIMINATOR.to_vec();
    event.serialize(&mut data).expect("serialize");
    data
}

/// The `n`-th transaction of a busy market: providers register, then jobs run from creation to
/// payout, with heartbeats in between.
fn event_bytes(n: u64, timestamp: i64) -> Vec<u8> {
    let market = key(1, 0);
    let spec = rtx4090_spec();
    if n == 0 {
        return encode(&events::MarketInitialized {
            market,
            authority: key(2, 0),
            market_id: 0,
            payment_mint: key(3, 0),
            stake_mint: key(4, 0),
            treasury: key(5, 0),
            slash_destination: key(6, 0),
            params: MarketParams::recommended(100),
            timestamp,
        });
    }
    if n <= PROVIDERS {
        return encode(&events::ProviderRegistered {
            market,
            provider: key(7, n),
            authority: key(8, n),
            spec,
            price_per_gpu_hour: 400_000,
            endpoint: "https://gpu-host.example.org:7070".into(),
            timestamp,
        });
    }
    let k = n - PROVIDERS - 1;
    let (job_no, step) = (k / 5, k % 5);
    let job = key(9, job_no);
    let client = key(10, job_no % 50);
    let provider = key(7, 1 + job_no % PROVIDERS);
    match step {
        0 => encode(&events::JobCreated {
            market,
            job,
            client,
            nonce: job_no,
            named_provider: None,
            requirements: JobRequirements {
                gpu_count: 2,
                min_vram_gb: 16,
                allowed_gpu_models: 0,
                min_bandwidth_down_mbps: 0,
                min_bandwidth_up_mbps: 0,
                region: None,
            },
            workload_kind: WorkloadKind::Matmul,
            spec_hash: [7; 32],
            max_price_per_gpu_hour: 1_000_000,
            max_duration_secs: 3_600,
            deposit: 2_000_000,
            timestamp,
            terms: Default::default(),
        }),
        1 => encode(&events::JobStarted {
            market,
            job,
            client,
            provider,
            bid: None,
            price_per_gpu_hour: 400_000,
            gpu_count: 2,
            deadline: timestamp + 3_600,
            provider_gpus_in_use: 2,
            locked_stake: 200,
            provider_locked_stake: 200,
            timestamp,
        }),
        2 => encode(&events::ProviderHeartbeat {
            market,
            provider,
            gpus_in_use: 2,
            previous_heartbeat_at: timestamp - 60,
            timestamp,
        }),
        3 => encode(&events::ResultSubmitted {
            market,
            job,
            provider,
            result: ResultCommitment {
                merkle_root: [1; 32],
                chunk_count: 960,
                output_hash: [2; 32],
                metered_secs: 60,
            },
            submitted_slot: 0,
            challenge_ends_at: timestamp + 3_600,
            timestamp,
        }),
        _ => encode(&events::JobCompleted {
            market,
            job,
            client,
            provider,
            reason: CompletionReason::AcceptedByClient,
            billed_secs: 60,
            settlement: Settlement {
                provider_share: 13_000,
                fee: 333,
                refund: 1_986_667,
            },
            provider_jobs_completed: job_no / PROVIDERS + 1,
            provider_total_earned: 13_000 * (job_no / PROVIDERS + 1),
            market_total_volume: 0,
            market_total_fees: 0,
            timestamp,
        }),
    }
}

struct Tx {
    signature: Signature,
    slot: u64,
    position: u32,
    block_time: i64,
    data: Vec<u8>,
}

fn transactions(count: u64) -> Vec<Tx> {
    (0..count)
        .map(|n| {
            let block_time = T0 + n as i64 * STEP;
            let mut sig = [0u8; 64];
            sig[..8].copy_from_slice(&n.to_le_bytes());
            sig[8] = 0xA5;
            Tx {
                signature: Signature::from(sig),
                // Two program transactions per slot.
                slot: 1_000 + n / 2,
                position: (n % 2) as u32,
                block_time,
                data: event_bytes(n, block_time),
            }
        })
        .collect()
}

fn indexed(tx: &Tx) -> Indexed {
    let event = MarketEvent::decode(&tx.data).expect("decodes");
    Indexed {
        signature: tx.signature,
        slot: tx.slot,
        position: tx.position,
        block_time: Some(tx.block_time),
        outcome: Outcome::Decoded(DecodedTransaction {
            signature: tx.signature,
            slot: tx.slot,
            block_time: Some(tx.block_time),
            error: None,
            events: vec![DecodedEvent {
                index: 0,
                event,
                data: tx.data.clone(),
            }],
        }),
    }
}

/// The store's path: `write_batch` per batch of decoded transactions.
async fn pipeline(url: &str, txs: &[Tx]) -> anyhow::Result<f64> {
    let store = Store::connect(url).await?;
    let started = Instant::now();
    for chunk in txs.chunks(BATCH) {
        let batch: Vec<Indexed> = chunk.iter().map(indexed).collect();
        let last = chunk.last().expect("non-empty");
        store
            .write_batch(
                &batch,
                Checkpoint {
                    slot: last.slot,
                    signature: last.signature,
                },
            )
            .await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    store.pool().close().await;
    Ok(txs.len() as f64 / elapsed)
}

/// The floor: the same transaction and event rows, multi-row INSERTs, one database transaction
/// per batch, nothing derived.
async fn bulk(url: &str, txs: &[Tx]) -> anyhow::Result<f64> {
    let store = Store::connect(url).await?;
    let pool = store.pool();
    let started = Instant::now();
    let text = |key: Option<Pubkey>| key.map_or(V::NT, |k| V::T(k.to_string()));
    for chunk in txs.chunks(BATCH) {
        let mut db = pool.begin().await?;
        let mut transactions = vec![];
        let mut events = vec![];
        for tx in chunk {
            let seq = chain_seq(tx.slot, tx.position, 0)?;
            let event = MarketEvent::decode(&tx.data)?;
            let keys = event.keys();
            transactions.push(vec![
                V::T(tx.signature.to_string()),
                V::I(seq),
                V::I(tx.slot as i64),
                V::I(tx.block_time),
            ]);
            events.push(vec![
                V::T(tx.signature.to_string()),
                V::I(0),
                V::I(seq),
                V::I(tx.slot as i64),
                V::I(tx.block_time),
                V::T(event.kind().into()),
                text(keys.market),
                text(keys.job),
                text(keys.provider),
                V::T(BASE64_STANDARD.encode(&tx.data)),
            ]);
        }
        let sqlite = store.is_sqlite();
        insert(
            &mut db,
            sqlite,
            "INSERT INTO transactions (signature, seq, slot, block_time)",
            4,
            transactions,
        )
        .await?;
        insert(
            &mut db,
            sqlite,
            "INSERT INTO events (signature, event_index, seq, slot, block_time, kind, market, job, \
             provider, data)",
            10,
            events,
        )
        .await?;
        db.commit().await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    pool.close().await;
    Ok(txs.len() as f64 / elapsed)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let count: u64 = args.next().map_or(Ok(20_000), |a| a.parse())?;
    let txs = transactions(count);
    println!(
        "ingest: {count} decoded program transactions (one event each), batches of {BATCH}, \
         {PROVIDERS} providers, {STEP} s of chain time apart"
    );
    println!(
        "{:<10} {:>16} {:>16} {:>8}",
        "database", "pipeline tx/s", "bulk insert tx/s", "ratio"
    );
    for kind in ["sqlite", "postgres"] {
        let (a, b) = match kind {
            "sqlite" => (fresh_sqlite("ingest-pipeline"), fresh_sqlite("ingest-bulk")),
            _ => (
                fresh_postgres("ingest_bench").await,
                fresh_postgres("ingest_bulk").await,
            ),
        };
        let through_store = pipeline(&a, &txs).await?;
        let plain = bulk(&b, &txs).await?;
        println!(
            "{kind:<10} {through_store:>16.0} {plain:>16.0} {:>7.1}%",
            100.0 * through_store / plain
        );
    }
    Ok(())
}
