//! The `gpu-market` command line, with the Solana CLI's habits: `-u/--url` takes a URL or a moniker,
//! `-k/--keypair` defaults to `~/.config/solana/id.json`, `--commitment`, `--output json`, and a
//! config file written by `gpu-market config set` (`~/.config/gpu-market/cli.toml`).

use crate::{
    demo::{self, DemoOptions},
    hardware::{ALL_GPU_MODELS, Hardware},
    proofs::EndpointClient,
    provider::{Agent, AgentConfig, AlertRules, Behaviour},
    verifier::{VerifierAgent, VerifierConfig},
    workload::{Matmul, Render, Spec, output_hash},
};
use anchor_spl::associated_token::get_associated_token_address_with_program_id;
use clap::{Args, Parser, Subcommand, ValueEnum};
use gpu_market::{
    CreateJobArgs, GpuModel, HardwareSpec, JobRequirements, MarketParams, Region,
    RegisterProviderArgs, UpdateProviderArgs, Workload,
    pda::{find_job_address, find_market_address, find_payout_vault_address},
    state::{Job, JobState, Market, Provider},
    verification::MerkleTree,
};
use gpu_market_client::{Cluster, ix, ix::MarketKeys};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use solana_commitment_config::CommitmentConfig;
use solana_sdk::{instruction::Instruction, pubkey::Pubkey, signature::Keypair, signer::Signer};
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    str::FromStr,
    sync::Arc,
    time::Duration,
};

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
    fn apply(&self, current: MarketParams, stake_decimals: u8) -> anyhow::Result<MarketParams> {
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
    config_path: PathBuf,
    file: ConfigFile,
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

    fn print(&self, value: &Value, display: impl FnOnce() -> String) {
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

/// `"1.5"` in a mint of `decimals` decimals, in base units.
pub fn parse_amount(text: &str, decimals: u8) -> anyhow::Result<u64> {
    let invalid = || anyhow::anyhow!("{text:?} is not an amount (write it like 12 or 0.45)");
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    if whole.is_empty() && fraction.is_empty() {
        return Err(invalid());
    }
    anyhow::ensure!(
        fraction.len() <= usize::from(decimals),
        "{text:?} has more than {decimals} decimals"
    );
    let digits = |s: &str| s.is_empty() || s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        return Err(invalid());
    }
    let scale = 10u64
        .checked_pow(u32::from(decimals))
        .ok_or_else(|| anyhow::anyhow!("a mint with {decimals} decimals is not supported"))?;
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| invalid())?
    };
    let fraction: u64 = if fraction.is_empty() {
        0
    } else {
        fraction.parse::<u64>().map_err(|_| invalid())?
            * 10u64.pow(u32::from(decimals) - fraction.len() as u32)
    };
    whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(|| anyhow::anyhow!("{text:?} is too large"))
}

/// Base units as a decimal amount.
pub fn format_amount(units: u64, decimals: u8) -> String {
    let Some(scale) = 10u64
        .checked_pow(u32::from(decimals))
        .filter(|_| decimals > 0)
    else {
        return units.to_string();
    };
    let fraction = format!("{:0width$}", units % scale, width = usize::from(decimals));
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        (units / scale).to_string()
    } else {
        format!("{}.{fraction}", units / scale)
    }
}

pub fn parse_gpu_model(text: &str) -> anyhow::Result<GpuModel> {
    let wanted = text.to_ascii_lowercase().replace(['-', '_', ' '], "");
    ALL_GPU_MODELS
        .iter()
        .copied()
        .find(|m| format!("{m:?}").to_ascii_lowercase() == wanted)
        .ok_or_else(|| {
            let names: Vec<String> = ALL_GPU_MODELS
                .iter()
                .map(|m| format!("{m:?}").to_lowercase())
                .collect();
            anyhow::anyhow!("unknown GPU model {text:?}; one of: {}", names.join(", "))
        })
}

pub fn parse_region(text: &str) -> anyhow::Result<Region> {
    Ok(
        match text
            .to_ascii_lowercase()
            .replace(['-', '_', ' '], "")
            .as_str()
        {
            "northamerica" => Region::NorthAmerica,
            "southamerica" => Region::SouthAmerica,
            "europe" => Region::Europe,
            "asiapacific" => Region::AsiaPacific,
            "middleeast" => Region::MiddleEast,
            "africa" => Region::Africa,
            _ => anyhow::bail!(
                "unknown region {text:?}; one of: north-america, south-america, europe, asia-pacific, middle-east, africa"
            ),
        },
    )
}

