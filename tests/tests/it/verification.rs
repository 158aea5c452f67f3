//! Compute proofs: the sample seed, verifier votes and their quorum, disputes, slashing and jail.

use anchor_lang::error::ErrorCode as Anchor;
use gpu_market::{
    DisputeRuling, MarketParams,
    constants::SAMPLE_SEED_DELAY_SLOTS,
    error::MarketError,
    events::{
        CompletionReason, DisputeResolved, FailureReason, JobCompleted, JobDisputed, JobFailed,
        ProviderReinstated, ProviderSlashed, SampleSeedRecorded, SlashReason, VerdictClosed,
        VerdictSubmitted,
    },
    pda::{find_verdict_address, find_verifier_address},
    state::{Job, JobState, JobTerms, Market, Provider, ProviderStatus, Verdict, Verifier},
    verification,
};
use gpu_market_tests::{Chain, TestContext, fixtures::*, ix, ix::MarketKeys};
use solana_sdk::{
    pubkey::Pubkey,
    signature::Keypair,
    signer::Signer,
    sysvar::{clock, slot_hashes},
};

/// A market whose quorum is 2, three registered verifiers, a provider with 300 tokens staked (the
/// minimum for its 2 GPUs is 200) and a client.
struct World {
    ctx: TestContext,
    f: MarketFixture,
    m: MarketKeys,
    p: ProviderFixture,
    c: ClientFixture,
    verifiers: [Keypair; 3],
}

const STAKED: u64 = 300 * ONE_STAKE;
/// The recommended verifier bond under the default parameters: one GPU's minimum stake.
const BOND: u64 = 100 * ONE_STAKE;
const METERED: u32 = 600;
/// The recommended dispute bond: 10% of a job's 2 USDC deposit.
const DISPUTE_BOND: u64 = 200_000;
/// What the provider earns for `METERED` seconds, after the fee.
const PROVIDER_SHARE: u64 = 130_000;

async fn world() -> World {
    let mut ctx = TestContext::new().await;
    let f = MarketFixture::new(&mut ctx).await;
    let m = f.keys;
    let p = ProviderFixture::staked(&mut ctx, &m, 300, 300).await;
    let c = ClientFixture::new(&mut ctx, &m, 100).await;
    let mut verifiers = vec![];
    for _ in 0..3 {
        verifiers.push(
            VerifierFixture::staked(&mut ctx, &m, &f.authority)
                .await
                .authority,
        );
    }
    let verifiers = verifiers.try_into().expect("three verifiers");
    World {
        ctx,
        f,
        m,
        p,
        c,
        verifiers,
    }
}

impl World {
    /// Posts job `nonce`, lets the provider run it for 600 s and submit; returns the job and its
    /// submission slot.
    async fn submitted(&mut self, nonce: u64) -> (JobKeys, u64) {
        let j = self.c.post(&mut self.ctx, &self.m, job_args(nonce)).await;
        let claim = ix::claim_job(&self.m, &self.p.key(), &j.job);
        self.ctx.ok(&[claim], &[&self.p.authority]).await;
        self.ctx.advance_time(i64::from(METERED)).await;
        let submit = ix::submit_result(&self.m, &self.p.key(), &j.job, result_of(METERED));
        self.ctx.ok(&[submit], &[&self.p.authority]).await;
        let job: Job = self.ctx.anchor_account(&j.job).await;
        (j, job.submitted_slot)
    }

    /// A submitted job whose seed slot has passed.
    async fn ready(&mut self, nonce: u64) -> JobKeys {
        let (j, _) = self.submitted(nonce).await;
        self.ctx.advance_slots(SAMPLE_SEED_DELAY_SLOTS + 1).await;
        j
    }

    fn vote(
        &self,
        verifier: usize,
        job: &JobKeys,
        pass: bool,
    ) -> solana_sdk::instruction::Instruction {
        ix::submit_verdict(
            &self.m,
            &self.verifiers[verifier].pubkey(),
            &job.job,
            &self.p.provider,
            pass,
            [verifier as u8 + 1; 32],
        )
    }

    /// Every account a verdict, dispute or slash may touch.
    fn watched(&self, job: &JobKeys) -> Vec<Pubkey> {
        let mut keys = vec![
            job.job,
            job.escrow_vault,
            self.m.market,
            self.p.provider,
            self.p.payout_vault,
            self.p.stake_vault,
            self.m.treasury,
            self.m.slash_destination,
        ];
        for v in &self.verifiers {
            let verifier = self.m.verifier(&v.pubkey());
            keys.push(verifier);
            keys.push(find_verdict_address(&job.job, &verifier).0);
        }
        keys
    }

    async fn provider(&mut self) -> Provider {
        self.ctx.anchor_account(&self.p.provider).await
    }

    async fn job(&mut self, job: &JobKeys) -> Job {
        self.ctx.anchor_account(&job.job).await
    }
}

#[tokio::test]
async fn the_sample_seed_comes_from_a_slot_after_the_submission() {
    let mut w = world().await;
    let (j, submitted_slot) = w.submitted(1).await;
    let record = ix::record_sample_seed(&w.m, &w.c.key(), &j.job);
    let watched = w.watched(&j);

    // In the seed slot itself: its hash does not exist until the slot is over.
    w.ctx.advance_slots(SAMPLE_SEED_DELAY_SLOTS).await;
    w.ctx
        .fails_with(
            std::slice::from_ref(&record),
            &[&w.c.authority],
            MarketError::SampleSeedNotReady,
            &watched,
        )
        .await;
    // A vote before then is refused the same way.
    w.ctx
        .fails_with(
            &[w.vote(0, &j, true)],
            &[&w.verifiers[0]],
            MarketError::SampleSeedNotReady,
            &watched,
        )
        .await;

    // Another account in place of the SlotHashes sysvar.
    let fake = ix::replace_account(record.clone(), &slot_hashes::ID, &clock::ID);
    w.ctx
        .fails_with(
            &[fake],
            &[&w.c.authority],
            MarketError::InvalidSlotHashes,
            &watched,
        )
        .await;

    // The seed slot is now in the sysvar: the seed is derived from its hash and the job's address.
    w.ctx.advance_slots(1).await;
    let out = w
        .ctx
        .ok(std::slice::from_ref(&record), &[&w.c.authority])
        .await;
    let recorded: SampleSeedRecorded = out.event();
    let target = submitted_slot + SAMPLE_SEED_DELAY_SLOTS;
    assert_eq!(recorded.seed_slot, target);
    let sysvar = w.ctx.account(&slot_hashes::ID).await.expect("SlotHashes");
    let verification::SeedSlot::Ready(slot, hash) =
        verification::seed_slot_hash(&sysvar.data, target).expect("well-formed")
    else {
        panic!("the seed slot is in SlotHashes");
    };
    assert_eq!(slot, target);
    let expected = verification::sample_seed(&hash, &j.job.to_bytes());
    assert_eq!(recorded.sample_seed, expected);
    let job = w.job(&j).await;
    assert_eq!((job.sample_seed, job.seed_slot), (Some(expected), target));
    // Different jobs sample different chunks.
    assert_ne!(
        expected,
        verification::sample_seed(&hash, &Pubkey::new_unique().to_bytes())
    );

    // Recorded once; the first verdict then leaves it alone.
    w.ctx.advance_slots(3).await;
    w.ctx
        .fails_with(
            &[record],
            &[&w.c.authority],
            MarketError::SampleSeedAlreadyRecorded,
            &watched,
        )
        .await;
    let out = w.ctx.ok(&[w.vote(0, &j, true)], &[&w.verifiers[0]]).await;
    assert!(out.events_of::<SampleSeedRecorded>().is_empty());
    assert_eq!(w.job(&j).await.sample_seed, Some(expected));
}

