use crate::{
    constants::*,
    error::MarketError,
    events::{
        CompletionReason, FailureReason, JobCompleted, JobDisputed, JobFailed, ProviderSlashed,
        SampleSeedRecorded, SlashReason, VerdictSubmitted,
    },
    instructions::{crank::record_seed, settle::*, slash::*},
    math::SafeMath,
    state::{JobState, Verdict, Verifier},
    utils::require_no_remaining_accounts,
};
use anchor_lang::{prelude::*, solana_program::sysvar::SysvarId};

/// A registered verifier votes on a submitted (or disputed) result after re-executing the sampled
/// chunks. The vote that reaches the job's quorum (its terms) decides the job: a pass quorum settles it at
/// once; a fail quorum refunds the client in full, slashes the provider at the fraud rate and jails it.
/// A fail vote short of the quorum on a submitted job disputes it, so that the window's end cannot
/// pay a result a verifier found wrong: it then waits for a quorum, a ruling or the dispute default.
/// Every outcome account is present on every vote, since any vote may be the deciding one.
#[event_cpi]
#[derive(Accounts)]
pub struct SubmitVerdict<'info> {
    /// The verifier's wallet; pays the verdict account's rent.
    #[account(mut)]
    pub authority: Signer<'info>,

    pub settle: SettleJob<'info>,

    #[account(
        mut,
        has_one = authority,
        seeds = [SEED_VERIFIER, settle.market.key().as_ref(), authority.key().as_ref()],
        bump = verifier.bump,
    )]
    pub verifier: Box<Account<'info, Verifier>>,

    #[account(
        init_if_needed,
        payer = authority,
        space = 8 + Verdict::INIT_SPACE,
        seeds = [SEED_VERDICT, settle.job.key().as_ref(), verifier.key().as_ref()],
        bump,
    )]
    pub verdict: Box<Account<'info, Verdict>>,

    pub slash: SlashStake<'info>,

    /// CHECK: the SlotHashes sysvar, checked by address and read as raw data.
    #[account(address = SlotHashes::id() @ MarketError::InvalidSlotHashes)]
    pub slot_hashes: UncheckedAccount<'info>,

    pub system_program: Program<'info, System>,
}

