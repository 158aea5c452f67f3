use crate::{error::MarketError, math::SafeMath};
use anchor_lang::prelude::*;

#[account]
#[derive(InitSpace, Debug)]
pub struct Verifier {
    pub market: Pubkey,
    pub authority: Pubkey,
    pub added_at: i64,
    pub votes_cast: u64,
    pub bump: u8,
    /// The serial of the first job this verifier may vote on: the market's next job when it was
    /// added. A job's verifiers are those registered before it was created, so a verifier added
    /// later (the market authority itself, say) cannot decide a live job.
    pub first_job_serial: u64,
    /// When the market authority removed it (0 while it may vote). A removed verifier votes no
    /// more, but its open verdicts are still settled, and only then can it close and take its stake.
    pub removed_at: i64,
    pub stake_vault_bump: u8,
    /// Stake in its stake vault that is the verifier's, in stake-mint base units.
    pub staked: u64,
    /// Part of `staked` held by its open verdicts (the sum of their bonds): not withdrawable.
    pub locked: u64,
    /// Verdicts not yet closed by `close_verdict`.
    pub open_verdicts: u32,
    /// Slashed stake still in the stake vault because the slash destination could not receive it
    /// (`pay_verifier_pending_slash` sends it). Not part of `staked`.
    pub slash_pending: u64,
    pub times_slashed: u32,
    /// In stake-mint base units.
    pub total_slashed: u64,
    /// Room for fields added later without a migration.
    pub reserved: [u8; 24],
}

impl Verifier {
    /// Stake not held by an open verdict: what a new vote may lock, and what may be withdrawn.
    pub fn free_stake(&self) -> Result<u64> {
        self.staked.safe_sub(self.locked)
    }

    pub fn require_active(&self) -> Result<()> {
        require!(self.removed_at == 0, MarketError::VerifierWasRemoved);
        Ok(())
    }

    /// Holds after every instruction that changes a verifier; a violation is a program bug.
    pub fn invariant(&self) -> Result<()> {
        require!(self.locked <= self.staked, MarketError::InvariantViolated);
        require!(
            self.open_verdicts > 0 || self.locked == 0,
            MarketError::InvariantViolated
        );
        Ok(())
    }
}

/// Seeds the verifier PDA signs with; it is the authority of its stake vault.
#[macro_export]
macro_rules! verifier_signer_seeds {
    ($verifier:expr) => {
        &[
            $crate::constants::SEED_VERIFIER,
            $verifier.market.as_ref(),
            $verifier.authority.as_ref(),
            &[$verifier.bump],
        ]
    };
}