/// A mint's decimals (SPL Token and Token-2022 share the base layout).
async fn mint_decimals(cluster: &Cluster, mint: &Pubkey) -> anyhow::Result<u8> {
    let data = cluster.rpc.get_account_data(mint).await?;
    data.get(44)
        .copied()
        .ok_or_else(|| anyhow::anyhow!("{mint} is not a mint"))
}

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

fn config(command: ConfigCommand, global: &Global, settings: Settings) -> anyhow::Result<()> {
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

fn market_json(key: &Pubkey, m: &Market, payment_decimals: u8, stake_decimals: u8) -> Value {
    let p = &m.params;
    let c = &m.counters;
    json!({
        "market": key.to_string(),
        "authority": m.authority.to_string(),
        "market_id": m.market_id,
        "payment_mint": m.payment_mint.to_string(),
        "stake_mint": m.stake_mint.to_string(),
        "treasury": m.treasury.to_string(),
        "slash_destination": m.slash_destination.to_string(),
        "paused": m.paused,
        "params": {
            "fee_bps": p.fee_bps,
            "min_stake_per_gpu": format_amount(p.min_stake_per_gpu, stake_decimals),
            "unbonding_period_secs": p.unbonding_period_secs,
            "challenge_window_secs": p.challenge_window_secs,
            "dispute_timeout_secs": p.dispute_timeout_secs,
            "heartbeat_interval_secs": p.heartbeat_interval_secs,
            "verifier_quorum": p.verifier_quorum,
            "sample_count": p.sample_count,
            "slash_no_show_bps": p.slash_no_show_bps,
            "slash_abandon_bps": p.slash_abandon_bps,
            "slash_fraud_bps": p.slash_fraud_bps,
            "dispute_bond_bps": p.dispute_bond_bps,
        },
        "counters": {
            "providers": c.providers,
            "verifiers": c.verifiers,
            "jobs_created": c.jobs_created,
            "jobs_completed": c.jobs_completed,
            "jobs_failed": c.jobs_failed,
            "total_stake": format_amount(c.total_stake, stake_decimals),
            "total_volume": format_amount(c.total_volume, payment_decimals),
            "total_fees": format_amount(c.total_fees, payment_decimals),
            "total_slashed": format_amount(c.total_slashed, stake_decimals),
        },
    })
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

async fn market(ctx: &Ctx, command: MarketCommand) -> anyhow::Result<()> {
    match command {
        MarketCommand::Show => {
            let key = ctx.settings.market()?;
            let m = ctx.cluster.market(&key).await?;
            let value = market_json(
                &key,
                &m,
                mint_decimals(&ctx.cluster, &m.payment_mint).await?,
                mint_decimals(&ctx.cluster, &m.stake_mint).await?,
            );
            ctx.settings.print(&value, || display_lines(&value));
        }
        MarketCommand::Update(flags) => {
            let authority = ctx.settings.keypair()?;
            let keys = ctx.keys().await?;
            let current = ctx.cluster.market(&keys.market).await?;
            let payment_decimals = mint_decimals(&ctx.cluster, &current.payment_mint).await?;
            let stake_decimals = mint_decimals(&ctx.cluster, &current.stake_mint).await?;
            let params = flags.apply(current.params, stake_decimals)?;
            let ix = ix::update_market(
                &keys,
                &flags.treasury.unwrap_or(current.treasury),
                &flags.slash_destination.unwrap_or(current.slash_destination),
                params,
            );
            let signature = ctx.send("update_market", &[ix], &authority).await?;
            let after = ctx.cluster.market(&keys.market).await?;
            ctx.report(
                "update_market",
                &signature,
                json!({ "market": market_json(&keys.market, &after, payment_decimals, stake_decimals) }),
                format!("market {} updated", keys.market),
            );
        }
        MarketCommand::Init {
            payment_mint,
            stake_mint,
            treasury,
            slash_destination,
            market_id,
            min_stake_per_gpu,
        } => {
            let authority = ctx.settings.keypair()?;
            let cluster = &ctx.cluster;
            let owner = |mint: Pubkey| async move {
                cluster
                    .rpc
                    .get_account(&mint)
                    .await
                    .map(|a| a.owner)
                    .map_err(|_| {
                        anyhow::anyhow!("the mint {mint} does not exist on {}", cluster.url())
                    })
            };
            let payment_program = owner(payment_mint).await?;
            let stake_program = owner(stake_mint).await?;
            let min_stake = parse_amount(
                &min_stake_per_gpu,
                mint_decimals(cluster, &stake_mint).await?,
            )?;
            let treasury = treasury.unwrap_or_else(|| {
                get_associated_token_address_with_program_id(
                    &authority.pubkey(),
                    &payment_mint,
                    &payment_program,
                )
            });
            let slash_destination = slash_destination.unwrap_or_else(|| {
                get_associated_token_address_with_program_id(
                    &authority.pubkey(),
                    &stake_mint,
                    &stake_program,
                )
            });
            let ix = ix::initialize_market(
                &authority.pubkey(),
                market_id,
                &payment_mint,
                &stake_mint,
                &treasury,
                &slash_destination,
                MarketParams::recommended(min_stake),
            );
            let signature = ctx.send("initialize_market", &[ix], &authority).await?;
            let market = find_market_address(&authority.pubkey(), market_id).0;
            ctx.report(
                "initialize_market",
                &signature,
                json!({ "market": market.to_string() }),
                format!(
                    "market {market} created; save it with `gpu-market config set -m {market}`"
                ),
            );
        }
    }
    Ok(())
}

fn provider_json(key: &Pubkey, p: &Provider, payment_decimals: u8, stake_decimals: u8) -> Value {
    json!({
        "provider": key.to_string(),
        "authority": p.authority.to_string(),
        "market": p.market.to_string(),
        "status": format!("{:?}", p.status),
        "spec": {
            "gpu_model": format!("{:?}", p.spec.gpu_model),
            "gpu_count": p.spec.gpu_count,
            "vram_gb": p.spec.vram_gb,
            "cpu_cores": p.spec.cpu_cores,
            "ram_gb": p.spec.ram_gb,
            "bandwidth_up_mbps": p.spec.bandwidth_up_mbps,
            "bandwidth_down_mbps": p.spec.bandwidth_down_mbps,
            "region": format!("{:?}", p.spec.region),
        },
        "price_per_gpu_hour": format_amount(p.price_per_gpu_hour, payment_decimals),
        "endpoint": p.endpoint,
        "staked": format_amount(p.staked, stake_decimals),
        "unbonding": format_amount(p.unbonding, stake_decimals),
        "unbonding_unlock_at": p.unbonding_unlock_at,
        "gpus_in_use": p.gpus_in_use,
        "active_jobs": p.active_jobs,
        "jobs_completed": p.counters.jobs_completed,
        "jobs_failed": p.counters.jobs_failed,
        "times_slashed": p.counters.times_slashed,
        "total_slashed": format_amount(p.counters.total_slashed, stake_decimals),
        "total_earned": format_amount(p.counters.total_earned, payment_decimals),
        "total_claimed": format_amount(p.counters.total_claimed, payment_decimals),
        "last_heartbeat_at": p.last_heartbeat_at,
    })
}

async fn provider(ctx: &Ctx, command: ProviderCommand) -> anyhow::Result<()> {
    if let ProviderCommand::Show { provider } = &command {
        // A provider account names its market: `-m` is needed only to find the keypair's own.
        let key = match provider {
            Some(p) => *p,
            None => ctx
                .keys()
                .await?
                .provider(&ctx.settings.keypair()?.pubkey()),
        };
        let p: Provider = ctx.cluster.require(&key, "provider").await?;
        let market = ctx.cluster.market(&p.market).await?;
        let value = provider_json(
            &key,
            &p,
            mint_decimals(&ctx.cluster, &market.payment_mint).await?,
            mint_decimals(&ctx.cluster, &market.stake_mint).await?,
        );
        ctx.settings.print(&value, || display_lines(&value));
        return Ok(());
    }
    let keys = ctx.keys().await?;
    let signer = ctx.settings.keypair()?;
    let me = signer.pubkey();
    let provider_key = keys.provider(&me);
    let payment_decimals = mint_decimals(&ctx.cluster, &keys.payment_mint).await?;
    let stake_decimals = mint_decimals(&ctx.cluster, &keys.stake_mint).await?;
    let ata = |mint: &Pubkey, program: &Pubkey| {
        get_associated_token_address_with_program_id(&me, mint, program)
    };
    let (what, ix, detail) = match command {
        ProviderCommand::Register {
            spec,
            price,
            endpoint,
        } => {
            let hardware = Hardware::detect();
            let spec = hardware_spec(&spec, &hardware)?;
            hardware.check_advertised(&spec)?;
            let price = parse_amount(&price, payment_decimals)?;
            (
                "register_provider",
                ix::register_provider(
                    &keys,
                    &me,
                    RegisterProviderArgs {
                        spec,
                        price_per_gpu_hour: price,
                        endpoint: endpoint.clone(),
                    },
                ),
                format!(
                    "provider {provider_key} registered: {} × {:?} ({}), {} per GPU-hour, endpoint {endpoint}",
                    spec.gpu_count,
                    spec.gpu_model,
                    hardware.describe_source(),
                    format_amount(price, payment_decimals)
                ),
            )
        }
        ProviderCommand::Update {
            price,
            endpoint,
            accepting_jobs,
        } => {
            let price = price
                .map(|p| parse_amount(&p, payment_decimals))
                .transpose()?;
            (
                "update_provider",
                ix::update_provider(
                    &keys,
                    &me,
                    UpdateProviderArgs {
                        spec: None,
                        price_per_gpu_hour: price,
                        endpoint,
                        accepting_jobs,
                    },
                ),
                format!("provider {provider_key} updated"),
            )
        }
        ProviderCommand::Stake { amount, source } => {
            let units = parse_amount(&amount, stake_decimals)?;
            let source = source.unwrap_or_else(|| ata(&keys.stake_mint, &keys.stake_token_program));
            (
                "stake",
                ix::stake(&keys, &me, &source, units),
                format!(
                    "staked {} more on {provider_key}",
                    format_amount(units, stake_decimals)
                ),
            )
        }
        ProviderCommand::Unstake { amount } => {
            let units = parse_amount(&amount, stake_decimals)?;
            (
                "request_unstake",
                ix::request_unstake(&keys, &me, units),
                format!("{} now unbonding", format_amount(units, stake_decimals)),
            )
        }
        ProviderCommand::Withdraw { destination } => {
            let destination =
                destination.unwrap_or_else(|| ata(&keys.stake_mint, &keys.stake_token_program));
            (
                "withdraw_unstaked",
                ix::withdraw_unstaked(&keys, &me, &destination),
                format!("unbonded stake sent to {destination}"),
            )
        }
        ProviderCommand::Heartbeat => (
            "heartbeat",
            ix::heartbeat(&keys, &me),
            "heartbeat recorded".into(),
        ),
        ProviderCommand::ClaimPayout { destination } => {
            let destination =
                destination.unwrap_or_else(|| ata(&keys.payment_mint, &keys.payment_token_program));
            let pending = ctx
                .cluster
                .token_balance(&find_payout_vault_address(&provider_key).0)
                .await?;
            (
                "claim_payout",
                ix::claim_payout(&keys, &me, &destination),
                format!(
                    "{} paid out to {destination}",
                    format_amount(pending, payment_decimals)
                ),
            )
        }
        ProviderCommand::Run(args) => return run_provider(ctx, keys, signer, args).await,
        ProviderCommand::Show { .. } => unreachable!("handled above"),
    };
    let signature = ctx.send(what, &[ix], &signer).await?;
    let after: Option<Provider> = ctx.cluster.anchor_account(&provider_key).await?;
    let changed = after.map_or(Value::Null, |p| {
        provider_json(&provider_key, &p, payment_decimals, stake_decimals)
    });
    ctx.report(what, &signature, json!({ "provider": changed }), detail);
    Ok(())
}

fn hardware_spec(args: &SpecArgs, hardware: &Hardware) -> anyhow::Result<HardwareSpec> {
    Ok(HardwareSpec {
        gpu_model: match &args.gpu_model {
            Some(m) => parse_gpu_model(m)?,
            None => hardware.gpu_model,
        },
        gpu_count: args.gpu_count.unwrap_or(hardware.gpu_count),
        vram_gb: args.vram_gb.unwrap_or(hardware.vram_gb),
        cpu_cores: args.cpu_cores.unwrap_or(hardware.cpu_cores),
        ram_gb: args.ram_gb.unwrap_or(hardware.ram_gb),
        bandwidth_up_mbps: args.bandwidth_up_mbps,
        bandwidth_down_mbps: args.bandwidth_down_mbps,
        region: parse_region(&args.region)?,
    })
}

async fn run_provider(
    ctx: &Ctx,
    keys: MarketKeys,
    signer: Keypair,
    args: RunProviderArgs,
) -> anyhow::Result<()> {
    let me = signer.pubkey();
    let destination = args.payout_destination.unwrap_or_else(|| {
        get_associated_token_address_with_program_id(
            &me,
            &keys.payment_mint,
            &keys.payment_token_program,
        )
    });
    let agent = Agent::new(
        ctx.cluster.clone(),
        Arc::new(signer),
        Hardware::detect(),
        AgentConfig {
            market: keys.market,
            listen: args.listen,
            poll: Duration::from_secs(2),
            payouts: (args.claim_payouts_every_secs > 0).then(|| {
                (
                    destination,
                    Duration::from_secs(args.claim_payouts_every_secs),
                )
            }),
            threads: args
                .threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
            retain_results: Duration::from_secs(args.retain_results_secs),
            rules: AlertRules {
                max_gpu_temperature_c: args.alert_gpu_temperature_c,
                max_consecutive_job_failures: args.alert_consecutive_failures,
                heartbeat_late_secs: args.alert_heartbeat_late_secs,
                rpc_unreachable_secs: args.alert_rpc_unreachable_secs,
            },
            webhook: args.webhook,
            behaviour: Behaviour::default(),
        },
    )
    .await?;
    tokio::select! {
        result = agent.run() => result,
        result = tokio::signal::ctrl_c() => Ok(result?),
    }
}

fn job_json(key: &Pubkey, j: &Job, payment_decimals: u8) -> Value {
    json!({
        "job": key.to_string(),
        "client": j.client.to_string(),
        "nonce": j.nonce,
        "state": format!("{:?}", j.state),
        "workload": format!("{:?}", j.workload.kind),
        "spec_uri": j.workload.spec_uri,
        "gpus": j.requirements.gpu_count,
        "min_vram_gb": j.requirements.min_vram_gb,
        "named_provider": j.named_provider.map(|p| p.to_string()),
        "provider": (j.provider != Pubkey::default()).then(|| j.provider.to_string()),
        "max_price_per_gpu_hour": format_amount(j.max_price_per_gpu_hour, payment_decimals),
        "price_per_gpu_hour": format_amount(j.price_per_gpu_hour, payment_decimals),
        "max_duration_secs": j.max_duration_secs,
        "deposit": format_amount(j.deposit, payment_decimals),
        "created_at": j.created_at,
        "started_at": j.started_at,
        "deadline": j.deadline,
        "submitted_at": j.submitted_at,
        "submitted_slot": j.submitted_slot,
        "settled_at": j.settled_at,
        "merkle_root": hex::encode(j.result.merkle_root),
        "output_hash": hex::encode(j.result.output_hash),
        "chunk_count": j.result.chunk_count,
        "sample_seed": j.sample_seed.map(hex::encode),
        "metered_secs": j.result.metered_secs,
        "pass_votes": j.pass_votes,
        "fail_votes": j.fail_votes,
        "provider_share": format_amount(j.settlement.provider_share, payment_decimals),
        "fee": format_amount(j.settlement.fee, payment_decimals),
        "refund": format_amount(j.settlement.refund, payment_decimals),
        "terms": {
            "fee_bps": j.terms.fee_bps,
            "challenge_window_secs": j.terms.challenge_window_secs,
            "dispute_timeout_secs": j.terms.dispute_timeout_secs,
            "dispute_bond_bps": j.terms.dispute_bond_bps,
            "verifier_quorum": j.terms.verifier_quorum,
            "sample_count": j.terms.sample_count,
            "slash_no_show_bps": j.terms.slash_no_show_bps,
            "slash_abandon_bps": j.terms.slash_abandon_bps,
            "slash_fraud_bps": j.terms.slash_fraud_bps,
            "slash_destination": j.terms.slash_destination.to_string(),
        },
    })
}

fn state_of(arg: StateArg) -> JobState {
    match arg {
        StateArg::Open => JobState::Open,
        StateArg::Running => JobState::Running,
        StateArg::Submitted => JobState::Submitted,
        StateArg::Disputed => JobState::Disputed,
        StateArg::Completed => JobState::Completed,
        StateArg::Failed => JobState::Failed,
        StateArg::Cancelled => JobState::Cancelled,
    }
}

async fn job(ctx: &Ctx, command: JobCommand) -> anyhow::Result<()> {
    // A job account names its market: these need no `-m`.
    match command {
        JobCommand::Show { job } => {
            let j: Job = ctx.cluster.require(&job, "job").await?;
            let market = ctx.cluster.market(&j.market).await?;
            let value = job_json(
                &job,
                &j,
                mint_decimals(&ctx.cluster, &market.payment_mint).await?,
            );
            ctx.settings.print(&value, || display_lines(&value));
            return Ok(());
        }
        JobCommand::Result { job, out } => return job_result(ctx, &job, &out).await,
        JobCommand::Close { job, destination } => return close_job(ctx, job, destination).await,
        _ => {}
    }
    let keys = ctx.keys().await?;
    let payment_decimals = mint_decimals(&ctx.cluster, &keys.payment_mint).await?;
    match command {
        JobCommand::List { state, mine } => {
            let me = if mine {
                Some(ctx.settings.keypair()?.pubkey())
            } else {
                None
            };
            let mut jobs = ctx.cluster.jobs(&keys.market).await?;
            jobs.retain(|(_, j)| {
                state.is_none_or(|s| j.state == state_of(s)) && me.is_none_or(|me| j.client == me)
            });
            jobs.sort_by_key(|(_, j)| std::cmp::Reverse(j.created_at));
            let values: Vec<Value> = jobs
                .iter()
                .map(|(k, j)| job_json(k, j, payment_decimals))
                .collect();
            ctx.settings.print(&Value::Array(values), || {
                let mut out = format!(
                    "{:<44} {:<10} {:<7} {:>4} {:>12}\n",
                    "job", "state", "kind", "gpus", "deposit"
                );
                for (k, j) in &jobs {
                    out.push_str(&format!(
                        "{:<44} {:<10} {:<7} {:>4} {:>12}\n",
                        k.to_string(),
                        format!("{:?}", j.state),
                        format!("{:?}", j.workload.kind),
                        j.requirements.gpu_count,
                        format_amount(j.deposit, payment_decimals)
                    ));
                }
                out.push_str(&format!("{} job(s)", jobs.len()));
                out
            });
            Ok(())
        }
        command => {
            let signer = ctx.settings.keypair()?;
            let me = signer.pubkey();
            let (what, ix, key, detail) = match command {
                JobCommand::Create {
                    workload,
                    seed,
                    spec_file,
                    gpus,
                    min_vram_gb,
                    max_price,
                    max_duration_secs,
                    provider,
                    nonce,
                    source,
                } => {
                    let spec = match spec_file {
                        Some(path) => {
                            Spec::parse(&std::fs::read_to_string(&path).map_err(|e| {
                                anyhow::anyhow!("could not read {}: {e}", path.display())
                            })?)?
                        }
                        None => match workload {
                            Some(WorkloadArg::Matmul) | None => Spec::Matmul(Matmul::demo(seed)),
                            Some(WorkloadArg::Render) => Spec::Render(Render::demo(seed)),
                        },
                    };
                    let uri = spec.data_uri();
                    anyhow::ensure!(
                        uri.len() <= gpu_market::constants::MAX_SPEC_URI_LEN,
                        "the spec document is {} bytes inline, over the {} a job can carry",
                        uri.len(),
                        gpu_market::constants::MAX_SPEC_URI_LEN
                    );
                    let nonce = nonce.unwrap_or_else(|| {
                        std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |d| d.as_nanos() as u64)
                    });
                    let source = source.unwrap_or_else(|| {
                        get_associated_token_address_with_program_id(
                            &me,
                            &keys.payment_mint,
                            &keys.payment_token_program,
                        )
                    });
                    let args = CreateJobArgs {
                        nonce,
                        requirements: JobRequirements {
                            gpu_count: gpus,
                            min_vram_gb,
                            allowed_gpu_models: 0,
                            min_bandwidth_down_mbps: 0,
                            min_bandwidth_up_mbps: 0,
                            region: None,
                        },
                        workload: Workload {
                            kind: spec.kind(),
                            spec_hash: spec.hash(),
                            spec_uri: uri,
                        },
                        max_price_per_gpu_hour: parse_amount(&max_price, payment_decimals)?,
                        max_duration_secs,
                        named_provider: provider,
                    };
                    let key = find_job_address(&keys.market, &me, nonce).0;
                    (
                        "create_job",
                        ix::create_job(&keys, &me, &source, args),
                        key,
                        format!("job {key} posted ({} chunks)", spec.chunk_count()),
                    )
                }
                JobCommand::Cancel { job } => (
                    "cancel_job",
                    ix::cancel_job(&me, &job),
                    job,
                    format!("job {job} cancelled and refunded"),
                ),
                JobCommand::Accept { job } => {
                    let j: Job = ctx.cluster.require(&job, "job").await?;
                    (
                        "accept_result",
                        ix::accept_result(&keys, &me, &job, &j.provider),
                        job,
                        format!("result of {job} accepted"),
                    )
                }
                JobCommand::Dispute { job, source } => {
                    let j: Job = ctx.cluster.require(&job, "job").await?;
                    let bond =
                        gpu_market::settlement::dispute_bond(j.deposit, j.terms.dispute_bond_bps)?;
                    let source = source.unwrap_or_else(|| {
                        get_associated_token_address_with_program_id(
                            &me,
                            &keys.payment_mint,
                            &keys.payment_token_program,
                        )
                    });
                    (
                        "dispute_result",
                        ix::dispute_result(&keys, &me, &job, &j.provider, &source),
                        job,
                        format!(
                            "result of {job} disputed; bond of {} held in the job's escrow",
                            format_amount(bond, payment_decimals)
                        ),
                    )
                }
                JobCommand::Show { .. }
                | JobCommand::List { .. }
                | JobCommand::Result { .. }
                | JobCommand::Close { .. } => unreachable!("handled above"),
            };
            let signature = ctx.send(what, &[ix], &signer).await?;
            let after: Option<Job> = ctx.cluster.anchor_account(&key).await?;
            let changed = after.map_or(Value::Null, |j| job_json(&key, &j, payment_decimals));
            ctx.report(what, &signature, json!({ "job": changed }), detail);
            Ok(())
        }
    }
}

/// Closes a settled job: the escrow's balance to `destination`, the rent to the client.
async fn close_job(ctx: &Ctx, job: Pubkey, destination: Option<Pubkey>) -> anyhow::Result<()> {
    let signer = ctx.settings.keypair()?;
    let me = signer.pubkey();
    let j: Job = ctx.cluster.require(&job, "job").await?;
    let keys = ctx.cluster.market_keys(&j.market).await?;
    let decimals = mint_decimals(&ctx.cluster, &keys.payment_mint).await?;
    let destination = destination.unwrap_or_else(|| {
        get_associated_token_address_with_program_id(
            &me,
            &keys.payment_mint,
            &keys.payment_token_program,
        )
    });
    let held = ctx
        .cluster
        .token_balance(&gpu_market::pda::find_escrow_vault_address(&job).0)
        .await?;
    // Each verdict on the job is closed first (its bond settled by the job's outcome): the program
    // refuses to close a job with open verdicts.
    let mut instructions: Vec<_> = ctx
        .cluster
        .verdicts_on(&job)
        .await?
        .into_iter()
        .map(|(_, verdict)| {
            ix::close_verdict_to(
                &keys,
                &me,
                &verdict.authority,
                &job,
                &j.terms.slash_destination,
            )
        })
        .collect();
    // Three closes fit in one transaction beside close_job; more go ahead in their own.
    while instructions.len() > 3 {
        let rest = instructions.split_off(3);
        ctx.send("close_verdict", &instructions, &signer).await?;
        instructions = rest;
    }
    instructions.push(ix::close_job(&keys, &me, &job, &destination));
    let signature = ctx.send("close_job", &instructions, &signer).await?;
    ctx.report(
        "close_job",
        &signature,
        json!({ "job": job.to_string(), "returned": format_amount(held, decimals) }),
        format!(
            "job {job} closed: {} sent to {destination}, rent returned",
            format_amount(held, decimals)
        ),
    );
    Ok(())
}

/// Fetches every chunk from the provider, checks the Merkle root and the output hash, and writes
/// the output.
async fn job_result(ctx: &Ctx, key: &Pubkey, out: &Path) -> anyhow::Result<()> {
    let job: Job = ctx.cluster.require(key, "job").await?;
    anyhow::ensure!(
        matches!(
            job.state,
            JobState::Submitted | JobState::Disputed | JobState::Completed
        ),
        "job {key} has no result to fetch (it is {:?})",
        job.state
    );
    let provider: Provider = ctx.cluster.require(&job.provider, "provider").await?;
    let spec = Spec::of_job(&job)?;
    anyhow::ensure!(
        spec.chunk_count() == job.result.chunk_count,
        "the result commits to {} chunks but the job's spec has {}",
        job.result.chunk_count,
        spec.chunk_count()
    );
    let outputs = EndpointClient::default()
        .all(
            &provider.endpoint,
            key,
            job.result.chunk_count,
            spec.max_chunk_bytes(),
            spec.output_bytes(),
        )
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "the provider's endpoint {} did not serve job {key}: {e:#}",
                provider.endpoint
            )
        })?;
    anyhow::ensure!(
        outputs.len() as u32 == job.result.chunk_count,
        "the provider served {} chunks; the result commits to {}",
        outputs.len(),
        job.result.chunk_count
    );
    let leaves = outputs
        .iter()
        .enumerate()
        .map(|(i, o)| gpu_market::verification::chunk_leaf(i as u32, o))
        .collect();
    anyhow::ensure!(
        MerkleTree::new(leaves).root() == job.result.merkle_root,
        "the served chunks do not match the committed Merkle root"
    );
    anyhow::ensure!(
        output_hash(&outputs) == job.result.output_hash,
        "the served chunks do not match the committed output hash"
    );
    let bytes = match &spec {
        Spec::Render(r) => r.to_png(&outputs)?,
        Spec::Matmul(_) => outputs.concat(),
    };
    std::fs::write(out, &bytes)
        .map_err(|e| anyhow::anyhow!("could not write {}: {e}", out.display()))?;
    let value = json!({
        "job": key.to_string(),
        "file": out.display().to_string(),
        "bytes": bytes.len(),
        "chunks": outputs.len(),
        "merkle_root": hex::encode(job.result.merkle_root),
    });
    ctx.settings.print(&value, || {
        format!(
            "wrote {} ({} bytes, {} chunks checked against root {})",
            out.display(),
            bytes.len(),
            outputs.len(),
            hex::encode(job.result.merkle_root)
        )
    });
    Ok(())
}

