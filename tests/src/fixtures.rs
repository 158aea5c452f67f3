//! Ready-made markets, providers and parameters, so scenario tests start from a story, not set-up.

use crate::{Chain, ix, ix::MarketKeys};
use gpu_market::{
    CreateJobArgs, GpuModel, HardwareSpec, JobRequirements, MarketParams, Region,
    RegisterProviderArgs, ResultCommitment, Workload, WorkloadKind,
    constants::SAMPLE_SEED_DELAY_SLOTS,
    pda::{
        find_escrow_vault_address, find_job_address, find_market_address,
        find_payout_vault_address, find_stake_vault_address,
    },
    state::Job,
};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

/// 1 USDC-like payment token = 10^6 base units.
pub const PAYMENT_DECIMALS: u8 = 6;
pub const STAKE_DECIMALS: u8 = 9;
pub const ONE_STAKE: u64 = 1_000_000_000;

/// Records a submitted job's sample seed as the provider's agent does (a job settles as paid only
/// with its seed recorded), first moving the chain on until the seed slot has a hash. The fee
/// payer cranks it. Unix time does not move.
pub async fn record_seed(ctx: &mut impl Chain, m: &MarketKeys, job: &Pubkey) {
    let submitted_slot = ctx.anchor_account::<Job>(job).await.submitted_slot;
    let ready_at = submitted_slot + SAMPLE_SEED_DELAY_SLOTS + 1;
    let now = ctx.clock().await.slot;
    if now < ready_at {
        ctx.advance_slots(ready_at - now).await;
    }
    let record = ix::record_sample_seed(m, &ctx.payer(), job);
    ctx.ok(&[record], &[]).await;
}

/// The recommended parameters with 100 stake tokens per GPU.
pub fn default_params() -> MarketParams {
    MarketParams::recommended(100 * ONE_STAKE)
}

pub fn rtx4090_spec() -> HardwareSpec {
    HardwareSpec {
        gpu_model: GpuModel::Rtx4090,
        gpu_count: 2,
        vram_gb: 24,
        cpu_cores: 16,
        ram_gb: 64,
        bandwidth_up_mbps: 500,
        bandwidth_down_mbps: 1_000,
        region: Region::Europe,
    }
}

pub fn provider_args() -> RegisterProviderArgs {
    RegisterProviderArgs {
        spec: rtx4090_spec(),
        // 0.40 payment tokens per GPU-hour.
        price_per_gpu_hour: 400_000,
        endpoint: "https://gpu-host.example.org:7070".into(),
    }
}

/// A market on classic SPL Token mints, with its authority's keypair.
pub struct MarketFixture {
    pub keys: MarketKeys,
    pub authority: Keypair,
}

impl MarketFixture {
    /// Mints and destination accounts, without creating the market yet.
    pub async fn prepare(ctx: &mut impl Chain, token_program: Pubkey) -> Self {
        let authority = ctx.funded_wallet(10).await;
        let payment_mint = ctx.create_mint(&token_program, PAYMENT_DECIMALS).await;
        let stake_mint = ctx.create_mint(&token_program, STAKE_DECIMALS).await;
        let treasury = ctx
            .create_token_account(&token_program, &payment_mint, &authority.pubkey())
            .await;
        let slash_destination = ctx
            .create_token_account(&token_program, &stake_mint, &authority.pubkey())
            .await;
        let market_id = 1;
        let keys = MarketKeys {
            market: find_market_address(&authority.pubkey(), market_id).0,
            authority: authority.pubkey(),
            market_id,
            payment_mint,
            stake_mint,
            payment_token_program: token_program,
            stake_token_program: token_program,
            treasury,
            slash_destination,
        };
        Self { keys, authority }
    }

    pub fn initialize_ix(&self, params: MarketParams) -> solana_sdk::instruction::Instruction {
        let k = &self.keys;
        ix::initialize_market(
            &k.authority,
            k.market_id,
            &k.payment_mint,
            &k.stake_mint,
            &k.treasury,
            &k.slash_destination,
            params,
        )
    }

