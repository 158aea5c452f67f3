use crate::{
    error::MarketError,
    events::CompletionReason,
    instructions::settle::*,
    state::JobState,
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;

/// Anyone settles a dispute that neither a verifier quorum nor the market authority decided by twice
/// the dispute timeout. The default is that the result stands: the provider is paid and gets the
/// client's bond. A fail quorum would have failed the job, and the authority had a whole timeout to
/// rule; refunding by default instead would let a client get work for free by disputing and waiting.
#[event_cpi]
#[derive(Accounts)]
pub struct SettleDispute<'info> {
    pub settle: SettleJob<'info>,
}

impl SettleDispute<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let timestamp = now()?;
        let settle = &mut ctx.accounts.settle;
        settle.job.require_state(JobState::Disputed)?;
        let default_opens = settle.job.dispute_default_opens()?;
        require!(
            timestamp >= default_opens,
            MarketError::DisputeDefaultNotReached
        );
        // As for finalize_job: a result nobody could verify is never paid by default; without a seed
        // the job is for expire_sample_seed, which fails it.
        require!(
            settle.job.sample_seed.is_some(),
            MarketError::SampleSeedNotRecorded
        );
        let (settlement, billed_secs) = settle.complete(timestamp)?;
        let event = completed_event(
            settle,
            CompletionReason::DisputeUnanswered,
            settlement,
            billed_secs,
            timestamp,
        );
        emit_cpi!(event);
        Ok(())
    }
}
