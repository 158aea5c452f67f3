use crate::{
    constants::*,
    error::MarketError,
    events::UnstakeCancelled,
    math::SafeMath,
    state::{Market, Provider},
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct CancelUnstake<'info> {
    pub authority: Signer<'info>,

    #[account(
        seeds = [SEED_MARKET, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,

    #[account(
        mut,
        has_one = authority,
        has_one = market,
        seeds = [SEED_PROVIDER, market.key().as_ref(), authority.key().as_ref()],
        bump = provider.bump,
    )]
    pub provider: Box<Account<'info, Provider>>,
}

impl CancelUnstake<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let provider = &mut ctx.accounts.provider;
        let amount = provider.unbonding;
        require!(amount > 0, MarketError::NoPendingUnstake);
        provider.staked = provider.staked.safe_add(amount)?;
        provider.unbonding = 0;
        provider.unbonding_unlock_at = 0;

        provider.invariant()?;

        let event = UnstakeCancelled {
            market: provider.market,
            provider: provider.key(),
            amount,
            staked: provider.staked,
            timestamp: now()?,
        };
        emit_cpi!(event);
        Ok(())
    }
}
