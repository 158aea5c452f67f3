use crate::{
    constants::*,
    error::MarketError,
    events::PayoutClaimed,
    math::SafeMath,
    provider_signer_seeds,
    state::{Market, Provider},
    utils::{now, require_no_remaining_accounts, transfer_tokens},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

/// Pays everything in the provider's payout vault to an account of the owner's choosing.
#[event_cpi]
#[derive(Accounts)]
pub struct ClaimPayout<'info> {
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
        seeds = [SEED_PROVIDER, market.key().as_ref(), authority.key().as_ref()],
        bump = provider.bump,
    )]
    pub provider: Box<Account<'info, Provider>>,

    #[account(
        mut,
        seeds = [SEED_PAYOUT_VAULT, provider.key().as_ref()],
        bump = provider.payout_vault_bump,
    )]
    pub payout_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = market.payment_mint, mint::token_program = payment_token_program)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(
        mut,
        token::mint = payment_mint,
        constraint = destination.key() != payout_vault.key() @ MarketError::DestinationIsVault,
    )]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,

    pub payment_token_program: Interface<'info, TokenInterface>,
}

impl ClaimPayout<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let accounts = &mut *ctx.accounts;
        let amount = accounts.payout_vault.amount;
        require!(amount > 0, MarketError::NothingToClaim);
        let counters = &mut accounts.provider.counters;
        counters.total_claimed = counters.total_claimed.safe_add(amount)?;

        let provider = &accounts.provider;
        transfer_tokens(
            &accounts.payment_token_program,
            &accounts.payment_mint,
            &accounts.payout_vault,
            &*accounts.destination,
            &provider.to_account_info(),
            &[provider_signer_seeds!(provider)],
            amount,
        )?;

        let event = PayoutClaimed {
            market: accounts.market.key(),
            provider: provider.key(),
            amount,
            provider_total_claimed: provider.counters.total_claimed,
            timestamp: now()?,
        };
        emit_cpi!(event);
        Ok(())
    }
}
