use crate::{
    constants::*,
    error::MarketError,
    events::ProviderRegistered,
    math::SafeMath,
    state::{HardwareSpec, Market, Provider, ProviderCounters, ProviderStatus, validate_endpoint},
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RegisterProviderArgs {
    pub spec: HardwareSpec,
    /// Payment-mint units per GPU-hour.
    pub price_per_gpu_hour: u64,
    pub endpoint: String,
}

#[event_cpi]
#[derive(Accounts)]
pub struct RegisterProvider<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,

    #[account(
        mut,
        seeds = [SEED_MARKET, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,

    #[account(
        init,
        payer = authority,
        space = 8 + Provider::INIT_SPACE,
        seeds = [SEED_PROVIDER, market.key().as_ref(), authority.key().as_ref()],
        bump,
    )]
    pub provider: Box<Account<'info, Provider>>,

    #[account(address = market.stake_mint, mint::token_program = stake_token_program)]
    pub stake_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(address = market.payment_mint, mint::token_program = payment_token_program)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(
        init,
        payer = authority,
        seeds = [SEED_STAKE_VAULT, provider.key().as_ref()],
        bump,
        token::mint = stake_mint,
        token::authority = provider,
        token::token_program = stake_token_program,
    )]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(
        init,
        payer = authority,
        seeds = [SEED_PAYOUT_VAULT, provider.key().as_ref()],
        bump,
        token::mint = payment_mint,
        token::authority = provider,
        token::token_program = payment_token_program,
    )]
    pub payout_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    pub stake_token_program: Interface<'info, TokenInterface>,
    pub payment_token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl RegisterProvider<'_> {
    fn validate(&self, args: &RegisterProviderArgs) -> Result<()> {
        self.market.require_not_paused()?;
        args.spec.validate()?;
        require!(args.price_per_gpu_hour > 0, MarketError::InvalidPrice);
        validate_endpoint(&args.endpoint)
    }

    pub fn handler(ctx: Context<Self>, args: RegisterProviderArgs) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        ctx.accounts.validate(&args)?;
        let timestamp = now()?;

        let accounts = &mut *ctx.accounts;
        accounts.provider.set_inner(Provider {
            market: accounts.market.key(),
            authority: accounts.authority.key(),
            spec: args.spec,
            price_per_gpu_hour: args.price_per_gpu_hour,
            status: ProviderStatus::Active,
            staked: 0,
            unbonding: 0,
            unbonding_unlock_at: 0,
            gpus_in_use: 0,
            active_jobs: 0,
            open_disputes: 0,
            endpoint: args.endpoint.clone(),
            counters: ProviderCounters::default(),
            registered_at: timestamp,
            last_heartbeat_at: timestamp,
            bump: ctx.bumps.provider,
            stake_vault_bump: ctx.bumps.stake_vault,
            payout_vault_bump: ctx.bumps.payout_vault,
            locked_stake: 0,
            slash_pending: 0,
            slashable_until: 0,
            reserved: [0; 40],
        });
        let counters = &mut accounts.market.counters;
        counters.providers = counters.providers.safe_add(1)?;

        let event = ProviderRegistered {
            market: accounts.market.key(),
            provider: accounts.provider.key(),
            authority: accounts.authority.key(),
            spec: args.spec,
            price_per_gpu_hour: args.price_per_gpu_hour,
            endpoint: args.endpoint,
            timestamp,
        };
        emit_cpi!(event);
        Ok(())
    }
}
