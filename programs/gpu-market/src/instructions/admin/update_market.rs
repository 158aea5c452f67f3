use crate::{
    constants::*,
    events::MarketUpdated,
    state::{Market, MarketParams},
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

/// Replaces the market's parameters as a whole (clients read, change and send back), so that the
/// validated set is always consistent.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct UpdateMarketArgs {
    pub params: MarketParams,
}

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateMarket<'info> {
    pub authority: Signer<'info>,

    #[account(
        mut,
        has_one = authority,
        seeds = [SEED_MARKET, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,

    /// Where fees go from now on (may be the current one).
    #[account(token::mint = market.payment_mint)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,

    /// Where slashed stake goes from now on (may be the current one).
    #[account(token::mint = market.stake_mint)]
    pub slash_destination: Box<InterfaceAccount<'info, TokenAccount>>,
}

impl UpdateMarket<'_> {
    pub fn handler(ctx: Context<Self>, args: UpdateMarketArgs) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        args.params.validate()?;
        let timestamp = now()?;

        let accounts = &mut *ctx.accounts;
        let market = &mut accounts.market;
        market.params = args.params;
        market.treasury = accounts.treasury.key();
        market.slash_destination = accounts.slash_destination.key();

        let event = MarketUpdated {
            market: market.key(),
            authority: accounts.authority.key(),
            treasury: market.treasury,
            slash_destination: market.slash_destination,
            params: market.params,
            timestamp,
        };
        emit_cpi!(event);
        Ok(())
    }
}
