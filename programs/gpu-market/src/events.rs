//! One event per state change, emitted with `emit_cpi!` so it survives log truncation. These structs are
//! the indexer's contract: fields are only ever appended. Amounts are in base units of the mint named in
//! the doc comment; times are unix seconds from the Clock sysvar.

use crate::state::{HardwareSpec, MarketParams, ProviderStatus};
use anchor_lang::prelude::*;

#[event]
pub struct MarketInitialized {
    pub market: Pubkey,
    pub authority: Pubkey,
    pub market_id: u64,
    pub payment_mint: Pubkey,
    pub stake_mint: Pubkey,
    pub treasury: Pubkey,
    pub slash_destination: Pubkey,
    pub params: MarketParams,
    pub timestamp: i64,
}

#[event]
pub struct MarketUpdated {
    pub market: Pubkey,
    pub authority: Pubkey,
    pub treasury: Pubkey,
    pub slash_destination: Pubkey,
    pub params: MarketParams,
    pub timestamp: i64,
}

#[event]
pub struct MarketPauseChanged {
    pub market: Pubkey,
    pub authority: Pubkey,
    pub paused: bool,
    pub timestamp: i64,
}

#[event]
pub struct VerifierAdded {
    pub market: Pubkey,
    pub verifier: Pubkey,
    pub verifier_authority: Pubkey,
    /// Registered verifiers after this change.
    pub verifier_count: u32,
    pub timestamp: i64,
}

#[event]
pub struct VerifierRemoved {
    pub market: Pubkey,
    pub verifier: Pubkey,
    pub verifier_authority: Pubkey,
    /// Registered verifiers after this change.
    pub verifier_count: u32,
    pub timestamp: i64,
}

#[event]
pub struct ProviderRegistered {
    pub market: Pubkey,
    pub provider: Pubkey,
    pub authority: Pubkey,
    pub spec: HardwareSpec,
    /// Payment-mint units per GPU-hour.
    pub price_per_gpu_hour: u64,
    pub endpoint: String,
    pub timestamp: i64,
}

#[event]
pub struct ProviderUpdated {
    pub market: Pubkey,
    pub provider: Pubkey,
    pub authority: Pubkey,
    pub spec: HardwareSpec,
    /// Payment-mint units per GPU-hour.
    pub price_per_gpu_hour: u64,
    pub endpoint: String,
    pub status: ProviderStatus,
    pub timestamp: i64,
}

#[event]
pub struct ProviderHeartbeat {
    pub market: Pubkey,
    pub provider: Pubkey,
    pub gpus_in_use: u16,
    /// Unix time of the previous heartbeat (registration time for the first).
    pub previous_heartbeat_at: i64,
    pub timestamp: i64,
}

#[event]
pub struct ProviderClosed {
    pub market: Pubkey,
    pub provider: Pubkey,
    pub authority: Pubkey,
    pub timestamp: i64,
}

#[event]
pub struct Staked {
    pub market: Pubkey,
    pub provider: Pubkey,
    /// Stake-mint units added.
    pub amount: u64,
    /// Provider's staked amount after this change.
    pub staked: u64,
    /// Market's total stake after this change.
    pub market_total_stake: u64,
    pub timestamp: i64,
}

#[event]
pub struct UnstakeRequested {
    pub market: Pubkey,
    pub provider: Pubkey,
    /// Stake-mint units moved from staked to unbonding.
    pub amount: u64,
    pub staked: u64,
    pub unbonding: u64,
    pub unlock_at: i64,
    pub timestamp: i64,
}

#[event]
pub struct UnstakeCancelled {
    pub market: Pubkey,
    pub provider: Pubkey,
    /// Stake-mint units moved from unbonding back to staked.
    pub amount: u64,
    pub staked: u64,
    pub timestamp: i64,
}

#[event]
pub struct UnstakeWithdrawn {
    pub market: Pubkey,
    pub provider: Pubkey,
    /// Stake-mint units paid out to the provider's wallet.
    pub amount: u64,
    pub staked: u64,
    /// Market's total stake after this change.
    pub market_total_stake: u64,
    pub timestamp: i64,
}