#[tokio::test]
async fn a_pass_quorum_settles_before_the_window_ends() {
    let mut w = world().await;
    let j = w.ready(1).await;

    // The first vote records the seed and counts; the job waits for the quorum.
    let out = w.ctx.ok(&[w.vote(0, &j, true)], &[&w.verifiers[0]]).await;
    let recorded: SampleSeedRecorded = out.event();
    assert_eq!(recorded.actor, w.verifiers[0].pubkey());
    let vote: VerdictSubmitted = out.event();
    assert_eq!(
        (
            vote.pass,
            vote.pass_votes,
            vote.fail_votes,
            vote.verifier_quorum
        ),
        (true, 1, 0, 2)
    );
    assert!(out.events_of::<JobCompleted>().is_empty());
    let job = w.job(&j).await;
    assert_eq!((job.state, job.pass_votes), (JobState::Submitted, 1));
    let verifier0 = w.m.verifier(&w.verifiers[0].pubkey());
    let verdict: Verdict = w
        .ctx
        .anchor_account(&find_verdict_address(&j.job, &verifier0).0)
        .await;
    assert_eq!(
        (
            verdict.job,
            verdict.verifier,
            verdict.pass,
            verdict.evidence_hash
        ),
        (j.job, verifier0, true, [1; 32])
    );
    assert_eq!(verdict.submitted_slot, job.submitted_slot);

    // The verdict's rent stays locked while the vote can still count.
    let v0 = w.verifiers[0].pubkey();
    let close = ix::close_verdict(&w.m, &v0, &v0, &j.job);
    let watched = w.watched(&j);
    w.ctx
        .fails_with(
            std::slice::from_ref(&close),
            &[&w.verifiers[0]],
            MarketError::InvalidJobState,
            &watched,
        )
        .await;

    // A dissenting vote does not decide anything (it disputes the result, which only a quorum, a
    // ruling or the dispute default then settles); the second pass does, long before the window ends.
    w.ctx.ok(&[w.vote(1, &j, false)], &[&w.verifiers[1]]).await;
    assert_eq!(w.job(&j).await.state, JobState::Disputed);
    let out = w.ctx.ok(&[w.vote(2, &j, true)], &[&w.verifiers[2]]).await;
    let completed: JobCompleted = out.event();
    assert_eq!(completed.reason, CompletionReason::VerifierQuorum);
    // 0.40 × 2 GPUs × 600 s = 0.133333; fee 2.5% = 3_333; refund = 2.00 − 0.133333.
    assert_eq!(completed.billed_secs, METERED);
    assert_eq!(
        (
            completed.settlement.provider_share,
            completed.settlement.fee,
            completed.settlement.refund
        ),
        (130_000, 3_333, 2 * ONE_USDC - 133_333)
    );
    assert_eq!(w.ctx.token_balance(&w.p.payout_vault).await, 130_000);
    assert_eq!(w.ctx.token_balance(&w.m.treasury).await, 3_333);
    let job = w.job(&j).await;
    assert_eq!(
        (job.state, job.pass_votes, job.fail_votes),
        (JobState::Completed, 2, 1)
    );
    // Settled: anyone closes the verdicts (the client here). The verifier takes its rent back, even
    // after it has been removed, and its bond is free again: it voted with the quorum.
    let verdict_address = find_verdict_address(&j.job, &verifier0).0;
    let rent = w.ctx.lamports(&verdict_address).await;
    let wallet = w.ctx.lamports(&v0).await;
    w.ctx
        .ok(&[ix::remove_verifier(&w.m, &v0)], &[&w.f.authority])
        .await;
    let client = w.c.key();
    let by_client = ix::close_verdict(&w.m, &client, &v0, &j.job);
    let out = w.ctx.ok(&[by_client], &[&w.c.authority]).await;
    let closed: VerdictClosed = out.event();
    assert_eq!(
        (
            closed.rent_returned,
            closed.quorum_decision,
            closed.bond,
            closed.slashed
        ),
        (rent, Some(true), BOND, 0)
    );
    assert!(w.ctx.account(&verdict_address).await.is_none());
    assert_eq!(w.ctx.lamports(&v0).await, wallet + rent);
    let verifier: Verifier = w.ctx.anchor_account(&verifier0).await;
    assert_eq!(
        (verifier.staked, verifier.locked, verifier.open_verdicts),
        (VERIFIER_STAKE * ONE_STAKE, 0, 0)
    );

    // The dissenting verifier voted against the quorum's decision: its bond goes to the slash
    // destination, the rest of its stake stays.
    let v1 = w.verifiers[1].pubkey();
    let dissenter = w.m.verifier(&v1);
    let vault = w.m.verifier_stake_vault(&v1);
    let destination = w.ctx.token_balance(&w.m.slash_destination).await;
    let out = w
        .ctx
        .ok(
            &[ix::close_verdict(&w.m, &client, &v1, &j.job)],
            &[&w.c.authority],
        )
        .await;
    let closed: VerdictClosed = out.event();
    assert_eq!(
        (closed.pass, closed.slashed, closed.slash_deferred),
        (false, BOND, false)
    );
    assert_eq!(
        w.ctx.token_balance(&w.m.slash_destination).await,
        destination + BOND
    );
    assert_eq!(
        w.ctx.token_balance(&vault).await,
        VERIFIER_STAKE * ONE_STAKE - BOND
    );
    let verifier: Verifier = w.ctx.anchor_account(&dissenter).await;
    assert_eq!(
        (verifier.staked, verifier.locked, verifier.times_slashed),
        (VERIFIER_STAKE * ONE_STAKE - BOND, 0, 1)
    );

    // Passing costs the provider nothing.
    let provider = w.provider().await;
    assert_eq!(
        (provider.staked, provider.status),
        (STAKED, ProviderStatus::Active)
    );
    assert_eq!(w.ctx.token_balance(&w.p.stake_vault).await, STAKED);
}

