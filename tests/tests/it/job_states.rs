//! The job's state machine, both ways: every job instruction (bids and seed expiry included) sent
//! from every state that does not allow it gets the named error with the job, its escrow, the
//! provider, its payout vault and the treasury unchanged; and every instruction a state allows
//! succeeds from it (once its time has come), leaves the job in the state the protocol says and has
//! its effect. Instructions on a job's satellites rather than the job (`withdraw_bid`, which
//! works in every state, and `close_verdict`, which needs a verdict) are tested with those.

use gpu_market::{
    DisputeRuling,
    constants::SAMPLE_SEED_DELAY_SLOTS,
    error::MarketError,
    pda::find_bid_address,
    state::{Bid, Job, JobState, Provider, ProviderStatus},
};
use gpu_market_tests::{Chain, TestContext, fixtures::*, ix, ix::MarketKeys};
use solana_sdk::{instruction::Instruction, signature::Keypair, signer::Signer};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Action {
    Cancel,
    Claim,
    Submit,
    Abandon,
    Expire,
    AcceptResult,
    Finalize,
    Close,
    Dispute,
    Verdict,
    RecordSeed,
    ExpireSeed,
    Resolve,
    SettleDispute,
    PlaceBid,
    AcceptBid,
}

const ACTIONS: [Action; 16] = [
    Action::Cancel,
    Action::Claim,
    Action::Submit,
    Action::Abandon,
    Action::Expire,
    Action::AcceptResult,
    Action::Finalize,
    Action::Close,
    Action::Dispute,
    Action::Verdict,
    Action::RecordSeed,
    Action::ExpireSeed,
    Action::Resolve,
    Action::SettleDispute,
    Action::PlaceBid,
    Action::AcceptBid,
];

/// Which actions each state allows (given enough time has passed).
fn allowed(state: JobState) -> &'static [Action] {
    match state {
        JobState::Open => &[
            Action::Cancel,
            Action::Claim,
            Action::PlaceBid,
            Action::AcceptBid,
        ],
        JobState::Running => &[Action::Submit, Action::Abandon, Action::Expire],
        JobState::Submitted => &[
            Action::AcceptResult,
            Action::Finalize,
            Action::Dispute,
            Action::Verdict,
            Action::RecordSeed,
            Action::ExpireSeed,
        ],
        JobState::Disputed => &[
            Action::AcceptResult,
            Action::Verdict,
            Action::RecordSeed,
            Action::ExpireSeed,
            Action::Resolve,
            Action::SettleDispute,
        ],
        JobState::Completed | JobState::Failed | JobState::Cancelled => &[Action::Close],
    }
}

struct Actors {
    m: MarketKeys,
    authority: Keypair,
    p: ProviderFixture,
    /// A second provider, whose bid every job gets while it is open; `p` places `PlaceBid`'s.
    bidder: ProviderFixture,
    c: ClientFixture,
    verifier: Keypair,
}

/// The bidder's price, payment units per GPU-hour.
const BID_PRICE: u64 = 300_000;

impl Actors {
    fn instruction<'a>(&'a self, action: Action, job: &JobKeys) -> (Instruction, Vec<&'a Keypair>) {
        let (m, p, c) = (&self.m, &self.p, &self.c);
        match action {
            Action::Cancel => (ix::cancel_job(&c.key(), &job.job), vec![&c.authority]),
            Action::Claim => (ix::claim_job(m, &p.key(), &job.job), vec![&p.authority]),
            Action::Submit => (
                ix::submit_result(m, &p.key(), &job.job, result_of(1)),
                vec![&p.authority],
            ),
            Action::Abandon => (ix::abandon_job(m, &p.key(), &job.job), vec![&p.authority]),
            Action::Expire => (
                ix::expire_job(m, &c.key(), &job.job, &p.provider),
                vec![&c.authority],
            ),
            Action::AcceptResult => (
                ix::accept_result(m, &c.key(), &job.job, &p.provider),
                vec![&c.authority],
            ),
            Action::Finalize => (ix::finalize_job(m, &job.job, &p.provider), vec![]),
            Action::Close => (
                ix::close_job(m, &c.key(), &job.job, &c.payment_account),
                vec![&c.authority],
            ),
            Action::Dispute => (
                ix::dispute_result(m, &c.key(), &job.job, &p.provider, &c.payment_account),
                vec![&c.authority],
            ),
            Action::Verdict => (
                ix::submit_verdict(
                    m,
                    &self.verifier.pubkey(),
                    &job.job,
                    &p.provider,
                    false,
                    [0; 32],
                ),
                vec![&self.verifier],
            ),
            Action::RecordSeed => (
                ix::record_sample_seed(m, &c.key(), &job.job),
                vec![&c.authority],
            ),
            Action::ExpireSeed => (
                ix::expire_sample_seed(m, &c.key(), &job.job, &p.provider),
                vec![&c.authority],
            ),
            Action::Resolve => (
                ix::resolve_dispute(m, &job.job, &p.provider, DisputeRuling::RefundClient),
                vec![&self.authority],
            ),
            Action::SettleDispute => (ix::settle_dispute(m, &job.job, &p.provider), vec![]),
            Action::PlaceBid => (
                ix::place_bid(m, &p.key(), &job.job, BID_PRICE, NO_BID_EXPIRY),
                vec![&p.authority],
            ),
            Action::AcceptBid => (
                ix::accept_bid(m, &c.key(), &job.job, &self.bidder.key(), BID_PRICE),
                vec![&c.authority],
            ),
        }
    }
}

