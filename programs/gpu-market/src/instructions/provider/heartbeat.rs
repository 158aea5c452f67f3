use crate::{
    constants::*,
    events::ProviderHeartbeat,
    state::{Market, Provider},
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct Heartbeat<'info> {
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
}

impl Heartbeat<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let timestamp = now()?;
        let provider = &mut ctx.accounts.provider;
        let previous_heartbeat_at = provider.last_heartbeat_at;
        provider.last_heartbeat_at = timestamp;

        let event = ProviderHeartbeat {
            market: provider.market,
            provider: provider.key(),
            gpus_in_use: provider.gpus_in_use,
            previous_heartbeat_at,
            timestamp,
        };
        emit_cpi!(event);
        Ok(())
    }
}
