//! gpu-market's indexer: the program's transactions and events, from JSON-RPC into SQL.
//!
//! ```text
//! datasource (getSignaturesForAddress + getTransaction) -> decoder (the program's own types)
//!   -> store (sqlx: SQLite by default, PostgreSQL; one database transaction per batch, checkpoint included)
//! ```

pub mod config;
pub mod decode;
pub mod source;
pub mod store;

use decode::decode_transaction;
use source::Source;
use store::{Checkpoint, Indexed, Store};

/// What one pass indexed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SyncReport {
    pub transactions: usize,
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
        let pending = self
            .source
            .signatures_since(checkpoint.map(|c| c.signature))
            .await?;
        let mut report = SyncReport::default();
        for chunk in pending.chunks(self.batch_size.max(1)) {
            let mut batch = Vec::with_capacity(chunk.len());
            for item in chunk {
                let tx = self.source.transaction(&item.signature).await?;
                batch.push(
                    match decode_transaction(item.signature, &tx, self.source.program_id()) {
                        Ok(decoded) => {
                            report.events += decoded.events.len();
                            report.failed += usize::from(decoded.error.is_some());
                            Indexed::Decoded(decoded)
                        }
                        // The node's answer was incomplete: nothing of this batch is written,
                        // and the next pass fetches it again.
                        Err(error) if error.is_retryable() => {
                            anyhow::bail!("transaction {}: {error}", item.signature)
                        }
                        Err(error) => {
                            tracing::warn!(signature = %item.signature, "undecodable: {error}");
                            report.undecodable += 1;
                            Indexed::Undecodable {
                                signature: item.signature,
                                slot: item.slot,
                                error,
                            }
                        }
                    },
                );
            }
            let last = chunk.last().expect("chunks are not empty");
            self.store
                .write_batch(
                    &batch,
                    Checkpoint {
                        slot: last.slot,
                        signature: last.signature,
                    },
                )
                .await?;
            report.transactions += chunk.len();
            progress(report.transactions, pending.len());
        }
        Ok(report)
    }
}
