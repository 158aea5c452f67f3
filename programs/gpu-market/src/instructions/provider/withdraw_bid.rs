use crate::{
    constants::*,
    events::BidWithdrawn,
    state::Bid,
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;

/// Takes a bid back and recovers its rent, at any time: also after the job went to someone else,
/// was closed, or the provider account itself was closed. Only the wallet that paid the rent signs,
/// so the provider account is not needed.
#[event_cpi]
#[derive(Accounts)]
pub struct WithdrawBid<'info> {
    #[account(mut)]
    pub provider_authority: Signer<'info>,

    #[account(
        mut,
        close = provider_authority,
        has_one = provider_authority,
        seeds = [SEED_BID, bid.job.as_ref(), bid.provider.as_ref()],
        bump = bid.bump,
    )]
    pub bid: Box<Account<'info, Bid>>,
}

impl WithdrawBid<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let bid = &ctx.accounts.bid;
        let event = BidWithdrawn {
            market: bid.market,
            job: bid.job,
            bid: bid.key(),
            provider: bid.provider,
            timestamp: now()?,
        };
        emit_cpi!(event);
        Ok(())
    }
}