/// Drives a new job (nonce `nonce`) into `state`; the bidder bids on it while it is open.
async fn job_in(ctx: &mut TestContext, a: &Actors, nonce: u64, state: JobState) -> JobKeys {
    let job = a.c.post(ctx, &a.m, job_args(nonce)).await;
    let bid = ix::place_bid(&a.m, &a.bidder.key(), &job.job, BID_PRICE, NO_BID_EXPIRY);
    ctx.ok(&[bid], &[&a.bidder.authority]).await;
    let step = async |ctx: &mut TestContext, action| {
        let (instruction, signers) = a.instruction(action, &job);
        ctx.ok(&[instruction], &signers).await;
    };
    match state {
        JobState::Open => {}
        JobState::Cancelled => step(ctx, Action::Cancel).await,
        _ => {
            step(ctx, Action::Claim).await;
            ctx.advance_time(1).await;
            match state {
                JobState::Failed => step(ctx, Action::Abandon).await,
                JobState::Submitted => step(ctx, Action::Submit).await,
                JobState::Disputed => {
                    step(ctx, Action::Submit).await;
                    step(ctx, Action::Dispute).await;
                }
                JobState::Completed => {
                    step(ctx, Action::Submit).await;
                    step(ctx, Action::AcceptResult).await;
                }
                _ => {}
            }
        }
    }
    job
}

/// A market with a staked verifier, two providers with room for every job of a test at once (16
/// GPUs, and 20,000 tokens staked: enough after the fraud slashes of seed expiries), one of which
/// bids on every job, and a client.
async fn actors(ctx: &mut TestContext) -> Actors {
    let f = MarketFixture::new(ctx).await;
    let m = f.keys;
    let verifier = VerifierFixture::staked(ctx, &m, &f.authority)
        .await
        .authority;
    let p = big_provider(ctx, &m).await;
    let bidder = big_provider(ctx, &m).await;
    let c = ClientFixture::new(ctx, &m, 100).await;
    Actors {
        m,
        authority: f.authority,
        p,
        bidder,
        c,
        verifier,
    }
}

async fn big_provider(ctx: &mut TestContext, m: &MarketKeys) -> ProviderFixture {
    let p = ProviderFixture::staked(ctx, m, 20_000, 20_000).await;
    let mut spec = rtx4090_spec();
    spec.gpu_count = 16;
    let bigger = gpu_market::UpdateProviderArgs {
        spec: Some(spec),
        ..Default::default()
    };
    ctx.ok(&[ix::update_provider(m, &p.key(), bigger)], &[&p.authority])
        .await;
    p
}

const STATES: [JobState; 7] = [
    JobState::Open,
    JobState::Running,
    JobState::Submitted,
    JobState::Disputed,
    JobState::Completed,
    JobState::Failed,
    JobState::Cancelled,
];

#[tokio::test]
async fn no_instruction_runs_from_a_state_that_does_not_allow_it() {
    let mut ctx = TestContext::new().await;
    let a = actors(&mut ctx).await;
    let mut checked = 0;
    for (nonce, state) in STATES.into_iter().enumerate() {
        let job = job_in(&mut ctx, &a, nonce as u64, state).await;
        let watched = [
            job.job,
            job.escrow_vault,
            a.p.provider,
            a.p.payout_vault,
            a.m.treasury,
        ];
        for action in ACTIONS
            .into_iter()
            .filter(|act| !allowed(state).contains(act))
        {
            // A job no provider ever held names none: instructions bound to the job's provider are
            // refused for naming the wrong one before the state is looked at.
            let never_held = matches!(state, JobState::Open | JobState::Cancelled);
            let provider_bound = matches!(
                action,
                Action::Submit
                    | Action::Abandon
                    | Action::Expire
                    | Action::AcceptResult
                    | Action::Finalize
                    | Action::Dispute
                    | Action::Verdict
                    | Action::ExpireSeed
                    | Action::Resolve
                    | Action::SettleDispute
            );
            let expected = if never_held && provider_bound {
                MarketError::WrongProvider
            } else {
                MarketError::InvalidJobState
            };
            let (instruction, signers) = a.instruction(action, &job);
            ctx.fails_with(&[instruction], &signers, expected, &watched)
                .await;
            checked += 1;
        }
    }
    // Open 12, Running 13, Submitted 10, Disputed 10, and 15 for each settled state.
    assert_eq!(checked, 90);
}

