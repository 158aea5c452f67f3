//! The SQL store: SQLite (a file, created on first start) by default, PostgreSQL when the URL says
//! so, through sqlx's `Any` driver with one portable schema. Every batch is one database
//! transaction that also moves the checkpoint, so the tables and the checkpoint never disagree.

use crate::decode::{DecodeError, DecodedTransaction};
use base64::{Engine, prelude::BASE64_STANDARD};
use solana_sdk::signature::Signature;
use sqlx::{AnyPool, Row, any::AnyPoolOptions};
use std::str::FromStr;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// One transaction's outcome for the store: decoded, or the reason it could not be.
pub enum Indexed {
    Decoded(DecodedTransaction),
    Undecodable {
        signature: Signature,
        slot: u64,
        error: DecodeError,
    },
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
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
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

    /// Writes `batch` and moves the checkpoint to `checkpoint`, atomically. Rows already present
    /// (a transaction delivered twice) are left as they are.
    pub async fn write_batch(
        &self,
        batch: &[Indexed],
        checkpoint: Checkpoint,
    ) -> anyhow::Result<()> {
        let mut db = self.pool.begin().await?;
        for indexed in batch {
            match indexed {
                Indexed::Decoded(tx) => {
                    let signature = tx.signature.to_string();
                    let slot = to_i64(tx.slot, "slot")?;
                    sqlx::query(
                        "INSERT INTO transactions (signature, slot, block_time, error) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (signature) DO NOTHING",
                    )
                    .bind(&signature)
                    .bind(slot)
                    .bind(tx.block_time)
                    .bind(tx.error.clone())
                    .execute(&mut *db)
                    .await?;
                    for event in &tx.events {
                        let keys = event.event.keys();
                        sqlx::query(
                            "INSERT INTO events \
                             (signature, event_index, slot, block_time, kind, market, job, provider, data) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                             ON CONFLICT (signature, event_index) DO NOTHING",
                        )
                        .bind(&signature)
                        .bind(i64::from(event.index))
                        .bind(slot)
                        .bind(tx.block_time)
                        .bind(event.event.kind())
                        .bind(keys.market.map(|k| k.to_string()))
                        .bind(keys.job.map(|k| k.to_string()))
                        .bind(keys.provider.map(|k| k.to_string()))
                        .bind(BASE64_STANDARD.encode(&event.data))
                        .execute(&mut *db)
                        .await?;
                    }
                }
                Indexed::Undecodable {
                    signature,
                    slot,
                    error,
                } => {
                    sqlx::query(
                        "INSERT INTO undecodable (signature, slot, error) VALUES ($1, $2, $3) \
                         ON CONFLICT (signature) DO NOTHING",
                    )
                    .bind(signature.to_string())
                    .bind(to_i64(*slot, "slot")?)
                    .bind(error.to_string())
                    .execute(&mut *db)
                    .await?;
                }
            }
        }
        sqlx::query(
            "INSERT INTO checkpoint (id, slot, signature) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET slot = excluded.slot, signature = excluded.signature",
        )
        .bind(to_i64(checkpoint.slot, "slot")?)
        .bind(checkpoint.signature.to_string())
        .execute(&mut *db)
        .await?;
        db.commit().await?;
        Ok(())
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
