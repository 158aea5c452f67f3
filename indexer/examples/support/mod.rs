//! What the indexer's benchmarks share: synthetic keys and a multi-row insert.
#![allow(dead_code)] // each benchmark uses a part of it

use solana_sdk::pubkey::Pubkey;
use sqlx::AnyConnection;

/// A distinct, reproducible key: `tag` in every byte, then `i` in the first eight.
pub fn key(tag: u8, i: u64) -> Pubkey {
    let mut bytes = [tag; 32];
    bytes[..8].copy_from_slice(&i.to_le_bytes());
    Pubkey::new_from_array(bytes)
}

/// A value to bind.
#[derive(Clone)]
pub enum V {
    I(i64),
    T(String),
    /// NULL in an integer column.
    N,
    /// NULL in a text column (PostgreSQL types parameters).
    NT,
}

/// Inserts `rows` with multi-row `{head} VALUES (...), (...)` statements on `db` (the caller's
/// transaction); `width` values per row. Returns the rows inserted.
pub async fn insert(
    db: &mut AnyConnection,
    sqlite: bool,
    head: &str,
    width: usize,
    rows: impl IntoIterator<Item = Vec<V>>,
) -> anyhow::Result<u64> {
    // SQLite: statements of a fixed shape, prepared once and reused from the cache, are fastest.
    // PostgreSQL: fewer, larger statements (each one is a network round trip).
    let per_statement = if sqlite {
        (30_000 / width).min(100)
    } else {
        30_000 / width
    };
    let mut rows = rows.into_iter();
    let mut total = 0;
    loop {
        let chunk: Vec<Vec<V>> = rows.by_ref().take(per_statement).collect();
        if chunk.is_empty() {
            return Ok(total);
        }
        let mut sql = format!("{head} VALUES ");
        for r in 0..chunk.len() {
            sql.push_str(if r == 0 { "(" } else { ", (" });
            for c in 0..width {
                let separator = if c == 0 { "" } else { ", " };
                sql.push_str(&format!("{separator}${}", r * width + c + 1));
            }
            sql.push(')');
        }
        // The text is this program's own; values are bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in &chunk {
            for v in row {
                query = match v {
                    V::I(i) => query.bind(*i),
                    V::T(t) => query.bind(t.clone()),
                    V::N => query.bind(Option::<i64>::None),
                    V::NT => query.bind(Option::<String>::None),
                };
            }
        }
        query.execute(&mut *db).await?;
        total += chunk.len() as u64;
    }
}
