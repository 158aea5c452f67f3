//! Settings: flags, then the configuration file, then defaults; and reading the keypair.

use super::args::{Commitment, Global, OutputFormat};
use gpu_market_client::Cluster;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use solana_commitment_config::CommitmentConfig;
use solana_sdk::{pubkey::Pubkey, signature::Keypair};
use std::{
    path::{Path, PathBuf},
    str::FromStr,
    sync::Arc,
};

/// The configuration file.
#[derive(Serialize, Deserialize, Default, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub url: Option<String>,
    pub keypair: Option<PathBuf>,
    pub market: Option<String>,
    pub commitment: Option<Commitment>,
}

/// Settings after flags, then the configuration file, then defaults.
pub struct Settings {
    pub url: String,
    pub keypair_path: PathBuf,
    pub commitment: CommitmentConfig,
    pub market: Option<Pubkey>,
    pub output: OutputFormat,
    pub(super) config_path: PathBuf,
    pub(super) file: ConfigFile,
}

fn home() -> PathBuf {
    dirs::home_dir().unwrap_or_else(|| PathBuf::from("."))
}

/// A moniker's URL, or the URL itself.
pub fn resolve_url(url: &str) -> String {
    match url {
        "localhost" | "l" => "http://127.0.0.1:8899".into(),
        "devnet" | "d" => "https://api.devnet.solana.com".into(),
        "testnet" | "t" => "https://api.testnet.solana.com".into(),
        "mainnet-beta" | "m" => "https://api.mainnet-beta.solana.com".into(),
        other => other.into(),
    }
}

impl Settings {
    pub fn resolve(global: &Global) -> anyhow::Result<Self> {
        let config_path = global
            .config
            .clone()
            .unwrap_or_else(|| home().join(".config/gpu-market/cli.toml"));
        let file: ConfigFile = match std::fs::read_to_string(&config_path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                anyhow::anyhow!(
                    "the configuration file {} is not valid: {e}",
                    config_path.display()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => ConfigFile::default(),
            Err(e) => anyhow::bail!("could not read {}: {e}", config_path.display()),
        };
        let market = match global.market {
            Some(m) => Some(m),
            None => file
                .market
                .as_deref()
                .map(|m| {
                    Pubkey::from_str(m).map_err(|_| {
                        anyhow::anyhow!(
                            "the market {m:?} in {} is not an address",
                            config_path.display()
                        )
                    })
                })
                .transpose()?,
        };
        let commitment = match global.commitment.or(file.commitment) {
            Some(Commitment::Processed) => CommitmentConfig::processed(),
            Some(Commitment::Finalized) => CommitmentConfig::finalized(),
            Some(Commitment::Confirmed) | None => CommitmentConfig::confirmed(),
        };
        Ok(Self {
            url: resolve_url(
                global
                    .url
                    .as_deref()
                    .or(file.url.as_deref())
                    .unwrap_or("localhost"),
            ),
            keypair_path: global
                .keypair
                .clone()
                .or(file.keypair.clone())
                .unwrap_or_else(|| home().join(".config/solana/id.json")),
            commitment,
            market,
            output: global.output,
            config_path,
            file,
        })
    }

    pub fn cluster(&self) -> Arc<Cluster> {
        Arc::new(Cluster::new(self.url.clone(), self.commitment))
    }

    pub fn keypair(&self) -> anyhow::Result<Keypair> {
        read_keypair(&self.keypair_path)
    }

    pub fn market(&self) -> anyhow::Result<Pubkey> {
        self.market.ok_or_else(|| {
            anyhow::anyhow!(
                "no market given: pass -m <MARKET> or save one with `gpu-market config set -m <MARKET>`"
            )
        })
    }

    pub(super) fn print(&self, value: &Value, display: impl FnOnce() -> String) {
        match self.output {
            OutputFormat::Json => {
                println!("{}", serde_json::to_string_pretty(value).expect("JSON"))
            }
            OutputFormat::JsonCompact => println!("{value}"),
            OutputFormat::Display => println!("{}", display()),
        }
    }
}

/// A keypair in solana-keygen's JSON format.
pub fn read_keypair(path: &Path) -> anyhow::Result<Keypair> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!(
            "could not read the keypair {}: {e} (create one with `solana-keygen new` or pass -k)",
            path.display()
        )
    })?;
    let bytes: Vec<u8> = serde_json::from_str(&text).map_err(|_| {
        anyhow::anyhow!(
            "{} is not a keypair file (a JSON array of 64 bytes)",
            path.display()
        )
    })?;
    Keypair::try_from(bytes.as_slice())
        .map_err(|e| anyhow::anyhow!("{} is not a valid keypair: {e}", path.display()))
}

/// JSON as indented `key: value` lines for people.
pub(super) fn display_lines(value: &Value) -> String {
    fn walk(value: &Value, indent: usize, out: &mut String) {
        if let Value::Object(map) = value {
            for (key, v) in map {
                match v {
                    Value::Object(_) => {
                        out.push_str(&format!("{:indent$}{key}:\n", ""));
                        walk(v, indent + 2, out);
                    }
                    Value::Null => out.push_str(&format!("{:indent$}{key}: -\n", "")),
                    Value::String(s) => out.push_str(&format!("{:indent$}{key}: {s}\n", "")),
                    other => out.push_str(&format!("{:indent$}{key}: {other}\n", "")),
                }
            }
        }
    }
    let mut out = String::new();
    walk(value, 0, &mut out);
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_sdk::pubkey::Pubkey;

    #[test]
    fn monikers_resolve_to_their_urls() {
        assert_eq!(resolve_url("devnet"), "https://api.devnet.solana.com");
        assert_eq!(resolve_url("http://10.0.0.1:8899"), "http://10.0.0.1:8899");
    }

    #[test]
    fn settings_come_from_flags_then_the_file_then_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("cli.toml");
        std::fs::write(
            &path,
            "url = \"http://127.0.0.1:9999\"\nmarket = \"11111111111111111111111111111111\"\n",
        )
        .unwrap();
        let global = |url: Option<&str>| Global {
            config: Some(path.clone()),
            url: url.map(str::to_owned),
            keypair: None,
            commitment: None,
            market: None,
            output: OutputFormat::Display,
        };
        let from_file = Settings::resolve(&global(None)).expect("resolves");
        assert_eq!(from_file.url, "http://127.0.0.1:9999");
        assert_eq!(from_file.market, Some(Pubkey::default()));
        assert_eq!(
            Settings::resolve(&global(Some("devnet"))).unwrap().url,
            "https://api.devnet.solana.com"
        );
        std::fs::write(&path, "rpc = 1\n").unwrap();
        let error = Settings::resolve(&global(None))
            .err()
            .expect("refused")
            .to_string();
        assert!(error.contains("not valid"), "{error}");
    }
}
