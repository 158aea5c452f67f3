use crate::{
    constants::*,
    events::VerifierAdded,
    math::SafeMath,
    state::{Market, Verifier},
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

/// The market authority registers a verifier wallet, and the vault its stake will be held in. The
/// verifier votes once it has staked at least a job's `verifier_bond` (`stake_verifier`).
#[event_cpi]
#[derive(Accounts)]
pub struct AddVerifier<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,

    #[account(
        mut,
        has_one = authority,
        seeds = [SEED_MARKET, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,

    /// CHECK: only its address is used, as the wallet that will sign the verifier's votes.
    pub verifier_authority: UncheckedAccount<'info>,

    #[account(
        init,
        payer = authority,
        space = 8 + Verifier::INIT_SPACE,
        seeds = [SEED_VERIFIER, market.key().as_ref(), verifier_authority.key().as_ref()],
        bump,
    )]
    pub verifier: Box<Account<'info, Verifier>>,

    #[account(address = market.stake_mint, mint::token_program = stake_token_program)]
    pub stake_mint: Box<InterfaceAccount<'info, Mint>>,

    /// Holds the stake the verifier's votes put at risk (`stake_verifier`).
    #[account(
        init,
        payer = authority,
        seeds = [SEED_VERIFIER_STAKE_VAULT, verifier.key().as_ref()],
        bump,
        token::mint = stake_mint,
        token::authority = verifier,
        token::token_program = stake_token_program,
    )]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    pub stake_token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl AddVerifier<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let timestamp = now()?;
        let accounts = &mut *ctx.accounts;
        accounts.verifier.set_inner(Verifier {
            market: accounts.market.key(),
            authority: accounts.verifier_authority.key(),
            added_at: timestamp,
            votes_cast: 0,
            bump: ctx.bumps.verifier,
            first_job_serial: accounts.market.counters.jobs_created.safe_add(1)?,
            removed_at: 0,
            stake_vault_bump: ctx.bumps.stake_vault,
            staked: 0,
            locked: 0,
            open_verdicts: 0,
            slash_pending: 0,
            times_slashed: 0,
            total_slashed: 0,
            reserved: [0; 24],
        });
        let counters = &mut accounts.market.counters;
        counters.verifiers = counters.verifiers.safe_add(1)?;

        let event = VerifierAdded {
            market: accounts.market.key(),
            verifier: accounts.verifier.key(),
            verifier_authority: accounts.verifier_authority.key(),
            verifier_count: accounts.market.counters.verifiers,
            timestamp,
            first_job_serial: accounts.verifier.first_job_serial,
        };
        emit_cpi!(event);
        Ok(())
    }
}
