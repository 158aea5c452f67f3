//! Accounts and logic shared by every instruction that completes a job and pays its provider
//! (`accept_result`, `finalize_job`, a verifier quorum, `resolve_dispute`, `settle_dispute`) or
//! fails it.

use crate::{
    constants::*,
    error::MarketError,
    events::{CompletionReason, FailureReason, JobCompleted, JobFailed},
    job_signer_seeds,
    math::SafeMath,
    settlement::split,
    state::{Job, JobState, Market, Provider, Settlement},
    utils::transfer_tokens,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[derive(Accounts)]
pub struct SettleJob<'info> {
    #[account(
        mut,
        seeds = [SEED_MARKET, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,

    #[account(
        mut,
        has_one = market,
        seeds = [SEED_JOB, job.market.as_ref(), job.client.as_ref(), &job.nonce.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,

    #[account(
        mut,
        address = job.provider @ MarketError::WrongProvider,
        seeds = [SEED_PROVIDER, market.key().as_ref(), provider.authority.as_ref()],
        bump = provider.bump,
    )]
    pub provider: Box<Account<'info, Provider>>,

    #[account(
        mut,
        seeds = [SEED_ESCROW_VAULT, job.key().as_ref()],
        bump = job.escrow_bump,
    )]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(
        mut,
        seeds = [SEED_PAYOUT_VAULT, provider.key().as_ref()],
        bump = provider.payout_vault_bump,
    )]
    pub payout_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(mut, address = market.treasury @ MarketError::WrongTreasury)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = market.payment_mint, mint::token_program = payment_token_program)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,

    pub payment_token_program: Interface<'info, TokenInterface>,
}

impl SettleJob<'_> {
    /// Completes a submitted (or disputed-then-cleared) job: splits the escrow per the money rules,
    /// pays the provider's share into its payout vault and the fee to the treasury, and leaves the
    /// refund in escrow for `close_job`. Returns the settlement and the billed seconds.
    pub fn complete(&mut self, now: i64) -> Result<(Settlement, u32)> {
        let job = &mut self.job;
        require!(
            matches!(job.state, JobState::Submitted | JobState::Disputed),
            MarketError::InvalidJobState
        );
        job.close_dispute(&mut self.provider)?;
        job.unlock_stake(&mut self.provider)?;
        let billed_secs = job.result.metered_secs.min(job.max_duration_secs);
        let mut settlement = split(
            job.deposit,
            job.price_per_gpu_hour,
            job.requirements.gpu_count,
            job.result.metered_secs,
            job.max_duration_secs,
            job.terms.fee_bps,
        )?;
        // The result stands, so a dispute bond is the provider's: paid on top of its share, free of
        // fee, and counted in its earnings.
        settlement.provider_share = settlement.provider_share.safe_add(job.dispute_bond)?;
        job.state = JobState::Completed;
        job.settlement = settlement;
        job.settled_at = now;

        let provider = &mut self.provider;
        provider.active_jobs = provider.active_jobs.safe_sub(1)?;
        provider.counters.jobs_completed = provider.counters.jobs_completed.safe_add(1)?;
        provider.counters.total_earned = provider
            .counters
            .total_earned
            .safe_add(settlement.provider_share)?;
        let counters = &mut self.market.counters;
        counters.jobs_completed = counters.jobs_completed.safe_add(1)?;
        counters.total_volume = counters
            .total_volume
            .safe_add(settlement.provider_share.safe_add(settlement.fee)?)?;
        counters.total_fees = counters.total_fees.safe_add(settlement.fee)?;

        let job = &self.job;
        let nonce = job.nonce.to_le_bytes();
        let seeds: &[&[&[u8]]] = &[job_signer_seeds!(job, &nonce)];
        for (to, amount) in [
            (&self.payout_vault, settlement.provider_share),
            (&self.treasury, settlement.fee),
        ] {
            if amount > 0 {
                transfer_tokens(
                    &self.payment_token_program,
                    &self.payment_mint,
                    &self.escrow_vault,
                    &**to,
                    &job.to_account_info(),
                    seeds,
                    amount,
                )?;
            }
        }
        Ok((settlement, billed_secs))
    }
}

/// The event every completion emits, read back from the settled accounts.
pub fn completed_event(
    settle: &SettleJob,
    reason: CompletionReason,
    settlement: Settlement,
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

/// The event every failure emits, read back from the failed job and its provider.
pub fn failed_event(
    job: &Account<Job>,
    provider: &Provider,
    reason: FailureReason,
    actor: Pubkey,
    timestamp: i64,
) -> JobFailed {
    JobFailed {
        market: job.market,
        job: job.key(),
        client: job.client,
        provider: job.provider,
        reason,
        actor,
        refund: job.settlement.refund,
        provider_jobs_failed: provider.counters.jobs_failed,
        timestamp,
    }
}
