//! `gpu-market-indexer`: follows the program on a cluster and keeps its SQL tables current.

use clap::Parser;
use futures_util::StreamExt;
use indexer::{
    Indexer,
    api::{self, ApiState},
    config::{Args, Settings},
    metrics::METRICS,
    source::Source,
    store::Store,
};
use indicatif::{ProgressBar, ProgressStyle};
use solana_client::{
    nonblocking::{pubsub_client::PubsubClient, rpc_client::RpcClient},
    rpc_config::{RpcTransactionLogsConfig, RpcTransactionLogsFilter},
};
use std::{sync::Arc, time::Duration};
use tokio::sync::Notify;

/// The longest wait between attempts after errors.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let settings = Settings::resolve(Args::parse())?;
    let store = Store::connect(&settings.database_url).await?;
    if !settings.once {
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .map_err(|e| anyhow::anyhow!("could not listen on {}: {e}", settings.listen))?;
        let state = ApiState {
            store: store.clone(),
            rpc: Some(Arc::new(RpcClient::new_with_commitment(
                settings.rpc_url.clone(),
                settings.commitment,
            ))),
        };
        tracing::info!("API on http://{}", listener.local_addr()?);
        tokio::spawn(async move {
            if let Err(error) = api::serve(listener, state).await {
                tracing::error!("the API stopped: {error:#}");
            }
        });
    }
    let indexer = Indexer {
        source: Source::with_timeout(
            settings.rpc_url.clone(),
            settings.program_id,
            settings.commitment,
            settings.rpc_timeout,
        )?,
        store,
        batch_size: settings.batch_size,
    };
    tracing::info!(
        rpc = %settings.rpc_url,
        program = %settings.program_id,
        database = %settings.database_url,
        "indexing"
    );

    let wake = Arc::new(Notify::new());
    if !settings.once {
        tokio::spawn(wake_on_logs(settings.clone(), wake.clone()));
    }
    let mut backoff = Duration::from_millis(250);
    loop {
        let before = indexer.store.checkpoint().await.ok();
        let bar = ProgressBar::hidden();
        // Ctrl-C stops between batches: what was written stays, with its checkpoint.
        let sync = indexer.sync_with_progress(|done, total| {
            if bar.is_hidden() && total > settings.batch_size {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar.set_style(
                    ProgressStyle::with_template(
                        "backfilling {bar:40} {pos}/{len} transactions ({per_sec}, {eta} left)",
                    )
                    .expect("template"),
                );
            }
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        });
        let result = tokio::select! {
            result = sync => result,
            result = tokio::signal::ctrl_c() => {
                bar.finish_and_clear();
                tracing::info!("stopping; the next start resumes from the checkpoint");
                return Ok(result?);
            }
        };
        bar.finish_and_clear();
        match result {
            Ok(report) => {
                backoff = Duration::from_millis(250);
                if report.transactions > 0 {
                    tracing::info!(
                        transactions = report.transactions,
                        new = report.new_transactions,
                        events = report.events,
                        failed = report.failed,
                        undecodable = report.undecodable,
                        "indexed"
                    );
                }
                if settings.once {
                    return Ok(());
                }
            }
            // Nothing of a failed batch is written and the checkpoint stays put: retrying later
            // leaves no gap and no duplicate.
            Err(error) => {
                METRICS.sync_errors.inc();
                // Batches written before the error were progress: the wait starts over.
                if indexer.store.checkpoint().await.ok() != before {
                    backoff = Duration::from_millis(250);
                }
                tracing::warn!("sync failed, retrying in {backoff:?}: {error:#}");
                if settings.once {
                    return Err(error);
                }
                tokio::time::sleep(with_jitter(backoff)).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(settings.poll_interval) => {}
            result = tokio::signal::ctrl_c() => return Ok(result?),
        }
    }
}

/// `delay` plus up to a quarter more, so that many indexers do not retry in step.
fn with_jitter(delay: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    delay + delay.mul_f64(f64::from(nanos % 1_000) / 4_000.0)
}

/// Wakes the sync loop whenever the program logs a transaction. Only a hint: polling covers
/// whatever the socket misses, and the socket reconnects after a drop.
async fn wake_on_logs(settings: Settings, wake: Arc<Notify>) {
    let mut backoff = Duration::from_secs(1);
    loop {
        match PubsubClient::new(&settings.ws_url).await {
            Ok(client) => {
                let filter =
                    RpcTransactionLogsFilter::Mentions(vec![settings.program_id.to_string()]);
                let config = RpcTransactionLogsConfig {
                    commitment: Some(settings.commitment),
                };
                match client.logs_subscribe(filter, config).await {
                    Ok((mut logs, _unsubscribe)) => {
                        backoff = Duration::from_secs(1);
                        while logs.next().await.is_some() {
                            wake.notify_one();
                        }
                        tracing::info!("websocket closed; reconnecting");
                    }
                    Err(error) => tracing::warn!("logsSubscribe failed: {error}"),
                }
            }
            Err(error) => tracing::debug!("websocket {}: {error}", settings.ws_url),
        }
        tokio::time::sleep(with_jitter(backoff)).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
