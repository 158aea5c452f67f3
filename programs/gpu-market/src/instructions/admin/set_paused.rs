//! `pause_market` and `unpause_market`. A pause stops new risk from entering (registrations, stakes,
//! new jobs and claims) and never stops anyone from leaving: unstaking, withdrawals, cancellations,
//! settlement and payouts keep working.

use crate::{
    constants::*,
    error::MarketError,
    events::MarketPauseChanged,
    state::Market,
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct SetPaused<'info> {
    pub authority: Signer<'info>,

    #[account(
        mut,
        has_one = authority,
        seeds = [SEED_MARKET, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,
}

impl SetPaused<'_> {
    pub fn handler(ctx: Context<Self>, paused: bool) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let market = &mut ctx.accounts.market;
        if paused {
            require!(!market.paused, MarketError::MarketAlreadyPaused);
        } else {
            require!(market.paused, MarketError::MarketNotPaused);
        }
        market.paused = paused;

        let event = MarketPauseChanged {
            market: market.key(),
            authority: ctx.accounts.authority.key(),
            paused,
            timestamp: now()?,
        };
        emit_cpi!(event);
        Ok(())
    }
}