#[tokio::test]
async fn a_fail_quorum_refunds_the_client_slashes_the_provider_and_jails_it() {
    let mut w = world().await;
    let j = w.ready(1).await;
    // 100 of the 300 tokens are on their way out: slashing still reaches them.
    w.ctx
        .ok(
            &[ix::request_unstake(&w.m, &w.p.key(), 100 * ONE_STAKE)],
            &[&w.p.authority],
        )
        .await;

    w.ctx.ok(&[w.vote(0, &j, false)], &[&w.verifiers[0]]).await;
    let out = w.ctx.ok(&[w.vote(1, &j, false)], &[&w.verifiers[1]]).await;
    let failed: JobFailed = out.event();
    assert_eq!(
        (failed.reason, failed.refund, failed.actor),
        (
            FailureReason::VerificationFailed,
            2 * ONE_USDC,
            w.verifiers[1].pubkey()
        )
    );
    // Fraud rate 50% of 300 tokens = 150, all of it from the 200 still staked.
    let slashed: ProviderSlashed = out.event();
    assert_eq!(slashed.reason, SlashReason::Fraud);
    assert_eq!(
        (
            slashed.amount,
            slashed.from_staked,
            slashed.from_unbonding,
            slashed.jailed
        ),
        (150 * ONE_STAKE, 150 * ONE_STAKE, 0, true)
    );
    assert_eq!(
        w.ctx.token_balance(&w.m.slash_destination).await,
        150 * ONE_STAKE
    );
    assert_eq!(w.ctx.token_balance(&w.p.stake_vault).await, 150 * ONE_STAKE);
    let provider = w.provider().await;
    assert_eq!(
        (provider.staked, provider.unbonding, provider.status),
        (50 * ONE_STAKE, 100 * ONE_STAKE, ProviderStatus::Jailed)
    );
    assert_eq!(
        (
            provider.active_jobs,
            provider.counters.jobs_failed,
            provider.counters.times_slashed,
            provider.counters.total_slashed
        ),
        (0, 1, 1, 150 * ONE_STAKE)
    );
    let market: Market = w.ctx.anchor_account(&w.m.market).await;
    assert_eq!(
        (market.counters.total_slashed, market.counters.total_stake),
        (150 * ONE_STAKE, 150 * ONE_STAKE)
    );
    // Nothing was paid; the client gets every unit back when it closes the job.
    assert_eq!(w.ctx.token_balance(&w.p.payout_vault).await, 0);
    assert_eq!(w.ctx.token_balance(&w.m.treasury).await, 0);
    // A third vote on the failed job is refused: no second slash.
    let watched = w.watched(&j);
    w.ctx
        .fails_with(
            &[w.vote(2, &j, false)],
            &[&w.verifiers[2]],
            MarketError::InvalidJobState,
            &watched,
        )
        .await;
    // The client closes both verdicts (they voted with the quorum: no verifier is slashed), then
    // the job.
    let client = w.c.key();
    let close = [
        ix::close_verdict(&w.m, &client, &w.verifiers[0].pubkey(), &j.job),
        ix::close_verdict(&w.m, &client, &w.verifiers[1].pubkey(), &j.job),
        ix::close_job(&w.m, &client, &j.job, &w.c.payment_account),
    ];
    let out = w.ctx.ok(&close, &[&w.c.authority]).await;
    assert!(
        out.events_of::<VerdictClosed>()
            .iter()
            .all(|closed| closed.slashed == 0)
    );
    assert_eq!(
        w.ctx.token_balance(&w.c.payment_account).await,
        100 * ONE_USDC
    );

    // Jailed: no new jobs, and the provider cannot set itself active again.
    let next = w.c.post(&mut w.ctx, &w.m, job_args(2)).await;
    let claim = ix::claim_job(&w.m, &w.p.key(), &next.job);
    let watched = w.watched(&next);
    w.ctx
        .fails_with(
            std::slice::from_ref(&claim),
            &[&w.p.authority],
            MarketError::ProviderJailed,
            &watched,
        )
        .await;
    let activate = ix::update_provider(
        &w.m,
        &w.p.key(),
        gpu_market::UpdateProviderArgs {
            accepting_jobs: Some(true),
            ..Default::default()
        },
    );
    w.ctx
        .fails_with(
            &[activate],
            &[&w.p.authority],
            MarketError::ProviderJailed,
            &watched,
        )
        .await;

    // Only the market authority reinstates, only a jailed provider; then it works again.
    let reinstate = ix::reinstate_provider(&w.m, &w.p.provider);
    let stranger = Keypair::new();
    let forged = ix::replace_account(reinstate.clone(), &w.m.authority, &stranger.pubkey());
    w.ctx
        .fails_with(&[forged], &[&stranger], Anchor::ConstraintHasOne, &watched)
        .await;
    let out = w
        .ctx
        .ok(std::slice::from_ref(&reinstate), &[&w.f.authority])
        .await;
    assert_eq!(out.event::<ProviderReinstated>().provider, w.p.provider);
    assert_eq!(w.provider().await.status, ProviderStatus::Active);
    w.ctx
        .fails_with(
            &[reinstate],
            &[&w.f.authority],
            MarketError::ProviderNotJailed,
            &watched,
        )
        .await;
    // 50 staked is under the 200 minimum for two GPUs until the provider tops up.
    w.ctx
        .fails_with(
            std::slice::from_ref(&claim),
            &[&w.p.authority],
            MarketError::InsufficientStake,
            &watched,
        )
        .await;
    let (m, p) = (w.m, &w.p);
    w.ctx
        .mint_to(
            &m.stake_token_program,
            &m.stake_mint,
            &p.stake_account,
            50 * ONE_STAKE,
        )
        .await;
    w.ctx
        .ok(
            &[
                ix::cancel_unstake(&m, &p.key()),
                ix::stake(&m, &p.key(), &p.stake_account, 50 * ONE_STAKE),
                claim,
            ],
            &[&p.authority],
        )
        .await;
    assert_eq!(w.job(&next).await.state, JobState::Running);
}

