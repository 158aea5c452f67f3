use crate::{
    constants::*,
    error::MarketError,
    events::ResultSubmitted,
    math::SafeMath,
    state::{Job, JobState, Market, Provider, ResultCommitment},
    utils::require_no_remaining_accounts,
};
use anchor_lang::prelude::*;

/// The provider commits to its output and bills its metered time; the challenge window opens. The
/// job's GPUs are free again, but the job still counts against the provider's stake until settled.
#[event_cpi]
#[derive(Accounts)]
pub struct SubmitResult<'info> {
    pub authority: Signer<'info>,

    #[account(
        seeds = [SEED_MARKET, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,

    #[account(
        mut,
        has_one = market,
        has_one = provider @ MarketError::WrongProvider,
        seeds = [SEED_JOB, job.market.as_ref(), job.client.as_ref(), &job.nonce.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,

    #[account(
        mut,
        has_one = authority,
        seeds = [SEED_PROVIDER, market.key().as_ref(), authority.key().as_ref()],
        bump = provider.bump,
    )]
    pub provider: Box<Account<'info, Provider>>,
}

impl SubmitResult<'_> {
    fn validate(&self, result: &ResultCommitment, clock: &Clock) -> Result<()> {
        let job = &self.job;
        job.require_state(JobState::Running)?;
        require!(
            clock.unix_timestamp <= job.deadline,
            MarketError::DeadlinePassed
        );
        require!(
            (1..=MAX_CHUNK_COUNT).contains(&result.chunk_count),
            MarketError::InvalidChunkCount
        );
        let elapsed = clock.unix_timestamp.safe_sub(job.started_at)?;
        require!(
            i64::from(result.metered_secs) <= elapsed,
            MarketError::MeteredTimeExceedsElapsed
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, result: ResultCommitment) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let clock = Clock::get()?;
        ctx.accounts.validate(&result, &clock)?;

        let accounts = &mut *ctx.accounts;
        let job = &mut accounts.job;
        job.result = result;
        job.state = JobState::Submitted;
        job.submitted_at = clock.unix_timestamp;
        job.submitted_slot = clock.slot;
        let provider = &mut accounts.provider;
        provider.gpus_in_use = provider.gpus_in_use.safe_sub(job.requirements.gpu_count)?;
        let challengeable_until = job
            .challenge_window_ends()?
            .safe_add(2 * i64::from(job.terms.dispute_timeout_secs))?;
        provider.slashable_until = provider.slashable_until.max(challengeable_until);
        provider.invariant()?;

        let challenge_ends_at = clock
            .unix_timestamp
            .safe_add(i64::from(job.terms.challenge_window_secs))?;
        let event = ResultSubmitted {
            market: job.market,
            job: job.key(),
            provider: provider.key(),
            result,
            submitted_slot: clock.slot,
            challenge_ends_at,
            timestamp: clock.unix_timestamp,
        };
        emit_cpi!(event);
        Ok(())
    }
}
