//! Settings: flags, then environment variables, then a TOML file, then defaults.

use clap::Parser;
use serde::Deserialize;
use solana_commitment_config::CommitmentConfig;
use solana_sdk::pubkey::Pubkey;
use std::{net::SocketAddr, path::PathBuf, str::FromStr, time::Duration};

/// Indexes gpu-market's transactions and events from a Solana cluster into SQL (SQLite by default,
/// PostgreSQL when the database URL says so). Every setting can also come from the environment
/// (the name in brackets) or from the TOML file given with --config (same names, snake_case).
#[derive(Parser, Debug, Default)]
#[command(version)]
pub struct Args {
    /// TOML file with any of the settings below.
    #[arg(long, env = "GPU_MARKET_INDEXER_CONFIG")]
    pub config: Option<PathBuf>,
    /// JSON-RPC endpoint of the cluster [default: http://127.0.0.1:8899, localnet's].
    #[arg(long, env = "GPU_MARKET_RPC_URL")]
    pub rpc_url: Option<String>,
    /// Websocket endpoint, used only as a wake-up when the program has new transactions
    /// [default: the RPC URL's host on the next port].
    #[arg(long, env = "GPU_MARKET_WS_URL")]
    pub ws_url: Option<String>,
    /// The gpu-market program to index [default: the program's own id].
    #[arg(long, env = "GPU_MARKET_PROGRAM_ID")]
    pub program_id: Option<String>,
    /// Database: a SQLite file path or sqlite: URL (created and migrated on first start), or a
    /// postgres:// URL [default: gpu-market-indexer.db in the working directory].
    #[arg(long, env = "GPU_MARKET_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Commitment of everything indexed: confirmed or finalized (never processed) [default: finalized].
    #[arg(long, env = "GPU_MARKET_COMMITMENT")]
    pub commitment: Option<String>,
    /// Transactions per database transaction [default: 100].
    #[arg(long, env = "GPU_MARKET_BATCH_SIZE")]
    pub batch_size: Option<usize>,
    /// Seconds between polls when the websocket is quiet [default: 2].
    #[arg(long, env = "GPU_MARKET_POLL_SECS")]
    pub poll_secs: Option<u64>,
    /// Seconds before an RPC request is abandoned and retried [default: 30].
    #[arg(long, env = "GPU_MARKET_RPC_TIMEOUT_SECS")]
    pub rpc_timeout_secs: Option<u64>,
    /// Address the query API listens on (HTTP; /v1/..., /healthz, /metrics, /openapi.json)
    /// [default: 127.0.0.1:8080].
    #[arg(long, env = "GPU_MARKET_LISTEN")]
    pub listen: Option<String>,
    /// Index what is there, then exit instead of following the chain (no API is served).
    #[arg(long)]
    pub once: bool,
}

/// The file's form of the same settings.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    rpc_url: Option<String>,
    ws_url: Option<String>,
    program_id: Option<String>,
    database_url: Option<String>,
    commitment: Option<String>,
    batch_size: Option<usize>,
    poll_secs: Option<u64>,
    rpc_timeout_secs: Option<u64>,
    listen: Option<String>,
}

/// Resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub rpc_url: String,
    pub ws_url: String,
    pub program_id: Pubkey,
    pub database_url: String,
    pub commitment: CommitmentConfig,
    pub batch_size: usize,
    pub poll_interval: Duration,
    pub rpc_timeout: Duration,
    pub listen: SocketAddr,
    pub once: bool,
}

/// The Solana convention: the websocket is on the RPC port + 1.
pub fn default_ws_url(rpc_url: &str) -> String {
    let url = rpc_url
        .replacen("https", "wss", 1)
        .replacen("http", "ws", 1);
    match url.rsplit_once(':') {
        Some((head, port)) => match port.trim_end_matches('/').parse::<u16>() {
            Ok(port) if port < u16::MAX => format!("{head}:{}", port + 1),
            _ => url,
        },
        None => url,
    }
}

