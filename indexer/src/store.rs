//! The SQL store: SQLite (a file, created on first start) by default, PostgreSQL when the URL says
//! so, through sqlx's `Any` driver with one portable schema. Every batch is one database
//! transaction that also moves the checkpoint, so the tables and the checkpoint never disagree.

use crate::{
    decode::{DecodeError, DecodedTransaction},
    derive::{self, OutOfRange, Rescore},
    reputation,
};
use base64::{Engine, prelude::BASE64_STANDARD};
use solana_sdk::signature::Signature;
use sqlx::{AnyConnection, AnyPool, Row, any::AnyPoolOptions};
use std::{collections::BTreeSet, str::FromStr};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// One transaction of the listing, ready for the store.
pub struct Indexed {
    pub signature: Signature,
    pub slot: u64,
    /// Its place among the program's transactions in its slot (listing order).
    pub position: u32,
    pub block_time: Option<i64>,
    pub outcome: Outcome,
}

/// Decoded, or the reason it could not be.
pub enum Outcome {
    Decoded(DecodedTransaction),
    Undecodable(DecodeError),
}

/// A chain position as one integer: `slot << 24 | position << 10 | event index`. Integers order the
/// same way on every database, so this is every table's tie-breaker and cursor.
pub fn chain_seq(slot: u64, position: u32, event_index: u32) -> Result<i64, OutOfRange> {
    if slot >= 1 << 39 || position >= 1 << 14 || event_index >= 1 << 10 {
        return Err(OutOfRange(format!(
            "chain position (slot {slot}, transaction {position}, event {event_index}) is beyond \
             what the index numbers (2^39 slots, 2^14 program transactions per slot, 2^10 events)"
        )));
    }
    Ok(((slot << 24) | (u64::from(position) << 10) | u64::from(event_index)) as i64)
}

/// What a batch changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchReport {
    /// Transactions not seen before.
    pub new_transactions: usize,
    pub events: usize,
    /// Recorded as undecodable, at decoding or because a value did not fit.
    pub undecodable: usize,
}

/// Where the last batch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub slot: u64,
    pub signature: Signature,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// SQLite takes its write lock when a batch begins (`BEGIN IMMEDIATE`), so a batch waits for
    /// another writer (up to the busy timeout) instead of failing when it first writes.
    sqlite: bool,
}

/// A database URL as the user wrote it, made usable: a bare path or `sqlite:` URL becomes a SQLite
/// file created if missing.
pub fn normalize_url(url: &str) -> String {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return url.to_string();
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if path.contains('?') {
        format!("sqlite://{path}")
    } else {
        format!("sqlite://{path}?mode=rwc")
    }
}

fn to_i64(value: u64, what: &str) -> anyhow::Result<i64> {
    i64::try_from(value).map_err(|_| anyhow::anyhow!("{what} {value} does not fit the database"))
}

