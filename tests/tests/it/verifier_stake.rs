//! Verifier stake: each vote locks the job's verifier bond until `close_verdict`, which slashes it
//! when a verifier quorum decided the job the other way; a job keeps its verdicts until they are
//! closed; a removed verifier leaves with its stake once its verdicts are settled.

use gpu_market::{
    DisputeRuling,
    constants::SAMPLE_SEED_DELAY_SLOTS,
    error::MarketError,
    events::{
        VerdictClosed, VerifierClosed, VerifierPendingSlashPaid, VerifierStakeWithdrawn,
        VerifierStaked,
    },
    pda::find_verdict_address,
    state::{Job, JobState, Verifier},
};
use gpu_market_tests::{Chain, TestContext, fixtures::*, ix, ix::MarketKeys};
use solana_sdk::{instruction::Instruction, pubkey::Pubkey};

/// The default parameters' verifier bond: one GPU's minimum stake (100 tokens).
const BOND: u64 = 100 * ONE_STAKE;
const STAKE: u64 = VERIFIER_STAKE * ONE_STAKE;

/// A market with quorum 2, a provider with 1,000 tokens staked (five 2-GPU jobs at once), a client, and three verifiers that
/// each hold 1,000 tokens and staked 300.
struct World {
    ctx: TestContext,
    f: MarketFixture,
    m: MarketKeys,
    p: ProviderFixture,
    c: ClientFixture,
    v: [VerifierFixture; 3],
}

async fn world() -> World {
    let mut ctx = TestContext::new().await;
    let f = MarketFixture::new(&mut ctx).await;
    let m = f.keys;
    let p = ProviderFixture::staked(&mut ctx, &m, 1_000, 1_000).await;
    let c = ClientFixture::new(&mut ctx, &m, 100).await;
    let mut v = vec![];
    for _ in 0..3 {
        v.push(VerifierFixture::added(&mut ctx, &m, &f.authority, 1_000, VERIFIER_STAKE).await);
    }
    let v = v.try_into().ok().expect("three verifiers");
    World { ctx, f, m, p, c, v }
}

impl World {
    /// Job `nonce`, claimed, run for 600 s and submitted, its seed slot passed.
    async fn ready(&mut self, nonce: u64) -> JobKeys {
        let j = self.c.post(&mut self.ctx, &self.m, job_args(nonce)).await;
        let claim = ix::claim_job(&self.m, &self.p.key(), &j.job);
        self.ctx.ok(&[claim], &[&self.p.authority]).await;
        self.ctx.advance_time(600).await;
        let submit = ix::submit_result(&self.m, &self.p.key(), &j.job, result_of(600));
        self.ctx.ok(&[submit], &[&self.p.authority]).await;
        self.ctx.advance_slots(SAMPLE_SEED_DELAY_SLOTS + 1).await;
        j
    }

    fn vote(&self, verifier: usize, job: &JobKeys, pass: bool) -> Instruction {
        let v = self.v[verifier].key();
        ix::submit_verdict(&self.m, &v, &job.job, &self.p.provider, pass, [1; 32])
    }

    async fn cast(&mut self, verifier: usize, job: &JobKeys, pass: bool) {
        let vote = self.vote(verifier, job, pass);
        let signer = self.v[verifier].authority.insecure_clone();
        self.ctx.ok(&[vote], &[&signer]).await;
    }

    /// Closes `verifier`'s verdict on `job`, the client signing; returns the event.
    async fn close_verdict(&mut self, verifier: usize, job: &JobKeys) -> VerdictClosed {
        let close = ix::close_verdict(&self.m, &self.c.key(), &self.v[verifier].key(), &job.job);
        self.ctx.ok(&[close], &[&self.c.authority]).await.event()
    }

    async fn verifier(&mut self, verifier: usize) -> Verifier {
        let key = self.v[verifier].verifier;
        self.ctx.anchor_account(&key).await
    }

