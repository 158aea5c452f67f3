use crate::{
    constants::*,
    error::MarketError,
    events::ProviderReinstated,
    state::{Market, Provider, ProviderStatus},
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;

/// The market authority lets a provider jailed for fraud take jobs again.
#[event_cpi]
#[derive(Accounts)]
pub struct ReinstateProvider<'info> {
    pub authority: Signer<'info>,

    #[account(
        has_one = authority,
        seeds = [SEED_MARKET, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,

    #[account(
        mut,
        has_one = market,
        seeds = [SEED_PROVIDER, market.key().as_ref(), provider.authority.as_ref()],
        bump = provider.bump,
    )]
    pub provider: Box<Account<'info, Provider>>,
}

impl ReinstateProvider<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let timestamp = now()?;
        let provider = &mut ctx.accounts.provider;
        require!(
            provider.status == ProviderStatus::Jailed,
            MarketError::ProviderNotJailed
        );
        provider.status = ProviderStatus::Active;
        provider.invariant()?;

        let event = ProviderReinstated {
            market: provider.market,
            provider: provider.key(),
            authority: ctx.accounts.authority.key(),
            timestamp,
        };
        emit_cpi!(event);
        Ok(())
    }
}
