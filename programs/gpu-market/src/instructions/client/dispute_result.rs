use crate::{
    constants::*,
    error::MarketError,
    events::JobDisputed,
    math::SafeMath,
    state::{Job, JobState, Market, Provider},
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;

/// The client disputes a submitted result inside its challenge window. The job cannot be finalized
/// until verifiers reach a quorum or, after the dispute timeout, the market authority rules.
#[event_cpi]
#[derive(Accounts)]
pub struct DisputeResult<'info> {
    pub client: Signer<'info>,

    #[account(
        seeds = [SEED_MARKET, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Account<'info, Market>,

    #[account(
        mut,
        has_one = market,
        has_one = client @ MarketError::NotTheJobClient,
        has_one = provider @ MarketError::WrongProvider,
        seeds = [SEED_JOB, job.market.as_ref(), job.client.as_ref(), &job.nonce.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Account<'info, Job>,

    #[account(
        mut,
        seeds = [SEED_PROVIDER, market.key().as_ref(), provider.authority.as_ref()],
        bump = provider.bump,
    )]
    pub provider: Account<'info, Provider>,
}

impl DisputeResult<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let timestamp = now()?;
        let accounts = &mut *ctx.accounts;
        let job = &mut accounts.job;
        job.require_state(JobState::Submitted)?;
        job.require_under_review(&accounts.market, timestamp)?;
        job.state = JobState::Disputed;
        job.disputed_at = timestamp;
        let provider = &mut accounts.provider;
        provider.open_disputes = provider.open_disputes.safe_add(1)?;

        let event = JobDisputed {
            market: job.market,
            job: job.key(),
            client: job.client,
            provider: provider.key(),
            provider_open_disputes: provider.open_disputes,
            timestamp,
        };
        emit_cpi!(event);
        Ok(())
    }
}
