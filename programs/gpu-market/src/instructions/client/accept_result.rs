use crate::{
    error::MarketError,
    events::CompletionReason,
    instructions::settle::*,
    state::JobState,
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;

/// The client accepts a submitted result, settling at once: before the challenge window ends, or
/// while it is disputed (the client conceding its own dispute, which pays the provider its bond,
/// or overruling a verifier's lone fail vote on work it is paying for).
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
        require!(
            matches!(settle.job.state, JobState::Submitted | JobState::Disputed),
            MarketError::InvalidJobState
        );
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
