use crate::{
    constants::*,
    error::MarketError,
    events::PendingSlashPaid,
    provider_signer_seeds,
    state::{Market, Provider},
    utils::{now, require_no_remaining_accounts, transfer_tokens},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

/// Anyone sends a provider's deferred slash (stake slashed while the slash destination could not
/// receive) from its stake vault to the market's slash destination.
#[event_cpi]
#[derive(Accounts)]
pub struct PayPendingSlash<'info> {
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
        seeds = [SEED_PROVIDER, market.key().as_ref(), provider.authority.as_ref()],
        bump = provider.bump,
    )]
    pub provider: Box<Account<'info, Provider>>,

    #[account(
        mut,
        seeds = [SEED_STAKE_VAULT, provider.key().as_ref()],
        bump = provider.stake_vault_bump,
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

impl PayPendingSlash<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let amount = ctx.accounts.provider.slash_pending;
        require!(amount > 0, MarketError::NoPendingSlash);
        let accounts = &mut *ctx.accounts;
        accounts.provider.slash_pending = 0;

        let provider = &accounts.provider;
        transfer_tokens(
            &accounts.stake_token_program,
            &accounts.stake_mint,
            &accounts.stake_vault,
            &*accounts.slash_destination,
            &provider.to_account_info(),
            &[provider_signer_seeds!(provider)],
            amount,
        )?;

        let event = PendingSlashPaid {
            market: accounts.market.key(),
            provider: provider.key(),
            slash_destination: accounts.slash_destination.key(),
            amount,
            actor: accounts.cranker.key(),
            timestamp: now()?,
        };
        emit_cpi!(event);
        Ok(())
    }
}
