use crate::{
    constants::*,
    error::MarketError,
    events::SampleSeedRecorded,
    math::SafeMath,
    state::{Job, JobState, Market},
    utils::require_no_remaining_accounts,
    verification::{self, SeedSlot},
};
use anchor_lang::{prelude::*, solana_program::sysvar::SysvarId};

/// Anyone records a submitted job's sample seed once its seed slot has passed, so verifiers can read
/// it from the job before they do their work. The first verdict records it too if nobody did.
#[event_cpi]
#[derive(Accounts)]
pub struct RecordSampleSeed<'info> {
    /// Whoever cranks it; recorded in the event.
    pub cranker: Signer<'info>,

    #[account(
        seeds = [SEED_MARKET, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,

    #[account(
        mut,
        has_one = market,
        seeds = [SEED_JOB, job.market.as_ref(), job.client.as_ref(), &job.nonce.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,

    /// CHECK: the SlotHashes sysvar, checked by address and read as raw data (it is too large to
    /// deserialize on-chain).
    #[account(address = SlotHashes::id() @ MarketError::InvalidSlotHashes)]
    pub slot_hashes: UncheckedAccount<'info>,
}

impl RecordSampleSeed<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let clock = Clock::get()?;
        let accounts = &mut *ctx.accounts;
        // Also after the challenge window: a submitted job settles only with its seed recorded.
        require!(
            matches!(accounts.job.state, JobState::Submitted | JobState::Disputed),
            MarketError::InvalidJobState
        );
        require!(
            accounts.job.sample_seed.is_none(),
            MarketError::SampleSeedAlreadyRecorded
        );
        let event = record_seed(
            &mut accounts.job,
            &accounts.slot_hashes,
            accounts.cranker.key(),
            clock.unix_timestamp,
        )?;
        emit_cpi!(event);
        Ok(())
    }
}

/// Derives the job's sample seed from the SlotHashes entry of its seed slot (see
/// [`verification::seed_slot_hash`]) and stores it on the job.
pub fn record_seed(
    job: &mut Account<Job>,
    slot_hashes: &AccountInfo,
    actor: Pubkey,
    timestamp: i64,
) -> Result<SampleSeedRecorded> {
    let target = job.submitted_slot.safe_add(SAMPLE_SEED_DELAY_SLOTS)?;
    let data = slot_hashes.try_borrow_data()?;
    let (seed_slot, slot_hash) = match verification::seed_slot_hash(&data, target)
        .map_err(|_| error!(MarketError::InvalidSlotHashes))?
    {
        SeedSlot::Ready(slot, hash) => (slot, hash),
        SeedSlot::NotReady => return err!(MarketError::SampleSeedNotReady),
        SeedSlot::Expired => return err!(MarketError::SampleSeedExpired),
    };
    let seed = verification::sample_seed(&slot_hash, &job.key().to_bytes());
    job.sample_seed = Some(seed);
    job.seed_slot = seed_slot;
    Ok(SampleSeedRecorded {
        market: job.market,
        job: job.key(),
        seed_slot,
        sample_seed: seed,
        actor,
        timestamp,
    })
}
