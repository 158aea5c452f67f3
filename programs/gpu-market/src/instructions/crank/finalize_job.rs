use crate::{
    error::MarketError,
    events::CompletionReason,
    instructions::settle::*,
    state::JobState,
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;

/// Anyone completes a submitted job once its challenge window has passed without a dispute.
#[event_cpi]
#[derive(Accounts)]
pub struct FinalizeJob<'info> {
    pub settle: SettleJob<'info>,
}

impl FinalizeJob<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let timestamp = now()?;
        let settle = &mut ctx.accounts.settle;
        settle.job.require_state(JobState::Submitted)?;
        let window_ends = settle.job.challenge_window_ends()?;
        require!(timestamp >= window_ends, MarketError::ChallengeWindowOpen);
        // Without a recorded seed nobody could have verified the result: paying it would reward a
        // provider that kept a seed sampling its fakes from being recorded.
        require!(
            settle.job.sample_seed.is_some(),
            MarketError::SampleSeedNotRecorded
        );
        let (settlement, billed_secs) = settle.complete(timestamp)?;
        let event = completed_event(
            settle,
            CompletionReason::ChallengeWindowPassed,
            settlement,
            billed_secs,
            timestamp,
        );
        emit_cpi!(event);
        Ok(())
    }
}