impl Store {
    /// Connects and brings the schema up to date.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let url = normalize_url(url);
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .connect(&url)
            .await
            .map_err(|e| anyhow::anyhow!("could not open the database {url}: {e}"))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| anyhow::anyhow!("could not migrate the database {url}: {e}"))?;
        Ok(Self {
            sqlite: url.starts_with("sqlite:"),
            pool,
        })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn is_sqlite(&self) -> bool {
        self.sqlite
    }

    pub async fn checkpoint(&self) -> anyhow::Result<Option<Checkpoint>> {
        let row = sqlx::query("SELECT slot, signature FROM checkpoint WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            let slot: i64 = row.try_get("slot")?;
            let signature: String = row.try_get("signature")?;
            Ok(Checkpoint {
                slot: u64::try_from(slot)?,
                signature: Signature::from_str(&signature)?,
            })
        })
        .transpose()
    }

    /// Writes `batch`, applies its new events to the derived tables, rescored reputation where it
    /// moved, and moves the checkpoint to `checkpoint`: all in one database transaction.
    /// Transactions already present (delivered twice) change nothing.
    pub async fn write_batch(
        &self,
        batch: &[Indexed],
        checkpoint: Checkpoint,
    ) -> anyhow::Result<BatchReport> {
        let mut db = if self.sqlite {
            self.pool.begin_with("BEGIN IMMEDIATE").await?
        } else {
            self.pool.begin().await?
        };
        let stored =
            sqlx::query("SELECT block_time, reputation_as_of FROM checkpoint WHERE id = 1")
                .fetch_optional(&mut *db)
                .await?;
        let (mut latest, stored_as_of): (Option<i64>, Option<i64>) = match stored {
            Some(row) => (row.try_get("block_time")?, row.try_get("reputation_as_of")?),
            None => (None, None),
        };
        let mut report = BatchReport::default();
        let mut touched = BTreeSet::new();
        for item in batch {
            let written = match &item.outcome {
                Outcome::Decoded(tx) => {
                    // A savepoint: a transaction whose values do not fit is undone alone and
                    // recorded as undecodable; the rest of the batch goes on.
                    let mut one = sqlx::Connection::begin(&mut *db).await?;
                    match write_decoded(&mut one, item, tx, &mut touched).await {
                        Ok(events) => {
                            one.commit().await?;
                            report.events += events.unwrap_or(0);
                            events.is_some()
                        }
                        Err(error) if error.is::<OutOfRange>() => {
                            one.rollback().await?;
                            tracing::warn!(signature = %item.signature, "not indexable: {error}");
                            report.undecodable += 1;
                            write_undecodable(&mut db, item, &error.to_string()).await?
                        }
                        Err(error) => return Err(error),
                    }
                }
                Outcome::Undecodable(error) => {
                    report.undecodable += 1;
                    write_undecodable(&mut db, item, &error.to_string()).await?
                }
            };
            report.new_transactions += usize::from(written);
            latest = latest.max(item.block_time);
        }
        let as_of = latest.map(reputation::hour_of);
        if let Some(as_of) = as_of {
            if stored_as_of != Some(as_of) {
                derive::rescore(&mut db, as_of, Rescore::All).await?;
            } else if !touched.is_empty() {
                derive::rescore(&mut db, as_of, Rescore::Some(&touched)).await?;
            }
        }
        sqlx::query(
            "INSERT INTO checkpoint (id, slot, signature, block_time, reputation_as_of) \
             VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET slot = excluded.slot, \
             signature = excluded.signature, block_time = excluded.block_time, \
             reputation_as_of = excluded.reputation_as_of",
        )
        .bind(to_i64(checkpoint.slot, "slot")?)
        .bind(checkpoint.signature.to_string())
        .bind(latest)
        .bind(as_of)
        .execute(&mut *db)
        .await?;
        db.commit().await?;
        Ok(report)
    }

    /// How many transactions of `slot` are indexed (where a listing resumes inside a slot).
    pub async fn indexed_in_slot(&self, slot: u64) -> anyhow::Result<u32> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM transactions WHERE slot = $1) \
                  + (SELECT COUNT(*) FROM undecodable WHERE slot = $1) AS n",
        )
        .bind(to_i64(slot, "slot")?)
        .fetch_one(&self.pool)
        .await?;
        Ok(u32::try_from(row.try_get::<i64, _>("n")?)?)
    }

    /// The newest block time indexed: the clock of the derived tables.
    pub async fn block_time(&self) -> anyhow::Result<Option<i64>> {
        Ok(
            sqlx::query("SELECT block_time FROM checkpoint WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?
                .map(|row| row.try_get("block_time"))
                .transpose()?
                .flatten(),
        )
    }

    /// Events per kind, in kind order (what the tests and the first API pages read).
    pub async fn event_counts(&self) -> anyhow::Result<Vec<(String, i64)>> {
        let rows =
            sqlx::query("SELECT kind, COUNT(*) AS n FROM events GROUP BY kind ORDER BY kind")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("kind")?, row.try_get("n")?)))
            .collect()
    }

    /// Rows in `table` (one of this schema's).
    pub async fn count(&self, table: Table) -> anyhow::Result<i64> {
        Ok(sqlx::query(table.count_sql())
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?)
    }
}

/// The schema's tables, so callers name one without building SQL from input.
#[derive(Debug, Clone, Copy)]
pub enum Table {
    Transactions,
    Events,
    Undecodable,
}

impl Table {
    fn count_sql(self) -> &'static str {
        match self {
            Table::Transactions => "SELECT COUNT(*) AS n FROM transactions",
            Table::Events => "SELECT COUNT(*) AS n FROM events",
            Table::Undecodable => "SELECT COUNT(*) AS n FROM undecodable",
        }
    }
}

/// Writes one decoded transaction and applies its events. `None` if it was already indexed.
async fn write_decoded(
    db: &mut AnyConnection,
    item: &Indexed,
    tx: &DecodedTransaction,
    touched: &mut BTreeSet<solana_sdk::pubkey::Pubkey>,
) -> anyhow::Result<Option<usize>> {
    let signature = item.signature.to_string();
    let slot = to_i64(item.slot, "slot")?;
    let inserted = sqlx::query(
        "INSERT INTO transactions (signature, seq, slot, block_time, error) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (signature) DO NOTHING",
    )
    .bind(&signature)
    .bind(chain_seq(item.slot, item.position, 0)?)
    .bind(slot)
    .bind(tx.block_time)
    .bind(tx.error.clone())
    .execute(&mut *db)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(None);
    }
    for event in &tx.events {
        let seq = chain_seq(item.slot, item.position, event.index)?;
        let keys = event.event.keys();
        sqlx::query(
            "INSERT INTO events \
             (signature, event_index, seq, slot, block_time, kind, market, job, provider, data) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&signature)
        .bind(i64::from(event.index))
        .bind(seq)
        .bind(slot)
        .bind(tx.block_time)
        .bind(event.event.kind())
        .bind(keys.market.map(|k| k.to_string()))
        .bind(keys.job.map(|k| k.to_string()))
        .bind(keys.provider.map(|k| k.to_string()))
        .bind(BASE64_STANDARD.encode(&event.data))
        .execute(&mut *db)
        .await?;
        if let Some(provider) = derive::apply(db, seq, &event.event).await? {
            touched.insert(provider);
        }
    }
    Ok(Some(tx.events.len()))
}

/// Records a transaction that could not be indexed; `false` if it already was.
async fn write_undecodable(
    db: &mut AnyConnection,
    item: &Indexed,
    error: &str,
) -> anyhow::Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO undecodable (signature, seq, slot, error) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (signature) DO NOTHING",
    )
    .bind(item.signature.to_string())
    .bind(chain_seq(item.slot, item.position, 0)?)
    .bind(to_i64(item.slot, "slot")?)
    .bind(error)
    .execute(&mut *db)
    .await?
    .rows_affected()
        == 1)
}
