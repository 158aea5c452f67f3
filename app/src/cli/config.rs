//! `gpu-market config`: show and change the configuration file.

use super::{
    args::{ConfigCommand, Global},
    settings::{Settings, resolve_url},
};
use serde_json::json;

pub(super) fn run(
    command: ConfigCommand,
    global: &Global,
    settings: Settings,
) -> anyhow::Result<()> {
    let path = settings.config_path.clone();
    match command {
        ConfigCommand::Get => {
            let value = json!({
                "config_file": path.display().to_string(),
                "url": settings.url,
                "keypair": settings.keypair_path.display().to_string(),
                "market": settings.market.map(|m| m.to_string()),
                "commitment": format!("{:?}", settings.commitment.commitment).to_lowercase(),
            });
            settings.print(&value, || {
                format!(
                    "Config File: {}\nRPC URL: {}\nKeypair Path: {}\nMarket: {}\nCommitment: {:?}",
                    path.display(),
                    settings.url,
                    settings.keypair_path.display(),
                    settings.market.map_or("(none)".into(), |m| m.to_string()),
                    settings.commitment.commitment
                )
            });
        }
        ConfigCommand::Set => {
            let mut file = settings.file.clone();
            if let Some(url) = &global.url {
                file.url = Some(resolve_url(url));
            }
            if let Some(keypair) = &global.keypair {
                file.keypair = Some(keypair.clone());
            }
            if let Some(market) = global.market {
                file.market = Some(market.to_string());
            }
            if let Some(commitment) = global.commitment {
                file.commitment = Some(commitment);
            }
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&path, toml::to_string(&file)?)
                .map_err(|e| anyhow::anyhow!("could not write {}: {e}", path.display()))?;
            let value = json!({ "config_file": path.display().to_string(), "saved": file });
            settings.print(&value, || format!("saved {}", path.display()));
        }
    }
    Ok(())
}
