use crate::{constants::*, error::MarketError};
use anchor_lang::prelude::*;

/// The tunable economics and timing of a market. Validated as a whole whenever it is set.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketParams {
    /// Protocol fee on a job's cost, in basis points.
    pub fee_bps: u16,
    /// Stake a provider must hold per GPU a job uses, in stake-mint base units.
    pub min_stake_per_gpu: u64,
    /// Seconds between `request_unstake` and `withdraw_unstaked`.
    pub unbonding_period_secs: u32,
    /// Seconds after a result is submitted during which it can be verified or disputed.
    pub challenge_window_secs: u32,
    /// Seconds a dispute may stay open before the market authority may resolve it.
    pub dispute_timeout_secs: u32,
    /// Seconds between provider heartbeats the agent aims for; uptime is measured against it.
    pub heartbeat_interval_secs: u32,
    /// Matching verifier votes needed to pass or fail a result.
    pub verifier_quorum: u8,
    /// Chunks each verifier re-executes.
    pub sample_count: u16,
    /// Slash on a running job that expires without a result, in basis points of the provider's stake.
    pub slash_no_show_bps: u16,
    /// Slash on a job the provider abandons, in basis points of the provider's stake.
    pub slash_abandon_bps: u16,
    /// Slash on a result the verifiers fail, in basis points of the provider's stake.
    pub slash_fraud_bps: u16,
    /// Bond a client puts up to dispute a result, in basis points of the job's deposit (rounded
    /// up): paid to the provider if the result stands, returned to the client if it falls.
    pub dispute_bond_bps: u16,
    /// Stake a verifier's vote puts at risk, in stake-mint base units: locked from the vote until
    /// `close_verdict`, and slashed there if a verifier quorum decided the job the other way.
    pub verifier_bond: u64,
}

impl MarketParams {
    /// The [`recommended`] parameters with the given minimum stake per GPU (its value depends on
    /// the stake token's).
    pub fn recommended(min_stake_per_gpu: u64) -> Self {
        Self {
            fee_bps: recommended::FEE_BPS,
            min_stake_per_gpu,
            unbonding_period_secs: recommended::UNBONDING_PERIOD_SECS,
            challenge_window_secs: recommended::CHALLENGE_WINDOW_SECS,
            dispute_timeout_secs: recommended::DISPUTE_TIMEOUT_SECS,
            heartbeat_interval_secs: recommended::HEARTBEAT_INTERVAL_SECS,
            verifier_quorum: recommended::VERIFIER_QUORUM,
            sample_count: recommended::SAMPLE_COUNT,
            slash_no_show_bps: recommended::SLASH_NO_SHOW_BPS,
            slash_abandon_bps: recommended::SLASH_ABANDON_BPS,
            slash_fraud_bps: recommended::SLASH_FRAUD_BPS,
            dispute_bond_bps: recommended::DISPUTE_BOND_BPS,
            // A wrong vote costs what backs one GPU of a provider's job: the same order of
            // stake as the result it lets through or blocks.
            verifier_bond: min_stake_per_gpu,
        }
    }

    pub fn validate(&self) -> Result<()> {
        require!(self.fee_bps <= MAX_FEE_BPS, MarketError::FeeTooHigh);
        require!(self.min_stake_per_gpu > 0, MarketError::InvalidMinStake);
        require!(
            (MIN_CHALLENGE_WINDOW_SECS..=MAX_CHALLENGE_WINDOW_SECS)
                .contains(&self.challenge_window_secs),
            MarketError::InvalidWindow
        );
        require!(
            (self.challenge_window_secs..=MAX_DISPUTE_TIMEOUT_SECS)
                .contains(&self.dispute_timeout_secs),
            MarketError::InvalidWindow
        );
        // Unbonding must outlast every way a submitted result can still be slashed: its challenge
        // window, then a dispute's timeout and the default after it. Otherwise a cheater could
        // withdraw stake requested at submission before being caught.
        let slashable_after_submission =
            u64::from(self.challenge_window_secs) + 2 * u64::from(self.dispute_timeout_secs);
        require!(
            (slashable_after_submission..=u64::from(MAX_UNBONDING_PERIOD_SECS))
                .contains(&u64::from(self.unbonding_period_secs)),
            MarketError::InvalidWindow
        );
        require!(
            (MIN_HEARTBEAT_INTERVAL_SECS..=MAX_HEARTBEAT_INTERVAL_SECS)
                .contains(&self.heartbeat_interval_secs),
            MarketError::InvalidWindow
        );
        require!(
            (1..=MAX_VERIFIER_QUORUM).contains(&self.verifier_quorum),
            MarketError::InvalidQuorum
        );
        require!(
            (1..=MAX_SAMPLE_COUNT).contains(&self.sample_count),
            MarketError::InvalidSampleCount
        );
        require!(
            self.slash_fraud_bps <= MAX_SLASH_BPS
                && self.slash_no_show_bps <= self.slash_fraud_bps
                && self.slash_abandon_bps <= self.slash_no_show_bps,
            MarketError::InvalidSlashRate
        );
        require!(
            self.dispute_bond_bps <= MAX_DISPUTE_BOND_BPS,
            MarketError::InvalidDisputeBond
        );
        // A vote that risks nothing would make a verifier's word free again.
        require!(self.verifier_bond > 0, MarketError::InvalidVerifierBond);
        Ok(())
    }
}

/// Running totals of a market, for dashboards and sanity checks.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct MarketCounters {
    pub providers: u32,
    pub verifiers: u32,
    pub jobs_created: u64,
    pub jobs_completed: u64,
    pub jobs_failed: u64,
    /// Stake held by all providers (staked + unbonding), in stake-mint base units.
    pub total_stake: u64,
    /// Job cost settled to providers and treasury, in payment-mint base units.
    pub total_volume: u64,
    /// Fees sent to the treasury, in payment-mint base units.
    pub total_fees: u64,
    /// Stake slashed, in stake-mint base units.
    pub total_slashed: u64,
}

#[account]
#[derive(InitSpace, Debug)]
pub struct Market {
    pub authority: Pubkey,
    /// Lets one authority run several markets (one per GPU class, say).
    pub market_id: u64,
    pub payment_mint: Pubkey,
    pub stake_mint: Pubkey,
    /// Payment-mint token account that receives protocol fees.
    pub treasury: Pubkey,
    /// Stake-mint token account that receives slashed stake.
    pub slash_destination: Pubkey,
    pub params: MarketParams,
    pub paused: bool,
    pub counters: MarketCounters,
    pub created_at: i64,
    pub bump: u8,
    /// Room for fields added later without a migration.
    pub reserved: [u8; 64],
}

impl Market {
    pub fn require_not_paused(&self) -> Result<()> {
        require!(!self.paused, MarketError::MarketPaused);
        Ok(())
    }
}
