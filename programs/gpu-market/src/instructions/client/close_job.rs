use crate::{
    constants::*,
    error::MarketError,
    events::JobClosed,
    job_signer_seeds,
    state::Job,
    utils::{now, require_no_remaining_accounts, transfer_tokens},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, CloseAccount, Mint, TokenAccount, TokenInterface};

/// Pays a settled job's refund to the client and closes the job and its escrow, returning their rent.
///
/// Refunds are paid here, by the client's own transaction to an account of its choosing, rather than
/// pushed at settlement: an account the client controls (closed, frozen, memo-required) must never be
/// able to block the provider's payment.
#[event_cpi]
#[derive(Accounts)]
pub struct CloseJob<'info> {
    #[account(mut)]
    pub client: Signer<'info>,

    #[account(
        mut,
        close = client,
        has_one = client,
        seeds = [SEED_JOB, job.market.as_ref(), job.client.as_ref(), &job.nonce.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,

    #[account(
        mut,
        seeds = [SEED_ESCROW_VAULT, job.key().as_ref()],
        bump = job.escrow_bump,
    )]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = escrow_vault.mint, mint::token_program = payment_token_program)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,

    /// Receives the refund.
    #[account(
        mut,
        token::mint = payment_mint,
        constraint = destination.key() != escrow_vault.key() @ MarketError::DestinationIsVault,
    )]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,

    pub payment_token_program: Interface<'info, TokenInterface>,
}

impl CloseJob<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let accounts = &mut *ctx.accounts;
        let job = &accounts.job;
        require!(job.state.is_settled(), MarketError::InvalidJobState);
        // Each vote's bond is settled by this job's outcome, which closing would erase.
        require!(job.open_verdicts == 0, MarketError::VerdictsOpen);

        let refund = job.settlement.refund;
        let nonce = job.nonce.to_le_bytes();
        let seeds: &[&[&[u8]]] = &[job_signer_seeds!(job, &nonce)];
        // Pays the recorded refund plus anything else that reached the vault (tokens sent to it by
        // someone), so the vault can close.
        let amount = accounts.escrow_vault.amount;
        if amount > 0 {
            transfer_tokens(
                &accounts.payment_token_program,
                &accounts.payment_mint,
                &accounts.escrow_vault,
                &*accounts.destination,
                &job.to_account_info(),
                seeds,
                amount,
            )?;
        }
        token_interface::close_account(CpiContext::new_with_signer(
            accounts.payment_token_program.key(),
            CloseAccount {
                account: accounts.escrow_vault.to_account_info(),
                destination: accounts.client.to_account_info(),
                authority: job.to_account_info(),
            },
            seeds,
        ))?;

        let event = JobClosed {
            market: job.market,
            job: job.key(),
            client: job.client,
            refund,
            timestamp: now()?,
        };
        emit_cpi!(event);
        Ok(())
    }
}