#[tokio::test]
async fn only_registered_uninvolved_verifiers_vote_once_inside_the_window() {
    let mut w = world().await;
    let j = w.ready(1).await;
    let watched = w.watched(&j);

    // A wallet that is not a registered verifier has no Verifier account.
    let outsider = w.ctx.funded_wallet(1).await;
    let stray = ix::submit_verdict(
        &w.m,
        &outsider.pubkey(),
        &j.job,
        &w.p.provider,
        false,
        [0; 32],
    );
    w.ctx
        .fails_with(
            &[stray],
            &[&outsider],
            Anchor::AccountNotInitialized,
            &watched,
        )
        .await;

    // Another verifier's account under one's own signature.
    let v0 = w.verifiers[0].pubkey();
    let borrowed = ix::replace_account(
        w.vote(1, &j, false),
        &w.m.verifier(&w.verifiers[1].pubkey()),
        &w.m.verifier(&v0),
    );
    w.ctx
        .fails_with(
            &[borrowed],
            &[&w.verifiers[1]],
            Anchor::ConstraintSeeds,
            &watched,
        )
        .await;

    // The vote must be signed.
    let unsigned = ix::strip_signer(w.vote(0, &j, false), &v0);
    w.ctx.fails(&[unsigned], &[], &watched).await;

    // The job's client and provider cannot judge it, even when registered as verifiers.
    for party in [&w.c.authority, &w.p.authority] {
        w.ctx
            .ok(
                &[ix::add_verifier(&w.m, &party.pubkey())],
                &[&w.f.authority],
            )
            .await;
        let own = ix::submit_verdict(&w.m, &party.pubkey(), &j.job, &w.p.provider, true, [0; 32]);
        w.ctx
            .fails_with(&[own], &[party], MarketError::VerifierIsParty, &watched)
            .await;
    }

    // Slash accounts that are not the market's or the provider's, even on a vote that decides nothing.
    let other = ProviderFixture::staked(&mut w.ctx, &w.m, 200, 200).await;
    let fake_vault =
        ix::replace_account(w.vote(0, &j, false), &w.p.stake_vault, &other.stake_vault);
    w.ctx
        .fails_with(
            &[fake_vault],
            &[&w.verifiers[0]],
            MarketError::WrongStakeVault,
            &watched,
        )
        .await;
    let fake_destination = ix::replace_account(
        w.vote(0, &j, false),
        &w.m.slash_destination,
        &other.stake_account,
    );
    w.ctx
        .fails_with(
            &[fake_destination],
            &[&w.verifiers[0]],
            MarketError::WrongSlashDestination,
            &watched,
        )
        .await;

    // One vote per verifier per result.
    w.ctx.ok(&[w.vote(0, &j, true)], &[&w.verifiers[0]]).await;
    let watched = w.watched(&j);
    w.ctx
        .fails_with(
            &[w.vote(0, &j, false)],
            &[&w.verifiers[0]],
            MarketError::AlreadyVoted,
            &watched,
        )
        .await;

    // A removed verifier no longer votes.
    let v2 = w.verifiers[2].pubkey();
    w.ctx
        .ok(&[ix::remove_verifier(&w.m, &v2)], &[&w.f.authority])
        .await;
    let watched = w.watched(&j);
    w.ctx
        .fails_with(
            &[w.vote(2, &j, false)],
            &[&w.verifiers[2]],
            MarketError::VerifierWasRemoved,
            &watched,
        )
        .await;

    // At the window's end the result is no longer open to votes; it finalizes as submitted.
    w.ctx.advance_time(3_600).await;
    w.ctx
        .fails_with(
            &[w.vote(1, &j, false)],
            &[&w.verifiers[1]],
            MarketError::ChallengeWindowClosed,
            &watched,
        )
        .await;
    let out = w
        .ctx
        .ok(&[ix::finalize_job(&w.m, &j.job, &w.p.provider)], &[])
        .await;
    assert_eq!(
        out.event::<JobCompleted>().reason,
        CompletionReason::ChallengeWindowPassed
    );
    assert_eq!(w.provider().await.staked, STAKED);
}

#[tokio::test]
async fn a_dispute_holds_the_job_for_verifiers_then_for_the_authority() {
    let mut w = world().await;
    let j = w.ready(1).await;
    let watched = w.watched(&j);
    let dispute = ix::dispute_result(
        &w.m,
        &w.c.key(),
        &j.job,
        &w.p.provider,
        &w.c.payment_account,
    );

    // Only the client disputes.
    let stranger = w.ctx.funded_wallet(1).await;
    let forged = ix::replace_account(dispute.clone(), &w.c.key(), &stranger.pubkey());
    w.ctx
        .fails_with(
            &[forged],
            &[&stranger],
            MarketError::NotTheJobClient,
            &watched,
        )
        .await;

    // Disputing costs the client the market's bond, held in the job's escrow beside the deposit.
    let wallet = w.ctx.token_balance(&w.c.payment_account).await;
    let out = w
        .ctx
        .ok(std::slice::from_ref(&dispute), &[&w.c.authority])
        .await;
    let disputed: JobDisputed = out.event();
    assert_eq!(
        (disputed.job, disputed.provider_open_disputes, disputed.bond),
        (j.job, 1, DISPUTE_BOND)
    );
    assert_eq!(
        w.ctx.token_balance(&w.c.payment_account).await,
        wallet - DISPUTE_BOND
    );
    assert_eq!(
        w.ctx.token_balance(&j.escrow_vault).await,
        2 * ONE_USDC + DISPUTE_BOND
    );
    let job = w.job(&j).await;
    assert_eq!(
        (job.state, job.dispute_bond),
        (JobState::Disputed, DISPUTE_BOND)
    );
    assert_eq!(w.provider().await.open_disputes, 1);
    let watched = w.watched(&j);
    w.ctx
        .fails_with(
            &[dispute],
            &[&w.c.authority],
            MarketError::InvalidJobState,
            &watched,
        )
        .await;

    // The window passing does not finalize a disputed job, and the provider keeps its stake bound.
    w.ctx.advance_time(3_600).await;
    w.ctx
        .fails_with(
            &[ix::finalize_job(&w.m, &j.job, &w.p.provider)],
            &[],
            MarketError::InvalidJobState,
            &watched,
        )
        .await;
    w.ctx
        .fails_with(
            &[ix::request_unstake(&w.m, &w.p.key(), 101 * ONE_STAKE)],
            &[&w.p.authority],
            MarketError::StakeBelowMinimum,
            &watched,
        )
        .await;

    // Verifiers still decide it after the window: a pass quorum completes it and closes the dispute;
    // the result stood, so the bond is the provider's.
    w.ctx.ok(&[w.vote(0, &j, true)], &[&w.verifiers[0]]).await;
    let out = w.ctx.ok(&[w.vote(1, &j, true)], &[&w.verifiers[1]]).await;
    let completed: JobCompleted = out.event();
    assert_eq!(
        (completed.reason, completed.settlement.provider_share),
        (
            CompletionReason::VerifierQuorum,
            PROVIDER_SHARE + DISPUTE_BOND
        )
    );
    assert_eq!(
        w.ctx.token_balance(&w.p.payout_vault).await,
        PROVIDER_SHARE + DISPUTE_BOND
    );
    let provider = w.provider().await;
    assert_eq!((provider.open_disputes, provider.active_jobs), (0, 0));
}

