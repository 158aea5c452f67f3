use crate::{
    constants::*,
    error::MarketError,
    events::{FailureReason, SlashReason},
    instructions::{settle::failed_event, slash::*},
    state::{Job, JobState, Market, Provider},
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;

/// Anyone fails a running job whose deadline passed without a result; the client is owed its whole
/// deposit and the provider is slashed at the no-show rate.
#[event_cpi]
#[derive(Accounts)]
pub struct ExpireJob<'info> {
    /// Whoever cranks it; recorded in the event.
    pub cranker: Signer<'info>,

    #[account(
        mut,
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
        seeds = [SEED_PROVIDER, market.key().as_ref(), provider.authority.as_ref()],
        bump = provider.bump,
    )]
    pub provider: Box<Account<'info, Provider>>,

    pub slash: SlashStake<'info>,
}

impl ExpireJob<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let timestamp = now()?;
        let accounts = &mut *ctx.accounts;
        accounts.job.require_state(JobState::Running)?;
        require!(
            timestamp > accounts.job.deadline,
            MarketError::DeadlineNotReached
        );
        accounts
            .job
            .fail_running(&mut accounts.provider, &mut accounts.market, timestamp)?;
        let slashed = accounts.slash.slash(
            &mut accounts.market,
            &mut accounts.provider,
            &accounts.job,
            SlashReason::NoShow,
            timestamp,
        )?;
        accounts.provider.invariant()?;

        let event = failed_event(
            &accounts.job,
            &accounts.provider,
            FailureReason::Expired,
            accounts.cranker.key(),
            timestamp,
        );
        emit_cpi!(event);
        if let Some(event) = slashed {
            emit_cpi!(event);
        }
        Ok(())
    }
}
