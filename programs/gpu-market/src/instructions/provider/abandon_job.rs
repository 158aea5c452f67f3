use crate::{
    constants::*,
    error::MarketError,
    events::{FailureReason, SlashReason},
    instructions::{settle::failed_event, slash::*},
    state::{Job, Market, Provider},
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;

/// The provider gives a running job up; the client is owed its whole deposit and the provider is
/// slashed at the abandon rate.
#[event_cpi]
#[derive(Accounts)]
pub struct AbandonJob<'info> {
    pub authority: Signer<'info>,

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
        has_one = authority,
        seeds = [SEED_PROVIDER, market.key().as_ref(), authority.key().as_ref()],
        bump = provider.bump,
    )]
    pub provider: Box<Account<'info, Provider>>,

    pub slash: SlashStake<'info>,
}

impl AbandonJob<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let timestamp = now()?;
        let accounts = &mut *ctx.accounts;
        // Past the deadline the job is a no-show (`expire_job`), whose slash is not the provider's
        // to lower by abandoning late.
        require!(
            timestamp <= accounts.job.deadline,
            MarketError::DeadlinePassed
        );
        accounts
            .job
            .fail_running(&mut accounts.provider, &mut accounts.market, timestamp)?;
        let slashed = accounts.slash.slash(
            &mut accounts.market,
            &mut accounts.provider,
            &accounts.job,
            SlashReason::Abandon,
            timestamp,
        )?;
        accounts.provider.invariant()?;

        let event = failed_event(
            &accounts.job,
            &accounts.provider,
            FailureReason::Abandoned,
            accounts.authority.key(),
            timestamp,
        );
        emit_cpi!(event);
        if let Some(event) = slashed {
            emit_cpi!(event);
        }
        Ok(())
    }
}
