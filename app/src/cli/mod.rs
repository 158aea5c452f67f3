//! The `gpu-market` command line, with the Solana CLI's habits: `-u/--url` takes a URL or a moniker,
//! `-k/--keypair` defaults to `~/.config/solana/id.json`, `--commitment`, `--output json`, and a
//! config file written by `gpu-market config set` (`~/.config/gpu-market/cli.toml`).

mod amounts;
mod args;
mod config;
mod job;
mod market;
mod provider;
mod settings;
mod verifier;

use self::{config::config, job::job, market::market, provider::provider, verifier::verifier};
use amounts::mint_decimals;
pub use amounts::{format_amount, parse_amount};
pub use args::*;
pub use settings::*;

use crate::demo::{self, DemoOptions};
use gpu_market_client::{Cluster, ix::MarketKeys};
use serde_json::{Value, json};
use solana_sdk::{instruction::Instruction, signature::Keypair};
use std::{sync::Arc, time::Duration};

/// A context with the cluster, the signer and the market's addresses.
struct Ctx {
    settings: Settings,
    cluster: Arc<Cluster>,
}

impl Ctx {
    async fn keys(&self) -> anyhow::Result<MarketKeys> {
        self.cluster.market_keys(&self.settings.market()?).await
    }

    /// Sends `instructions` signed by the keypair; prints the signature.
    async fn send(
        &self,
        what: &str,
        instructions: &[Instruction],
        signer: &Keypair,
    ) -> anyhow::Result<String> {
        let signature = self
            .cluster
            .send(instructions, signer, &[])
            .await
            .map_err(|e| anyhow::anyhow!("{what} failed: {e}"))?;
        Ok(signature.to_string())
    }

