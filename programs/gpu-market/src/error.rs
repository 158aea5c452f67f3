use anchor_lang::prelude::*;

/// Append-only: clients and the indexer match on these codes.
#[error_code]
pub enum MarketError {
    // --- arithmetic and generic input ---
    #[msg("Arithmetic overflow or underflow")]
    MathOverflow,
    #[msg("The instruction was given accounts it does not use")]
    UnexpectedRemainingAccounts,
    #[msg("Amount must be greater than zero")]
    ZeroAmount,
    #[msg("An account invariant would be violated (a program bug; nothing was changed)")]
    InvariantViolated,

    // --- market ---
    #[msg("The market is paused: no new providers, stakes or jobs until it is unpaused")]
    MarketPaused,
    #[msg("The market is already paused")]
    MarketAlreadyPaused,
    #[msg("The market is not paused")]
    MarketNotPaused,
    #[msg("Protocol fee is above the maximum")]
    FeeTooHigh,
    #[msg("A slash rate is above 100% or the rates are out of order (abandon <= no-show <= fraud)")]
    InvalidSlashRate,
    #[msg("Minimum stake per GPU must be greater than zero")]
    InvalidMinStake,
    #[msg("A time window is outside its allowed range")]
    InvalidWindow,
    #[msg("Verifier quorum must be between 1 and the maximum")]
    InvalidQuorum,
    #[msg("Sample count must be between 1 and the maximum")]
    InvalidSampleCount,
    #[msg("Mint is not supported: Token-2022 mints may only carry metadata extensions")]
    UnsupportedMint,

    // --- provider ---
    #[msg("GPU count must be between 1 and the maximum")]
    InvalidGpuCount,
    #[msg("VRAM must be between 1 GB and the maximum")]
    InvalidVram,
    #[msg("CPU cores must be between 1 and the maximum")]
    InvalidCpuCores,
    #[msg("RAM must be between 1 GB and the maximum")]
    InvalidRam,
    #[msg("Bandwidth must be between 1 Mbit/s and the maximum")]
    InvalidBandwidth,
    #[msg("Price per GPU-hour must be greater than zero")]
    InvalidPrice,
    #[msg("Endpoint must be an http(s) URL of at most 128 bytes without spaces")]
    InvalidEndpoint,
    #[msg("Provider is jailed and cannot take this action")]
    ProviderJailed,
    #[msg("Provider still has running jobs or open disputes")]
    ProviderBusy,
    #[msg("Provider still holds stake; unstake and withdraw it first")]
    StakeRemaining,
    #[msg("Nothing to update")]
    NothingToUpdate,

    // --- stake ---
    #[msg("Not enough staked tokens")]
    InsufficientStake,
    #[msg(
        "Unstaking this much would leave the provider under the minimum stake while it has work in progress"
    )]
    StakeBelowMinimum,
    #[msg("No unstake is pending")]
    NoPendingUnstake,
    #[msg("The unbonding period has not ended yet")]
    UnbondingNotFinished,
}
