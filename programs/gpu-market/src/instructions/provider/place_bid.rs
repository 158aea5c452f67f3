use crate::{
    constants::*,
    error::MarketError,
    events::BidPlaced,
    state::{Bid, Job, Market, Provider},
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;

/// Offers to run an open job at a price at or below the client's maximum, until `expires_at`. One
/// bid per provider per job; withdraw it to bid again.
#[event_cpi]
#[derive(Accounts)]
pub struct PlaceBid<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,

    #[account(
        seeds = [SEED_MARKET, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,

    #[account(
        has_one = market,
        seeds = [SEED_JOB, job.market.as_ref(), job.client.as_ref(), &job.nonce.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,

    #[account(
        has_one = authority,
        has_one = market,
        seeds = [SEED_PROVIDER, market.key().as_ref(), authority.key().as_ref()],
        bump = provider.bump,
    )]
    pub provider: Box<Account<'info, Provider>>,

    #[account(
        init,
        payer = authority,
        space = 8 + Bid::INIT_SPACE,
        seeds = [SEED_BID, job.key().as_ref(), provider.key().as_ref()],
        bump,
    )]
    pub bid: Box<Account<'info, Bid>>,

    pub system_program: Program<'info, System>,
}

impl PlaceBid<'_> {
    pub fn handler(ctx: Context<Self>, price_per_gpu_hour: u64, expires_at: i64) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let accounts = &mut *ctx.accounts;
        accounts.market.require_not_paused()?;
        require!(price_per_gpu_hour > 0, MarketError::InvalidPrice);
        let timestamp = now()?;
        require!(expires_at > timestamp, MarketError::InvalidBidExpiry);
        accounts.job.check_can_start(
            accounts.provider.key(),
            &accounts.provider,
            &accounts.market,
            price_per_gpu_hour,
        )?;
        accounts.bid.set_inner(Bid {
            market: accounts.market.key(),
            job: accounts.job.key(),
            job_serial: accounts.job.serial,
            provider: accounts.provider.key(),
            provider_authority: accounts.authority.key(),
            price_per_gpu_hour,
            created_at: timestamp,
            expires_at,
            bump: ctx.bumps.bid,
        });

        let event = BidPlaced {
            market: accounts.market.key(),
            job: accounts.job.key(),
            bid: accounts.bid.key(),
            provider: accounts.provider.key(),
            price_per_gpu_hour,
            expires_at,
            timestamp,
        };
        emit_cpi!(event);
        Ok(())
    }
}
