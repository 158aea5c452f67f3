//! One event per state change, emitted with `emit_cpi!` so it survives log truncation. These structs are
//! the indexer's contract: fields are only ever appended. Amounts are in base units of the mint named in
//! the doc comment; times are unix seconds from the Clock sysvar.

use crate::state::{
    DisputeRuling, HardwareSpec, Job, JobRequirements, JobTerms, MarketParams, Provider,
    ProviderStatus, ResultCommitment, Settlement, WorkloadKind,
};
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
    /// The first job it may vote on (jobs created from now on).
    pub first_job_serial: u64,
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

#[event]
pub struct JobCreated {
    pub market: Pubkey,
    pub job: Pubkey,
    pub client: Pubkey,
    pub nonce: u64,
    pub named_provider: Option<Pubkey>,
    pub requirements: JobRequirements,
    pub workload_kind: WorkloadKind,
    pub spec_hash: [u8; 32],
    /// Payment-mint units per GPU-hour.
    pub max_price_per_gpu_hour: u64,
    pub max_duration_secs: u32,
    /// Payment-mint units escrowed.
    pub deposit: u64,
    pub timestamp: i64,
    /// The market parameters the job settles on, fixed now.
    pub terms: JobTerms,
}

#[event]
pub struct JobCancelled {
    pub market: Pubkey,
    pub job: Pubkey,
    pub client: Pubkey,
    /// Payment-mint units owed back to the client (the whole deposit).
    pub refund: u64,
    pub timestamp: i64,
}

#[event]
pub struct BidPlaced {
    pub market: Pubkey,
    pub job: Pubkey,
    pub bid: Pubkey,
    pub provider: Pubkey,
    /// Payment-mint units per GPU-hour.
    pub price_per_gpu_hour: u64,
    pub timestamp: i64,
    /// The bid cannot be accepted from this time on (unix seconds).
    pub expires_at: i64,
}

#[event]
pub struct BidWithdrawn {
    pub market: Pubkey,
    pub job: Pubkey,
    pub bid: Pubkey,
    pub provider: Pubkey,
    pub timestamp: i64,
}

/// A provider took the job, by claiming it or by the client accepting its bid.
#[event]
pub struct JobStarted {
    pub market: Pubkey,
    pub job: Pubkey,
    pub client: Pubkey,
    pub provider: Pubkey,
    /// The accepted bid, when the job started through the auction.
    pub bid: Option<Pubkey>,
    /// Locked price, payment-mint units per GPU-hour.
    pub price_per_gpu_hour: u64,
    pub gpu_count: u16,
    pub deadline: i64,
    /// GPUs the provider has in use after this.
    pub provider_gpus_in_use: u16,
    pub timestamp: i64,
    /// Stake this job locks until it settles, in stake-mint base units.
    pub locked_stake: u64,
    /// Stake locked by all of the provider's unsettled jobs after this.
    pub provider_locked_stake: u64,
}

impl JobStarted {
    /// The event of a job that has just started (`claim_job`, `accept_bid`), read back from it.
    pub fn of(
        job: &Account<Job>,
        provider: &Account<Provider>,
        bid: Option<Pubkey>,
        timestamp: i64,
    ) -> Self {
        Self {
            market: job.market,
            job: job.key(),
            client: job.client,
            provider: provider.key(),
            bid,
            price_per_gpu_hour: job.price_per_gpu_hour,
            gpu_count: job.requirements.gpu_count,
            deadline: job.deadline,
            provider_gpus_in_use: provider.gpus_in_use,
            locked_stake: job.locked_stake,
            provider_locked_stake: provider.locked_stake,
            timestamp,
        }
    }
}