    fn report(&self, what: &str, signature: &str, changed: Value, display: String) {
        let mut value = json!({ "action": what, "signature": signature });
        if let (Some(map), Value::Object(more)) = (value.as_object_mut(), changed) {
            map.extend(more);
        }
        self.settings.print(&value, || {
            format!("{what}: {display}\nsignature: {signature}")
        });
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::resolve(&cli.global)?;
    match cli.command {
        Command::Localnet(args) => return localnet::cli::run(args).await,
        Command::Demo(args) => return run_demo(args, settings.output).await,
        Command::Config(command) => return config(command, &cli.global, settings),
        _ => {}
    }
    let ctx = Ctx {
        cluster: settings.cluster(),
        settings,
    };
    match cli.command {
        Command::Market(command) => market(&ctx, command).await,
        Command::Provider(command) => provider(&ctx, command).await,
        Command::Job(command) => job(&ctx, command).await,
        Command::Verifier(command) => verifier(&ctx, command).await,
        Command::Localnet(_) | Command::Demo(_) | Command::Config(_) => {
            unreachable!("handled above")
        }
    }
}

/// JSON as indented `key: value` lines for people.
fn display_lines(value: &Value) -> String {
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

async fn run_demo(args: DemoArgs, output: OutputFormat) -> anyhow::Result<()> {
    let options = DemoOptions {
        duration: Duration::from_secs(args.duration_secs),
        linger: Duration::from_secs(args.linger_secs),
        rpc_port: args.rpc_port,
        api_port: args.api_port,
        data_dir: args.data_dir,
        progress: true,
        divert_program_logs: true,
    };
    let linger = args.linger_secs;
    demo::run(options, |summary, out| {
        let text = match output {
            OutputFormat::Json => serde_json::to_string_pretty(summary).expect("JSON") + "\n",
            OutputFormat::JsonCompact => serde_json::to_string(summary).expect("JSON") + "\n",
            OutputFormat::Display => demo::render_text(summary),
        };
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
        if linger > 0 {
            eprintln!(
                "localnet ({}) and the API ({}) stay up for {linger} s; Ctrl-C stops them",
                summary.rpc_url, summary.api_url
            );
        }
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use gpu_market::{GpuModel, MarketParams, Region};
    use solana_sdk::pubkey::Pubkey;

    #[test]
    fn amounts_parse_and_format_exactly() {
        assert_eq!(parse_amount("1.5", 6).unwrap(), 1_500_000);
        assert_eq!(parse_amount("0.000001", 6).unwrap(), 1);
        assert_eq!(parse_amount("250", 9).unwrap(), 250_000_000_000);
        assert_eq!(parse_amount(".5", 2).unwrap(), 50);
        for bad in ["", ".", "1.2.3", "-1", "1e6", "abc", "0.0000001"] {
            assert!(parse_amount(bad, 6).is_err(), "{bad:?}");
        }
        assert!(parse_amount("99999999999999999999", 6).is_err());
        assert_eq!(format_amount(1_500_000, 6), "1.5");
        assert_eq!(format_amount(2_000_000, 6), "2");
        assert_eq!(format_amount(1, 6), "0.000001");
    }

    #[test]
    fn market_update_changes_only_the_named_parameters() {
        let current = MarketParams::recommended(100_000_000_000);
        let flags = UpdateMarketFlags {
            challenge_window_secs: Some(600),
            min_stake_per_gpu: Some("250.5".into()),
            ..UpdateMarketFlags::default()
        };
        let updated = flags.apply(current, 9).expect("applies");
        assert_eq!(updated.challenge_window_secs, 600);
        assert_eq!(updated.min_stake_per_gpu, 250_500_000_000);
        assert_eq!(updated.fee_bps, current.fee_bps);
        assert_eq!(updated.sample_count, current.sample_count);
        let bad = UpdateMarketFlags {
            min_stake_per_gpu: Some("lots".into()),
            ..UpdateMarketFlags::default()
        };
        assert!(bad.apply(current, 9).is_err());
        let cli = Cli::try_parse_from(["gpu-market", "market", "update", "--fee-bps", "300"])
            .expect("parses");
        assert!(matches!(
            cli.command,
            Command::Market(MarketCommand::Update(UpdateMarketFlags {
                fee_bps: Some(300),
                ..
            }))
        ));
    }

    #[test]
    fn monikers_models_and_regions() {
        assert_eq!(resolve_url("devnet"), "https://api.devnet.solana.com");
        assert_eq!(resolve_url("http://10.0.0.1:8899"), "http://10.0.0.1:8899");
        assert_eq!(parse_gpu_model("rtx4090").unwrap(), GpuModel::Rtx4090);
        assert_eq!(parse_gpu_model("RTX-A6000").unwrap(), GpuModel::RtxA6000);
        assert_eq!(parse_gpu_model("cpu").unwrap(), GpuModel::Cpu);
        assert!(
            parse_gpu_model("voodoo2")
                .unwrap_err()
                .to_string()
                .contains("h100")
        );
        assert_eq!(parse_region("asia-pacific").unwrap(), Region::AsiaPacific);
        assert!(parse_region("mars").is_err());
    }

    #[test]
    fn the_command_line_parses_like_the_solana_cli() {
        let cli = Cli::try_parse_from([
            "gpu-market",
            "-u",
            "devnet",
            "-k",
            "/tmp/id.json",
            "--output",
            "json",
            "job",
            "list",
            "--state",
            "open",
        ])
        .expect("parses");
        assert_eq!(cli.global.output, OutputFormat::Json);
        assert!(matches!(
            cli.command,
            Command::Job(JobCommand::List {
                state: Some(StateArg::Open),
                ..
            })
        ));
        let demo = Cli::try_parse_from([
            "gpu-market",
            "demo",
            "--duration-secs",
            "60",
            "--rpc-port",
            "0",
        ])
        .expect("parses");
        assert!(matches!(
            demo.command,
            Command::Demo(DemoArgs {
                duration_secs: 60,
                rpc_port: 0,
                ..
            })
        ));
        assert!(Cli::try_parse_from(["gpu-market", "job", "create"]).is_err());
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