    /// A live market with [`default_params`] on classic SPL Token.
    pub async fn new(ctx: &mut impl Chain) -> Self {
        Self::with_token_program(ctx, anchor_spl::token::ID).await
    }

    pub async fn with_token_program(ctx: &mut impl Chain, token_program: Pubkey) -> Self {
        let fixture = Self::prepare(ctx, token_program).await;
        let ix = fixture.initialize_ix(default_params());
        ctx.ok(&[ix], &[&fixture.authority]).await;
        fixture
    }
}

/// A GPU host's wallet with funded stake and payment token accounts.
pub struct ProviderFixture {
    pub authority: Keypair,
    pub provider: Pubkey,
    pub stake_vault: Pubkey,
    pub payout_vault: Pubkey,
    /// The wallet's own stake-mint account.
    pub stake_account: Pubkey,
    /// The wallet's own payment-mint account.
    pub payment_account: Pubkey,
}

impl ProviderFixture {
    /// A wallet holding `stake_tokens` whole stake tokens, not yet registered.
    pub async fn wallet(ctx: &mut impl Chain, m: &MarketKeys, stake_tokens: u64) -> Self {
        let authority = ctx.funded_wallet(5).await;
        let stake_account = ctx
            .create_token_account(&m.stake_token_program, &m.stake_mint, &authority.pubkey())
            .await;
        ctx.mint_to(
            &m.stake_token_program,
            &m.stake_mint,
            &stake_account,
            stake_tokens * ONE_STAKE,
        )
        .await;
        let payment_account = ctx
            .create_token_account(
                &m.payment_token_program,
                &m.payment_mint,
                &authority.pubkey(),
            )
            .await;
        let provider = m.provider(&authority.pubkey());
        Self {
            provider,
            stake_vault: find_stake_vault_address(&provider).0,
            payout_vault: find_payout_vault_address(&provider).0,
            authority,
            stake_account,
            payment_account,
        }
    }

    /// A registered provider with the default RTX 4090 spec and nothing staked.
    pub async fn registered(ctx: &mut impl Chain, m: &MarketKeys, stake_tokens: u64) -> Self {
        let p = Self::wallet(ctx, m, stake_tokens).await;
        let ix = ix::register_provider(m, &p.authority.pubkey(), provider_args());
        ctx.ok(&[ix], &[&p.authority]).await;
        p
    }

    /// A registered provider that has staked `staked` whole tokens out of `stake_tokens`.
    pub async fn staked(
        ctx: &mut impl Chain,
        m: &MarketKeys,
        stake_tokens: u64,
        staked: u64,
    ) -> Self {
        let p = Self::registered(ctx, m, stake_tokens).await;
        let ix = ix::stake(
            m,
            &p.authority.pubkey(),
            &p.stake_account,
            staked * ONE_STAKE,
        );
        ctx.ok(&[ix], &[&p.authority]).await;
        p
    }

    pub fn key(&self) -> Pubkey {
        self.authority.pubkey()
    }
}

/// A verifier wallet the market authority added, with its own stake-mint account.
pub struct VerifierFixture {
    pub authority: Keypair,
    pub verifier: Pubkey,
    pub stake_vault: Pubkey,
    /// The wallet's own stake-mint account.
    pub stake_account: Pubkey,
}

/// Whole stake tokens a verifier fixture stakes by default: three votes' bonds under
/// [`default_params`].
pub const VERIFIER_STAKE: u64 = 300;

impl VerifierFixture {
    /// Added by `market_authority`, holding `stake_tokens` whole tokens of which it staked `staked`
    /// (a stake of 0 sends no `stake_verifier`).
    pub async fn added(
        ctx: &mut impl Chain,
        m: &MarketKeys,
        market_authority: &Keypair,
        stake_tokens: u64,
        staked: u64,
    ) -> Self {
        let authority = ctx.funded_wallet(1).await;
        let stake_account = ctx
            .create_token_account(&m.stake_token_program, &m.stake_mint, &authority.pubkey())
            .await;
        if stake_tokens > 0 {
            ctx.mint_to(
                &m.stake_token_program,
                &m.stake_mint,
                &stake_account,
                stake_tokens * ONE_STAKE,
            )
            .await;
        }
        let key = authority.pubkey();
        let mut ixs = vec![ix::add_verifier(m, &key)];
        if staked > 0 {
            ixs.push(ix::stake_verifier(
                m,
                &key,
                &stake_account,
                staked * ONE_STAKE,
            ));
        }
        if staked > 0 {
            ctx.ok(&ixs, &[market_authority, &authority]).await;
        } else {
            ctx.ok(&ixs, &[market_authority]).await;
        }
        Self {
            verifier: m.verifier(&key),
            stake_vault: m.verifier_stake_vault(&key),
            authority,
            stake_account,
        }
    }

