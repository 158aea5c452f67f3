//! The command line's arguments: every command and flag, as clap parses them.

use super::amounts::parse_amount;
use clap::{Args, Parser, Subcommand, ValueEnum};
use gpu_market::MarketParams;
use serde::{Deserialize, Serialize};
use solana_sdk::pubkey::Pubkey;
use std::{net::SocketAddr, path::PathBuf};

#[derive(Parser, Debug)]
#[command(
    name = "gpu-market",
    version,
    about = "An open GPU-compute marketplace on Solana: rent out GPUs, post jobs, verify results"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Configuration file [default: ~/.config/gpu-market/cli.toml]
    #[arg(short = 'C', long, global = true, env = "GPU_MARKET_CONFIG")]
    pub config: Option<PathBuf>,
    /// URL for Solana's JSON RPC or moniker (localhost, devnet, testnet, mainnet-beta)
    #[arg(short = 'u', long, global = true)]
    pub url: Option<String>,
    /// Filepath of the signing keypair [default: ~/.config/solana/id.json]
    #[arg(short = 'k', long, global = true)]
    pub keypair: Option<PathBuf>,
    /// Commitment to read and confirm at
    #[arg(long, global = true, value_enum)]
    pub commitment: Option<Commitment>,
    /// The market's address
    #[arg(short = 'm', long, global = true)]
    pub market: Option<Pubkey>,
    /// Output format
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Display)]
    pub output: OutputFormat,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Commitment {
    Processed,
    Confirmed,
    Finalized,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Display,
    Json,
    JsonCompact,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Show or change the configuration file
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Create, change and inspect markets
    #[command(subcommand)]
    Market(MarketCommand),
    /// Offer a machine's GPUs: register, stake, run the agent, get paid
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// Post jobs, follow them, fetch their results
    #[command(subcommand)]
    Job(JobCommand),
    /// Check results by sampled re-execution
    #[command(subcommand)]
    Verifier(VerifierCommand),
    /// Run the market's chain on this machine (same as `gpu-market-localnet`)
    Localnet(localnet::cli::Args),
    /// The whole network on this machine: localnet, providers (one cheating, one going offline),
    /// verifiers, clients and the indexer with its API
    Demo(DemoArgs),
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print the effective settings
    Get,
    /// Save the given -u, -k, -m and --commitment in the configuration file
    Set,
}

#[derive(Subcommand, Debug)]
pub enum MarketCommand {
    /// Create a market signed by the keypair (its authority), with the recommended parameters
    Init {
        #[arg(long)]
        payment_mint: Pubkey,
        #[arg(long)]
        stake_mint: Pubkey,
        /// Token account of the payment mint that receives fees [default: the authority's ATA]
        #[arg(long)]
        treasury: Option<Pubkey>,
        /// Token account of the stake mint that receives slashed stake [default: the authority's ATA]
        #[arg(long)]
        slash_destination: Option<Pubkey>,
        #[arg(long, default_value_t = 0)]
        market_id: u64,
        /// Stake tokens required per GPU a job uses
        #[arg(long)]
        min_stake_per_gpu: String,
    },
    /// Change a market's parameters or destinations (signed by its authority); unnamed ones stay
    Update(UpdateMarketFlags),
    /// Show a market's parameters and counters
    Show,
}

#[derive(Args, Debug, Default)]
pub struct UpdateMarketFlags {
    #[arg(long)]
    pub fee_bps: Option<u16>,
    /// Stake tokens per GPU
    #[arg(long)]
    pub min_stake_per_gpu: Option<String>,
    #[arg(long)]
    pub unbonding_period_secs: Option<u32>,
    #[arg(long)]
    pub challenge_window_secs: Option<u32>,
    #[arg(long)]
    pub dispute_timeout_secs: Option<u32>,
    #[arg(long)]
    pub heartbeat_interval_secs: Option<u32>,
    #[arg(long)]
    pub verifier_quorum: Option<u8>,
    #[arg(long)]
    pub sample_count: Option<u16>,
    #[arg(long)]
    pub slash_no_show_bps: Option<u16>,
    #[arg(long)]
    pub slash_abandon_bps: Option<u16>,
    #[arg(long)]
    pub slash_fraud_bps: Option<u16>,
    /// Bond a client puts up to dispute, in basis points of the job's deposit
    #[arg(long)]
    pub dispute_bond_bps: Option<u16>,
    /// Token account of the payment mint for fees
    #[arg(long)]
    pub treasury: Option<Pubkey>,
    /// Token account of the stake mint for slashed stake
    #[arg(long)]
    pub slash_destination: Option<Pubkey>,
}

