use crate::{
    constants::*,
    error::MarketError,
    events::ProviderClosed,
    math::SafeMath,
    provider_signer_seeds,
    state::{Market, Provider},
    utils::{now, require_no_remaining_accounts, transfer_tokens},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, CloseAccount, Mint, TokenAccount, TokenInterface};

/// Leaves the market: sends whatever the vaults still hold (unclaimed payouts, tokens someone sent to
/// the stake vault) to the owner's accounts, closes both vaults and the provider account, and returns
/// all their rent to the owner. Refused while jobs run or stake is still bonded or unbonding.
#[event_cpi]
#[derive(Accounts)]
pub struct CloseProvider<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,

    #[account(
        mut,
        seeds = [SEED_MARKET, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,

    #[account(
        mut,
        close = authority,
        has_one = authority,
        has_one = market,
        seeds = [SEED_PROVIDER, market.key().as_ref(), authority.key().as_ref()],
        bump = provider.bump,
    )]
    pub provider: Box<Account<'info, Provider>>,

    #[account(address = market.stake_mint, mint::token_program = stake_token_program)]
    pub stake_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(address = market.payment_mint, mint::token_program = payment_token_program)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(
        mut,
        seeds = [SEED_STAKE_VAULT, provider.key().as_ref()],
        bump = provider.stake_vault_bump,
    )]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(
        mut,
        seeds = [SEED_PAYOUT_VAULT, provider.key().as_ref()],
        bump = provider.payout_vault_bump,
    )]
    pub payout_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// Receives any stake-mint tokens left in the stake vault.
    #[account(
        mut,
        token::mint = stake_mint,
        constraint = stake_destination.key() != stake_vault.key() @ MarketError::DestinationIsVault,
    )]
    pub stake_destination: Box<InterfaceAccount<'info, TokenAccount>>,

    /// Receives unclaimed payouts.
    #[account(
        mut,
        token::mint = payment_mint,
        constraint = payout_destination.key() != payout_vault.key() @ MarketError::DestinationIsVault,
    )]
    pub payout_destination: Box<InterfaceAccount<'info, TokenAccount>>,

    pub stake_token_program: Interface<'info, TokenInterface>,
    pub payment_token_program: Interface<'info, TokenInterface>,
}

impl CloseProvider<'_> {
    fn validate(&self) -> Result<()> {
        require!(
            !self.provider.has_work_in_progress(),
            MarketError::ProviderBusy
        );
        require!(
            self.provider.staked == 0 && self.provider.unbonding == 0,
            MarketError::StakeRemaining
        );
        // The vault's whole balance goes to the owner below; a pending slash is not theirs.
        require!(self.provider.slash_pending == 0, MarketError::SlashPending);
        self.provider.require_not_jailed()
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        ctx.accounts.validate()?;

        let accounts = &mut *ctx.accounts;
        let counters = &mut accounts.market.counters;
        counters.providers = counters.providers.safe_sub(1)?;

        let provider = &accounts.provider;
        let seeds: &[&[&[u8]]] = &[provider_signer_seeds!(provider)];
        let provider_info = provider.to_account_info();
        for (vault, mint, destination, token_program) in [
            (
                &accounts.stake_vault,
                &accounts.stake_mint,
                &accounts.stake_destination,
                &accounts.stake_token_program,
            ),
            (
                &accounts.payout_vault,
                &accounts.payment_mint,
                &accounts.payout_destination,
                &accounts.payment_token_program,
            ),
        ] {
            if vault.amount > 0 {
                transfer_tokens(
                    token_program,
                    mint,
                    vault,
                    &**destination,
                    &provider_info,
                    seeds,
                    vault.amount,
                )?;
            }
            token_interface::close_account(CpiContext::new_with_signer(
                token_program.key(),
                CloseAccount {
                    account: vault.to_account_info(),
                    destination: accounts.authority.to_account_info(),
                    authority: provider_info.clone(),
                },
                seeds,
            ))?;
        }

        let event = ProviderClosed {
            market: accounts.market.key(),
            provider: provider.key(),
            authority: accounts.authority.key(),
            timestamp: now()?,
        };
        emit_cpi!(event);
        Ok(())
    }
}