    /// Every account a verifier's stake instruction may touch.
    fn watched(&self, job: &JobKeys) -> Vec<Pubkey> {
        let mut keys = vec![
            job.job,
            job.escrow_vault,
            self.m.market,
            self.m.slash_destination,
            self.c.payment_account,
        ];
        for v in &self.v {
            keys.extend([v.verifier, v.stake_vault, v.stake_account]);
            keys.push(find_verdict_address(&job.job, &v.verifier).0);
        }
        keys
    }
}

#[tokio::test]
async fn a_vote_locks_its_bond_and_needs_the_stake_to_back_it() {
    let mut w = world().await;
    let j = w.ready(1).await;

    // A verifier that staked nothing cannot vote: there would be nothing to lose.
    let broke = VerifierFixture::added(&mut w.ctx, &w.m, &w.f.authority, 0, 0).await;
    let j2 = w.ready(2).await;
    let mut watched = w.watched(&j2);
    watched.push(broke.verifier);
    let vote = ix::submit_verdict(&w.m, &broke.key(), &j2.job, &w.p.provider, true, [0; 32]);
    w.ctx
        .fails_with(
            &[vote],
            &[&broke.authority],
            MarketError::InsufficientVerifierStake,
            &watched,
        )
        .await;

    // A vote locks the job's bond out of the verifier's stake.
    w.cast(0, &j, true).await;
    let verifier = w.verifier(0).await;
    assert_eq!(
        (verifier.staked, verifier.locked, verifier.open_verdicts),
        (STAKE, BOND, 1)
    );
    assert_eq!(w.job_account(&j).await.open_verdicts, 1);

    // The locked part cannot be withdrawn; the free part can, at once (no unbonding: free stake
    // backs nothing).
    let (v0, account) = (w.v[0].key(), w.v[0].stake_account);
    let watched = w.watched(&j);
    let too_much = ix::withdraw_verifier_stake(&w.m, &v0, &account, STAKE - BOND + 1);
    w.ctx
        .fails_with(
            &[too_much],
            &[&w.v[0].authority],
            MarketError::VerifierStakeLocked,
            &watched,
        )
        .await;
    let wallet = w.ctx.token_balance(&account).await;
    let free = ix::withdraw_verifier_stake(&w.m, &v0, &account, STAKE - BOND);
    let out = w.ctx.ok(&[free], &[&w.v[0].authority]).await;
    let withdrawn: VerifierStakeWithdrawn = out.event();
    assert_eq!((withdrawn.staked, withdrawn.locked), (BOND, BOND));
    assert_eq!(w.ctx.token_balance(&account).await, wallet + STAKE - BOND);
    assert_eq!(w.ctx.token_balance(&w.v[0].stake_vault).await, BOND);

    // With all of its stake locked, it cannot vote on another job until it stakes again.
    let vote = w.vote(0, &j2, true);
    let watched = w.watched(&j2);
    w.ctx
        .fails_with(
            std::slice::from_ref(&vote),
            &[&w.v[0].authority],
            MarketError::InsufficientVerifierStake,
            &watched,
        )
        .await;
    let stake = ix::stake_verifier(&w.m, &v0, &account, BOND);
    let out = w.ctx.ok(&[stake], &[&w.v[0].authority]).await;
    assert_eq!(out.event::<VerifierStaked>().staked, 2 * BOND);
    w.ctx.ok(&[vote], &[&w.v[0].authority]).await;
    assert_eq!(w.verifier(0).await.locked, 2 * BOND);
}

#[tokio::test]
async fn a_fail_quorum_slashes_the_verifier_that_passed_the_result() {
    let mut w = world().await;
    let j = w.ready(1).await;
    w.cast(0, &j, true).await;
    w.cast(1, &j, false).await;
    w.cast(2, &j, false).await;
    assert_eq!(w.job_account(&j).await.state, JobState::Failed);

    let destination = w.ctx.token_balance(&w.m.slash_destination).await;
    let wrong = w.close_verdict(0, &j).await;
    assert_eq!(
        (wrong.quorum_decision, wrong.pass, wrong.slashed),
        (Some(false), true, BOND)
    );
    for right in [1, 2] {
        let closed = w.close_verdict(right, &j).await;
        assert_eq!((closed.bond, closed.slashed), (BOND, 0));
        let verifier = w.verifier(right).await;
        assert_eq!((verifier.staked, verifier.locked), (STAKE, 0));
    }
    assert_eq!(
        w.ctx.token_balance(&w.m.slash_destination).await,
        destination + BOND
    );
    let verifier = w.verifier(0).await;
    assert_eq!(
        (verifier.staked, verifier.locked, verifier.total_slashed),
        (STAKE - BOND, 0, BOND)
    );
    assert_eq!(w.ctx.token_balance(&w.v[0].stake_vault).await, STAKE - BOND);
    assert_eq!(w.job_account(&j).await.open_verdicts, 0);
}