impl UpdateMarketFlags {
    /// `current` with the given flags applied.
    pub(super) fn apply(
        &self,
        current: MarketParams,
        stake_decimals: u8,
    ) -> anyhow::Result<MarketParams> {
        let mut p = current;
        macro_rules! set {
            ($($field:ident),*) => { $(if let Some(v) = self.$field { p.$field = v; })* };
        }
        set!(
            fee_bps,
            unbonding_period_secs,
            challenge_window_secs,
            dispute_timeout_secs,
            heartbeat_interval_secs,
            verifier_quorum,
            sample_count,
            slash_no_show_bps,
            slash_abandon_bps,
            slash_fraud_bps,
            dispute_bond_bps
        );
        if let Some(stake) = &self.min_stake_per_gpu {
            p.min_stake_per_gpu = parse_amount(stake, stake_decimals)?;
        }
        Ok(p)
    }
}

#[derive(Args, Debug, Clone)]
pub struct SpecArgs {
    /// GPU model (e.g. rtx4090, a100, h100; cpu for the CPU profile) [default: detected]
    #[arg(long)]
    pub gpu_model: Option<String>,
    /// GPUs offered [default: detected]
    #[arg(long)]
    pub gpu_count: Option<u16>,
    /// VRAM per GPU in GB [default: detected]
    #[arg(long)]
    pub vram_gb: Option<u16>,
    /// CPU cores [default: detected]
    #[arg(long)]
    pub cpu_cores: Option<u16>,
    /// RAM in GB [default: detected]
    #[arg(long)]
    pub ram_gb: Option<u32>,
    /// Upload bandwidth in Mbit/s (declared)
    #[arg(long, default_value_t = 100)]
    pub bandwidth_up_mbps: u32,
    /// Download bandwidth in Mbit/s (declared)
    #[arg(long, default_value_t = 100)]
    pub bandwidth_down_mbps: u32,
    /// north-america, south-america, europe, asia-pacific, middle-east or africa
    #[arg(long)]
    pub region: String,
}

#[derive(Subcommand, Debug)]
pub enum ProviderCommand {
    /// Register this machine as a provider (refuses a spec the machine does not have)
    Register {
        #[command(flatten)]
        spec: SpecArgs,
        /// Price per GPU-hour, in payment tokens (e.g. 0.45)
        #[arg(long)]
        price: String,
        /// The URL where `provider run` serves chunk proofs (e.g. http://203.0.113.7:7070)
        #[arg(long)]
        endpoint: String,
    },
    /// Change the price, the endpoint, or whether new jobs are taken
    Update {
        #[arg(long)]
        price: Option<String>,
        #[arg(long)]
        endpoint: Option<String>,
        #[arg(long)]
        accepting_jobs: Option<bool>,
    },
    /// Add stake (stake tokens, e.g. 250)
    Stake {
        amount: String,
        /// Token account to take it from [default: the keypair's ATA]
        #[arg(long)]
        source: Option<Pubkey>,
    },
    /// Start unbonding stake
    Unstake { amount: String },
    /// Withdraw unbonded stake once the unbonding period is over
    Withdraw {
        #[arg(long)]
        destination: Option<Pubkey>,
    },
    /// Send a heartbeat now
    Heartbeat,
    /// Move earnings from the payout vault to a token account
    ClaimPayout {
        /// [default: the keypair's ATA of the payment mint]
        #[arg(long)]
        destination: Option<Pubkey>,
    },
    /// Show a provider account [default: the keypair's]
    Show { provider: Option<Pubkey> },
    /// Run the provider agent
    Run(RunProviderArgs),
}