async fn verifier(ctx: &Ctx, command: VerifierCommand) -> anyhow::Result<()> {
    let signer = ctx.settings.keypair()?;
    match command {
        VerifierCommand::Register { verifier } => {
            let keys = ctx.keys().await?;
            let signature = ctx
                .send(
                    "add_verifier",
                    &[ix::add_verifier(&keys, &verifier)],
                    &signer,
                )
                .await?;
            ctx.report(
                "add_verifier",
                &signature,
                json!({ "verifier": keys.verifier(&verifier).to_string() }),
                format!("{verifier} may now vote in market {}", keys.market),
            );
            Ok(())
        }
        VerifierCommand::Remove { verifier } => {
            let keys = ctx.keys().await?;
            let signature = ctx
                .send(
                    "remove_verifier",
                    &[ix::remove_verifier(&keys, &verifier)],
                    &signer,
                )
                .await?;
            ctx.report(
                "remove_verifier",
                &signature,
                json!({ "verifier": keys.verifier(&verifier).to_string() }),
                format!("{verifier} votes no more in market {}", keys.market),
            );
            Ok(())
        }
        VerifierCommand::Stake { .. }
        | VerifierCommand::Withdraw { .. }
        | VerifierCommand::Close { .. } => verifier_stake(ctx, command, &signer).await,
        VerifierCommand::Run {
            proof_timeout_secs,
            no_crank,
        } => {
            let agent = VerifierAgent::new(
                ctx.cluster.clone(),
                Arc::new(signer),
                VerifierConfig {
                    market: ctx.settings.market()?,
                    poll: Duration::from_secs(2),
                    proof_timeout: Duration::from_secs(proof_timeout_secs),
                    crank: !no_crank,
                },
            )
            .await?;
            tokio::select! {
                result = agent.run() => result,
                result = tokio::signal::ctrl_c() => Ok(result?),
            }
        }
    }
}

