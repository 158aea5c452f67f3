use crate::{
    constants::*,
    error::MarketError,
    math::SafeMath,
    settlement,
    state::{HardwareSpec, Market, Provider, ProviderStatus, Region},
};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    /// Escrowed and waiting for a provider.
    Open,
    /// A provider holds it and is computing.
    Running,
    /// A result is committed; the challenge window is open.
    Submitted,
    /// The client disputed the result; verifiers or the authority decide.
    Disputed,
    /// Settled: the provider was paid for the metered time.
    Completed,
    /// Settled with a full refund: expired, abandoned or failed verification.
    Failed,
    /// Withdrawn by the client before anyone took it; fully refunded.
    Cancelled,
}

impl JobState {
    /// Settled states: the escrow holds only the client's refund, and the job can be closed.
    pub fn is_settled(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

/// The market authority's decision on a dispute that verifiers did not settle.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisputeRuling {
    /// The result stands: settle as if the window had passed.
    PayProvider,
    /// The result is rejected: the client is refunded in full. No slash: only a verifier quorum's
    /// evidence slashes for fraud.
    RefundClient,
}

#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkloadKind {
    /// Seeded integer matrix multiplication; a chunk is a block of output rows.
    Matmul,
    /// Fixed-point ray tracing; a chunk is an image tile.
    Render,
}

/// What the job computes: deterministic from its spec, so verifiers can recompute sampled chunks.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    pub kind: WorkloadKind,
    /// SHA-256 of the workload spec document.
    pub spec_hash: [u8; 32],
    /// Where the spec document can be fetched.
    #[max_len(MAX_SPEC_URI_LEN)]
    pub spec_uri: String,
}

/// Hardware a job needs. Checked on-chain against the provider's registered spec at claim time.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobRequirements {
    pub gpu_count: u16,
    /// Per GPU, in GB.
    pub min_vram_gb: u16,
    /// Bit `m` allows `GpuModel` with discriminant `m`; 0 allows every model.
    pub allowed_gpu_models: u64,
    /// Download bandwidth, in Mbit/s.
    pub min_bandwidth_down_mbps: u32,
    /// Upload bandwidth, in Mbit/s.
    pub min_bandwidth_up_mbps: u32,
    pub region: Option<Region>,
}

impl JobRequirements {
    pub fn validate(&self) -> Result<()> {
        require!(
            (1..=MAX_GPU_COUNT).contains(&self.gpu_count),
            MarketError::InvalidGpuCount
        );
        require!(self.min_vram_gb <= MAX_VRAM_GB, MarketError::InvalidVram);
        require!(
            self.min_bandwidth_down_mbps <= MAX_BANDWIDTH_MBPS
                && self.min_bandwidth_up_mbps <= MAX_BANDWIDTH_MBPS,
            MarketError::InvalidBandwidth
        );
        Ok(())
    }

    /// Whether a machine with `spec` can run this job, with the first reason it cannot.
    pub fn check_match(&self, spec: &HardwareSpec) -> Result<()> {
        require!(
            self.allowed_gpu_models == 0
                || self.allowed_gpu_models & spec.gpu_model.mask_bit() != 0,
            MarketError::GpuModelNotAllowed
        );
        require!(
            spec.vram_gb >= self.min_vram_gb,
            MarketError::InsufficientVram
        );
        require!(
            spec.gpu_count >= self.gpu_count,
            MarketError::InsufficientGpus
        );
        require!(
            spec.bandwidth_down_mbps >= self.min_bandwidth_down_mbps
                && spec.bandwidth_up_mbps >= self.min_bandwidth_up_mbps,
            MarketError::InsufficientBandwidth
        );
        require!(
            self.region.is_none_or(|region| region == spec.region),
            MarketError::WrongRegion
        );
        Ok(())
    }
}

/// A provider's commitment to its output: a Merkle root over `H(chunk_index ‖ H(chunk_output))`.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct ResultCommitment {
    pub merkle_root: [u8; 32],
    pub chunk_count: u32,
    /// SHA-256 of the assembled output.
    pub output_hash: [u8; 32],
    /// Seconds of compute the provider bills, at most the time between start and submission.
    pub metered_secs: u32,
}

/// Where a settled job's escrow went, in payment-mint base units. `provider_share + fee + refund`
/// always equals the deposit.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct Settlement {
    pub provider_share: u64,
    pub fee: u64,
    pub refund: u64,
}

