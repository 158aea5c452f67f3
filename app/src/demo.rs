//! `gpu-market demo`: the whole network on one machine. localnet, two mints, a market, five providers
//! with different GPU profiles (three honest, one that fakes a share of its chunks, one that goes
//! offline mid-job), three verifiers, two clients posting matmul and render jobs, and the indexer on
//! SQLite with its API. Progress shows while it runs; the summary is read back from the chain and
//! from the indexer's API.

use crate::{
    hardware::Hardware,
    provider::{Agent, AgentConfig, AlertRules, Behaviour},
    verifier::{VerifierAgent, VerifierConfig},
    workload::{Matmul, Render, Spec},
};
use anchor_lang::{AnchorDeserialize, Discriminator};
use anchor_spl::{
    associated_token::{
        get_associated_token_address_with_program_id,
        spl_associated_token_account::instruction::create_associated_token_account_idempotent,
    },
    token_2022::spl_token_2022,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use gpu_market::{
    CreateJobArgs, GpuModel, HardwareSpec, JobRequirements, MarketParams, Region,
    RegisterProviderArgs, Workload,
    events::ProviderSlashed,
    pda::find_market_address,
    state::{JobState, Provider, ProviderStatus},
};
use gpu_market_client::{Cluster, ix, ix::MarketKeys};
use indexer::{
    Indexer,
    api::{self, ApiState},
    source::Source,
    store::Store,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use solana_client::nonblocking::rpc_client::RpcClient;
use solana_commitment_config::CommitmentConfig;
use solana_sdk::{
    instruction::Instruction,
    program_pack::Pack,
    pubkey::Pubkey,
    signature::{Keypair, Signature},
    signer::Signer,
};
use std::{
    io::Write,
    net::SocketAddr,
    path::PathBuf,
    str::FromStr,
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::task::JoinSet;

const PAYMENT_DECIMALS: u8 = 6;
const STAKE_DECIMALS: u8 = 9;
const ONE_PAYMENT: u64 = 1_000_000;
const ONE_STAKE: u64 = 1_000_000_000;
/// Stake tokens per GPU the demo market asks for.
const STAKE_PER_GPU: u64 = 100 * ONE_STAKE;
/// Verifier bonds each demo verifier stakes: more than the demo's jobs, so stake never stops a vote
/// (the agent frees a bond again when it closes the verdict after the job settles).
const DEMO_VERIFIER_BONDS: u64 = 64;
/// How long a demo job may run; the offline provider's job expires after this.
const JOB_MAX_SECS: u32 = 30;
/// A client withdraws a job nobody took within this long.
const CANCEL_OPEN_AFTER_SECS: i64 = 20;

#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub duration: Duration,
    pub linger: Duration,
    /// 0 picks free ports.
    pub rpc_port: u16,
    pub api_port: u16,
    /// Where the SQLite database, the CLI configuration, the market authority's and the clients'
    /// keypairs and the program's log go (a new temporary directory when `None`).
    pub data_dir: Option<PathBuf>,
    /// Show the progress bar (on stderr).
    pub progress: bool,
    /// Send the program's logs, which the natively loaded program prints on the process's stdout,
    /// to `program.log` in the data directory, so that stdout carries only the summary.
    pub divert_program_logs: bool,
}

#[derive(Serialize, Debug, Clone)]
pub struct Slashed {
    pub provider: String,
    pub profile: String,
    pub reason: String,
    /// Stake-mint base units.
    pub amount: u64,
}

#[derive(Serialize, Debug, Clone)]
pub struct Reputation {
    pub provider: String,
    pub profile: String,
    /// 0 to 100.
    pub score: f64,
    pub completed: i64,
    pub failed: i64,
}

/// The demo's outcome, read back from the chain and the indexer's API.
#[derive(Serialize, Debug, Clone)]
pub struct Summary {
    pub rpc_url: String,
    pub api_url: String,
    pub market: String,
    pub data_dir: String,
    /// A `gpu-market` configuration file for this localnet and market (`gpu-market -C <it> job list`).
    pub cli_config: String,
    pub duration_secs: u64,
    pub jobs_created: u64,
    pub jobs_completed: u64,
    pub jobs_failed: u64,
    /// Results failed by a verifier quorum.
    pub fraud_detected: u64,
    pub slashed: Vec<Slashed>,
    /// Payment-mint base units: provider shares, fees, refunds to clients.
    pub payouts_total: u64,
    pub fees_total: u64,
    pub refunds_total: u64,
    /// Best first.
    pub reputation: Vec<Reputation>,
}

struct Profile {
    name: &'static str,
    spec: HardwareSpec,
    price: u64,
    behaviour: Behaviour,
}

fn spec(gpu_model: GpuModel, gpu_count: u16, vram_gb: u16, region: Region) -> HardwareSpec {
    HardwareSpec {
        gpu_model,
        gpu_count,
        vram_gb,
        cpu_cores: 16,
        ram_gb: 64,
        bandwidth_up_mbps: 1_000,
        bandwidth_down_mbps: 1_000,
        region,
    }
}

fn profiles() -> Vec<Profile> {
    let honest = Behaviour::default();
    vec![
        Profile {
            name: "honest-h100",
            spec: spec(GpuModel::H100, 4, 80, Region::NorthAmerica),
            price: 2 * ONE_PAYMENT,
            behaviour: honest.clone(),
        },
        Profile {
            name: "honest-a100",
            spec: spec(GpuModel::A100, 2, 40, Region::Europe),
            price: 3 * ONE_PAYMENT / 2,
            behaviour: honest.clone(),
        },
        Profile {
            name: "honest-rtx4090",
            spec: spec(GpuModel::Rtx4090, 2, 24, Region::AsiaPacific),
            price: 4 * ONE_PAYMENT / 10,
            behaviour: honest,
        },
        Profile {
            name: "faker-rtx3090",
            spec: spec(GpuModel::Rtx3090, 2, 24, Region::Europe),
            price: 3 * ONE_PAYMENT / 10,
            behaviour: Behaviour {
                fake_per_mille: 200,
                offline_after_claims: None,
            },
        },
        Profile {
            name: "offline-l40s",
            spec: spec(GpuModel::L40S, 2, 48, Region::NorthAmerica),
            price: ONE_PAYMENT,
            behaviour: Behaviour {
                fake_per_mille: 0,
                offline_after_claims: Some(1),
            },
        },
    ]
}

/// The demo market: the recommended parameters, with windows short enough to watch.
fn demo_params() -> MarketParams {
    MarketParams {
        challenge_window_secs: 30,
        heartbeat_interval_secs: 10,
        ..MarketParams::recommended(STAKE_PER_GPU)
    }
}

struct Setup {
    cluster: Arc<Cluster>,
    authority: Keypair,
    keys: MarketKeys,
}

impl Setup {
    async fn send(&self, ixs: &[Instruction], signers: &[&Keypair]) -> anyhow::Result<()> {
        self.cluster
            .send(ixs, &self.authority, signers)
            .await
            .map(|_| ())
            .map_err(|e| anyhow::anyhow!("demo setup: {e}"))
    }

    async fn wallet(&self, sol: u64) -> anyhow::Result<Keypair> {
        let wallet = Keypair::new();
        let ix = solana_system_interface::instruction::transfer(
            &self.authority.pubkey(),
            &wallet.pubkey(),
            sol * 1_000_000_000,
        );
        self.send(&[ix], &[]).await?;
        Ok(wallet)
    }

    /// `owner`'s associated token account of `mint`, created, with `amount` minted to it.
    async fn token_account(
        &self,
        mint: &Pubkey,
        owner: &Pubkey,
        amount: u64,
    ) -> anyhow::Result<Pubkey> {
        let program = anchor_spl::token::ID;
        let ata = get_associated_token_address_with_program_id(owner, mint, &program);
        let mut ixs = vec![create_associated_token_account_idempotent(
            &self.authority.pubkey(),
            owner,
            mint,
            &program,
        )];
        if amount > 0 {
            ixs.push(spl_token_2022::instruction::mint_to(
                &program,
                mint,
                &ata,
                &self.authority.pubkey(),
                &[],
                amount,
            )?);
        }
        self.send(&ixs, &[]).await?;
        Ok(ata)
    }
}

async fn create_mint(
    cluster: &Cluster,
    authority: &Keypair,
    decimals: u8,
) -> anyhow::Result<Pubkey> {
    let mint = Keypair::new();
    let program = anchor_spl::token::ID;
    let len = spl_token_2022::state::Mint::LEN;
    let lamports = cluster
        .rpc
        .get_minimum_balance_for_rent_exemption(len)
        .await?;
    let ixs = [
        solana_system_interface::instruction::create_account(
            &authority.pubkey(),
            &mint.pubkey(),
            lamports,
            len as u64,
            &program,
        ),
        spl_token_2022::instruction::initialize_mint2(
            &program,
            &mint.pubkey(),
            &authority.pubkey(),
            None,
            decimals,
        )?,
    ];
    cluster
        .send(&ixs, authority, &[&mint])
        .await
        .map_err(|e| anyhow::anyhow!("creating a mint: {e}"))?;
    Ok(mint.pubkey())
}

/// Runs the demo and returns its summary; localnet and the API stay up `linger` after it.
pub async fn run(
    options: DemoOptions,
    on_summary: impl FnOnce(&Summary, &mut dyn Write),
) -> anyhow::Result<Summary> {
    let data_dir = match &options.data_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => tempfile::Builder::new()
            .prefix("gpu-market-demo-")
            .tempdir()?
            .keep(),
    };
    let mut stdout: Box<dyn Write + Send> = if options.divert_program_logs {
        Box::new(divert_stdout(&data_dir.join("program.log"))?)
    } else {
        Box::new(std::io::stdout())
    };
    let bar = if options.progress {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}").expect("template"),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar.set_message("starting localnet");

    let rpc_addr = SocketAddr::from(([127, 0, 0, 1], options.rpc_port));
    let localnet = localnet::Localnet::start(localnet::Config {
        rpc_addr,
        ws_addr: match options.rpc_port {
            0 => None,
            port => Some(SocketAddr::from((
                [127, 0, 0, 1],
                port.checked_add(1).ok_or_else(|| {
                    anyhow::anyhow!("--rpc-port {port} leaves no port for the websocket")
                })?,
            ))),
        },
        ..localnet::Config::default()
    })
    .await?;
    let rpc_url = localnet.rpc_url();
    let cluster = Arc::new(Cluster::new(rpc_url.clone(), CommitmentConfig::confirmed()));

    bar.set_message("creating mints, the market, wallets and stakes");
    let authority = Keypair::new();
    let signature = cluster
        .rpc
        .request_airdrop(&authority.pubkey(), 1_000 * 1_000_000_000)
        .await?;
    wait_for(&cluster, &signature).await?;
    let payment_mint = create_mint(&cluster, &authority, PAYMENT_DECIMALS).await?;
    let stake_mint = create_mint(&cluster, &authority, STAKE_DECIMALS).await?;
    let market_id = 0;
    let market = find_market_address(&authority.pubkey(), market_id).0;
    let program = anchor_spl::token::ID;
    let mut setup = Setup {
        cluster: cluster.clone(),
        keys: MarketKeys {
            market,
            authority: authority.pubkey(),
            market_id,
            payment_mint,
            stake_mint,
            payment_token_program: program,
            stake_token_program: program,
            treasury: Pubkey::default(),
            slash_destination: Pubkey::default(),
        },
        authority,
    };
    let authority_key = setup.authority.pubkey();
    localnet::write_keypair(&setup.authority, &data_dir.join("market-authority.json"))?;
    setup.keys.treasury = setup
        .token_account(&payment_mint, &authority_key, 0)
        .await?;
    setup.keys.slash_destination = setup.token_account(&stake_mint, &authority_key, 0).await?;
    let keys = setup.keys;
    setup
        .send(
            &[ix::initialize_market(
                &authority_key,
                market_id,
                &payment_mint,
                &stake_mint,
                &keys.treasury,
                &keys.slash_destination,
                demo_params(),
            )],
            &[],
        )
        .await?;

    // Indexer and API first, so they see the network from its first provider.
    let database = data_dir.join("indexer.sqlite");
    let store = Store::connect(&format!("sqlite://{}", database.display())).await?;
    let api_listener =
        tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], options.api_port)))
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "could not listen on port {} for the API: {e}",
                    options.api_port
                )
            })?;
    let api_url = format!("http://{}", api_listener.local_addr()?);
    let mut background = JoinSet::new();
    let api_state = ApiState {
        store: store.clone(),
        rpc: Some(Arc::new(RpcClient::new_with_commitment(
            rpc_url.clone(),
            CommitmentConfig::confirmed(),
        ))),
    };
    background.spawn(async move { api::serve(api_listener, api_state).await });
    let indexer = Arc::new(Indexer {
        source: Source::with_timeout(
            rpc_url.clone(),
            gpu_market::ID,
            CommitmentConfig::confirmed(),
            Duration::from_secs(30),
        )?,
        store: store.clone(),
        batch_size: 200,
    });
    {
        let indexer = indexer.clone();
        background.spawn(async move {
            loop {
                if let Err(error) = indexer.sync_once().await {
                    tracing::warn!("indexer: {error:#}");
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
    }

    // Providers: register, stake, and start their agents.
    let mut agents = JoinSet::new();
    let mut roster = vec![];
    for profile in profiles() {
        let wallet = Arc::new(setup.wallet(5).await?);
        let stake_source = setup
            .token_account(
                &stake_mint,
                &wallet.pubkey(),
                STAKE_PER_GPU * u64::from(profile.spec.gpu_count),
            )
            .await?;
        let payout_account = setup
            .token_account(&payment_mint, &wallet.pubkey(), 0)
            .await?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let listen = listener.local_addr()?;
        drop(listener);
        setup
            .send(
                &[
                    ix::register_provider(
                        &keys,
                        &wallet.pubkey(),
                        RegisterProviderArgs {
                            spec: profile.spec,
                            price_per_gpu_hour: profile.price,
                            endpoint: format!("http://{listen}"),
                        },
                    ),
                    ix::stake(
                        &keys,
                        &wallet.pubkey(),
                        &stake_source,
                        STAKE_PER_GPU * u64::from(profile.spec.gpu_count),
                    ),
                ],
                &[&wallet],
            )
            .await?;
        let agent = Agent::new(
            cluster.clone(),
            wallet.clone(),
            Hardware::simulated(&profile.spec),
            AgentConfig {
                market,
                listen,
                poll: Duration::from_millis(500),
                payouts: Some((payout_account, Duration::from_secs(20))),
                threads: 1,
                retain_results: Duration::from_secs(3600),
                rules: AlertRules::default(),
                webhook: None,
                behaviour: profile.behaviour.clone(),
            },
        )
        .await?;
        roster.push((agent.provider(), profile.name));
        agents.spawn(agent.run());
    }

    // Verifiers.
    for _ in 0..3 {
        let wallet = Arc::new(setup.wallet(5).await?);
        setup
            .send(&[ix::add_verifier(&keys, &wallet.pubkey())], &[])
            .await?;
        // Enough stake for every job of the demo at once: each vote locks the verifier bond.
        let stake = demo_params().verifier_bond * DEMO_VERIFIER_BONDS;
        let source = setup
            .token_account(&stake_mint, &wallet.pubkey(), stake)
            .await?;
        setup
            .send(
                &[ix::stake_verifier(&keys, &wallet.pubkey(), &source, stake)],
                &[&wallet],
            )
            .await?;
        let verifier = VerifierAgent::new(
            cluster.clone(),
            wallet,
            VerifierConfig {
                market,
                poll: Duration::from_millis(500),
                proof_timeout: Duration::from_secs(8),
                crank: true,
            },
        )
        .await?;
        agents.spawn(verifier.run());
    }

    // Clients.
    let mut clients = vec![];
    for i in 0..2 {
        let wallet = setup.wallet(5).await?;
        let source = setup
            .token_account(&payment_mint, &wallet.pubkey(), 10_000 * ONE_PAYMENT)
            .await?;
        // The clients' keypairs, for `gpu-market -k` (closing their jobs, say).
        localnet::write_keypair(&wallet, &data_dir.join(format!("client-{i}.json")))?;
        clients.push((wallet, source));
    }
    let providers: Vec<Pubkey> = roster.iter().map(|(p, _)| *p).collect();
    let clients = Arc::new(clients);
    let poster = tokio::spawn(post_jobs(cluster.clone(), keys, clients.clone(), providers));

    // Progress until the duration is over.
    let started = Instant::now();
    let progress = |stage: &str| {
        let cluster = cluster.clone();
        let bar = bar.clone();
        let stage = stage.to_owned();
        let (duration, api_url) = (options.duration, api_url.clone());
        async move {
            if let Ok(m) = cluster.market(&market).await {
                let c = m.counters;
                bar.set_message(format!(
                    "{stage} {:>3}/{} s · jobs {} created, {} completed, {} failed · {} stake slashed · API {api_url}",
                    started.elapsed().as_secs(),
                    duration.as_secs(),
                    c.jobs_created,
                    c.jobs_completed,
                    c.jobs_failed,
                    c.total_slashed / ONE_STAKE,
                ));
            }
        }
    };
    while started.elapsed() < options.duration {
        tokio::time::sleep(Duration::from_secs(1)).await;
        progress("running").await;
    }
    poster.abort();
    // Let what is in flight settle (the offline provider's job expires at its deadline), withdraw
    // what nobody took, so that the summary is a still picture. The longest path: a job taken just
    // now runs to its deadline, then waits out its challenge window before it is finalized; the
    // rest is room for the agents' polling on a loaded machine (a minute was not always enough
    // under a parallel build: a job still settling when the drain gave up settled while the indexer
    // caught up, and the summary's chain and indexer figures disagreed). The loop ends as soon as
    // every job is settled, so the room costs nothing when the machine keeps up.
    let longest_settlement =
        u64::from(JOB_MAX_SECS) + u64::from(demo_params().challenge_window_secs) + 240;
    let drain_until = Instant::now() + Duration::from_secs(longest_settlement);
    loop {
        cancel_open_jobs(&cluster, &keys, &clients, 0).await?;
        let busy = cluster
            .jobs(&market)
            .await?
            .iter()
            .filter(|(_, j)| !j.state.is_settled())
            .count();
        if busy == 0 || Instant::now() >= drain_until {
            break;
        }
        progress(&format!("settling {busy} job(s)")).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    bar.set_message("letting the indexer catch up");
    catch_up(&cluster, &indexer).await?;
    bar.finish_and_clear();

    let cli_config = data_dir.join("cli.toml");
    std::fs::write(
        &cli_config,
        format!("url = \"{rpc_url}\"\nmarket = \"{market}\"\ncommitment = \"confirmed\"\n"),
    )?;
    let mut summary = summarize(
        &cluster,
        &market,
        &api_url,
        &roster,
        &data_dir,
        options.duration,
    )
    .await?;
    summary.cli_config = cli_config.display().to_string();
    on_summary(&summary, &mut stdout);
    stdout.flush()?;
    // Providers keep serving their results (for `gpu-market job result`) while the demo lingers.
    if !options.linger.is_zero() {
        tokio::time::sleep(options.linger).await;
    }
    agents.shutdown().await;
    background.shutdown().await;
    drop(localnet);
    Ok(summary)
}

/// Points the process's stdout at `log` and returns a handle on the original stdout. Native programs
/// print their `msg!` lines with `println!` (solana-msg's fallback off-chain), which would otherwise
/// mix with the summary.
#[cfg(unix)]
fn divert_stdout(log: &std::path::Path) -> anyhow::Result<std::fs::File> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let file = std::fs::File::create(log)?;
    // Nothing else writes to stdout while it is locked.
    let mut stdout = std::io::stdout().lock();
    stdout.flush()?;
    // SAFETY: `dup` returns a new descriptor that only the `OwnedFd` owns (closed if `dup2`
    // fails); `dup2` replaces descriptor 1, which this process owns, with a copy of `file`'s.
    let original = unsafe {
        let fd = libc::dup(1);
        anyhow::ensure!(fd >= 0, "could not duplicate stdout");
        OwnedFd::from_raw_fd(fd)
    };
    anyhow::ensure!(
        unsafe { libc::dup2(file.as_raw_fd(), 1) } >= 0,
        "could not redirect stdout"
    );
    Ok(std::fs::File::from(original))
}

#[cfg(not(unix))]
fn divert_stdout(_: &std::path::Path) -> anyhow::Result<std::io::Stdout> {
    Ok(std::io::stdout())
}

async fn wait_for(cluster: &Cluster, signature: &Signature) -> anyhow::Result<()> {
    for _ in 0..300 {
        if cluster
            .rpc
            .get_signature_statuses(&[*signature])
            .await?
            .value[0]
            .is_some()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("{signature} was not confirmed within 30 s")
}

/// Two clients take turns posting a job every second and a half: matmul and render alternately, every
/// other one hired directly from an online provider (as a client picking from the marketplace
/// list would), the rest open to whoever claims first. Jobs nobody took are withdrawn.
async fn post_jobs(
    cluster: Arc<Cluster>,
    keys: MarketKeys,
    clients: Arc<Vec<(Keypair, Pubkey)>>,
    providers: Vec<Pubkey>,
) -> anyhow::Result<()> {
    let mut nonce = 0u64;
    let mut next_provider = 0usize;
    loop {
        for (wallet, source) in clients.iter() {
            nonce += 1;
            let spec = if nonce.is_multiple_of(2) {
                Spec::Matmul(Matmul::demo(nonce))
            } else {
                Spec::Render(Render::demo(nonce))
            };
            let clock = cluster.clock().await?;
            let mut named = None;
            if nonce % 2 == 1 {
                for _ in 0..providers.len() {
                    let candidate = providers[next_provider % providers.len()];
                    next_provider += 1;
                    let p: Option<Provider> = cluster.anchor_account(&candidate).await?;
                    if let Some(p) = p
                        && p.status == ProviderStatus::Active
                        && p.gpus_in_use < p.spec.gpu_count
                        && clock.unix_timestamp - p.last_heartbeat_at <= 20
                    {
                        named = Some(candidate);
                        break;
                    }
                }
            }
            let args = CreateJobArgs {
                nonce,
                requirements: JobRequirements {
                    gpu_count: 1,
                    min_vram_gb: 16,
                    allowed_gpu_models: 0,
                    min_bandwidth_down_mbps: 100,
                    min_bandwidth_up_mbps: 100,
                    region: None,
                },
                workload: Workload {
                    kind: spec.kind(),
                    spec_hash: spec.hash(),
                    spec_uri: spec.data_uri(),
                },
                max_price_per_gpu_hour: 3 * ONE_PAYMENT,
                max_duration_secs: JOB_MAX_SECS,
                named_provider: named,
            };
            if let Err(error) = cluster
                .send(
                    &[ix::create_job(&keys, &wallet.pubkey(), source, args)],
                    wallet,
                    &[],
                )
                .await
            {
                tracing::warn!("create_job: {error}");
            }
            cancel_open_jobs(&cluster, &keys, &clients, CANCEL_OPEN_AFTER_SECS).await?;
            tokio::time::sleep(Duration::from_millis(750)).await;
        }
    }
}

/// Withdraws the clients' jobs that have waited for a provider longer than `after_secs`.
async fn cancel_open_jobs(
    cluster: &Cluster,
    keys: &MarketKeys,
    clients: &[(Keypair, Pubkey)],
    after_secs: i64,
) -> anyhow::Result<()> {
    let now = cluster.clock().await?.unix_timestamp;
    for (job_key, job) in cluster.jobs(&keys.market).await? {
        let Some((wallet, _)) = clients.iter().find(|(w, _)| w.pubkey() == job.client) else {
            continue;
        };
        if job.state == JobState::Open
            && now - job.created_at >= after_secs
            && let Err(error) = cluster
                .send(&[ix::cancel_job(&wallet.pubkey(), &job_key)], wallet, &[])
                .await
        {
            tracing::debug!(job = %job_key, "cancel_job: {error}");
        }
    }
    Ok(())
}

/// Waits until the indexer has everything the program's address has seen: its checkpoint is the
/// newest transaction or past its slot. (The slot alone is not enough: the agents' heartbeats keep
/// landing, and the indexer may have listed the newest slot before its last transaction.)
async fn catch_up(cluster: &Cluster, indexer: &Indexer) -> anyhow::Result<()> {
    let Some(newest) = cluster
        .rpc
        .get_signatures_for_address(&gpu_market::ID)
        .await?
        .into_iter()
        .next()
    else {
        return Ok(());
    };
    let signature = Signature::from_str(&newest.signature)?;
    for _ in 0..120 {
        indexer.sync_once().await?;
        if indexer
            .store
            .checkpoint()
            .await?
            .is_some_and(|c| c.slot > newest.slot || c.signature == signature)
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    anyhow::bail!(
        "the indexer did not catch up with transaction {signature} (slot {}) within 30 s",
        newest.slot
    )
}

async fn get_json(url: &str) -> anyhow::Result<serde_json::Value> {
    let response = reqwest::get(url).await?;
    anyhow::ensure!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    Ok(response.json().await?)
}

async fn summarize(
    cluster: &Cluster,
    market: &Pubkey,
    api_url: &str,
    roster: &[(Pubkey, &'static str)],
    data_dir: &std::path::Path,
    duration: Duration,
) -> anyhow::Result<Summary> {
    let profile = |key: &str| {
        roster
            .iter()
            .find(|(p, _)| p.to_string() == key)
            .map_or("unknown", |(_, name)| name)
            .to_owned()
    };
    let m = cluster.market(market).await?;
    let providers = cluster.providers(market).await?;
    let payouts_total = providers.iter().map(|(_, p)| p.counters.total_earned).sum();

    let network = get_json(&format!("{api_url}/v1/network")).await?;
    let refunds_total = network["refunds"].as_u64().unwrap_or(0);

    let mut failed = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{api_url}/v1/jobs?state=failed&limit=500&cursor={c}"),
            None => format!("{api_url}/v1/jobs?state=failed&limit=500"),
        };
        let page = get_json(&url).await?;
        failed.extend(page["jobs"].as_array().cloned().unwrap_or_default());
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    let fraud_detected = failed
        .iter()
        .filter(|j| j["outcome"] == "verification_failed")
        .count() as u64;
    let mut slashed = vec![];
    // Oldest first (the API lists newest first).
    for job in failed.iter().rev() {
        let Some(key) = job["pubkey"].as_str() else {
            continue;
        };
        let detail = get_json(&format!("{api_url}/v1/jobs/{key}")).await?;
        for event in detail["events"].as_array().into_iter().flatten() {
            if event["kind"] != "ProviderSlashed" {
                continue;
            }
            let bytes = STANDARD.decode(event["data"].as_str().unwrap_or_default())?;
            let Some(body) = bytes.strip_prefix(ProviderSlashed::DISCRIMINATOR) else {
                continue;
            };
            let e = ProviderSlashed::deserialize(&mut &body[..])?;
            slashed.push(Slashed {
                provider: e.provider.to_string(),
                profile: profile(&e.provider.to_string()),
                reason: format!("{:?}", e.reason),
                amount: e.amount,
            });
        }
    }

    let ranked = get_json(&format!("{api_url}/v1/providers?sort=score&limit=500")).await?;
    let reputation = ranked["providers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let key = p["pubkey"].as_str().unwrap_or_default();
            Reputation {
                provider: key.to_owned(),
                profile: profile(key),
                score: p["score"].as_f64().unwrap_or(0.0),
                completed: p["jobs_completed"].as_i64().unwrap_or(0),
                failed: p["jobs_failed"].as_i64().unwrap_or(0),
            }
        })
        .collect();

    Ok(Summary {
        rpc_url: cluster.url(),
        api_url: api_url.to_owned(),
        market: market.to_string(),
        data_dir: data_dir.display().to_string(),
        cli_config: String::new(),
        duration_secs: duration.as_secs(),
        jobs_created: m.counters.jobs_created,
        jobs_completed: m.counters.jobs_completed,
        jobs_failed: m.counters.jobs_failed,
        fraud_detected,
        slashed,
        payouts_total,
        fees_total: m.counters.total_fees,
        refunds_total,
        reputation,
    })
}

/// The summary as a person reads it.
pub fn render_text(s: &Summary) -> String {
    let tokens = |v: u64| format!("{}.{:06}", v / ONE_PAYMENT, v % ONE_PAYMENT);
    let stake = |v: u64| format!("{}.{:09}", v / ONE_STAKE, v % ONE_STAKE);
    let mut out = String::new();
    use std::fmt::Write;
    let _ = writeln!(out, "gpu-market demo: {} s on localnet", s.duration_secs);
    let _ = writeln!(
        out,
        "jobs: {} created, {} completed, {} failed; {} result(s) caught faking",
        s.jobs_created, s.jobs_completed, s.jobs_failed, s.fraud_detected
    );
    let _ = writeln!(
        out,
        "money (payment token): {} paid to providers, {} in fees, {} refunded to clients",
        tokens(s.payouts_total),
        tokens(s.fees_total),
        tokens(s.refunds_total)
    );
    let _ = writeln!(out, "slashed:");
    for x in &s.slashed {
        let _ = writeln!(
            out,
            "  {:<15} {:<8} {} stake  ({})",
            x.profile,
            x.reason,
            stake(x.amount),
            x.provider
        );
    }
    let _ = writeln!(out, "reputation (indexer, best first):");
    let _ = writeln!(
        out,
        "  {:<15} {:>6} {:>9} {:>6}",
        "provider", "score", "completed", "failed"
    );
    for r in &s.reputation {
        let _ = writeln!(
            out,
            "  {:<15} {:>6.2} {:>9} {:>6}  {}",
            r.profile, r.score, r.completed, r.failed, r.provider
        );
    }
    let _ = writeln!(
        out,
        "localnet: {}   indexer API: {}/v1/providers",
        s.rpc_url, s.api_url
    );
    let _ = writeln!(out, "market: {}   data: {}", s.market, s.data_dir);
    let _ = writeln!(out, "try: gpu-market -C {} job list", s.cli_config);
    out
}
