//! Fresh, empty databases for the indexer's tests and benchmarks: a SQLite file and a PostgreSQL
//! database on the server CI provides (`scripts/postgres.sh`).

/// The PostgreSQL server the tests use (CI starts one; `.ci/run` fails if it cannot).
pub fn postgres_base() -> String {
    std::env::var("GPU_MARKET_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh, empty PostgreSQL database `gpu_market_<name>` on [`postgres_base`]'s server, dropped
/// first if it exists. Panics with the reason if the server does not answer.
pub async fn fresh_postgres(name: &str) -> String {
    sqlx::any::install_default_drivers();
    let base = postgres_base();
    let admin = sqlx::AnyPool::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {base} is required: {e}"));
    let database = format!("gpu_market_{name}");
    // The name is the caller's constant, not input.
    for statement in [
        format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
        format!("CREATE DATABASE {database}"),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&admin)
            .await
            .expect("a fresh database");
    }
    admin.close().await;
    let (server, _) = base.rsplit_once('/').expect("a database in the URL");
    format!("{server}/{database}")
}

/// A path for a fresh SQLite file named after `name` and this process, with any earlier file (and
/// its WAL and shared-memory files) removed.
pub fn fresh_sqlite(name: &str) -> String {
    let path = std::env::temp_dir().join(format!("gpu-market-{name}-{}.db", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    path.display().to_string()
}