/// The market parameters a job settles on, and where its slashes go, copied from the market when the
/// job is created: an `update_market` applies to jobs created after it, so neither the client's nor
/// the provider's terms move under a live job, and a provider reads them before it takes the job.
/// (No verifier joins a live job either: one may vote only on jobs created after it was added.)
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct JobTerms {
    pub fee_bps: u16,
    pub challenge_window_secs: u32,
    pub dispute_timeout_secs: u32,
    pub dispute_bond_bps: u16,
    pub verifier_quorum: u8,
    pub sample_count: u16,
    pub slash_no_show_bps: u16,
    pub slash_abandon_bps: u16,
    pub slash_fraud_bps: u16,
    /// The stake-mint account this job's slashes are sent to.
    pub slash_destination: Pubkey,
    /// Stake each verifier's vote on this job locks, and loses if a quorum decides against it.
    pub verifier_bond: u64,
}

impl JobTerms {
    pub fn of(market: &Market) -> Self {
        let params = &market.params;
        Self {
            fee_bps: params.fee_bps,
            challenge_window_secs: params.challenge_window_secs,
            dispute_timeout_secs: params.dispute_timeout_secs,
            dispute_bond_bps: params.dispute_bond_bps,
            verifier_quorum: params.verifier_quorum,
            sample_count: params.sample_count,
            slash_no_show_bps: params.slash_no_show_bps,
            slash_abandon_bps: params.slash_abandon_bps,
            slash_fraud_bps: params.slash_fraud_bps,
            slash_destination: market.slash_destination,
            verifier_bond: params.verifier_bond,
        }
    }
}

#[account]
#[derive(InitSpace, Debug)]
pub struct Job {
    pub market: Pubkey,
    pub client: Pubkey,
    /// Client-chosen; distinguishes a client's jobs in the job's address.
    pub nonce: u64,
    /// The provider the client named at creation, if any: only it may take the job.
    pub named_provider: Option<Pubkey>,
    /// The provider account running the job (default until it starts).
    pub provider: Pubkey,
    pub requirements: JobRequirements,
    pub workload: Workload,
    /// Highest price the client accepts, payment-mint units per GPU-hour.
    pub max_price_per_gpu_hour: u64,
    pub max_duration_secs: u32,
    /// Price locked when the job started, payment-mint units per GPU-hour.
    pub price_per_gpu_hour: u64,
    /// Escrowed at creation: `ceil(max_price × gpu_count × max_duration / 3600)`.
    pub deposit: u64,
    pub state: JobState,
    pub created_at: i64,
    pub started_at: i64,
    /// A running job without a result after this can be expired.
    pub deadline: i64,
    pub submitted_at: i64,
    /// Slot of the result submission; the verification sample seed comes from a later slot's hash.
    pub submitted_slot: u64,
    pub settled_at: i64,
    pub result: ResultCommitment,
    pub settlement: Settlement,
    pub pass_votes: u8,
    pub fail_votes: u8,
    /// Seed the verifiers' sample indices derive from; recorded with the first verdict (or earlier
    /// by `record_sample_seed`).
    pub sample_seed: Option<[u8; 32]>,
    pub bump: u8,
    pub escrow_bump: u8,
    /// When the client disputed the result (0 if it did not).
    pub disputed_at: i64,
    /// The slot whose hash the sample seed came from (0 until recorded).
    pub seed_slot: u64,
    /// Stake of the provider's that backs this job from its start until it settles:
    /// `min_stake_per_gpu × gpu_count` at the start, added to `Provider::locked_stake`.
    pub locked_stake: u64,
    /// The market's job count when this job was created (1 for its first job): tells this job from
    /// an earlier one that had the same address (closed, then created again with the same nonce).
    pub serial: u64,
    /// Payment-mint units the client put up to dispute the result (0 if it did not), held in escrow:
    /// the provider's if the result stands, the client's again if it falls.
    pub dispute_bond: u64,
    /// The market parameters this job settles on, fixed at its creation.
    pub terms: JobTerms,
    /// Verdicts on this job not yet closed by `close_verdict` (which settles each vote's bond):
    /// the job cannot be closed before, or a wrong vote's bond would lose the outcome it is judged by.
    pub open_verdicts: u8,
    /// Room for fields added later without a migration.
    pub reserved: [u8; 2],
}

impl Job {
    pub fn require_state(&self, expected: JobState) -> Result<()> {
        require!(self.state == expected, MarketError::InvalidJobState);
        Ok(())
    }

