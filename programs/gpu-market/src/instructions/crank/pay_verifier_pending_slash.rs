use crate::{
    constants::*,
    error::MarketError,
    events::VerifierPendingSlashPaid,
    state::{Market, Verifier},
    utils::{now, require_no_remaining_accounts, transfer_tokens},
    verifier_signer_seeds,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

/// Anyone sends a verifier's deferred slash (a wrong vote's bond, slashed while the slash
/// destination could not receive) from its stake vault to the market's slash destination.
#[event_cpi]
#[derive(Accounts)]
pub struct PayVerifierPendingSlash<'info> {
    /// Whoever cranks it; recorded in the event.
    pub cranker: Signer<'info>,

    #[account(
        seeds = [SEED_MARKET, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,

    #[account(
        mut,
        has_one = market,
        seeds = [SEED_VERIFIER, market.key().as_ref(), verifier.authority.as_ref()],
        bump = verifier.bump,
    )]
    pub verifier: Box<Account<'info, Verifier>>,

    #[account(
        mut,
        seeds = [SEED_VERIFIER_STAKE_VAULT, verifier.key().as_ref()],
        bump = verifier.stake_vault_bump,
    )]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(
        mut,
        address = market.slash_destination @ MarketError::WrongSlashDestination,
    )]
    pub slash_destination: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(
        address = market.stake_mint @ MarketError::WrongMint,
        mint::token_program = stake_token_program,
    )]
    pub stake_mint: Box<InterfaceAccount<'info, Mint>>,

    pub stake_token_program: Interface<'info, TokenInterface>,
}

impl PayVerifierPendingSlash<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let amount = ctx.accounts.verifier.slash_pending;
        require!(amount > 0, MarketError::NoPendingSlash);
        let accounts = &mut *ctx.accounts;
        accounts.verifier.slash_pending = 0;

        let verifier = &accounts.verifier;
        transfer_tokens(
            &accounts.stake_token_program,
            &accounts.stake_mint,
            &accounts.stake_vault,
            &*accounts.slash_destination,
            &verifier.to_account_info(),
            &[verifier_signer_seeds!(verifier)],
            amount,
        )?;

        let event = VerifierPendingSlashPaid {
            market: accounts.market.key(),
            verifier: verifier.key(),
            slash_destination: accounts.slash_destination.key(),
            amount,
            actor: accounts.cranker.key(),
            timestamp: now()?,
        };
        emit_cpi!(event);
        Ok(())
    }
}