/// The verifier's own stake commands, signed by its keypair.
async fn verifier_stake(
    ctx: &Ctx,
    command: VerifierCommand,
    signer: &Keypair,
) -> anyhow::Result<()> {
    let keys = ctx.keys().await?;
    let me = signer.pubkey();
    let decimals = mint_decimals(&ctx.cluster, &keys.stake_mint).await?;
    let own_account = get_associated_token_address_with_program_id(
        &me,
        &keys.stake_mint,
        &keys.stake_token_program,
    );
    let (label, instruction, message) = match command {
        VerifierCommand::Stake { amount, source } => {
            let units = parse_amount(&amount, decimals)?;
            (
                "stake_verifier",
                ix::stake_verifier(&keys, &me, &source.unwrap_or(own_account), units),
                format!(
                    "staked {} more as a verifier",
                    format_amount(units, decimals)
                ),
            )
        }
        VerifierCommand::Withdraw {
            amount,
            destination,
        } => {
            let units = parse_amount(&amount, decimals)?;
            let destination = destination.unwrap_or(own_account);
            (
                "withdraw_verifier_stake",
                ix::withdraw_verifier_stake(&keys, &me, &destination, units),
                format!(
                    "{} of verifier stake sent to {destination}",
                    format_amount(units, decimals)
                ),
            )
        }
        VerifierCommand::Close { destination } => {
            let destination = destination.unwrap_or(own_account);
            (
                "close_verifier",
                ix::close_verifier(&keys, &me, &destination),
                format!("verifier closed; its stake sent to {destination}"),
            )
        }
        _ => unreachable!("only stake commands are routed here"),
    };
    let signature = ctx.send(label, &[instruction], signer).await?;
    ctx.report(
        label,
        &signature,
        json!({ "verifier": keys.verifier(&me).to_string() }),
        message,
    );
    Ok(())
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
