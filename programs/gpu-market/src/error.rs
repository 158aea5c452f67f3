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
        "Unstaking this much would leave less staked than the provider's unsettled jobs lock (min stake per GPU x their GPUs)"
    )]
    StakeBelowMinimum,
    #[msg("No unstake is pending")]
    NoPendingUnstake,
    #[msg("The unbonding period has not ended yet")]
    UnbondingNotFinished,

    // --- jobs ---
    #[msg("The job is not in a state that allows this")]
    InvalidJobState,
    #[msg("Maximum duration must be between 1 second and 30 days")]
    InvalidDuration,
    #[msg("Workload spec URI must be 1 to 200 bytes")]
    InvalidSpecUri,
    #[msg("The job's deposit would be zero or overflow")]
    InvalidDeposit,
    #[msg("The provider's GPU model is not one the job allows")]
    GpuModelNotAllowed,
    #[msg("The provider's GPUs have less memory than the job needs")]
    InsufficientVram,
    #[msg("The provider has fewer GPUs than the job needs")]
    InsufficientGpus,
    #[msg("The provider's bandwidth is below the job's minimum")]
    InsufficientBandwidth,
    #[msg("The provider is not in the job's region")]
    WrongRegion,
    #[msg("The price is above the job's maximum")]
    PriceAboveMaximum,
    #[msg("The provider does not have enough free GPUs")]
    NoFreeCapacity,
    #[msg("The provider is not accepting jobs")]
    ProviderNotActive,
    #[msg("The job was posted for another provider")]
    NotTheNamedProvider,
    #[msg("The provider is not the one running this job")]
    WrongProvider,
    #[msg("The job's deadline has passed")]
    DeadlinePassed,
    #[msg("The job's deadline has not passed yet")]
    DeadlineNotReached,
    #[msg("Metered time is longer than the time since the job started")]
    MeteredTimeExceedsElapsed,
    #[msg("Chunk count must be between 1 and 2^24")]
    InvalidChunkCount,
    #[msg("The challenge window is still open")]
    ChallengeWindowOpen,
    #[msg("The bid is not for this job")]
    BidJobMismatch,
    #[msg("Nothing to claim")]
    NothingToClaim,
    #[msg("The signer is not this job's client")]
    NotTheJobClient,
    #[msg("The treasury account is not the market's")]
    WrongTreasury,

    // --- verification, disputes and slashing ---
    #[msg("The challenge window has closed")]
    ChallengeWindowClosed,
    #[msg("The slot whose hash seeds the verification sample has not been reached yet")]
    SampleSeedNotReady,
    #[msg("The sample seed is already recorded")]
    SampleSeedAlreadyRecorded,
    #[msg("This verifier has already voted on this result")]
    AlreadyVoted,
    #[msg("A verifier cannot vote on a job it is the client or the provider of")]
    VerifierIsParty,
    #[msg("The dispute timeout has not passed yet")]
    DisputeTimeoutNotReached,
    #[msg("The provider is not jailed")]
    ProviderNotJailed,
    #[msg("The stake vault is not this provider's")]
    WrongStakeVault,
    #[msg("The slash destination is not the market's")]
    WrongSlashDestination,
    #[msg("The mint is not the market's")]
    WrongMint,
    #[msg("The account is not the SlotHashes sysvar, or its data is malformed")]
    InvalidSlotHashes,
    #[msg("The signer is not the market's authority")]
    NotMarketAuthority,
    #[msg("The destination cannot be the vault the tokens come out of")]
    DestinationIsVault,
    #[msg(
        "The sample seed was not recorded while its slot's hash was in SlotHashes: the result can no longer be verified, and expire_sample_seed fails it"
    )]
    SampleSeedExpired,
    #[msg(
        "The sample seed has not been recorded: record it (record_sample_seed) before the job can settle"
    )]
    SampleSeedNotRecorded,
    #[msg("The sample seed is recorded or can still be recorded: this job can be verified")]
    SampleSeedNotExpired,
    #[msg("The provider has no slashed stake waiting to be sent")]
    NoPendingSlash,
    #[msg(
        "Slashed stake is still waiting in the stake vault: send it with pay_pending_slash first"
    )]
    SlashPending,

    // --- bids ---
    #[msg("A bid's expiry must be later than now")]
    InvalidBidExpiry,
    #[msg("The bid was placed on an earlier job at this address, which has since been closed")]
    BidForEarlierJob,
    #[msg("The bid has expired")]
    BidExpired,
    #[msg(
        "The bid's price is not the price the client accepted: it was withdrawn and placed again"
    )]
    BidPriceChanged,

    // --- dispute bonds and defaults ---
    #[msg("The dispute bond must be at most 10,000 basis points of the deposit")]
    InvalidDisputeBond,
    #[msg(
        "The dispute is not past twice its timeout yet: verifiers may still decide it, and then the market authority"
    )]
    DisputeDefaultNotReached,

    // --- terms fixed per job ---
    #[msg(
        "This verifier was added after the job was created: a job's verifiers are those registered before it"
    )]
    VerifierAddedAfterJob,
    #[msg(
        "A submitted result can still be challenged or disputed under its job's terms (Provider::slashable_until): unbonding stake stays until then"
    )]
    StakeStillSlashable,

    // --- verifier stake ---
    #[msg(
        "The verifier's free stake is below the job's verifier bond: stake more, or wait for open verdicts to close"
    )]
    InsufficientVerifierStake,
    #[msg("The verifier was removed from the market and votes no more")]
    VerifierWasRemoved,
    #[msg("Only a removed verifier can close its account")]
    VerifierNotRemoved,
    #[msg(
        "Verdicts on this job (or of this verifier) are still open: close them first with close_verdict"
    )]
    VerdictsOpen,
    #[msg("That much of the verifier's stake is locked by open verdicts")]
    VerifierStakeLocked,
    #[msg("The verifier bond must be more than zero: a vote must put stake at risk")]
    InvalidVerifierBond,
}