#[tokio::test]
async fn the_authority_rules_on_a_dispute_only_after_its_timeout() {
    let mut w = world().await;
    let timeout = i64::from(gpu_market_tests::fixtures::default_params().dispute_timeout_secs);
    // The provider's stake backs one job at a time, so the two disputes run one after the other.
    let paid = w.ready(1).await;
    let dispute = ix::dispute_result(
        &w.m,
        &w.c.key(),
        &paid.job,
        &w.p.provider,
        &w.c.payment_account,
    );
    w.ctx.ok(&[dispute], &[&w.c.authority]).await;
    let pay = ix::resolve_dispute(&w.m, &paid.job, &w.p.provider, DisputeRuling::PayProvider);
    let watched = w.watched(&paid);

    // Not before the timeout, and never by anyone but the market authority.
    w.ctx.advance_time(timeout - 1).await;
    w.ctx
        .fails_with(
            std::slice::from_ref(&pay),
            &[&w.f.authority],
            MarketError::DisputeTimeoutNotReached,
            &watched,
        )
        .await;
    w.ctx.advance_time(1).await;
    let stranger = w.ctx.funded_wallet(1).await;
    let forged = ix::replace_account(pay.clone(), &w.m.authority, &stranger.pubkey());
    w.ctx
        .fails_with(
            &[forged],
            &[&stranger],
            MarketError::NotMarketAuthority,
            &watched,
        )
        .await;

    // Paying the provider settles as a completion.
    let out = w.ctx.ok(&[pay], &[&w.f.authority]).await;
    assert_eq!(
        out.event::<DisputeResolved>().ruling,
        DisputeRuling::PayProvider
    );
    let completed: JobCompleted = out.event();
    assert_eq!(completed.reason, CompletionReason::AuthorityRuling);
    assert_eq!(
        w.ctx.token_balance(&w.p.payout_vault).await,
        PROVIDER_SHARE + DISPUTE_BOND
    );

    // Refunding the client fails the job in full, bond included, without a slash or jail: only
    // verifiers prove fraud.
    let refunded = w.ready(2).await;
    let dispute = ix::dispute_result(
        &w.m,
        &w.c.key(),
        &refunded.job,
        &w.p.provider,
        &w.c.payment_account,
    );
    w.ctx.ok(&[dispute], &[&w.c.authority]).await;
    let refund = ix::resolve_dispute(
        &w.m,
        &refunded.job,
        &w.p.provider,
        DisputeRuling::RefundClient,
    );
    w.ctx.advance_time(timeout).await;
    let out = w
        .ctx
        .ok(std::slice::from_ref(&refund), &[&w.f.authority])
        .await;
    let failed: JobFailed = out.event();
    assert_eq!(
        (failed.reason, failed.refund),
        (FailureReason::AuthorityRuling, 2 * ONE_USDC + DISPUTE_BOND)
    );
    assert!(out.events_of::<ProviderSlashed>().is_empty());
    let provider = w.provider().await;
    assert_eq!(
        (
            provider.staked,
            provider.status,
            provider.open_disputes,
            provider.active_jobs
        ),
        (STAKED, ProviderStatus::Active, 0, 0)
    );
    assert_eq!(w.ctx.token_balance(&w.p.stake_vault).await, STAKED);

    // Ruled once.
    let watched = w.watched(&refunded);
    w.ctx
        .fails_with(
            &[refund],
            &[&w.f.authority],
            MarketError::InvalidJobState,
            &watched,
        )
        .await;
}

#[tokio::test]
async fn an_undecided_dispute_settles_by_default_and_the_result_stands() {
    let mut w = world().await;
    let timeout = i64::from(default_params().dispute_timeout_secs);
    let j = w.ready(1).await;
    record_seed(&mut w.ctx, &w.m, &j.job).await;
    let dispute = ix::dispute_result(
        &w.m,
        &w.c.key(),
        &j.job,
        &w.p.provider,
        &w.c.payment_account,
    );
    w.ctx.ok(&[dispute], &[&w.c.authority]).await;
    let settle = ix::settle_dispute(&w.m, &j.job, &w.p.provider);
    let watched = w.watched(&j);

    // The authority has a whole timeout to rule after the verifiers' one: no default before twice
    // the timeout.
    w.ctx.advance_time(2 * timeout - 1).await;
    w.ctx
        .fails_with(
            std::slice::from_ref(&settle),
            &[],
            MarketError::DisputeDefaultNotReached,
            &watched,
        )
        .await;

    // Then anyone settles it: the result stands, the provider is paid and gets the bond, and its
    // stake and counters are free again.
    w.ctx.advance_time(1).await;
    let out = w.ctx.ok(&[settle], &[]).await;
    let completed: JobCompleted = out.event();
    assert_eq!(
        (completed.reason, completed.settlement.provider_share),
        (
            CompletionReason::DisputeUnanswered,
            PROVIDER_SHARE + DISPUTE_BOND
        )
    );
    assert_eq!(
        w.ctx.token_balance(&w.p.payout_vault).await,
        PROVIDER_SHARE + DISPUTE_BOND
    );
    assert_eq!(
        w.ctx.token_balance(&j.escrow_vault).await,
        completed.settlement.refund
    );
    let provider = w.provider().await;
    assert_eq!(
        (
            provider.open_disputes,
            provider.active_jobs,
            provider.locked_stake,
            provider.staked
        ),
        (0, 0, 0, STAKED)
    );
    assert_eq!(w.job(&j).await.state, JobState::Completed);
}

/// Hole: a fail vote short of the quorum was ignored: when the window passed, `finalize_job` paid
/// the provider anyway. Now the fail vote disputes the result (without a bond), so the window's end
/// no longer settles it; a quorum, the authority's ruling or the dispute default does.
#[tokio::test]
async fn one_fail_vote_keeps_the_result_from_settling_unchecked() {
    let mut w = world().await;
    let j = w.ready(1).await;
    let out = w.ctx.ok(&[w.vote(0, &j, false)], &[&w.verifiers[0]]).await;
    let disputed: JobDisputed = out.event();
    assert_eq!(
        (
            disputed.disputed_by,
            disputed.bond,
            disputed.provider_open_disputes
        ),
        (w.verifiers[0].pubkey(), 0, 1)
    );
    let job = w.job(&j).await;
    assert_eq!(
        (job.state, job.fail_votes, job.dispute_bond),
        (JobState::Disputed, 1, 0)
    );

    // The window passes: nothing settles it optimistically, and the client no longer disputes it.
    w.ctx.advance_time(3_600).await;
    let watched = w.watched(&j);
    w.ctx
        .fails_with(
            &[ix::finalize_job(&w.m, &j.job, &w.p.provider)],
            &[],
            MarketError::InvalidJobState,
            &watched,
        )
        .await;
    let dispute = ix::dispute_result(
        &w.m,
        &w.c.key(),
        &j.job,
        &w.p.provider,
        &w.c.payment_account,
    );
    w.ctx
        .fails_with(
            &[dispute],
            &[&w.c.authority],
            MarketError::InvalidJobState,
            &watched,
        )
        .await;

    // The other verifiers still vote after the window; a second fail vote makes the quorum.
    let out = w.ctx.ok(&[w.vote(1, &j, false)], &[&w.verifiers[1]]).await;
    let failed: JobFailed = out.event();
    assert_eq!(
        (failed.reason, failed.refund),
        (FailureReason::VerificationFailed, 2 * ONE_USDC)
    );
    let provider = w.provider().await;
    assert_eq!(
        (provider.open_disputes, provider.status),
        (0, ProviderStatus::Jailed)
    );
}

