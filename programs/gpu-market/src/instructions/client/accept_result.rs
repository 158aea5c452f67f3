use crate::{
    error::MarketError,
    events::{CompletionReason, JobCompleted},
    instructions::settle::*,
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;

/// The client accepts a submitted result before the challenge window ends, settling at once.
#[event_cpi]
#[derive(Accounts)]
pub struct AcceptResult<'info> {
    #[account(address = settle.job.client @ MarketError::NotTheJobClient)]
    pub client: Signer<'info>,

    pub settle: SettleJob<'info>,
}

impl AcceptResult<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let timestamp = now()?;
        let settle = &mut ctx.accounts.settle;
        settle
            .job
            .require_state(crate::state::JobState::Submitted)?;
        let (settlement, billed_secs) = settle.complete(timestamp)?;
        let event = completed_event(
            settle,
            CompletionReason::AcceptedByClient,
            settlement,
            billed_secs,
            timestamp,
        );
        emit_cpi!(event);
        Ok(())
    }
}

/// The event every completion emits, read back from the settled accounts.
pub fn completed_event(
    settle: &SettleJob,
    reason: CompletionReason,
    settlement: crate::state::Settlement,
    billed_secs: u32,
    timestamp: i64,
) -> JobCompleted {
    JobCompleted {
        market: settle.market.key(),
        job: settle.job.key(),
        client: settle.job.client,
        provider: settle.provider.key(),
        reason,
        billed_secs,
        settlement,
        provider_jobs_completed: settle.provider.counters.jobs_completed,
        provider_total_earned: settle.provider.counters.total_earned,
        market_total_volume: settle.market.counters.total_volume,
        market_total_fees: settle.market.counters.total_fees,
        timestamp,
    }
}