#[event]
pub struct ResultSubmitted {
    pub market: Pubkey,
    pub job: Pubkey,
    pub provider: Pubkey,
    pub result: ResultCommitment,
    pub submitted_slot: u64,
    /// Unix time after which anyone can finalize the job.
    pub challenge_ends_at: i64,
    pub timestamp: i64,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionReason {
    /// The client accepted the result before the window ended.
    AcceptedByClient,
    /// The challenge window passed without a dispute.
    ChallengeWindowPassed,
    /// A quorum of verifiers passed the result.
    VerifierQuorum,
    /// The market authority ruled for the provider on a dispute that verifiers left open.
    AuthorityRuling,
    /// Neither verifiers nor the market authority decided the dispute by twice its timeout: the
    /// result stands by default (`settle_dispute`).
    DisputeUnanswered,
}

#[event]
pub struct JobCompleted {
    pub market: Pubkey,
    pub job: Pubkey,
    pub client: Pubkey,
    pub provider: Pubkey,
    pub reason: CompletionReason,
    /// Billed seconds: the metered time capped at the maximum duration.
    pub billed_secs: u32,
    /// Payment-mint units: provider share + fee + refund = deposit.
    pub settlement: Settlement,
    pub provider_jobs_completed: u64,
    pub provider_total_earned: u64,
    pub market_total_volume: u64,
    pub market_total_fees: u64,
    pub timestamp: i64,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureReason {
    /// The deadline passed without a result (no-show).
    Expired,
    /// The provider gave the job up.
    Abandoned,
    /// A quorum of verifiers failed the result.
    VerificationFailed,
    /// The market authority ruled for the client on a dispute that verifiers left open.
    AuthorityRuling,
    /// Nobody recorded the sample seed while it could be recorded, so the result can no longer be
    /// verified; settled as a failed verification (see `expire_sample_seed`).
    SampleSeedExpired,
}

#[event]
pub struct JobFailed {
    pub market: Pubkey,
    pub job: Pubkey,
    pub client: Pubkey,
    pub provider: Pubkey,
    pub reason: FailureReason,
    /// Who sent the transaction (a crank for expiries, the provider for abandons).
    pub actor: Pubkey,
    /// Payment-mint units owed back to the client (the whole deposit).
    pub refund: u64,
    pub provider_jobs_failed: u64,
    pub timestamp: i64,
}

#[event]
pub struct JobClosed {
    pub market: Pubkey,
    pub job: Pubkey,
    pub client: Pubkey,
    /// Payment-mint units paid back to the client.
    pub refund: u64,
    pub timestamp: i64,
}

#[event]
pub struct PayoutClaimed {
    pub market: Pubkey,
    pub provider: Pubkey,
    /// Payment-mint units paid out.
    pub amount: u64,
    pub provider_total_claimed: u64,
    pub timestamp: i64,
}

#[event]
pub struct SampleSeedRecorded {
    pub market: Pubkey,
    pub job: Pubkey,
    /// The slot whose hash the seed was derived from.
    pub seed_slot: u64,
    pub sample_seed: [u8; 32],
    /// Who sent the transaction.
    pub actor: Pubkey,
    pub timestamp: i64,
}

#[event]
pub struct VerdictSubmitted {
    pub market: Pubkey,
    pub job: Pubkey,
    pub provider: Pubkey,
    /// The Verifier account.
    pub verifier: Pubkey,
    pub pass: bool,
    pub evidence_hash: [u8; 32],
    /// Tallies after this vote.
    pub pass_votes: u8,
    pub fail_votes: u8,
    pub verifier_quorum: u8,
    pub verifier_votes_cast: u64,
    pub timestamp: i64,
}

#[event]
pub struct VerdictClosed {
    pub job: Pubkey,
    pub verdict: Pubkey,
    pub authority: Pubkey,
    /// Lamports of rent returned to the verifier's wallet.
    pub rent_returned: u64,
    pub timestamp: i64,
    /// The Verifier account that voted.
    pub verifier: Pubkey,
    pub pass: bool,
    /// How a verifier quorum decided the job (see `Job::quorum_decision`); `None`: nobody is slashed.
    pub quorum_decision: Option<bool>,
    /// Stake-mint units the vote had locked, now released (less `slashed`).
    pub bond: u64,
    /// Taken from the verifier's stake: its bond, when it voted against the quorum's decision.
    pub slashed: u64,
    /// The slash stays in the verifier's stake vault until `pay_verifier_pending_slash`: the slash
    /// destination could not receive it.
    pub slash_deferred: bool,
    /// The verifier's stake and its locked part after this.
    pub verifier_staked: u64,
    pub verifier_locked: u64,
    /// Anyone may close a settled job's verdict; recorded here.
    pub actor: Pubkey,
}

#[event]
pub struct VerifierStaked {
    pub market: Pubkey,
    pub verifier: Pubkey,
    pub amount: u64,
    /// The verifier's stake after this.
    pub staked: u64,
    pub timestamp: i64,
}

#[event]
pub struct VerifierStakeWithdrawn {
    pub market: Pubkey,
    pub verifier: Pubkey,
    pub amount: u64,
    /// The verifier's stake and its locked part after this.
    pub staked: u64,
    pub locked: u64,
    pub timestamp: i64,
}

#[event]
pub struct VerifierClosed {
    pub market: Pubkey,
    pub verifier: Pubkey,
    pub verifier_authority: Pubkey,
    /// Stake-mint units returned to the verifier.
    pub stake_returned: u64,
    pub timestamp: i64,
}

#[event]
pub struct VerifierPendingSlashPaid {
    pub market: Pubkey,
    pub verifier: Pubkey,
    pub slash_destination: Pubkey,
    pub amount: u64,
    pub actor: Pubkey,
    pub timestamp: i64,
}

#[event]
pub struct JobDisputed {
    pub market: Pubkey,
    pub job: Pubkey,
    pub client: Pubkey,
    pub provider: Pubkey,
    pub provider_open_disputes: u16,
    pub timestamp: i64,
    /// Payment-mint units the client put up, held in the job's escrow until the dispute is decided.
    pub bond: u64,
    /// Who contested the result: the client (`dispute_result`), or a verifier's wallet whose fail
    /// vote fell short of the quorum.
    pub disputed_by: Pubkey,
}

#[event]
pub struct DisputeResolved {
    pub market: Pubkey,
    pub job: Pubkey,
    pub authority: Pubkey,
    pub ruling: DisputeRuling,
    pub timestamp: i64,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlashReason {
    /// A running job expired without a result.
    NoShow,
    /// The provider abandoned a running job.
    Abandon,
    /// A quorum of verifiers failed the provider's result.
    Fraud,
}

#[event]
pub struct ProviderSlashed {
    pub market: Pubkey,
    pub provider: Pubkey,
    pub job: Pubkey,
    pub reason: SlashReason,
    /// Stake-mint units taken from the provider (`from_staked + from_unbonding`), sent to the
    /// market's slash destination unless `deferred`.
    pub amount: u64,
    pub from_staked: u64,
    pub from_unbonding: u64,
    pub staked_after: u64,
    pub unbonding_after: u64,
    /// Whether the provider is now jailed (fraud).
    pub jailed: bool,
    pub provider_total_slashed: u64,
    pub market_total_slashed: u64,
    /// The slash destination could not receive (frozen or closed): the amount stays in the stake
    /// vault as the provider's `slash_pending` until `pay_pending_slash` sends it.
    pub deferred: bool,
    pub timestamp: i64,
}

#[event]
pub struct PendingSlashPaid {
    pub market: Pubkey,
    pub provider: Pubkey,
    pub slash_destination: Pubkey,
    pub amount: u64,
    pub actor: Pubkey,
    pub timestamp: i64,
}

#[event]
pub struct ProviderReinstated {
    pub market: Pubkey,
    pub provider: Pubkey,
    pub authority: Pubkey,
    pub timestamp: i64,
}