impl SubmitVerdict<'_> {
    fn validate(&self, timestamp: i64) -> Result<()> {
        let job = &self.settle.job;
        job.require_under_review(timestamp)?;
        let voter = self.authority.key();
        require!(
            voter != job.client && voter != self.settle.provider.authority,
            MarketError::VerifierIsParty
        );
        let verifier = &self.verifier;
        verifier.require_active()?;
        require!(
            job.serial >= verifier.first_job_serial,
            MarketError::VerifierAddedAfterJob
        );
        // The vote puts the job's bond at risk; it must be there to lose.
        require!(
            verifier.free_stake()? >= job.terms.verifier_bond,
            MarketError::InsufficientVerifierStake
        );
        // A verdict at this address is a second vote on this result: a job with open verdicts
        // cannot be closed, so no verdict outlives the job it was cast on.
        require!(self.verdict.voted_at == 0, MarketError::AlreadyVoted);
        // Checked on every vote, not only on the one that reaches a fail quorum.
        self.slash
            .check(&self.settle.market, &self.settle.provider, job)
    }

    pub fn handler(ctx: Context<Self>, pass: bool, evidence_hash: [u8; 32]) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let timestamp = Clock::get()?.unix_timestamp;
        ctx.accounts.validate(timestamp)?;
        let bump = ctx.bumps.verdict;
        let outcome = ctx.accounts.vote(pass, evidence_hash, bump, timestamp)?;
        if let Some(event) = outcome.seed {
            emit_cpi!(event);
        }
        emit_cpi!(outcome.vote);
        if let Some(event) = outcome.disputed {
            emit_cpi!(event);
        }
        if let Some(event) = outcome.completed {
            emit_cpi!(event);
        }
        if let Some(event) = outcome.failed {
            emit_cpi!(event);
        }
        if let Some(event) = outcome.slashed {
            emit_cpi!(event);
        }
        Ok(())
    }

    /// Records the vote (and the seed, if this is the first), and applies the quorum's decision.
    fn vote(
        &mut self,
        pass: bool,
        evidence_hash: [u8; 32],
        bump: u8,
        timestamp: i64,
    ) -> Result<VoteOutcome> {
        let voter = self.authority.key();
        let mut seed = None;
        if self.settle.job.sample_seed.is_none() {
            seed = Some(record_seed(
                &mut self.settle.job,
                &self.slot_hashes,
                voter,
                timestamp,
            )?);
        }

        let job = &mut self.settle.job;
        if pass {
            job.pass_votes = job.pass_votes.safe_add(1)?;
        } else {
            job.fail_votes = job.fail_votes.safe_add(1)?;
        }
        job.open_verdicts = job.open_verdicts.safe_add(1)?;
        let bond = job.terms.verifier_bond;
        let verifier = &mut self.verifier;
        verifier.votes_cast = verifier.votes_cast.safe_add(1)?;
        verifier.open_verdicts = verifier.open_verdicts.safe_add(1)?;
        verifier.locked = verifier.locked.safe_add(bond)?;
        verifier.invariant()?;
        self.verdict.set_inner(Verdict {
            job: job.key(),
            verifier: verifier.key(),
            authority: voter,
            submitted_slot: job.submitted_slot,
            pass,
            evidence_hash,
            voted_at: timestamp,
            bump,
            bond,
            reserved: [0; 8],
        });
        let quorum = job.terms.verifier_quorum;
        let vote = VerdictSubmitted {
            market: job.market,
            job: job.key(),
            provider: job.provider,
            verifier: verifier.key(),
            pass,
            evidence_hash,
            pass_votes: job.pass_votes,
            fail_votes: job.fail_votes,
            verifier_quorum: quorum,
            verifier_votes_cast: verifier.votes_cast,
            timestamp,
        };

        let mut outcome = VoteOutcome {
            seed,
            vote,
            disputed: None,
            completed: None,
            failed: None,
            slashed: None,
        };
        let settle = &mut self.settle;
        if settle.job.pass_votes >= quorum {
            let (settlement, billed_secs) = settle.complete(timestamp)?;
            outcome.completed = Some(completed_event(
                settle,
                CompletionReason::VerifierQuorum,
                settlement,
                billed_secs,
                timestamp,
            ));
        } else if settle.job.fail_votes >= quorum {
            settle
                .job
                .fail(&mut settle.provider, &mut settle.market, timestamp)?;
            outcome.slashed = self.slash.slash(
                &mut settle.market,
                &mut settle.provider,
                &settle.job,
                SlashReason::Fraud,
                timestamp,
            )?;
            outcome.failed = Some(failed_event(
                &settle.job,
                &settle.provider,
                FailureReason::VerificationFailed,
                voter,
                timestamp,
            ));
        } else if !pass && settle.job.state == JobState::Submitted {
            settle
                .job
                .open_dispute(&mut settle.provider, 0, timestamp)?;
            outcome.disputed = Some(JobDisputed {
                market: settle.market.key(),
                job: settle.job.key(),
                client: settle.job.client,
                provider: settle.provider.key(),
                disputed_by: voter,
                provider_open_disputes: settle.provider.open_disputes,
                bond: 0,
                timestamp,
            });
        }
        Ok(outcome)
    }
}

/// The events of one vote, in the order they are emitted.
struct VoteOutcome {
    seed: Option<SampleSeedRecorded>,
    vote: VerdictSubmitted,
    disputed: Option<JobDisputed>,
    completed: Option<JobCompleted>,
    failed: Option<JobFailed>,
    slashed: Option<ProviderSlashed>,
}
