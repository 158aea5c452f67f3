use crate::{
    constants::*,
    events::BidWithdrawn,
    state::{Bid, Provider},
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;

/// Takes a bid back (at any time: also after the job went to someone else) and recovers its rent.
#[event_cpi]
#[derive(Accounts)]
pub struct WithdrawBid<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,

    #[account(
        has_one = authority,
        seeds = [SEED_PROVIDER, provider.market.as_ref(), authority.key().as_ref()],
        bump = provider.bump,
    )]
    pub provider: Account<'info, Provider>,

    #[account(
        mut,
        close = authority,
        has_one = provider,
        seeds = [SEED_BID, bid.job.as_ref(), provider.key().as_ref()],
        bump = bid.bump,
    )]
    pub bid: Account<'info, Bid>,
}

impl WithdrawBid<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let accounts = &ctx.accounts;
        let event = BidWithdrawn {
            market: accounts.provider.market,
            job: accounts.bid.job,
            bid: accounts.bid.key(),
            provider: accounts.provider.key(),
            timestamp: now()?,
        };
        emit_cpi!(event);
        Ok(())
    }
}