    /// Whether `provider` may take this open job at `price`: named provider, hardware, price, stake
    /// and free capacity. Checked by `place_bid`, and again when a job starts.
    pub fn check_can_start(
        &self,
        provider_key: Pubkey,
        provider: &Provider,
        market: &Market,
        price_per_gpu_hour: u64,
    ) -> Result<()> {
        self.require_state(JobState::Open)?;
        provider.require_not_jailed()?;
        require!(
            provider.status == ProviderStatus::Active,
            MarketError::ProviderNotActive
        );
        require!(
            self.named_provider
                .is_none_or(|named| named == provider_key),
            MarketError::NotTheNamedProvider
        );
        self.requirements.check_match(&provider.spec)?;
        require!(
            price_per_gpu_hour <= self.max_price_per_gpu_hour,
            MarketError::PriceAboveMaximum
        );
        let gpus = self.requirements.gpu_count;
        // Stake backs every unsettled job at once, not each one alone.
        let locked_after = provider
            .locked_stake
            .safe_add(self.stake_to_lock(market)?)?;
        require!(
            provider.staked >= locked_after,
            MarketError::InsufficientStake
        );
        require!(
            provider.gpus_in_use.safe_add(gpus)? <= provider.spec.gpu_count,
            MarketError::NoFreeCapacity
        );
        Ok(())
    }

    /// Hands an open job to `provider` at `price` (`claim_job`, `accept_bid`).
    pub fn start(
        &mut self,
        provider_key: Pubkey,
        provider: &mut Provider,
        market: &Market,
        price_per_gpu_hour: u64,
        now: i64,
    ) -> Result<()> {
        self.check_can_start(provider_key, provider, market, price_per_gpu_hour)?;
        self.locked_stake = self.stake_to_lock(market)?;
        provider.locked_stake = provider.locked_stake.safe_add(self.locked_stake)?;
        provider.gpus_in_use = provider.gpus_in_use.safe_add(self.requirements.gpu_count)?;
        provider.active_jobs = provider.active_jobs.safe_add(1)?;
        self.provider = provider_key;
        self.price_per_gpu_hour = price_per_gpu_hour;
        self.state = JobState::Running;
        self.started_at = now;
        self.deadline = now.safe_add(i64::from(self.max_duration_secs))?;
        Ok(())
    }

    /// Stake this job locks when it starts, at the market's minimum per GPU of that moment.
    fn stake_to_lock(&self, market: &Market) -> Result<u64> {
        market
            .params
            .min_stake_per_gpu
            .safe_mul(u64::from(self.requirements.gpu_count))
    }

    /// Called by every settlement: the job's stake no longer backs anything.
    pub fn unlock_stake(&self, provider: &mut Provider) -> Result<()> {
        provider.locked_stake = provider.locked_stake.safe_sub(self.locked_stake)?;
        Ok(())
    }

    /// Settles a running job with a full refund (expired, abandoned) and frees the provider.
    pub fn fail_running(
        &mut self,
        provider: &mut Provider,
        market: &mut Market,
        now: i64,
    ) -> Result<()> {
        self.require_state(JobState::Running)?;
        provider.gpus_in_use = provider.gpus_in_use.safe_sub(self.requirements.gpu_count)?;
        self.fail(provider, market, now)
    }

    /// Marks the job failed and owed back in full. The refund stays in escrow until `close_job`.
    pub fn fail(&mut self, provider: &mut Provider, market: &mut Market, now: i64) -> Result<()> {
        self.close_dispute(provider)?;
        self.unlock_stake(provider)?;
        provider.active_jobs = provider.active_jobs.safe_sub(1)?;
        provider.counters.jobs_failed = provider.counters.jobs_failed.safe_add(1)?;
        market.counters.jobs_failed = market.counters.jobs_failed.safe_add(1)?;
        self.state = JobState::Failed;
        // A dispute bond goes back with the deposit: the result it disputed fell.
        self.settlement = settlement::full_refund(self.deposit.safe_add(self.dispute_bond)?);
        self.settled_at = now;
        Ok(())
    }

    /// A result can be verified or disputed: submitted and inside its challenge window, or disputed
    /// (a dispute keeps it open to verifiers until it is decided).
    pub fn require_under_review(&self, now: i64) -> Result<()> {
        match self.state {
            JobState::Submitted => {
                let window_ends = self.challenge_window_ends()?;
                require!(now < window_ends, MarketError::ChallengeWindowClosed);
                Ok(())
            }
            JobState::Disputed => Ok(()),
            _ => err!(MarketError::InvalidJobState),
        }
    }

    /// From this time on the market authority may rule on the job's dispute (`resolve_dispute`).
    pub fn ruling_opens(&self) -> Result<i64> {
        self.disputed_at
            .safe_add(i64::from(self.terms.dispute_timeout_secs))
    }

    /// From this time on anyone may settle the job's dispute by its default (`settle_dispute`): one
    /// more dispute timeout after the ruling opened, so the authority always has a full timeout to
    /// rule, and no provider's pay or stake stays frozen longer than twice the timeout.
    pub fn dispute_default_opens(&self) -> Result<i64> {
        self.ruling_opens()?
            .safe_add(i64::from(self.terms.dispute_timeout_secs))
    }