/// Hole: fee, slash rates, quorum, window and sample count were read from the market at settlement,
/// so the authority could change them under a live job (a 50% fee, a quorum of one, a 100% fraud
/// slash). Now a job copies them at its creation and settles on that copy.
#[tokio::test]
async fn a_job_settles_on_the_terms_it_was_created_under() {
    let mut w = world().await;
    let j = w.ready(1).await;
    let market: Market = w.ctx.anchor_account(&w.m.market).await;
    let created_under = JobTerms::of(&market);
    assert_eq!(w.job(&j).await.terms, created_under);

    let harsher = MarketParams {
        fee_bps: 5_000,
        verifier_quorum: 1,
        slash_fraud_bps: 10_000,
        ..default_params()
    };
    let update = ix::update_market(&w.m, &w.m.treasury, &w.m.slash_destination, harsher);
    w.ctx.ok(&[update], &[&w.f.authority]).await;

    // With the market's new quorum of one this fail vote would fail the job and slash all the
    // stake; under the job's quorum of two it only disputes it.
    w.ctx.ok(&[w.vote(0, &j, false)], &[&w.verifiers[0]]).await;
    let job = w.job(&j).await;
    assert_eq!((job.state, job.terms), (JobState::Disputed, created_under));
    assert_eq!(w.provider().await.staked, STAKED);

    // Two passes decide it, and the fee is the job's 2.5%, not the market's new 50%.
    w.ctx.ok(&[w.vote(1, &j, true)], &[&w.verifiers[1]]).await;
    let out = w.ctx.ok(&[w.vote(2, &j, true)], &[&w.verifiers[2]]).await;
    let completed: JobCompleted = out.event();
    assert_eq!(
        (
            completed.reason,
            completed.settlement.provider_share,
            completed.settlement.fee
        ),
        (CompletionReason::VerifierQuorum, PROVIDER_SHARE, 3_333)
    );

    // A job created after the update carries the new terms.
    let next = w.c.post(&mut w.ctx, &w.m, job_args(2)).await;
    let market: Market = w.ctx.anchor_account(&w.m.market).await;
    assert_eq!(market.params, harsher);
    assert_eq!(w.job(&next).await.terms, JobTerms::of(&market));
}

/// The rest of a live job's terms: a shorter challenge window and a 100% fraud rate set after its
/// submission change neither when it may be finalized nor what its fraud costs.
#[tokio::test]
async fn a_live_job_keeps_its_window_and_its_slash_rate() {
    let mut w = world().await;
    let j = w.ready(1).await;
    record_seed(&mut w.ctx, &w.m, &j.job).await;
    let harsher = MarketParams {
        challenge_window_secs: 10,
        slash_fraud_bps: 10_000,
        ..default_params()
    };
    let update = ix::update_market(&w.m, &w.m.treasury, &w.m.slash_destination, harsher);
    w.ctx.ok(&[update], &[&w.f.authority]).await;

    w.ctx.advance_time(10).await;
    let watched = w.watched(&j);
    w.ctx
        .fails_with(
            &[ix::finalize_job(&w.m, &j.job, &w.p.provider)],
            &[],
            MarketError::ChallengeWindowOpen,
            &watched,
        )
        .await;

    w.ctx.ok(&[w.vote(0, &j, false)], &[&w.verifiers[0]]).await;
    let out = w.ctx.ok(&[w.vote(1, &j, false)], &[&w.verifiers[1]]).await;
    let slashed: ProviderSlashed = out.event();
    // The job's 50% of 300 tokens, not the market's new 100%.
    assert_eq!(slashed.amount, 150 * ONE_STAKE);
}

/// Hole: the market authority could add itself as a verifier and redirect slashes to its own account
/// under a live job. Now a job's verifiers are those registered before it was created, and its
/// slashes go to the destination named when it was created.
#[tokio::test]
async fn a_live_job_keeps_its_verifiers_and_its_slash_destination() {
    let mut w = world().await;
    let j = w.ready(1).await;
    let original_destination = w.m.slash_destination;

    // The authority registers itself as a verifier and names its own slash destination.
    let authority = w.f.authority.pubkey();
    let own_destination = w
        .ctx
        .create_token_account(&w.m.stake_token_program, &w.m.stake_mint, &authority)
        .await;
    let takeover = [
        ix::add_verifier(&w.m, &authority),
        ix::update_market(&w.m, &w.m.treasury, &own_destination, default_params()),
    ];
    w.ctx.ok(&takeover, &[&w.f.authority]).await;

    // Its vote on the live job is refused; so is a vote that would send the slash to the new
    // destination.
    let watched = w.watched(&j);
    let own_vote = ix::submit_verdict(&w.m, &authority, &j.job, &w.p.provider, false, [0; 32]);
    w.ctx
        .fails_with(
            &[own_vote],
            &[&w.f.authority],
            MarketError::VerifierAddedAfterJob,
            &watched,
        )
        .await;
    let redirected = MarketKeys {
        slash_destination: own_destination,
        ..w.m
    };
    let vote = ix::submit_verdict(
        &redirected,
        &w.verifiers[0].pubkey(),
        &j.job,
        &w.p.provider,
        false,
        [0; 32],
    );
    w.ctx
        .fails_with(
            &[vote],
            &[&w.verifiers[0]],
            MarketError::WrongSlashDestination,
            &watched,
        )
        .await;

    // The job's own verifiers fail it, and the slash goes where the job's terms say.
    w.ctx.ok(&[w.vote(0, &j, false)], &[&w.verifiers[0]]).await;
    let out = w.ctx.ok(&[w.vote(1, &j, false)], &[&w.verifiers[1]]).await;
    let slashed: ProviderSlashed = out.event();
    assert_eq!(slashed.amount, 150 * ONE_STAKE);
    assert_eq!(
        w.ctx.token_balance(&original_destination).await,
        150 * ONE_STAKE
    );
    assert_eq!(w.ctx.token_balance(&own_destination).await, 0);

    // A job created now is the new verifier's to judge.
    let next = w.c.post(&mut w.ctx, &w.m, job_args(2)).await;
    let verifier: gpu_market::state::Verifier =
        w.ctx.anchor_account(&w.m.verifier(&authority)).await;
    assert_eq!(verifier.first_job_serial, w.job(&next).await.serial);
}

/// Raises the market's slash rates (abandon <= no-show <= fraud).
async fn set_slash_rates(w: &mut World, abandon: u16, no_show: u16) {
    let params = MarketParams {
        slash_abandon_bps: abandon,
        slash_no_show_bps: no_show,
        slash_fraud_bps: 10_000,
        ..default_params()
    };
    let update = ix::update_market(&w.m, &w.m.treasury, &w.m.slash_destination, params);
    w.ctx.ok(&[update], &[&w.f.authority]).await;
}

#[tokio::test]
async fn a_no_show_is_slashed_once_and_unbonding_is_no_escape() {
    let mut w = world().await;
    set_slash_rates(&mut w, 2_000, 10_000).await;
    let j = w.c.post(&mut w.ctx, &w.m, job_args(1)).await;
    let (m, p) = (w.m, &w.p);
    w.ctx
        .ok(
            &[
                ix::claim_job(&m, &p.key(), &j.job),
                ix::request_unstake(&m, &p.key(), 100 * ONE_STAKE),
            ],
            &[&p.authority],
        )
        .await;
    let expire = ix::expire_job(&m, &w.c.key(), &j.job, &p.provider);

    // A look-alike stake vault would let the slash come out of an empty account.
    let empty = w
        .ctx
        .create_token_account(&m.stake_token_program, &m.stake_mint, &p.provider)
        .await;
    w.ctx.advance_time(3_601).await;
    let watched = w.watched(&j);
    let dodge = ix::replace_account(expire.clone(), &p.stake_vault, &empty);
    w.ctx
        .fails_with(
            &[dodge],
            &[&w.c.authority],
            MarketError::WrongStakeVault,
            &watched,
        )
        .await;

    // 100% for a no-show: the 200 staked and the 100 unbonding, all to the slash destination.
    let out = w
        .ctx
        .ok(std::slice::from_ref(&expire), &[&w.c.authority])
        .await;
    assert_eq!(out.event::<JobFailed>().reason, FailureReason::Expired);
    let slashed: ProviderSlashed = out.event();
    assert_eq!(
        (
            slashed.reason,
            slashed.from_staked,
            slashed.from_unbonding,
            slashed.jailed
        ),
        (SlashReason::NoShow, 200 * ONE_STAKE, 100 * ONE_STAKE, false)
    );
    assert_eq!(w.ctx.token_balance(&p.stake_vault).await, 0);
    assert_eq!(w.ctx.token_balance(&m.slash_destination).await, STAKED);
    let provider = w.provider().await;
    assert_eq!(
        (
            provider.staked,
            provider.unbonding,
            provider.unbonding_unlock_at,
            provider.status
        ),
        (0, 0, 0, ProviderStatus::Active)
    );

    // Expired once, slashed once.
    let watched = w.watched(&j);
    w.ctx
        .fails_with(
            &[expire],
            &[&w.c.authority],
            MarketError::InvalidJobState,
            &watched,
        )
        .await;
}

