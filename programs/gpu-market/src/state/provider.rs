use crate::{constants::*, error::MarketError, state::HardwareSpec};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderStatus {
    /// Accepting new jobs.
    Active,
    /// Paused by its owner: finishes what it holds, takes nothing new.
    Inactive,
    /// Slashed for fraud: takes nothing new until the market authority reinstates it.
    Jailed,
}

#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct ProviderCounters {
    pub jobs_completed: u64,
    pub jobs_failed: u64,
    pub times_slashed: u32,
    /// In stake-mint base units.
    pub total_slashed: u64,
    /// Provider share of settled jobs, in payment-mint base units.
    pub total_earned: u64,
    /// Taken out of the payout vault, in payment-mint base units.
    pub total_claimed: u64,
}

#[account]
#[derive(InitSpace, Debug)]
pub struct Provider {
    pub market: Pubkey,
    pub authority: Pubkey,
    pub spec: HardwareSpec,
    /// Asking price for one GPU for one hour, in payment-mint base units.
    pub price_per_gpu_hour: u64,
    pub status: ProviderStatus,
    /// Stake at risk and counting towards the minimum, in stake-mint base units.
    pub staked: u64,
    /// Stake on its way out; still slashable until withdrawn.
    pub unbonding: u64,
    /// Unix time from which `unbonding` can be withdrawn (0 when nothing is unbonding).
    pub unbonding_unlock_at: i64,
    /// GPUs held by running jobs.
    pub gpus_in_use: u16,
    pub active_jobs: u16,
    pub open_disputes: u16,
    /// Where the provider serves chunk outputs and their Merkle proofs.
    #[max_len(MAX_ENDPOINT_LEN)]
    pub endpoint: String,
    pub counters: ProviderCounters,
    pub registered_at: i64,
    pub last_heartbeat_at: i64,
    pub bump: u8,
    pub stake_vault_bump: u8,
    pub payout_vault_bump: u8,
    /// Stake backing the provider's unsettled jobs (running, submitted, disputed): the sum of
    /// their `Job::locked_stake`. It cannot be unstaked; a slash may leave `staked` below it, and
    /// then no new job starts until the provider stakes more.
    pub locked_stake: u64,
    /// Slashed stake still in the stake vault because the slash destination could not receive it
    /// when the slash happened (frozen or closed); `pay_pending_slash` sends it. Not part of
    /// `staked` or `unbonding`, so the provider can never withdraw it.
    pub slash_pending: u64,
    /// Until when a submitted result of this provider can still be slashed by its own job's terms
    /// (submission + challenge window + twice the dispute timeout, the latest over its results).
    /// Unbonding stake is not withdrawn before it: a job's terms may be longer than the market's
    /// unbonding period is now, and unbonding stake counts in a slash.
    pub slashable_until: i64,
    /// Room for fields added later without a migration.
    pub reserved: [u8; 40],
}

impl Provider {
    pub fn has_work_in_progress(&self) -> bool {
        self.active_jobs > 0 || self.open_disputes > 0
    }

    /// Holds after every instruction that changes a provider; a violation is a program bug, and
    /// failing the transaction is better than persisting it.
    pub fn invariant(&self) -> Result<()> {
        require!(
            (self.unbonding == 0) == (self.unbonding_unlock_at == 0),
            MarketError::InvariantViolated
        );
        require!(
            self.gpus_in_use <= self.spec.gpu_count,
            MarketError::InvariantViolated
        );
        // Stake is locked only by unsettled jobs.
        require!(
            self.active_jobs > 0 || self.locked_stake == 0,
            MarketError::InvariantViolated
        );
        Ok(())
    }

    pub fn require_not_jailed(&self) -> Result<()> {
        require!(
            self.status != ProviderStatus::Jailed,
            MarketError::ProviderJailed
        );
        Ok(())
    }
}

/// Seeds the provider PDA signs with; it is the authority of its stake and payout vaults.
#[macro_export]
macro_rules! provider_signer_seeds {
    ($provider:expr) => {
        &[
            $crate::constants::SEED_PROVIDER,
            $provider.market.as_ref(),
            $provider.authority.as_ref(),
            &[$provider.bump],
        ]
    };
}
