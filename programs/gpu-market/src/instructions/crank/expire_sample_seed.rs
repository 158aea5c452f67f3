use crate::{
    constants::*,
    error::MarketError,
    events::{FailureReason, SlashReason},
    instructions::{settle::failed_event, slash::*},
    math::SafeMath,
    state::{Job, JobState, Market, Provider},
    utils::{now, require_no_remaining_accounts},
    verification::{self, SeedSlot},
};
use anchor_lang::{prelude::*, solana_program::sysvar::SysvarId};

/// Anyone fails a submitted or disputed job whose sample seed was never recorded and no longer can
/// be (its seed slot has aged out of SlotHashes). The result can no longer be verified, and a
/// provider that kept a seed sampling its fakes from being recorded must not come out better than
/// one that was caught: the client is owed its whole deposit and the provider is slashed at the
/// fraud rate and jailed, exactly as for a failed verification. The provider's agent records the
/// seed itself as soon as it exists, so an honest provider never gets here.
#[event_cpi]
#[derive(Accounts)]
pub struct ExpireSampleSeed<'info> {
    /// Whoever cranks it; recorded in the event.
    pub cranker: Signer<'info>,

    #[account(
        mut,
        seeds = [SEED_MARKET, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,

    #[account(
        mut,
        has_one = market,
        has_one = provider @ MarketError::WrongProvider,
        seeds = [SEED_JOB, job.market.as_ref(), job.client.as_ref(), &job.nonce.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,

    #[account(
        mut,
        seeds = [SEED_PROVIDER, market.key().as_ref(), provider.authority.as_ref()],
        bump = provider.bump,
    )]
    pub provider: Box<Account<'info, Provider>>,

    pub slash: SlashStake<'info>,

    /// CHECK: the SlotHashes sysvar, checked by address and read as raw data.
    #[account(address = SlotHashes::id() @ MarketError::InvalidSlotHashes)]
    pub slot_hashes: UncheckedAccount<'info>,
}

impl ExpireSampleSeed<'_> {
    fn validate(&self) -> Result<()> {
        let job = &self.job;
        require!(
            matches!(job.state, JobState::Submitted | JobState::Disputed),
            MarketError::InvalidJobState
        );
        require!(job.sample_seed.is_none(), MarketError::SampleSeedNotExpired);
        let target = job.submitted_slot.safe_add(SAMPLE_SEED_DELAY_SLOTS)?;
        let data = self.slot_hashes.try_borrow_data()?;
        let seed_slot = verification::seed_slot_hash(&data, target)
            .map_err(|_| error!(MarketError::InvalidSlotHashes))?;
        require!(
            seed_slot == SeedSlot::Expired,
            MarketError::SampleSeedNotExpired
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let timestamp = now()?;
        ctx.accounts.validate()?;
        let accounts = &mut *ctx.accounts;
        accounts
            .job
            .fail(&mut accounts.provider, &mut accounts.market, timestamp)?;
        let slashed = accounts.slash.slash(
            &mut accounts.market,
            &mut accounts.provider,
            &accounts.job,
            SlashReason::Fraud,
            timestamp,
        )?;
        accounts.provider.invariant()?;

        let event = failed_event(
            &accounts.job,
            &accounts.provider,
            FailureReason::SampleSeedExpired,
            accounts.cranker.key(),
            timestamp,
        );
        emit_cpi!(event);
        if let Some(event) = slashed {
            emit_cpi!(event);
        }
        Ok(())
    }
}
