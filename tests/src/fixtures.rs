//! Ready-made markets, providers and parameters, so scenario tests start from a story, not set-up.

use crate::{TestContext, ix, ix::MarketKeys};
use gpu_market::{
    GpuModel, HardwareSpec, MarketParams, Region, RegisterProviderArgs,
    pda::{find_market_address, find_payout_vault_address, find_stake_vault_address},
};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

/// 1 USDC-like payment token = 10^6 base units.
pub const PAYMENT_DECIMALS: u8 = 6;
pub const STAKE_DECIMALS: u8 = 9;
pub const ONE_STAKE: u64 = 1_000_000_000;

pub fn default_params() -> MarketParams {
    MarketParams {
        fee_bps: 250,
        min_stake_per_gpu: 100 * ONE_STAKE,
        unbonding_period_secs: 7 * 24 * 3600,
        challenge_window_secs: 3600,
        dispute_timeout_secs: 3 * 24 * 3600,
        heartbeat_interval_secs: 60,
        verifier_quorum: 2,
        sample_count: 48,
        slash_no_show_bps: 500,
        slash_abandon_bps: 200,
        slash_fraud_bps: 5_000,
    }
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
    pub async fn prepare(ctx: &mut TestContext, token_program: Pubkey) -> Self {
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
    pub async fn new(ctx: &mut TestContext) -> Self {
        Self::with_token_program(ctx, anchor_spl::token::ID).await
    }

    pub async fn with_token_program(ctx: &mut TestContext, token_program: Pubkey) -> Self {
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
    pub async fn wallet(ctx: &mut TestContext, m: &MarketKeys, stake_tokens: u64) -> Self {
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
    pub async fn registered(ctx: &mut TestContext, m: &MarketKeys, stake_tokens: u64) -> Self {
        let p = Self::wallet(ctx, m, stake_tokens).await;
        let ix = ix::register_provider(m, &p.authority.pubkey(), provider_args());
        ctx.ok(&[ix], &[&p.authority]).await;
        p
    }

    /// A registered provider that has staked `staked` whole tokens out of `stake_tokens`.
    pub async fn staked(
        ctx: &mut TestContext,
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