    pub fn challenge_window_ends(&self) -> Result<i64> {
        self.submitted_at
            .safe_add(i64::from(self.terms.challenge_window_secs))
    }

    /// Moves a submitted job to `Disputed`: by the client (`dispute_result`, with its bond) or by a
    /// verifier's fail vote short of the quorum (bond 0). From then on the job settles only by a
    /// verifier quorum, the market authority's ruling or the dispute default, never optimistically.
    pub fn open_dispute(&mut self, provider: &mut Provider, bond: u64, now: i64) -> Result<()> {
        self.require_state(JobState::Submitted)?;
        self.state = JobState::Disputed;
        self.disputed_at = now;
        self.dispute_bond = bond;
        provider.open_disputes = provider.open_disputes.safe_add(1)?;
        Ok(())
    }

    /// How a verifier quorum decided this job's result, if one did: `Some(true)` when the result
    /// passed, `Some(false)` when it failed. `None` for every other settlement (the window's end,
    /// the client's acceptance, the authority's ruling, the dispute default, a seed expiry) and
    /// for an unsettled job. Votes stop when a job settles, so at most one side reaches the quorum.
    pub fn quorum_decision(&self) -> Option<bool> {
        let quorum = self.terms.verifier_quorum;
        if !self.state.is_settled() {
            None
        } else if self.pass_votes >= quorum {
            Some(true)
        } else if self.fail_votes >= quorum {
            Some(false)
        } else {
            None
        }
    }

    /// The provider's open-dispute count goes down when a disputed job is decided.
    pub fn close_dispute(&self, provider: &mut Provider) -> Result<()> {
        if self.state == JobState::Disputed {
            provider.open_disputes = provider.open_disputes.safe_sub(1)?;
        }
        Ok(())
    }
}

/// Seeds the job PDA signs with; it is the authority of its escrow vault.
#[macro_export]
macro_rules! job_signer_seeds {
    ($job:expr, $nonce_bytes:expr) => {
        &[
            $crate::constants::SEED_JOB,
            $job.market.as_ref(),
            $job.client.as_ref(),
            $nonce_bytes,
            &[$job.bump],
        ]
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::GpuModel;

    fn spec() -> HardwareSpec {
        HardwareSpec {
            gpu_model: GpuModel::Rtx4090,
            gpu_count: 4,
            vram_gb: 24,
            cpu_cores: 32,
            ram_gb: 128,
            bandwidth_up_mbps: 500,
            bandwidth_down_mbps: 1_000,
            region: Region::Europe,
        }
    }

    fn needs() -> JobRequirements {
        JobRequirements {
            gpu_count: 2,
            min_vram_gb: 24,
            allowed_gpu_models: GpuModel::Rtx4090.mask_bit() | GpuModel::A100.mask_bit(),
            min_bandwidth_down_mbps: 1_000,
            min_bandwidth_up_mbps: 100,
            region: Some(Region::Europe),
        }
    }

    fn refusal(r: JobRequirements) -> Option<Error> {
        r.check_match(&spec()).err()
    }

    #[test]
    fn a_fitting_machine_matches() {
        assert!(needs().check_match(&spec()).is_ok());
        let any = JobRequirements {
            allowed_gpu_models: 0,
            region: None,
            ..needs()
        };
        assert!(any.check_match(&spec()).is_ok());
    }

    #[test]
    fn each_shortfall_has_its_reason() {
        let cases = [
            (
                JobRequirements {
                    allowed_gpu_models: GpuModel::H100.mask_bit(),
                    ..needs()
                },
                MarketError::GpuModelNotAllowed,
            ),
            (
                JobRequirements {
                    min_vram_gb: 25,
                    ..needs()
                },
                MarketError::InsufficientVram,
            ),
            (
                JobRequirements {
                    gpu_count: 5,
                    ..needs()
                },
                MarketError::InsufficientGpus,
            ),
            (
                JobRequirements {
                    min_bandwidth_down_mbps: 1_001,
                    ..needs()
                },
                MarketError::InsufficientBandwidth,
            ),
            (
                JobRequirements {
                    min_bandwidth_up_mbps: 501,
                    ..needs()
                },
                MarketError::InsufficientBandwidth,
            ),
            (
                JobRequirements {
                    region: Some(Region::AsiaPacific),
                    ..needs()
                },
                MarketError::WrongRegion,
            ),
        ];
        for (requirements, expected) in cases {
            assert_eq!(
                refusal(requirements),
                Some(expected.into()),
                "{requirements:?}"
            );
        }
    }
}