/// The state an action `state` allows leaves the job in (`None`: the job is closed). Only
/// meaningful for allowed pairs.
fn after(state: JobState, action: Action) -> Option<JobState> {
    Some(match (state, action) {
        (_, Action::Close) => return None,
        (_, Action::Cancel) => JobState::Cancelled,
        (_, Action::Claim | Action::AcceptBid) => JobState::Running,
        (_, Action::Submit) => JobState::Submitted,
        // Resolve: the test's ruling refunds the client.
        (_, Action::Abandon | Action::Expire | Action::ExpireSeed | Action::Resolve) => {
            JobState::Failed
        }
        (_, Action::AcceptResult | Action::Finalize | Action::SettleDispute) => JobState::Completed,
        // One fail vote short of the quorum disputes the result.
        (_, Action::Dispute | Action::Verdict) => JobState::Disputed,
        (state, Action::RecordSeed | Action::PlaceBid) => state,
    })
}

/// Waits for the time `action` needs on `job` (its deadline, challenge window, seed slot or dispute
/// timeout) and returns what must run before it: recording the sample seed (the fee payer cranks
/// it), for the settlements that need one.
async fn time_for(
    ctx: &mut TestContext,
    a: &Actors,
    action: Action,
    job: &JobKeys,
) -> Vec<Instruction> {
    let params = default_params();
    let record_seed = async |ctx: &mut TestContext| {
        ctx.advance_slots(SAMPLE_SEED_DELAY_SLOTS + 1).await;
        vec![ix::record_sample_seed(&a.m, &ctx.payer(), &job.job)]
    };
    match action {
        Action::Expire => {
            let duration = job_args(0).max_duration_secs;
            ctx.advance_time(i64::from(duration) + 1).await;
            vec![]
        }
        Action::Verdict | Action::RecordSeed => {
            ctx.advance_slots(SAMPLE_SEED_DELAY_SLOTS + 1).await;
            vec![]
        }
        Action::ExpireSeed => {
            ctx.advance_slots(SAMPLE_SEED_DELAY_SLOTS + 1).await;
            ctx.age_out_slot_hashes().await;
            vec![]
        }
        Action::Finalize => {
            let seed = record_seed(ctx).await;
            ctx.advance_time(i64::from(params.challenge_window_secs) + 1)
                .await;
            seed
        }
        Action::Resolve => {
            ctx.advance_time(i64::from(params.dispute_timeout_secs) + 1)
                .await;
            vec![]
        }
        Action::SettleDispute => {
            let seed = record_seed(ctx).await;
            ctx.advance_time(2 * i64::from(params.dispute_timeout_secs) + 1)
                .await;
            seed
        }
        _ => vec![],
    }
}

#[tokio::test]
async fn every_instruction_a_state_allows_runs_from_it() {
    let mut ctx = TestContext::new().await;
    let a = actors(&mut ctx).await;
    let mut nonce = 0;
    let mut checked = 0;
    for state in STATES {
        for &action in allowed(state) {
            let job = job_in(&mut ctx, &a, nonce, state).await;
            nonce += 1;
            let mut instructions = time_for(&mut ctx, &a, action, &job).await;
            let (instruction, signers) = a.instruction(action, &job);
            instructions.push(instruction);
            ctx.ok(&instructions, &signers).await;
            let now = match ctx.account(&job.job).await {
                Some(_) => Some(ctx.anchor_account::<Job>(&job.job).await.state),
                None => None,
            };
            assert_eq!(
                now,
                after(state, action),
                "{action:?} from {state:?} left the job in {now:?}"
            );
            check_effect(&mut ctx, &a, action, &job).await;
            checked += 1;
            if action == Action::ExpireSeed {
                // An unverifiable result jails its provider; the authority lets it work again.
                let reinstate = ix::reinstate_provider(&a.m, &a.p.provider);
                ctx.ok(&[reinstate], &[&a.authority]).await;
            }
        }
    }
    // Open 4, Running 3, Submitted 6, Disputed 6, and Close from each settled state.
    assert_eq!(checked, 22);
}

/// What an allowed action does besides moving the state (or instead of it), so that none passes as
/// a no-op: the seed recorded, the bid placed, the vote counted, the job started with the bidder at
/// its price.
async fn check_effect(ctx: &mut TestContext, a: &Actors, action: Action, job: &JobKeys) {
    let account = match ctx.account(&job.job).await {
        Some(_) => ctx.anchor_account::<Job>(&job.job).await,
        None => return,
    };
    match action {
        Action::RecordSeed => assert!(account.sample_seed.is_some(), "no seed recorded"),
        Action::PlaceBid => {
            let bid = find_bid_address(&job.job, &a.p.provider).0;
            let bid: Bid = ctx.anchor_account(&bid).await;
            assert_eq!(
                (bid.job_serial, bid.price_per_gpu_hour),
                (account.serial, BID_PRICE)
            );
        }
        Action::Verdict => assert_eq!(account.open_verdicts, 1),
        Action::AcceptBid => assert_eq!(
            (account.provider, account.price_per_gpu_hour),
            (a.bidder.provider, BID_PRICE)
        ),
        Action::Claim => assert_eq!(account.provider, a.p.provider),
        Action::ExpireSeed => {
            let provider: Provider = ctx.anchor_account(&a.p.provider).await;
            assert_eq!(provider.status, ProviderStatus::Jailed);
        }
        _ => {}
    }
}
