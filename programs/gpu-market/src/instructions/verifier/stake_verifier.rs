use crate::{
    constants::*,
    error::MarketError,
    events::VerifierStaked,
    math::SafeMath,
    state::{Market, Verifier},
    utils::{now, require_no_remaining_accounts, transfer_tokens},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

/// A verifier adds stake: each of its votes locks a job's `verifier_bond` of it until the verdict
/// is closed, and loses it if a verifier quorum decides the job the other way.
#[event_cpi]
#[derive(Accounts)]
pub struct StakeVerifier<'info> {
    pub authority: Signer<'info>,

    #[account(
        seeds = [SEED_MARKET, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,

    #[account(
        mut,
        has_one = authority,
        has_one = market,
        seeds = [SEED_VERIFIER, market.key().as_ref(), authority.key().as_ref()],
        bump = verifier.bump,
    )]
    pub verifier: Box<Account<'info, Verifier>>,

    #[account(address = market.stake_mint, mint::token_program = stake_token_program)]
    pub stake_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(
        mut,
        seeds = [SEED_VERIFIER_STAKE_VAULT, verifier.key().as_ref()],
        bump = verifier.stake_vault_bump,
    )]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// The wallet's stake-mint account the tokens come from.
    #[account(mut, token::mint = stake_mint, token::authority = authority)]
    pub source: Box<InterfaceAccount<'info, TokenAccount>>,

    pub stake_token_program: Interface<'info, TokenInterface>,
}

impl StakeVerifier<'_> {
    pub fn handler(ctx: Context<Self>, amount: u64) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        require!(amount > 0, MarketError::ZeroAmount);
        ctx.accounts.market.require_not_paused()?;
        // A removed verifier cannot vote, so stake sent now could only be withdrawn again.
        ctx.accounts.verifier.require_active()?;

        let accounts = &mut *ctx.accounts;
        accounts.verifier.staked = accounts.verifier.staked.safe_add(amount)?;
        accounts.verifier.invariant()?;
        transfer_tokens(
            &accounts.stake_token_program,
            &accounts.stake_mint,
            &accounts.source,
            &*accounts.stake_vault,
            &accounts.authority.to_account_info(),
            &[],
            amount,
        )?;

        let event = VerifierStaked {
            market: accounts.market.key(),
            verifier: accounts.verifier.key(),
            amount,
            staked: accounts.verifier.staked,
            timestamp: now()?,
        };
        emit_cpi!(event);
        Ok(())
    }
}
