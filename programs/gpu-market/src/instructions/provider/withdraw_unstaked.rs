use crate::{
    constants::*,
    error::MarketError,
    events::UnstakeWithdrawn,
    math::SafeMath,
    provider_signer_seeds,
    state::{Market, Provider},
    utils::{now, require_no_remaining_accounts, transfer_tokens},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[event_cpi]
#[derive(Accounts)]
pub struct WithdrawUnstaked<'info> {
    pub authority: Signer<'info>,

    #[account(
        mut,
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

    #[account(address = market.stake_mint, mint::token_program = stake_token_program)]
    pub stake_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(
        mut,
        seeds = [SEED_STAKE_VAULT, provider.key().as_ref()],
        bump = provider.stake_vault_bump,
    )]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// Any stake-mint account; the provider's owner chooses where its stake goes.
    #[account(
        mut,
        token::mint = stake_mint,
        constraint = destination.key() != stake_vault.key() @ MarketError::DestinationIsVault,
    )]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,

    pub stake_token_program: Interface<'info, TokenInterface>,
}

impl WithdrawUnstaked<'_> {
    fn validate(&self, timestamp: i64) -> Result<()> {
        require!(self.provider.unbonding > 0, MarketError::NoPendingUnstake);
        require!(
            timestamp >= self.provider.unbonding_unlock_at,
            MarketError::UnbondingNotFinished
        );
        require!(
            timestamp >= self.provider.slashable_until,
            MarketError::StakeStillSlashable
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let timestamp = now()?;
        ctx.accounts.validate(timestamp)?;

        let accounts = &mut *ctx.accounts;
        let amount = accounts.provider.unbonding;
        accounts.provider.unbonding = 0;
        accounts.provider.unbonding_unlock_at = 0;
        accounts.provider.invariant()?;
        let counters = &mut accounts.market.counters;
        counters.total_stake = counters.total_stake.safe_sub(amount)?;

        let provider = &accounts.provider;
        transfer_tokens(
            &accounts.stake_token_program,
            &accounts.stake_mint,
            &accounts.stake_vault,
            &*accounts.destination,
            &provider.to_account_info(),
            &[provider_signer_seeds!(provider)],
            amount,
        )?;

        let event = UnstakeWithdrawn {
            market: accounts.market.key(),
            provider: provider.key(),
            amount,
            staked: provider.staked,
            market_total_stake: accounts.market.counters.total_stake,
            timestamp,
        };
        emit_cpi!(event);
        Ok(())
    }
}
