//! The `gpu-market` command line, with the Solana CLI's habits: `-u/--url` takes a URL or a moniker,
//! `-k/--keypair` defaults to `~/.config/solana/id.json`, `--commitment`, `--output json`, and a
//! config file written by `gpu-market config set` (`~/.config/gpu-market/cli.toml`).
//!
//! Layout: `args` (every command and flag, as clap parses them), `settings` (flags, then the file,
//! then defaults; the keypair; printing for people or as JSON), `amounts` (token amounts as people
//! write them), and one file per command group, each with a `run`: `config`, `market`,
//! `provider`, `job`, `verifier`. This file dispatches, and holds what the groups share.

mod amounts;
mod args;
mod config;
mod job;
mod market;
mod provider;
mod settings;
mod verifier;

pub use amounts::{format_amount, parse_amount};
pub use args::*;
pub use settings::*;

use crate::demo::{self, DemoOptions};
use gpu_market_client::{Cluster, ix::MarketKeys};
use serde_json::{Value, json};
use solana_sdk::{instruction::Instruction, signature::Keypair};
use std::{sync::Arc, time::Duration};

/// What the commands that talk to a cluster share: the resolved settings and a connection.
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
        Command::Config(command) => return config::run(command, &cli.global, settings),
        _ => {}
    }
    let ctx = Ctx {
        cluster: settings.cluster(),
        settings,
    };
    match cli.command {
        Command::Market(command) => market::run(&ctx, command).await,
        Command::Provider(command) => provider::run(&ctx, command).await,
        Command::Job(command) => job::run(&ctx, command).await,
        Command::Verifier(command) => verifier::run(&ctx, command).await,
        Command::Localnet(_) | Command::Demo(_) | Command::Config(_) => {
            unreachable!("handled above")
        }
    }
}

/// `gpu-market demo`: the demo is a program of its own (`crate::demo`); this only maps its flags
/// and prints its summary in the chosen format.
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
