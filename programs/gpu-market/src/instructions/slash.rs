//! Accounts and logic shared by every instruction that slashes a provider (`expire_job`,
//! `abandon_job`, and a verifier quorum failing a result).

use crate::{
    constants::*,
    error::MarketError,
    events::{ProviderSlashed, SlashReason},
    math::SafeMath,
    provider_signer_seeds,
    settlement::slash_amounts,
    state::{Job, Market, Provider, ProviderStatus},
    utils::{can_receive, transfer_tokens},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

/// The stake-side accounts of a slash. Their addresses are checked against the market and the
/// provider by [`SlashStake::slash`] (a nested account struct cannot see its parent's accounts).
#[derive(Accounts)]
pub struct SlashStake<'info> {
    /// The provider's stake vault.
    #[account(mut)]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// CHECK: the job's slash destination, checked by address in [`SlashStake::check`]. Not
    /// deserialized as a token account: a frozen or closed destination must defer the slash, never
    /// fail the instruction that also owes a client its refund.
    #[account(mut)]
    pub slash_destination: UncheckedAccount<'info>,

    #[account(mint::token_program = stake_token_program)]
    pub stake_mint: Box<InterfaceAccount<'info, Mint>>,

    pub stake_token_program: Interface<'info, TokenInterface>,
}

impl<'info> SlashStake<'info> {
    /// The accounts are the market's, the job's and this provider's: the real stake vault (a
    /// look-alike token account owned by the provider PDA would let a slash come out of an empty
    /// account), the job's slash destination (the market's when the job was created) and the
    /// market's stake mint.
    pub fn check(
        &self,
        market: &Market,
        provider: &Account<'info, Provider>,
        job: &Job,
    ) -> Result<()> {
        require_keys_eq!(
            self.stake_mint.key(),
            market.stake_mint,
            MarketError::WrongMint
        );
        require_keys_eq!(
            self.slash_destination.key(),
            job.terms.slash_destination,
            MarketError::WrongSlashDestination
        );
        let vault = Pubkey::create_program_address(
            &[
                SEED_STAKE_VAULT,
                provider.key().as_ref(),
                &[provider.stake_vault_bump],
            ],
            &crate::ID,
        )
        .map_err(|_| error!(MarketError::WrongStakeVault))?;
        require_keys_eq!(self.stake_vault.key(), vault, MarketError::WrongStakeVault);
        Ok(())
    }

    /// Slashes `provider` for `reason` at the job's rate for it (its terms, fixed at its creation),
    /// sends the stake to the slash destination, jails the provider for fraud, and returns the event
    /// to emit (`None` when nothing changed: a zero rate or no stake, and no jailing).
    pub fn slash(
        &mut self,
        market: &mut Market,
        provider: &mut Account<'info, Provider>,
        job: &Account<'info, Job>,
        reason: SlashReason,
        timestamp: i64,
    ) -> Result<Option<ProviderSlashed>> {
        self.check(market, provider, job)?;
        let terms = &job.terms;
        let rate_bps = match reason {
            SlashReason::NoShow => terms.slash_no_show_bps,
            SlashReason::Abandon => terms.slash_abandon_bps,
            SlashReason::Fraud => terms.slash_fraud_bps,
        };
        let amounts = slash_amounts(
            provider.staked,
            provider.unbonding,
            self.stake_vault.amount.safe_sub(provider.slash_pending)?,
            rate_bps,
        )?;
        let amount = amounts.total()?;
        let jailed = reason == SlashReason::Fraud;
        if amount == 0 && !jailed {
            return Ok(None);
        }

        provider.staked = provider.staked.safe_sub(amounts.from_staked)?;
        provider.unbonding = provider.unbonding.safe_sub(amounts.from_unbonding)?;
        if provider.unbonding == 0 {
            provider.unbonding_unlock_at = 0;
        }
        if jailed {
            provider.status = ProviderStatus::Jailed;
        }
        let deferred = amount > 0
            && !can_receive(
                &self.slash_destination,
                &market.stake_mint,
                &self.stake_token_program.key(),
            );
        if amount > 0 {
            let counters = &mut provider.counters;
            counters.times_slashed = counters.times_slashed.safe_add(1)?;
            counters.total_slashed = counters.total_slashed.safe_add(amount)?;
            let counters = &mut market.counters;
            counters.total_stake = counters.total_stake.safe_sub(amount)?;
            counters.total_slashed = counters.total_slashed.safe_add(amount)?;
        }
        if deferred {
            provider.slash_pending = provider.slash_pending.safe_add(amount)?;
        } else if amount > 0 {
            transfer_tokens(
                &self.stake_token_program,
                &self.stake_mint,
                &self.stake_vault,
                &self.slash_destination,
                &provider.to_account_info(),
                &[provider_signer_seeds!(provider)],
                amount,
            )?;
        }
        provider.invariant()?;

        Ok(Some(ProviderSlashed {
            market: provider.market,
            provider: provider.key(),
            job: job.key(),
            reason,
            amount,
            from_staked: amounts.from_staked,
            from_unbonding: amounts.from_unbonding,
            staked_after: provider.staked,
            unbonding_after: provider.unbonding,
            jailed,
            provider_total_slashed: provider.counters.total_slashed,
            market_total_slashed: market.counters.total_slashed,
            deferred,
            timestamp,
        }))
    }
}