    /// Added and staked with [`VERIFIER_STAKE`] tokens: ready to vote.
    pub async fn staked(ctx: &mut impl Chain, m: &MarketKeys, market_authority: &Keypair) -> Self {
        Self::added(ctx, m, market_authority, VERIFIER_STAKE, VERIFIER_STAKE).await
    }

    pub fn key(&self) -> Pubkey {
        self.authority.pubkey()
    }
}

/// One payment token, in base units.
pub const ONE_USDC: u64 = 1_000_000;
/// A bid expiry that never comes, for tests about something other than expiry.
pub const NO_BID_EXPIRY: i64 = i64::MAX;

/// A job that any [`rtx4090_spec`] provider matches: 2 GPUs, up to 1.00 per GPU-hour, one hour.
pub fn job_args(nonce: u64) -> CreateJobArgs {
    CreateJobArgs {
        nonce,
        requirements: JobRequirements {
            gpu_count: 2,
            min_vram_gb: 16,
            allowed_gpu_models: GpuModel::Rtx4090.mask_bit() | GpuModel::A100.mask_bit(),
            min_bandwidth_down_mbps: 500,
            min_bandwidth_up_mbps: 100,
            region: Some(Region::Europe),
        },
        workload: Workload {
            kind: WorkloadKind::Matmul,
            spec_hash: [7; 32],
            spec_uri: "https://specs.example.org/matmul-512.json".into(),
        },
        max_price_per_gpu_hour: ONE_USDC,
        max_duration_secs: 3_600,
        named_provider: None,
    }
}

pub fn result_of(metered_secs: u32) -> ResultCommitment {
    ResultCommitment {
        merkle_root: [1; 32],
        chunk_count: 64,
        output_hash: [2; 32],
        metered_secs,
    }
}

/// A client's wallet with a funded payment-token account.
pub struct ClientFixture {
    pub authority: Keypair,
    pub payment_account: Pubkey,
}

impl ClientFixture {
    pub async fn new(ctx: &mut impl Chain, m: &MarketKeys, usdc: u64) -> Self {
        let authority = ctx.funded_wallet(5).await;
        let payment_account = ctx
            .create_token_account(
                &m.payment_token_program,
                &m.payment_mint,
                &authority.pubkey(),
            )
            .await;
        ctx.mint_to(
            &m.payment_token_program,
            &m.payment_mint,
            &payment_account,
            usdc * ONE_USDC,
        )
        .await;
        Self {
            authority,
            payment_account,
        }
    }

    pub fn key(&self) -> Pubkey {
        self.authority.pubkey()
    }

    pub fn job(&self, m: &MarketKeys, nonce: u64) -> JobKeys {
        let job = find_job_address(&m.market, &self.key(), nonce).0;
        JobKeys {
            job,
            escrow_vault: find_escrow_vault_address(&job).0,
        }
    }

    /// Posts `args` and returns the job's addresses.
    pub async fn post(&self, ctx: &mut impl Chain, m: &MarketKeys, args: CreateJobArgs) -> JobKeys {
        let keys = self.job(m, args.nonce);
        let ix = ix::create_job(m, &self.key(), &self.payment_account, args);
        ctx.ok(&[ix], &[&self.authority]).await;
        keys
    }
}

#[derive(Clone, Copy, Debug)]
pub struct JobKeys {
    pub job: Pubkey,
    pub escrow_vault: Pubkey,
}