#[tokio::test]
async fn abandoning_costs_the_abandon_rate() {
    let mut w = world().await;
    let j = w.c.post(&mut w.ctx, &w.m, job_args(1)).await;
    let (m, p) = (w.m, &w.p);
    w.ctx
        .ok(&[ix::claim_job(&m, &p.key(), &j.job)], &[&p.authority])
        .await;
    let out = w
        .ctx
        .ok(&[ix::abandon_job(&m, &p.key(), &j.job)], &[&p.authority])
        .await;
    // 2% of 300 tokens.
    let slashed: ProviderSlashed = out.event();
    assert_eq!(
        (slashed.reason, slashed.amount, slashed.staked_after),
        (SlashReason::Abandon, 6 * ONE_STAKE, 294 * ONE_STAKE)
    );
    assert_eq!(
        w.ctx.token_balance(&m.slash_destination).await,
        6 * ONE_STAKE
    );

    // A zero rate slashes nothing and says nothing.
    set_slash_rates(&mut w, 0, 0).await;
    let j = w.c.post(&mut w.ctx, &w.m, job_args(2)).await;
    let (m, p) = (w.m, &w.p);
    w.ctx
        .ok(&[ix::claim_job(&m, &p.key(), &j.job)], &[&p.authority])
        .await;
    let out = w
        .ctx
        .ok(&[ix::abandon_job(&m, &p.key(), &j.job)], &[&p.authority])
        .await;
    assert!(out.events_of::<ProviderSlashed>().is_empty());
    assert_eq!(w.provider().await.staked, 294 * ONE_STAKE);
}

#[tokio::test]
async fn a_verifier_of_another_market_cannot_vote_here() {
    let mut w = world().await;
    let j = w.ready(1).await;
    // A second market of the same authority with its own verifier.
    let mut other = w.m;
    other.market_id = 2;
    other.market = gpu_market::pda::find_market_address(&w.m.authority, 2).0;
    let init = ix::initialize_market(
        &other.authority,
        2,
        &other.payment_mint,
        &other.stake_mint,
        &other.treasury,
        &other.slash_destination,
        default_params(),
    );
    let foreign = w.ctx.funded_wallet(1).await;
    w.ctx
        .ok(
            &[init, ix::add_verifier(&other, &foreign.pubkey())],
            &[&w.f.authority],
        )
        .await;
    let foreign_verifier = find_verifier_address(&other.market, &foreign.pubkey()).0;
    let vote = ix::submit_verdict(
        &w.m,
        &foreign.pubkey(),
        &j.job,
        &w.p.provider,
        false,
        [0; 32],
    );
    let vote = ix::replace_account(vote, &w.m.verifier(&foreign.pubkey()), &foreign_verifier);
    let watched = w.watched(&j);
    w.ctx
        .fails_with(&[vote], &[&foreign], Anchor::ConstraintSeeds, &watched)
        .await;
}

/// A job is closed only with its verdicts (they are settled by its outcome), so a job created again
/// at the same address (the client reuses the nonce) starts with no votes, and the same verifier
/// votes on it afresh.
#[tokio::test]
async fn a_job_created_again_at_a_closed_jobs_address_starts_with_no_votes() {
    let mut w = world().await;
    let j = w.ready(1).await;
    w.ctx.ok(&[w.vote(0, &j, true)], &[&w.verifiers[0]]).await;
    let (m, c) = (w.m, &w.c);
    w.ctx
        .ok(
            &[
                ix::accept_result(&m, &c.key(), &j.job, &w.p.provider),
                ix::close_verdict(&m, &c.key(), &w.verifiers[0].pubkey(), &j.job),
                ix::close_job(&m, &c.key(), &j.job, &c.payment_account),
            ],
            &[&c.authority],
        )
        .await;
    let verdict = find_verdict_address(&j.job, &w.m.verifier(&w.verifiers[0].pubkey())).0;
    assert!(w.ctx.account(&verdict).await.is_none());

    let again = w.ready(1).await;
    assert_eq!(again.job, j.job);
    assert_eq!(
        (w.job(&j).await.pass_votes, w.job(&j).await.open_verdicts),
        (0, 0)
    );
    w.ctx.ok(&[w.vote(0, &j, false)], &[&w.verifiers[0]]).await;
    let recorded: Verdict = w.ctx.anchor_account(&verdict).await;
    assert_eq!(
        (recorded.pass, recorded.submitted_slot),
        (false, w.job(&j).await.submitted_slot)
    );
    assert_eq!(w.job(&j).await.fail_votes, 1);
}

