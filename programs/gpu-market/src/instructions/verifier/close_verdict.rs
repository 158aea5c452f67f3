use crate::{
    constants::*,
    error::MarketError,
    events::VerdictClosed,
    state::{Job, Verdict},
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;

/// A verifier takes its verdict account's rent back once the vote can no longer count: the job is
/// settled, closed, or a later job now lives at its address. Works after the verifier was removed.
#[event_cpi]
#[derive(Accounts)]
pub struct CloseVerdict<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,

    #[account(
        mut,
        close = authority,
        has_one = authority,
        seeds = [SEED_VERDICT, verdict.job.as_ref(), verdict.verifier.as_ref()],
        bump = verdict.bump,
    )]
    pub verdict: Box<Account<'info, Verdict>>,

    /// CHECK: the job voted on, by address; read only if it still exists and belongs to this program.
    #[account(address = verdict.job)]
    pub job: UncheckedAccount<'info>,
}

impl CloseVerdict<'_> {
    fn validate(&self) -> Result<()> {
        let job = &self.job;
        if job.data_is_empty() {
            return Ok(());
        }
        require_keys_eq!(*job.owner, crate::ID, MarketError::InvalidJobState);
        let job = Job::try_deserialize(&mut &job.try_borrow_data()?[..])?;
        require!(
            job.state.is_settled() || job.submitted_slot != self.verdict.submitted_slot,
            MarketError::InvalidJobState
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        ctx.accounts.validate()?;
        let event = VerdictClosed {
            job: ctx.accounts.job.key(),
            verdict: ctx.accounts.verdict.key(),
            authority: ctx.accounts.authority.key(),
            rent_returned: ctx.accounts.verdict.to_account_info().lamports(),
            timestamp: now()?,
        };
        emit_cpi!(event);
        Ok(())
    }
}
