//! gpu-market's indexer: the program's transactions and events, from JSON-RPC into SQL.
//!
//! ```text
//! datasource (getSignaturesForAddress + getTransaction) -> decoder (the program's own types)
//!   -> store (sqlx: SQLite by default, PostgreSQL; one database transaction per batch, checkpoint included)
//! ```

pub mod api;
pub mod config;
pub mod decode;
pub mod derive;
pub mod metrics;
pub mod reputation;
pub mod source;
pub mod store;

use decode::decode_transaction;
use futures_util::{StreamExt, TryStreamExt, stream};
use source::Source;
use store::{Checkpoint, Indexed, Outcome, Store};

/// `getTransaction` calls in flight at once.
const FETCH_CONCURRENCY: usize = 8;

/// What one pass indexed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SyncReport {
    /// Transactions listed since the checkpoint.
    pub transactions: usize,
    /// Of those, not indexed before.
    pub new_transactions: usize,
    pub events: usize,
    pub failed: usize,
    pub undecodable: usize,
}

pub struct Indexer {
    pub source: Source,
    pub store: Store,
    /// Transactions per database transaction.
    pub batch_size: usize,
}

impl Indexer {
    /// Indexes everything newer than the checkpoint, oldest first, one batch per database
    /// transaction. Stopping at any point loses nothing: the checkpoint moves with the rows.
    pub async fn sync_once(&self) -> anyhow::Result<SyncReport> {
        self.sync_with_progress(|_, _| {}).await
    }

    /// [`Self::sync_once`], calling `progress(done, total)` after each batch.
    pub async fn sync_with_progress(
        &self,
        progress: impl Fn(usize, usize),
    ) -> anyhow::Result<SyncReport> {
        let checkpoint = self.store.checkpoint().await?;
        let pending = self.source.signatures_since(checkpoint).await?;
        // Places within a slot continue from what is indexed when the listing resumes inside the
        // checkpoint's slot (only possible at confirmed commitment).
        let mut slot = checkpoint.map(|c| c.slot);
        let mut position = match checkpoint {
            Some(c) => self.store.indexed_in_slot(c.slot).await?,
            None => 0,
        };
        let mut report = SyncReport::default();
        for chunk in pending.chunks(self.batch_size.max(1)) {
            // Items by value: a closure over references would make this future not `Send`
            // (so it could not be spawned).
            let fetched: Vec<_> = stream::iter(chunk.iter().copied())
                .map(|item| async move {
                    let tx = self.source.transaction(&item.signature).await?;
                    anyhow::Ok((item, tx))
                })
                .buffered(FETCH_CONCURRENCY)
                .try_collect()
                .await?;
            let mut batch = Vec::with_capacity(chunk.len());
            for (item, tx) in fetched {
                if slot != Some(item.slot) {
                    slot = Some(item.slot);
                    position = 0;
                }
                let outcome =
                    match decode_transaction(item.signature, &tx, self.source.program_id()) {
                        Ok(decoded) => {
                            report.failed += usize::from(decoded.error.is_some());
                            Outcome::Decoded(decoded)
                        }
                        // The node's answer was incomplete: nothing of this batch is written, and
                        // the next pass fetches it again.
                        Err(error) if error.is_retryable() => {
                            anyhow::bail!("transaction {}: {error}", item.signature)
                        }
                        Err(error) => {
                            tracing::warn!(signature = %item.signature, "undecodable: {error}");
                            Outcome::Undecodable(error)
                        }
                    };
                batch.push(Indexed {
                    signature: item.signature,
                    slot: item.slot,
                    position,
                    block_time: tx.block_time,
                    outcome,
                });
                position += 1;
            }
            let last = chunk.last().expect("chunks are not empty");
            let written = self
                .store
                .write_batch(
                    &batch,
                    Checkpoint {
                        slot: last.slot,
                        signature: last.signature,
                    },
                )
                .await?;
            metrics::record_batch(&written);
            report.transactions += chunk.len();
            report.new_transactions += written.new_transactions;
            report.events += written.events;
            report.undecodable += written.undecodable;
            progress(report.transactions, pending.len());
        }
        Ok(report)
    }
}
