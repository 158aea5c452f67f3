use crate::{
    constants::*,
    error::MarketError,
    events::VerifierClosed,
    state::{Market, Verifier},
    utils::{now, require_no_remaining_accounts, transfer_tokens},
    verifier_signer_seeds,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, CloseAccount, Mint, TokenAccount, TokenInterface};

/// A removed verifier leaves: once its verdicts are all closed and no slash of it is pending, its
/// stake vault's tokens go to an account of its choosing, and the rent of its vault and account
/// goes back to the market authority, which paid it in `add_verifier`.
#[event_cpi]
#[derive(Accounts)]
pub struct CloseVerifier<'info> {
    pub authority: Signer<'info>,

    #[account(
        seeds = [SEED_MARKET, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,

    /// CHECK: the market authority's wallet, by address; receives the rent it paid.
    #[account(mut, address = market.authority)]
    pub market_authority: UncheckedAccount<'info>,

    #[account(
        mut,
        close = market_authority,
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

    /// Receives what the stake vault holds.
    #[account(
        mut,
        token::mint = stake_mint,
        constraint = destination.key() != stake_vault.key() @ MarketError::DestinationIsVault,
    )]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,

    pub stake_token_program: Interface<'info, TokenInterface>,
}

impl CloseVerifier<'_> {
    fn validate(&self) -> Result<()> {
        let verifier = &self.verifier;
        require!(verifier.removed_at != 0, MarketError::VerifierNotRemoved);
        require!(verifier.open_verdicts == 0, MarketError::VerdictsOpen);
        require!(verifier.slash_pending == 0, MarketError::SlashPending);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        ctx.accounts.validate()?;
        let accounts = &*ctx.accounts;
        let verifier = &accounts.verifier;
        let seeds: &[&[&[u8]]] = &[verifier_signer_seeds!(verifier)];
        // Its stake plus anything else that reached the vault, so the vault can close.
        let stake_returned = accounts.stake_vault.amount;
        if stake_returned > 0 {
            transfer_tokens(
                &accounts.stake_token_program,
                &accounts.stake_mint,
                &accounts.stake_vault,
                &*accounts.destination,
                &verifier.to_account_info(),
                seeds,
                stake_returned,
            )?;
        }
        token_interface::close_account(CpiContext::new_with_signer(
            accounts.stake_token_program.key(),
            CloseAccount {
                account: accounts.stake_vault.to_account_info(),
                destination: accounts.market_authority.to_account_info(),
                authority: verifier.to_account_info(),
            },
            seeds,
        ))?;

        let event = VerifierClosed {
            market: accounts.market.key(),
            verifier: verifier.key(),
            verifier_authority: accounts.authority.key(),
            stake_returned,
            timestamp: now()?,
        };
        emit_cpi!(event);
        Ok(())
    }
}
