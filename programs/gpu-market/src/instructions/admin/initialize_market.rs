use crate::{
    constants::*,
    events::MarketInitialized,
    state::{Market, MarketCounters, MarketParams},
    utils::{now, require_no_remaining_accounts, require_supported_mint},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InitializeMarketArgs {
    pub market_id: u64,
    pub params: MarketParams,
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: InitializeMarketArgs)]
pub struct InitializeMarket<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,

    #[account(
        init,
        payer = authority,
        space = 8 + Market::INIT_SPACE,
        seeds = [SEED_MARKET, authority.key().as_ref(), &args.market_id.to_le_bytes()],
        bump,
    )]
    pub market: Box<Account<'info, Market>>,

    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,

    pub stake_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(token::mint = payment_mint)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(token::mint = stake_mint)]
    pub slash_destination: Box<InterfaceAccount<'info, TokenAccount>>,

    pub system_program: Program<'info, System>,
}

impl InitializeMarket<'_> {
    fn validate(&self, args: &InitializeMarketArgs) -> Result<()> {
        args.params.validate()?;
        require_supported_mint(&self.payment_mint)?;
        require_supported_mint(&self.stake_mint)
    }

    pub fn handler(ctx: Context<Self>, args: InitializeMarketArgs) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        ctx.accounts.validate(&args)?;
        let timestamp = now()?;

        let accounts = &mut *ctx.accounts;
        accounts.market.set_inner(Market {
            authority: accounts.authority.key(),
            market_id: args.market_id,
            payment_mint: accounts.payment_mint.key(),
            stake_mint: accounts.stake_mint.key(),
            treasury: accounts.treasury.key(),
            slash_destination: accounts.slash_destination.key(),
            params: args.params,
            paused: false,
            counters: MarketCounters::default(),
            created_at: timestamp,
            bump: ctx.bumps.market,
            reserved: [0; 64],
        });

        let event = MarketInitialized {
            market: accounts.market.key(),
            authority: accounts.authority.key(),
            market_id: args.market_id,
            payment_mint: accounts.payment_mint.key(),
            stake_mint: accounts.stake_mint.key(),
            treasury: accounts.treasury.key(),
            slash_destination: accounts.slash_destination.key(),
            params: args.params,
            timestamp,
        };
        emit_cpi!(event);
        Ok(())
    }
}