#[derive(Args, Debug)]
pub struct RunProviderArgs {
    /// Address the proof endpoint listens on (the registered endpoint URL must reach it)
    #[arg(long, default_value = "0.0.0.0:7070")]
    pub listen: SocketAddr,
    /// Claim payouts this often, in seconds (0: never)
    #[arg(long, default_value_t = 3600)]
    pub claim_payouts_every_secs: u64,
    /// Where payouts go [default: the keypair's ATA of the payment mint]
    #[arg(long)]
    pub payout_destination: Option<Pubkey>,
    /// Threads computing workloads [default: all cores]
    #[arg(long)]
    pub threads: Option<usize>,
    /// Keep serving a completed job's output this long after its submission, for its client
    #[arg(long, default_value_t = 86_400)]
    pub retain_results_secs: u64,
    /// POST alert changes to this URL as JSON
    #[arg(long)]
    pub webhook: Option<String>,
    #[arg(long, default_value_t = 85)]
    pub alert_gpu_temperature_c: i64,
    #[arg(long, default_value_t = 3)]
    pub alert_consecutive_failures: u32,
    /// [default: twice the market's heartbeat interval]
    #[arg(long)]
    pub alert_heartbeat_late_secs: Option<i64>,
    #[arg(long, default_value_t = 30)]
    pub alert_rpc_unreachable_secs: u64,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum WorkloadArg {
    Matmul,
    Render,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum StateArg {
    Open,
    Running,
    Submitted,
    Disputed,
    Completed,
    Failed,
    Cancelled,
}

#[derive(Subcommand, Debug)]
pub enum JobCommand {
    /// Post a job, escrowing its maximum cost
    Create {
        #[arg(long, value_enum, required_unless_present = "spec_file")]
        workload: Option<WorkloadArg>,
        /// The workload's seed (the job's content)
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// A spec document (JSON) instead of --workload's demo-sized spec
        #[arg(long, conflicts_with = "workload")]
        spec_file: Option<PathBuf>,
        #[arg(long, default_value_t = 1)]
        gpus: u16,
        #[arg(long, default_value_t = 0)]
        min_vram_gb: u16,
        /// Highest price per GPU-hour, in payment tokens
        #[arg(long)]
        max_price: String,
        #[arg(long, default_value_t = 3600)]
        max_duration_secs: u32,
        /// Only this provider account may take it
        #[arg(long)]
        provider: Option<Pubkey>,
        /// [default: a fresh one]
        #[arg(long)]
        nonce: Option<u64>,
        /// Token account paying the escrow [default: the keypair's ATA]
        #[arg(long)]
        source: Option<Pubkey>,
    },
    /// Withdraw an open job (full refund)
    Cancel { job: Pubkey },
    /// Show a job
    Show { job: Pubkey },
    /// List the market's jobs
    List {
        #[arg(long, value_enum)]
        state: Option<StateArg>,
        /// Only the keypair's jobs
        #[arg(long)]
        mine: bool,
    },
    /// Close a settled job: what its escrow holds and its rent return to the client
    Close {
        job: Pubkey,
        /// Token account for the escrow's balance [default: the keypair's ATA of the payment mint]
        #[arg(long)]
        destination: Option<Pubkey>,
    },
    /// Accept a submitted result now (pays the provider)
    Accept { job: Pubkey },
    /// Dispute a submitted result, putting up the market's dispute bond (verifiers or the authority
    /// decide; undecided after twice the dispute timeout, the result stands)
    Dispute {
        job: Pubkey,
        /// Token account paying the bond [default: the keypair's ATA]
        #[arg(long)]
        source: Option<Pubkey>,
    },
    /// Fetch every chunk from the provider, check it against the committed root, and write the
    /// output (render: a PNG; matmul: the little-endian i64 matrix)
    Result {
        job: Pubkey,
        #[arg(long, short)]
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum VerifierCommand {
    /// Add a verifier to the market (signed by the market authority); it votes once it has staked
    /// at least the market's verifier bond
    Register { verifier: Pubkey },
    /// Stop a verifier from voting (signed by the market authority); it closes once its verdicts
    /// are settled
    Remove { verifier: Pubkey },
    /// Add verifier stake (stake tokens, e.g. 250): each vote locks the job's verifier bond of it,
    /// lost if a verifier quorum decides the job the other way
    Stake {
        amount: String,
        /// Token account to take it from [default: the keypair's ATA]
        #[arg(long)]
        source: Option<Pubkey>,
    },
    /// Withdraw verifier stake that no open verdict locks (stake tokens, e.g. 100)
    Withdraw {
        amount: String,
        /// [default: the keypair's ATA of the stake mint]
        #[arg(long)]
        destination: Option<Pubkey>,
    },
    /// Leave a market that removed this verifier: its whole stake comes back
    Close {
        /// [default: the keypair's ATA of the stake mint]
        #[arg(long)]
        destination: Option<Pubkey>,
    },
    /// Run the verifier
    Run {
        /// Seconds a provider has to serve the sampled chunks
        #[arg(long, default_value_t = 60)]
        proof_timeout_secs: u64,
        /// Do not expire overdue jobs nor finalize closed challenge windows
        #[arg(long)]
        no_crank: bool,
    },
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Run this long, then print the summary
    #[arg(long, default_value_t = 60)]
    pub duration_secs: u64,
    /// Keep localnet and the API up this long after the summary
    #[arg(long, default_value_t = 0)]
    pub linger_secs: u64,
    /// localnet's JSON-RPC port (its websocket is the next one); 0 picks a free one
    #[arg(long, default_value_t = 8899)]
    pub rpc_port: u16,
    /// The indexer API's port; 0 picks a free one
    #[arg(long, default_value_t = 8080)]
    pub api_port: u16,
    /// Where the indexer's SQLite database goes [default: a new temporary directory]
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use gpu_market::MarketParams;

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
}
