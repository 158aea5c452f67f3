use crate::{
    error::MarketError,
    events::{CompletionReason, DisputeResolved, FailureReason},
    instructions::settle::*,
    state::{DisputeRuling, JobState},
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;

/// The market authority decides a dispute that verifiers left open past the dispute timeout: the
/// last resort, so that no job stays locked forever. Paying the provider settles as a completion;
/// refunding the client fails the job without a slash (only a verifier quorum slashes for fraud).
#[event_cpi]
#[derive(Accounts)]
pub struct ResolveDispute<'info> {
    #[account(address = settle.market.authority @ MarketError::NotMarketAuthority)]
    pub authority: Signer<'info>,

    pub settle: SettleJob<'info>,
}

impl ResolveDispute<'_> {
    pub fn handler(ctx: Context<Self>, ruling: DisputeRuling) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let timestamp = now()?;
        let authority = ctx.accounts.authority.key();
        let settle = &mut ctx.accounts.settle;
        let job = &settle.job;
        job.require_state(JobState::Disputed)?;
        require!(
            timestamp >= job.ruling_opens()?,
            MarketError::DisputeTimeoutNotReached
        );

        let resolved = DisputeResolved {
            market: settle.market.key(),
            job: job.key(),
            authority,
            ruling,
            timestamp,
        };
        emit_cpi!(resolved);
        match ruling {
            DisputeRuling::PayProvider => {
                let (settlement, billed_secs) = settle.complete(timestamp)?;
                let event = completed_event(
                    settle,
                    CompletionReason::AuthorityRuling,
                    settlement,
                    billed_secs,
                    timestamp,
                );
                emit_cpi!(event);
            }
            DisputeRuling::RefundClient => {
                settle
                    .job
                    .fail(&mut settle.provider, &mut settle.market, timestamp)?;
                let event = failed_event(
                    &settle.job,
                    &settle.provider,
                    FailureReason::AuthorityRuling,
                    authority,
                    timestamp,
                );
                emit_cpi!(event);
            }
        }
        Ok(())
    }
}
