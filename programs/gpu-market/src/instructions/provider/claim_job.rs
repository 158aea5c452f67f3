use crate::{
    constants::*,
    events::JobStarted,
    state::{Job, Market, Provider},
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;

/// A provider takes an open job at its own asking price (open order or a job naming it).
#[event_cpi]
#[derive(Accounts)]
pub struct ClaimJob<'info> {
    pub authority: Signer<'info>,

    #[account(
        seeds = [SEED_MARKET, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,

    #[account(
        mut,
        has_one = market,
        seeds = [SEED_JOB, job.market.as_ref(), job.client.as_ref(), &job.nonce.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,

    #[account(
        mut,
        has_one = authority,
        has_one = market,
        seeds = [SEED_PROVIDER, market.key().as_ref(), authority.key().as_ref()],
        bump = provider.bump,
    )]
    pub provider: Box<Account<'info, Provider>>,
}

impl ClaimJob<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        ctx.accounts.market.require_not_paused()?;
        let timestamp = now()?;
        let accounts = &mut *ctx.accounts;
        let provider_key = accounts.provider.key();
        let price = accounts.provider.price_per_gpu_hour;
        accounts.job.start(
            provider_key,
            &mut accounts.provider,
            &accounts.market,
            price,
            timestamp,
        )?;
        accounts.provider.invariant()?;

        let event = JobStarted::of(&accounts.job, &accounts.provider, None, timestamp);
        emit_cpi!(event);
        Ok(())
    }
}
