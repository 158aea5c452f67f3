use crate::{
    constants::*,
    error::MarketError,
    events::VerifierStakeWithdrawn,
    math::SafeMath,
    state::{Market, Verifier},
    utils::{now, require_no_remaining_accounts, transfer_tokens},
    verifier_signer_seeds,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

/// A verifier takes back stake that no open verdict holds. No unbonding period: every vote locks its
/// own bond until the verdict is closed, so free stake backs nothing. Allowed while the market is
/// paused and after the verifier was removed.
#[event_cpi]
#[derive(Accounts)]
pub struct WithdrawVerifierStake<'info> {
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

    /// Any stake-mint account; the verifier chooses where its stake goes.
    #[account(
        mut,
        token::mint = stake_mint,
        constraint = destination.key() != stake_vault.key() @ MarketError::DestinationIsVault,
    )]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,

    pub stake_token_program: Interface<'info, TokenInterface>,
}

impl WithdrawVerifierStake<'_> {
    pub fn handler(ctx: Context<Self>, amount: u64) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        require!(amount > 0, MarketError::ZeroAmount);
        let accounts = &mut *ctx.accounts;
        require!(
            amount <= accounts.verifier.free_stake()?,
            MarketError::VerifierStakeLocked
        );
        accounts.verifier.staked = accounts.verifier.staked.safe_sub(amount)?;
        accounts.verifier.invariant()?;

        let verifier = &accounts.verifier;
        transfer_tokens(
            &accounts.stake_token_program,
            &accounts.stake_mint,
            &accounts.stake_vault,
            &*accounts.destination,
            &verifier.to_account_info(),
            &[verifier_signer_seeds!(verifier)],
            amount,
        )?;

        let event = VerifierStakeWithdrawn {
            market: accounts.market.key(),
            verifier: verifier.key(),
            amount,
            staked: verifier.staked,
            locked: verifier.locked,
            timestamp: now()?,
        };
        emit_cpi!(event);
        Ok(())
    }
}
