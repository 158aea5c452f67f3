use crate::{
    constants::*,
    events::VerifierRemoved,
    math::SafeMath,
    state::{Market, Verifier},
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;

/// The market authority stops a verifier from voting, at once. Its account stays until its open
/// verdicts are closed (their bonds settled by the outcome); then the verifier closes it and takes
/// its stake back (`close_verifier`). Removal never touches the verifier's stake.
#[event_cpi]
#[derive(Accounts)]
pub struct RemoveVerifier<'info> {
    pub authority: Signer<'info>,

    #[account(
        mut,
        has_one = authority,
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
}

impl RemoveVerifier<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let timestamp = now()?;
        let accounts = &mut *ctx.accounts;
        accounts.verifier.require_active()?;
        accounts.verifier.removed_at = timestamp;
        let counters = &mut accounts.market.counters;
        counters.verifiers = counters.verifiers.safe_sub(1)?;

        let event = VerifierRemoved {
            market: accounts.market.key(),
            verifier: accounts.verifier.key(),
            verifier_authority: accounts.verifier.authority,
            verifier_count: accounts.market.counters.verifiers,
            timestamp,
        };
        emit_cpi!(event);
        Ok(())
    }
}