/// Hole: once the seed slot aged out of SlotHashes, the seed fell back to the oldest entry left,
/// which changes every slot, so a provider could record it whenever no fake was sampled, or never,
/// and be paid when the window passed. Now a seed is recordable only while its own slot's hash is
/// there; after that nobody can record one, the job cannot settle as paid, and it fails exactly as
/// a failed verification does.
#[tokio::test]
async fn a_seed_not_recorded_in_time_expires_and_the_job_fails_as_unverifiable() {
    let mut w = world().await;
    let (j, _) = w.submitted(1).await;
    let m = w.m;
    let expire = ix::expire_sample_seed(&m, &w.c.key(), &j.job, &w.p.provider);
    let record = ix::record_sample_seed(&m, &w.c.key(), &j.job);

    // While the seed can still be recorded, the job is verifiable and cannot be expired.
    w.ctx.advance_slots(SAMPLE_SEED_DELAY_SLOTS + 1).await;
    let watched = w.watched(&j);
    w.ctx
        .fails_with(
            std::slice::from_ref(&expire),
            &[&w.c.authority],
            MarketError::SampleSeedNotExpired,
            &watched,
        )
        .await;

    // 512 slots later (time stands still, the window is still open) the seed slot is gone.
    w.ctx.age_out_slot_hashes().await;
    let vote = w.vote(0, &j, true);
    for (instruction, signer) in [(record, &w.c.authority), (vote, &w.verifiers[0])] {
        w.ctx
            .fails_with(
                &[instruction],
                &[signer],
                MarketError::SampleSeedExpired,
                &watched,
            )
            .await;
    }

    // The window passes: nothing was verified, so nothing is paid.
    w.ctx
        .advance_time(i64::from(default_params().challenge_window_secs))
        .await;
    let finalize = ix::finalize_job(&m, &j.job, &w.p.provider);
    w.ctx
        .fails_with(
            &[finalize],
            &[],
            MarketError::SampleSeedNotRecorded,
            &watched,
        )
        .await;

    // Anyone fails it: full refund, slashed at the fraud rate (50% of 300) and jailed, as if the
    // verifiers had caught it, so hiding a bad seed gains nothing over being caught.
    let vault_before = w.ctx.token_balance(&w.p.stake_vault).await;
    let payout_before = w.ctx.token_balance(&w.p.payout_vault).await;
    let out = w
        .ctx
        .ok(std::slice::from_ref(&expire), &[&w.c.authority])
        .await;
    let failed: JobFailed = out.event();
    assert_eq!(
        (failed.reason, failed.refund),
        (FailureReason::SampleSeedExpired, w.job(&j).await.deposit)
    );
    let slashed: ProviderSlashed = out.event();
    assert_eq!(
        (
            slashed.reason,
            slashed.amount,
            slashed.jailed,
            slashed.deferred
        ),
        (SlashReason::Fraud, STAKED / 2, true, false)
    );
    assert_eq!(
        w.ctx.token_balance(&w.p.stake_vault).await,
        vault_before - STAKED / 2
    );
    assert_eq!(w.ctx.token_balance(&m.slash_destination).await, STAKED / 2);
    assert_eq!(w.ctx.token_balance(&w.p.payout_vault).await, payout_before);
    let job = w.job(&j).await;
    assert_eq!(
        (
            job.state,
            job.settlement.refund,
            job.settlement.provider_share
        ),
        (JobState::Failed, job.deposit, 0)
    );
    let provider = w.provider().await;
    assert_eq!(
        (provider.status, provider.active_jobs, provider.locked_stake),
        (ProviderStatus::Jailed, 0, 0)
    );
    let escrow = w.ctx.token_balance(&j.escrow_vault).await;
    assert_eq!(escrow, job.deposit);

    // Once only.
    let watched = w.watched(&j);
    w.ctx
        .fails_with(
            &[expire],
            &[&w.c.authority],
            MarketError::InvalidJobState,
            &watched,
        )
        .await;
}

/// Hole: a provider past its deadline could abandon (2% slash) instead of being expired as a
/// no-show (5%).
#[tokio::test]
async fn abandoning_after_the_deadline_is_refused() {
    let mut w = world().await;
    let j = w.c.post(&mut w.ctx, &w.m, job_args(1)).await;
    let (m, p) = (w.m, &w.p);
    w.ctx
        .ok(&[ix::claim_job(&m, &p.key(), &j.job)], &[&p.authority])
        .await;
    w.ctx.advance_time(3_601).await;
    let watched = w.watched(&j);
    let (m, p) = (w.m, &w.p);
    w.ctx
        .fails_with(
            &[ix::abandon_job(&m, &p.key(), &j.job)],
            &[&p.authority],
            MarketError::DeadlinePassed,
            &watched,
        )
        .await;
    let out = w
        .ctx
        .ok(
            &[ix::expire_job(&m, &w.c.key(), &j.job, &p.provider)],
            &[&w.c.authority],
        )
        .await;
    // 5% of 300 tokens: the no-show rate.
    let slashed: ProviderSlashed = out.event();
    assert_eq!(
        (slashed.reason, slashed.amount),
        (SlashReason::NoShow, 15 * ONE_STAKE)
    );
}

/// Hole: a slash and a refund happened in one instruction, so a frozen or closed slash
/// destination blocked the client's refund. Now the slash waits in the stake vault and the
/// refund goes ahead.
#[tokio::test]
async fn a_closed_slash_destination_defers_the_slash_never_the_refund() {
    let mut w = world().await;
    let m = w.m;
    w.ctx
        .close_token_account(&m.stake_token_program, &m.slash_destination, &w.f.authority)
        .await;
    let j = w.c.post(&mut w.ctx, &m, job_args(1)).await;
    let p = &w.p;
    w.ctx
        .ok(&[ix::claim_job(&m, &p.key(), &j.job)], &[&p.authority])
        .await;
    w.ctx.advance_time(3_601).await;
    let client_before = w.ctx.token_balance(&w.c.payment_account).await;
    let out = w
        .ctx
        .ok(
            &[ix::expire_job(&m, &w.c.key(), &j.job, &w.p.provider)],
            &[&w.c.authority],
        )
        .await;
    let slashed: ProviderSlashed = out.event();
    assert_eq!(
        (slashed.amount, slashed.deferred, slashed.staked_after),
        (15 * ONE_STAKE, true, 285 * ONE_STAKE)
    );
    assert_eq!(w.ctx.token_balance(&w.p.stake_vault).await, STAKED);
    let provider = w.provider().await;
    assert_eq!(
        (provider.staked, provider.slash_pending),
        (285 * ONE_STAKE, 15 * ONE_STAKE)
    );

    // The client gets its deposit back.
    let deposit = w.job(&j).await.deposit;
    let close = ix::close_job(&m, &w.c.key(), &j.job, &w.c.payment_account);
    w.ctx.ok(&[close], &[&w.c.authority]).await;
    assert_eq!(
        w.ctx.token_balance(&w.c.payment_account).await,
        client_before + deposit
    );

    // The pending slash goes out once the destination can receive: not to the closed one, then
    // to the one the authority names.
    let pay = ix::pay_pending_slash(&m, &w.c.key(), &w.p.provider);
    let watched = [w.p.provider, w.p.stake_vault, m.market];
    w.ctx
        .fails_with(
            &[pay],
            &[&w.c.authority],
            Anchor::AccountNotInitialized,
            &watched,
        )
        .await;
    let destination = w
        .ctx
        .create_token_account(&m.stake_token_program, &m.stake_mint, &m.authority)
        .await;
    let update = ix::update_market(&m, &m.treasury, &destination, default_params());
    w.ctx.ok(&[update], &[&w.f.authority]).await;
    let mut moved = m;
    moved.slash_destination = destination;
    let pay = ix::pay_pending_slash(&moved, &w.c.key(), &w.p.provider);
    w.ctx
        .ok(std::slice::from_ref(&pay), &[&w.c.authority])
        .await;
    assert_eq!(w.ctx.token_balance(&destination).await, 15 * ONE_STAKE);
    assert_eq!(w.ctx.token_balance(&w.p.stake_vault).await, 285 * ONE_STAKE);
    assert_eq!(w.provider().await.slash_pending, 0);
    let watched = [w.p.provider, w.p.stake_vault, destination];
    w.ctx.advance_slots(1).await;
    w.ctx
        .fails_with(
            &[pay],
            &[&w.c.authority],
            MarketError::NoPendingSlash,
            &watched,
        )
        .await;
}
