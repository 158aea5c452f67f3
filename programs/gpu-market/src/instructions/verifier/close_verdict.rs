use crate::{
    constants::*,
    error::MarketError,
    events::VerdictClosed,
    math::SafeMath,
    state::{Job, Verdict, Verifier},
    utils::{can_receive, now, require_no_remaining_accounts, transfer_tokens},
    verifier_signer_seeds,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

/// Settles a vote once its job is settled: the bond it locked goes back to the verifier's free
/// stake, or to the job's slash destination when a verifier quorum decided the job the other way;
/// the verdict's rent goes back to the verifier's wallet. Anyone may call it (the client must
/// before `close_job`, the verifier wants its stake free), and it works after the verifier was
/// removed. A slash destination that cannot receive defers the slash, never this instruction.
#[event_cpi]
#[derive(Accounts)]
pub struct CloseVerdict<'info> {
    /// Whoever closes it; recorded in the event.
    pub actor: Signer<'info>,

    #[account(
        mut,
        close = verifier_authority,
        seeds = [SEED_VERDICT, verdict.job.as_ref(), verdict.verifier.as_ref()],
        bump = verdict.bump,
    )]
    pub verdict: Box<Account<'info, Verdict>>,

    /// CHECK: the verifier's wallet, by address; it paid the verdict's rent and gets it back.
    #[account(mut, address = verdict.authority)]
    pub verifier_authority: UncheckedAccount<'info>,

    #[account(mut, address = verdict.job)]
    pub job: Box<Account<'info, Job>>,

    #[account(mut, address = verdict.verifier)]
    pub verifier: Box<Account<'info, Verifier>>,

    #[account(
        mut,
        seeds = [SEED_VERIFIER_STAKE_VAULT, verifier.key().as_ref()],
        bump = verifier.stake_vault_bump,
    )]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// CHECK: the job's slash destination, by address. Not deserialized as a token account: a
    /// frozen or closed destination defers the slash instead of failing the close.
    #[account(
        mut,
        address = job.terms.slash_destination @ MarketError::WrongSlashDestination,
    )]
    pub slash_destination: UncheckedAccount<'info>,

    #[account(address = stake_vault.mint, mint::token_program = stake_token_program)]
    pub stake_mint: Box<InterfaceAccount<'info, Mint>>,

    pub stake_token_program: Interface<'info, TokenInterface>,
}

impl CloseVerdict<'_> {
    fn validate(&self) -> Result<()> {
        let job = &self.job;
        require!(
            job.state.is_settled() && job.submitted_slot == self.verdict.submitted_slot,
            MarketError::InvalidJobState
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        ctx.accounts.validate()?;
        let accounts = &mut *ctx.accounts;
        let bond = accounts.verdict.bond;
        let pass = accounts.verdict.pass;
        let quorum_decision = accounts.job.quorum_decision();
        let wrong = quorum_decision.is_some_and(|decided| decided != pass);
        let slashed = if wrong { bond } else { 0 };

        let job = &mut accounts.job;
        job.open_verdicts = job.open_verdicts.safe_sub(1)?;
        let verifier = &mut accounts.verifier;
        verifier.open_verdicts = verifier.open_verdicts.safe_sub(1)?;
        verifier.locked = verifier.locked.safe_sub(bond)?;
        verifier.staked = verifier.staked.safe_sub(slashed)?;
        let deferred = slashed > 0
            && (accounts.stake_vault.is_frozen()
                || !can_receive(
                    &accounts.slash_destination,
                    &accounts.stake_mint.key(),
                    &accounts.stake_token_program.key(),
                ));
        if slashed > 0 {
            verifier.times_slashed = verifier.times_slashed.safe_add(1)?;
            verifier.total_slashed = verifier.total_slashed.safe_add(slashed)?;
        }
        if deferred {
            verifier.slash_pending = verifier.slash_pending.safe_add(slashed)?;
        }
        verifier.invariant()?;
        if slashed > 0 && !deferred {
            let verifier = &accounts.verifier;
            transfer_tokens(
                &accounts.stake_token_program,
                &accounts.stake_mint,
                &accounts.stake_vault,
                &accounts.slash_destination,
                &verifier.to_account_info(),
                &[verifier_signer_seeds!(verifier)],
                slashed,
            )?;
        }

        let event = VerdictClosed {
            job: accounts.job.key(),
            verdict: accounts.verdict.key(),
            authority: accounts.verifier_authority.key(),
            rent_returned: accounts.verdict.to_account_info().lamports(),
            timestamp: now()?,
            verifier: accounts.verifier.key(),
            pass,
            quorum_decision,
            bond,
            slashed,
            slash_deferred: deferred,
            verifier_staked: accounts.verifier.staked,
            verifier_locked: accounts.verifier.locked,
            actor: accounts.actor.key(),
        };
        emit_cpi!(event);
        Ok(())
    }
}
