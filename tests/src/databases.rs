//! Fresh, empty databases for the indexer's tests and benchmarks: a SQLite file, and a PostgreSQL
//! database on `DATABASE_URL`'s server or, when it is unset, on a throwaway cluster of this process's
//! own (`scripts/throwaway-postgres.sh`), so no test touches the machine's clusters or skips.

use std::{
    io::{BufRead, BufReader},
    net::TcpListener,
    process::{Child, Command, Stdio},
    sync::{Mutex, OnceLock},
};

/// The PostgreSQL server the tests create their databases on: `DATABASE_URL` (a URL whose user may
/// create and drop databases) when it is set, otherwise a throwaway cluster started on first use
/// and stopped when this process exits. Panics with the reason if neither is available.
pub fn postgres_base() -> String {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        return url;
    }
    static THROWAWAY: OnceLock<String> = OnceLock::new();
    THROWAWAY.get_or_init(start_throwaway_postgres).clone()
}

/// Starts `scripts/throwaway-postgres.sh` on a free port and returns the URL it prints once the
/// server answers. The script keeps the cluster up until its standard input closes, which happens
/// when this process exits however it exits: the child, and with it the pipe's write end, is kept
/// here for good (never waited on: it outlives every test of the process by design).
fn start_throwaway_postgres() -> String {
    static KEEP_ALIVE: Mutex<Option<Child>> = Mutex::new(None);
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scripts/throwaway-postgres.sh"
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free local port")
        .port();
    let mut child = Command::new("bash")
        .arg(script)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {script}: {e}"));
    let mut url = String::new();
    BufReader::new(child.stdout.take().expect("piped stdout"))
        .read_line(&mut url)
        .expect("reading the throwaway cluster's URL");
    assert!(
        url.starts_with("postgres://"),
        "no throwaway PostgreSQL cluster (its reason is above); install PostgreSQL's server \
         (Debian: apt-get install postgresql) or set DATABASE_URL"
    );
    *KEEP_ALIVE.lock().expect("not poisoned") = Some(child);
    url.trim().to_string()
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
