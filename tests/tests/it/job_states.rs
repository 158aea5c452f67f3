//! Every job instruction sent from every state that does not allow it: the named error, and the job,
//! its escrow, the provider, its payout vault and the treasury unchanged.

use gpu_market::{DisputeRuling, error::MarketError, state::JobState};
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
    Resolve,
    SettleDispute,
}

const ACTIONS: [Action; 13] = [
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
    Action::Resolve,
    Action::SettleDispute,
];

/// Which actions each state allows (given enough time has passed).
fn allowed(state: JobState) -> &'static [Action] {
    match state {
        JobState::Open => &[Action::Cancel, Action::Claim],
        JobState::Running => &[Action::Submit, Action::Abandon, Action::Expire],
        JobState::Submitted => &[
            Action::AcceptResult,
            Action::Finalize,
            Action::Dispute,
            Action::Verdict,
            Action::RecordSeed,
        ],
        JobState::Disputed => &[
            Action::AcceptResult,
            Action::Verdict,
            Action::RecordSeed,
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
    c: ClientFixture,
    verifier: Keypair,
}

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
            Action::Resolve => (
                ix::resolve_dispute(m, &job.job, &p.provider, DisputeRuling::RefundClient),
                vec![&self.authority],
            ),
            Action::SettleDispute => (ix::settle_dispute(m, &job.job, &p.provider), vec![]),
        }
    }
}

/// Drives a new job (nonce `nonce`) into `state`.
async fn job_in(ctx: &mut TestContext, a: &Actors, nonce: u64, state: JobState) -> JobKeys {
    let job = a.c.post(ctx, &a.m, job_args(nonce)).await;
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

#[tokio::test]
async fn no_instruction_runs_from_a_state_that_does_not_allow_it() {
    let mut ctx = TestContext::new().await;
    let f = MarketFixture::new(&mut ctx).await;
    let m = f.keys;
    let verifier = VerifierFixture::staked(&mut ctx, &m, &f.authority)
        .await
        .authority;
    // Room for every job of the test at once: 16 GPUs.
    let p = ProviderFixture::registered(&mut ctx, &m, 5_000).await;
    let mut spec = rtx4090_spec();
    spec.gpu_count = 16;
    let bigger = gpu_market::UpdateProviderArgs {
        spec: Some(spec),
        ..Default::default()
    };
    ctx.ok(
        &[ix::update_provider(&m, &p.key(), bigger)],
        &[&p.authority],
    )
    .await;
    ctx.ok(
        &[ix::stake(&m, &p.key(), &p.stake_account, 5_000 * ONE_STAKE)],
        &[&p.authority],
    )
    .await;
    let c = ClientFixture::new(&mut ctx, &m, 100).await;
    let a = Actors {
        m,
        authority: f.authority,
        p,
        c,
        verifier,
    };

    let states = [
        JobState::Open,
        JobState::Running,
        JobState::Submitted,
        JobState::Disputed,
        JobState::Completed,
        JobState::Failed,
        JobState::Cancelled,
    ];
    let mut checked = 0;
    for (nonce, state) in states.into_iter().enumerate() {
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
    // Open 11, Running 10, Submitted 8, Disputed 8, and 12 for each settled state.
    assert_eq!(checked, 73);
}
