use crate::{
    constants::*,
    error::MarketError,
    events::JobDisputed,
    settlement::dispute_bond,
    state::{Job, JobState, Market, Provider},
    utils::{now, require_no_remaining_accounts, transfer_tokens},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

/// The client disputes a submitted result inside its challenge window, putting up the dispute bond
/// of the job's terms into the job's escrow. The job cannot be finalized until verifiers reach a quorum,
/// the market authority rules (after the dispute timeout), or, after twice the timeout, anyone
/// settles it by the default (`settle_dispute`: the result stands).
#[event_cpi]
#[derive(Accounts)]
pub struct DisputeResult<'info> {
    pub client: Signer<'info>,

    #[account(
        seeds = [SEED_MARKET, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,

    #[account(
        mut,
        has_one = market,
        has_one = client @ MarketError::NotTheJobClient,
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

    #[account(
        mut,
        seeds = [SEED_ESCROW_VAULT, job.key().as_ref()],
        bump = job.escrow_bump,
    )]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = market.payment_mint, mint::token_program = payment_token_program)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,

    /// The client's payment-mint account the bond comes from.
    #[account(mut, token::mint = payment_mint, token::authority = client)]
    pub source: Box<InterfaceAccount<'info, TokenAccount>>,

    pub payment_token_program: Interface<'info, TokenInterface>,
}

impl DisputeResult<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let timestamp = now()?;
        let accounts = &mut *ctx.accounts;
        let job = &mut accounts.job;
        job.require_state(JobState::Submitted)?;
        job.require_under_review(timestamp)?;
        let bond = dispute_bond(job.deposit, job.terms.dispute_bond_bps)?;
        job.open_dispute(&mut accounts.provider, bond, timestamp)?;

        if bond > 0 {
            transfer_tokens(
                &accounts.payment_token_program,
                &accounts.payment_mint,
                &accounts.source,
                &*accounts.escrow_vault,
                &accounts.client.to_account_info(),
                &[],
                bond,
            )?;
        }

        let event = JobDisputed {
            market: accounts.job.market,
            job: accounts.job.key(),
            client: accounts.job.client,
            provider: accounts.provider.key(),
            disputed_by: accounts.client.key(),
            provider_open_disputes: accounts.provider.open_disputes,
            bond,
            timestamp,
        };
        emit_cpi!(event);
        Ok(())
    }
}
