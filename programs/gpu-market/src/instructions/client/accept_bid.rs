use crate::{
    constants::*,
    error::MarketError,
    events::JobStarted,
    state::{Bid, Job, Market, Provider},
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;

/// The client picks a bid: the job starts with that provider at the bid's price, and the bid's rent
/// goes back to the provider's wallet. The client names the price it saw, so a bid withdrawn and
/// placed again at another price while the transaction was in flight is refused, not taken.
#[event_cpi]
#[derive(Accounts)]
pub struct AcceptBid<'info> {
    pub client: Signer<'info>,

    #[account(
        seeds = [SEED_MARKET, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,

    #[account(
        mut,
        has_one = client,
        has_one = market,
        seeds = [SEED_JOB, job.market.as_ref(), job.client.as_ref(), &job.nonce.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,

    #[account(
        mut,
        close = provider_authority,
        constraint = bid.job == job.key() @ MarketError::BidJobMismatch,
        seeds = [SEED_BID, job.key().as_ref(), bid.provider.as_ref()],
        bump = bid.bump,
    )]
    pub bid: Box<Account<'info, Bid>>,

    #[account(
        mut,
        address = bid.provider @ MarketError::WrongProvider,
        has_one = market,
    )]
    pub provider: Box<Account<'info, Provider>>,

    /// CHECK: only receives the bid's rent; pinned to the wallet that paid it.
    #[account(mut, address = bid.provider_authority @ MarketError::WrongProvider)]
    pub provider_authority: UncheckedAccount<'info>,
}

impl AcceptBid<'_> {
    pub fn handler(ctx: Context<Self>, expected_price_per_gpu_hour: u64) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        ctx.accounts.market.require_not_paused()?;
        let timestamp = now()?;
        let accounts = &mut *ctx.accounts;
        let bid = &accounts.bid;
        require!(
            bid.job_serial == accounts.job.serial,
            MarketError::BidForEarlierJob
        );
        require!(timestamp < bid.expires_at, MarketError::BidExpired);
        let price = bid.price_per_gpu_hour;
        require!(
            price == expected_price_per_gpu_hour,
            MarketError::BidPriceChanged
        );
        let provider_key = accounts.provider.key();
        accounts.job.start(
            provider_key,
            &mut accounts.provider,
            &accounts.market,
            price,
            timestamp,
        )?;
        accounts.provider.invariant()?;

        let event = JobStarted::of(
            &accounts.job,
            &accounts.provider,
            Some(accounts.bid.key()),
            timestamp,
        );
        emit_cpi!(event);
        Ok(())
    }
}