impl Settings {
    pub fn resolve(args: Args) -> anyhow::Result<Self> {
        let file: FileSettings = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("could not read {}: {e}", path.display()))?;
                toml::from_str(&text).map_err(|e| {
                    anyhow::anyhow!("{} is not a valid settings file: {e}", path.display())
                })?
            }
            None => FileSettings::default(),
        };
        let rpc_url = args
            .rpc_url
            .or(file.rpc_url)
            .unwrap_or_else(|| "http://127.0.0.1:8899".into());
        let ws_url = args
            .ws_url
            .or(file.ws_url)
            .unwrap_or_else(|| default_ws_url(&rpc_url));
        let program_id = match args.program_id.or(file.program_id) {
            Some(text) => Pubkey::from_str(&text).map_err(|_| {
                anyhow::anyhow!("--program-id {text:?} is not a base-58 public key")
            })?,
            None => gpu_market::ID,
        };
        let commitment = match args.commitment.or(file.commitment).as_deref() {
            None | Some("finalized") => CommitmentConfig::finalized(),
            Some("confirmed") => CommitmentConfig::confirmed(),
            Some(other) => anyhow::bail!(
                "--commitment {other:?}: the indexer reads confirmed or finalized data, never processed"
            ),
        };
        let batch_size = args.batch_size.or(file.batch_size).unwrap_or(100);
        anyhow::ensure!(
            (1..=1_000).contains(&batch_size),
            "--batch-size must be 1 to 1000"
        );
        let poll_secs = args.poll_secs.or(file.poll_secs).unwrap_or(2);
        anyhow::ensure!(
            (1..=3_600).contains(&poll_secs),
            "--poll-secs must be 1 to 3600"
        );
        let listen = args
            .listen
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen = SocketAddr::from_str(&listen).map_err(|_| {
            anyhow::anyhow!("--listen {listen:?} is not an address and port such as 127.0.0.1:8080")
        })?;
        let rpc_timeout_secs = args
            .rpc_timeout_secs
            .or(file.rpc_timeout_secs)
            .unwrap_or(30);
        anyhow::ensure!(
            (1..=600).contains(&rpc_timeout_secs),
            "--rpc-timeout-secs must be 1 to 600"
        );
        Ok(Self {
            rpc_timeout: Duration::from_secs(rpc_timeout_secs),
            listen,
            rpc_url,
            ws_url,
            program_id,
            database_url: args
                .database_url
                .or(file.database_url)
                .unwrap_or_else(|| "gpu-market-indexer.db".into()),
            commitment,
            batch_size,
            poll_interval: Duration::from_secs(poll_secs),
            once: args.once,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let dir = std::env::temp_dir().join(format!("indexer-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("indexer.toml");
        std::fs::write(
            &path,
            "rpc_url = \"http://10.0.0.1:9000\"\nbatch_size = 7\n",
        )
        .expect("write");
        let settings = Settings::resolve(Args {
            config: Some(path.clone()),
            batch_size: Some(9),
            ..Args::default()
        })
        .expect("resolves");
        assert_eq!(settings.rpc_url, "http://10.0.0.1:9000");
        assert_eq!(settings.ws_url, "ws://10.0.0.1:9001");
        assert_eq!(settings.batch_size, 9);
        assert_eq!(settings.program_id, gpu_market::ID);
        assert_eq!(settings.commitment, CommitmentConfig::finalized());

        std::fs::write(&path, "rpc_urll = \"typo\"\n").expect("write");
        let refused = Settings::resolve(Args {
            config: Some(path),
            ..Args::default()
        });
        assert!(
            refused
                .unwrap_err()
                .to_string()
                .contains("not a valid settings file")
        );
        let refused = Settings::resolve(Args {
            commitment: Some("processed".into()),
            ..Args::default()
        });
        assert!(refused.unwrap_err().to_string().contains("never processed"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
