use crate::{
    constants::*,
    error::MarketError,
    events::Staked,
    math::SafeMath,
    state::{Market, Provider},
    utils::{now, require_no_remaining_accounts, transfer_tokens},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[event_cpi]
#[derive(Accounts)]
pub struct Stake<'info> {
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

    /// The wallet's stake-mint account the tokens come from.
    #[account(mut, token::mint = stake_mint, token::authority = authority)]
    pub source: Box<InterfaceAccount<'info, TokenAccount>>,

    pub stake_token_program: Interface<'info, TokenInterface>,
}

impl Stake<'_> {
    pub fn handler(ctx: Context<Self>, amount: u64) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        require!(amount > 0, MarketError::ZeroAmount);
        ctx.accounts.market.require_not_paused()?;

        let accounts = &mut *ctx.accounts;
        accounts.provider.staked = accounts.provider.staked.safe_add(amount)?;
        accounts.provider.invariant()?;
        let counters = &mut accounts.market.counters;
        counters.total_stake = counters.total_stake.safe_add(amount)?;

        transfer_tokens(
            &accounts.stake_token_program,
            &accounts.stake_mint,
            &accounts.source,
            &*accounts.stake_vault,
            &accounts.authority.to_account_info(),
            &[],
            amount,
        )?;

        let event = Staked {
            market: accounts.market.key(),
            provider: accounts.provider.key(),
            amount,
            staked: accounts.provider.staked,
            market_total_stake: accounts.market.counters.total_stake,
            timestamp: now()?,
        };
        emit_cpi!(event);
        Ok(())
    }
}