#[tokio::test]
async fn without_a_quorum_decision_no_verifier_is_slashed() {
    let mut w = world().await;
    let j = w.ready(1).await;
    // One fail vote disputes the result; the market authority rules that it stands. A ruling is
    // not a verdict of peers: the dissenting verifier gets its bond back.
    w.cast(0, &j, false).await;
    assert_eq!(w.job_account(&j).await.state, JobState::Disputed);
    w.ctx
        .advance_time(i64::from(default_params().dispute_timeout_secs))
        .await;
    let rule = ix::resolve_dispute(&w.m, &j.job, &w.p.provider, DisputeRuling::PayProvider);
    w.ctx.ok(&[rule], &[&w.f.authority]).await;
    assert_eq!(w.job_account(&j).await.state, JobState::Completed);

    let destination = w.ctx.token_balance(&w.m.slash_destination).await;
    let closed = w.close_verdict(0, &j).await;
    assert_eq!((closed.quorum_decision, closed.slashed), (None, 0));
    assert_eq!(
        w.ctx.token_balance(&w.m.slash_destination).await,
        destination
    );
    let verifier = w.verifier(0).await;
    assert_eq!((verifier.staked, verifier.locked), (STAKE, 0));
}

#[tokio::test]
async fn a_job_with_open_verdicts_cannot_be_closed() {
    let mut w = world().await;
    let j = w.ready(1).await;
    w.cast(0, &j, true).await;
    w.cast(1, &j, true).await;
    assert_eq!(w.job_account(&j).await.state, JobState::Completed);

    // Closing the job would erase the outcome the votes' bonds are settled by.
    let close = ix::close_job(&w.m, &w.c.key(), &j.job, &w.c.payment_account);
    let watched = w.watched(&j);
    w.ctx
        .fails_with(
            std::slice::from_ref(&close),
            &[&w.c.authority],
            MarketError::VerdictsOpen,
            &watched,
        )
        .await;
    // An open vote cannot be closed before its job settles either.
    let j2 = w.ready(2).await;
    w.cast(2, &j2, true).await;
    let early = ix::close_verdict(&w.m, &w.c.key(), &w.v[2].key(), &j2.job);
    let watched = w.watched(&j2);
    w.ctx
        .fails_with(
            &[early],
            &[&w.c.authority],
            MarketError::InvalidJobState,
            &watched,
        )
        .await;

    // The client closes the verdicts and the job in one transaction, as the CLI does.
    let client = w.c.key();
    let refund_account = w.ctx.token_balance(&w.c.payment_account).await;
    let refund = w.job_account(&j).await.settlement.refund;
    let ixs = [
        ix::close_verdict(&w.m, &client, &w.v[0].key(), &j.job),
        ix::close_verdict(&w.m, &client, &w.v[1].key(), &j.job),
        close,
    ];
    w.ctx.ok(&ixs, &[&w.c.authority]).await;
    assert!(w.ctx.account(&j.job).await.is_none());
    assert_eq!(
        w.ctx.token_balance(&w.c.payment_account).await,
        refund_account + refund
    );
}

