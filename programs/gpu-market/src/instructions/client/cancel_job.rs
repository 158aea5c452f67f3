use crate::{
    constants::*,
    events::JobCancelled,
    settlement::full_refund,
    state::{Job, JobState},
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;

/// Withdraws an open job. The whole deposit is owed back and is paid by `close_job`, which a client
/// usually sends in the same transaction.
#[event_cpi]
#[derive(Accounts)]
pub struct CancelJob<'info> {
    pub client: Signer<'info>,

    #[account(
        mut,
        has_one = client,
        seeds = [SEED_JOB, job.market.as_ref(), job.client.as_ref(), &job.nonce.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,
}

impl CancelJob<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let timestamp = now()?;
        let job = &mut ctx.accounts.job;
        job.require_state(JobState::Open)?;
        job.state = JobState::Cancelled;
        job.settlement = full_refund(job.deposit);
        job.settled_at = timestamp;

        let event = JobCancelled {
            market: job.market,
            job: job.key(),
            client: job.client,
            refund: job.deposit,
            timestamp,
        };
        emit_cpi!(event);
        Ok(())
    }
}
