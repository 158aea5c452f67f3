//! The pipeline against localnet, on SQLite and on PostgreSQL: a market's whole story indexed once,
//! then again (nothing doubles), then from scratch into a database that already holds it.

use crate::common::fresh_databases;
use gpu_market_tests::{Chain, RpcChain, fixtures::*, ix};
use indexer::{
    Indexer,
    source::Source,
    store::{Store, Table},
};
use solana_commitment_config::CommitmentConfig;

/// A market, a staked provider, and one job from posting to payout and close.
async fn market_story(chain: &mut RpcChain) {
    let market = MarketFixture::new(chain).await;
    let m = market.keys;
    let p = ProviderFixture::staked(chain, &m, 500, 500).await;
    let c = ClientFixture::new(chain, &m, 100).await;
    let j = c.post(chain, &m, job_args(1)).await;
    chain
        .ok(&[ix::claim_job(&m, &p.key(), &j.job)], &[&p.authority])
        .await;
    chain.advance_time(600).await;
    chain
        .ok(
            &[ix::submit_result(&m, &p.key(), &j.job, result_of(600))],
            &[&p.authority],
        )
        .await;
    chain
        .ok(
            &[ix::accept_result(&m, &c.key(), &j.job, &p.provider)],
            &[&c.authority],
        )
        .await;
    chain
        .ok(
            &[ix::claim_payout(&m, &p.key(), &p.payment_account)],
            &[&p.authority],
        )
        .await;
    chain
        .ok(
            &[ix::close_job(&m, &c.key(), &j.job, &c.payment_account)],
            &[&c.authority],
        )
        .await;
}

/// A transaction that fails on chain (preflight skipped): claiming a payout with nothing earned.
async fn failed_transaction(chain: &mut RpcChain) -> solana_sdk::signature::Signature {
    let market = MarketFixture::new(chain).await;
    let p = ProviderFixture::registered(chain, &market.keys, 1).await;
    let ix = ix::claim_payout(&market.keys, &p.key(), &p.payment_account);
    let blockhash = chain.rpc.get_latest_blockhash().await.expect("blockhash");
    let tx = chain.sign(&[ix], &[&p.authority], blockhash);
    let signature = chain
        .rpc
        .send_transaction_with_config(
            &tx,
            solana_client::rpc_config::RpcSendTransactionConfig {
                skip_preflight: true,
                ..Default::default()
            },
        )
        .await
        .expect("sent");
    let status = loop {
        let statuses = chain
            .rpc
            .get_signature_statuses(&[signature])
            .await
            .expect("statuses");
        match &statuses.value[0] {
            Some(status) if status.confirmation_status() == solana_transaction_status_client_types::TransactionConfirmationStatus::Finalized => break status.clone(),
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    };
    assert!(status.err.is_some(), "the claim fails on chain");
    signature
}

fn expected_counts() -> Vec<(String, i64)> {
    [
        "JobClosed",
        "JobCompleted",
        "JobCreated",
        "JobStarted",
        "MarketInitialized",
        "MarketInitialized",
        "PayoutClaimed",
        "ProviderRegistered",
        "ProviderRegistered",
        "ResultSubmitted",
        "Staked",
    ]
    .chunk_by(|a, b| a == b)
    .map(|run| (run[0].to_string(), run.len() as i64))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_markets_story_is_indexed_once_on_sqlite_and_postgres() {
    let mut chain = RpcChain::start_localnet().await;
    market_story(&mut chain).await;
    let failed = failed_transaction(&mut chain).await;
    let rpc_url = chain.rpc.url();

    for (kind, url) in fresh_databases("story").await {
        let indexer = || async {
            Indexer {
                source: Source::new(
                    rpc_url.clone(),
                    gpu_market::ID,
                    CommitmentConfig::finalized(),
                )
                .expect("source"),
                store: Store::connect(&url).await.expect("store"),
                batch_size: 3,
            }
        };
        let first = indexer().await;
        let report = first.sync_once().await.expect("first pass");
        assert_eq!(report.events, 11, "{kind}");
        // The failed claim is kept as evidence, with its error, and counts as nothing else.
        assert_eq!((report.failed, report.undecodable), (1, 0), "{kind}");
        let error: Option<String> =
            sqlx::query_scalar("SELECT error FROM transactions WHERE signature = $1")
                .bind(failed.to_string())
                .fetch_one(first.store.pool())
                .await
                .expect("the failed transaction's row");
        assert!(
            error.is_some_and(|e| e.contains("custom program error")),
            "{kind}"
        );
        assert_eq!(
            first.store.event_counts().await.expect("counts"),
            expected_counts(),
            "{kind}"
        );
        let transactions = first.store.count(Table::Transactions).await.expect("count");
        assert_eq!(transactions as usize, report.transactions, "{kind}");

        // Again: nothing new.
        let again = first.sync_once().await.expect("second pass");
        assert_eq!(again.transactions, 0, "{kind}");

        // A restart resumes from the checkpoint.
        let restarted = indexer().await;
        assert_eq!(
            restarted.sync_once().await.expect("restart").transactions,
            0,
            "{kind}"
        );

        // Everything delivered twice (the checkpoint lost): the tables do not move.
        sqlx::query("DELETE FROM checkpoint")
            .execute(restarted.store.pool())
            .await
            .expect("forget the checkpoint");
        let redelivered = restarted.sync_once().await.expect("redelivery");
        assert_eq!(redelivered.transactions, report.transactions, "{kind}");
        assert_eq!(
            restarted.store.event_counts().await.expect("counts"),
            expected_counts(),
            "{kind}"
        );
        assert_eq!(
            restarted
                .store
                .count(Table::Transactions)
                .await
                .expect("count"),
            transactions,
            "{kind}"
        );
        assert_eq!(
            restarted
                .store
                .count(Table::Undecodable)
                .await
                .expect("count"),
            0,
            "{kind}"
        );
    }
}
