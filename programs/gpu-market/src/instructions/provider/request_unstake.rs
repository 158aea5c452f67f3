use crate::{
    constants::*,
    error::MarketError,
    events::UnstakeRequested,
    math::SafeMath,
    state::{Market, Provider},
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;

/// Moves stake into unbonding. A second request adds to the pending amount and restarts the clock, so
/// every unbonding token has waited the full period.
#[event_cpi]
#[derive(Accounts)]
pub struct RequestUnstake<'info> {
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

impl RequestUnstake<'_> {
    fn validate(&self, amount: u64) -> Result<()> {
        require!(amount > 0, MarketError::ZeroAmount);
        let provider = &self.provider;
        require!(amount <= provider.staked, MarketError::InsufficientStake);
        // What backs unsettled jobs stays staked until they settle.
        let remaining = provider.staked.safe_sub(amount)?;
        require!(
            remaining >= provider.locked_stake,
            MarketError::StakeBelowMinimum
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, amount: u64) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        ctx.accounts.validate(amount)?;
        let timestamp = now()?;
        let unbonding_period = i64::from(ctx.accounts.market.params.unbonding_period_secs);

        let provider = &mut ctx.accounts.provider;
        provider.staked = provider.staked.safe_sub(amount)?;
        provider.unbonding = provider.unbonding.safe_add(amount)?;
        provider.unbonding_unlock_at = timestamp.safe_add(unbonding_period)?;

        provider.invariant()?;

        let event = UnstakeRequested {
            market: provider.market,
            provider: provider.key(),
            amount,
            staked: provider.staked,
            unbonding: provider.unbonding,
            unlock_at: provider.unbonding_unlock_at,
            timestamp,
        };
        emit_cpi!(event);
        Ok(())
    }
}