#[tokio::test]
async fn a_closed_slash_destination_defers_a_verifiers_slash_not_the_close() {
    let mut w = world().await;
    let j = w.ready(1).await;
    w.cast(0, &j, false).await;
    w.cast(1, &j, true).await;
    w.cast(2, &j, true).await;
    w.ctx
        .close_token_account(
            &w.m.stake_token_program,
            &w.m.slash_destination,
            &w.f.authority,
        )
        .await;

    let closed = w.close_verdict(0, &j).await;
    assert_eq!((closed.slashed, closed.slash_deferred), (BOND, true));
    let verifier = w.verifier(0).await;
    assert_eq!(
        (verifier.staked, verifier.slash_pending),
        (STAKE - BOND, BOND)
    );
    // The slashed bond stays in the vault, out of the verifier's reach.
    assert_eq!(w.ctx.token_balance(&w.v[0].stake_vault).await, STAKE);
    let (v0, account) = (w.v[0].key(), w.v[0].stake_account);
    let watched = w.watched(&j);
    let all = ix::withdraw_verifier_stake(&w.m, &v0, &account, STAKE);
    w.ctx
        .fails_with(
            &[all],
            &[&w.v[0].authority],
            MarketError::VerifierStakeLocked,
            &watched,
        )
        .await;

    // Once the authority names a destination that can receive, anyone sends it.
    let new_destination = w
        .ctx
        .create_token_account(&w.m.stake_token_program, &w.m.stake_mint, &w.m.authority)
        .await;
    let update = ix::update_market(&w.m, &w.m.treasury, &new_destination, default_params());
    w.ctx.ok(&[update], &[&w.f.authority]).await;
    w.m.slash_destination = new_destination;
    let pay = ix::pay_verifier_pending_slash(&w.m, &w.c.key(), &v0);
    let out = w.ctx.ok(&[pay], &[&w.c.authority]).await;
    assert_eq!(out.event::<VerifierPendingSlashPaid>().amount, BOND);
    assert_eq!(w.ctx.token_balance(&new_destination).await, BOND);
    assert_eq!(w.ctx.token_balance(&w.v[0].stake_vault).await, STAKE - BOND);
    assert_eq!(w.verifier(0).await.slash_pending, 0);
}

#[tokio::test]
async fn a_removed_verifier_leaves_with_its_stake_once_its_verdicts_are_settled() {
    let mut w = world().await;
    let j = w.ready(1).await;
    w.cast(0, &j, true).await;
    let (v0, account) = (w.v[0].key(), w.v[0].stake_account);

    // Only a removed verifier closes.
    let close = ix::close_verifier(&w.m, &v0, &account);
    let watched = w.watched(&j);
    w.ctx
        .fails_with(
            std::slice::from_ref(&close),
            &[&w.v[0].authority],
            MarketError::VerifierNotRemoved,
            &watched,
        )
        .await;
    w.ctx
        .ok(&[ix::remove_verifier(&w.m, &v0)], &[&w.f.authority])
        .await;
    // Removed, it stakes no more, and leaves only when its vote is settled.
    let stake = ix::stake_verifier(&w.m, &v0, &account, ONE_STAKE);
    w.ctx
        .fails_with(
            &[stake],
            &[&w.v[0].authority],
            MarketError::VerifierWasRemoved,
            &watched,
        )
        .await;
    w.ctx
        .fails_with(
            std::slice::from_ref(&close),
            &[&w.v[0].authority],
            MarketError::VerdictsOpen,
            &watched,
        )
        .await;

    // The others decide the job; its vote is settled; it leaves with all of its stake, and the
    // market authority gets back the rent it paid for the verifier's accounts.
    w.cast(1, &j, true).await;
    w.close_verdict(0, &j).await;
    let wallet = w.ctx.token_balance(&account).await;
    let rent = w.ctx.lamports(&w.v[0].verifier).await + w.ctx.lamports(&w.v[0].stake_vault).await;
    let authority = w.ctx.lamports(&w.m.authority).await;
    let out = w.ctx.ok(&[close], &[&w.v[0].authority]).await;
    assert_eq!(out.event::<VerifierClosed>().stake_returned, STAKE);
    assert_eq!(w.ctx.token_balance(&account).await, wallet + STAKE);
    assert!(w.ctx.account(&w.v[0].verifier).await.is_none());
    assert!(w.ctx.account(&w.v[0].stake_vault).await.is_none());
    assert_eq!(w.ctx.lamports(&w.m.authority).await, authority + rent);
}

impl World {
    async fn job_account(&mut self, j: &JobKeys) -> Job {
        self.ctx.anchor_account(&j.job).await
    }
}
