//! A market's life over JSON-RPC: set-up, a provider's registration and stake, a job from posting to
//! payout, and the cancel and expire paths. Events are read back from `getTransaction`'s inner
//! instructions, where `emit_cpi!` puts them.

use gpu_market::{
    MarketParams,
    events::{
        CompletionReason, FailureReason, JobCancelled, JobClosed, JobCompleted, JobCreated,
        JobFailed, JobStarted, MarketInitialized, PayoutClaimed, ProviderRegistered,
        ResultSubmitted, Staked,
    },
    state::{Job, JobState, Market, Provider, Settlement},
};
use gpu_market_tests::{Chain, RpcChain, fixtures::*, ix, ix::MarketKeys};
use solana_sdk::signer::Signer;

/// Short windows, so that the suite takes minutes on a cluster where time passes only by waiting.
const CHALLENGE_WINDOW_SECS: u32 = 30;
const JOB_SECS: u32 = 120;

/// A job of [`JOB_SECS`] that the default provider matches: 2 GPUs, up to 1.00 per GPU-hour.
fn short_job(nonce: u64) -> gpu_market::CreateJobArgs {
    gpu_market::CreateJobArgs {
        max_duration_secs: JOB_SECS,
        ..job_args(nonce)
    }
}

/// ceil(1.00 × 2 GPUs × 120 s / 3600 s), in base units.
const DEPOSIT: u64 = 66_667;

struct World {
    chain: RpcChain,
    m: MarketKeys,
    provider: ProviderFixture,
    client: ClientFixture,
}

/// A market, a provider with 2 RTX 4090s at 0.40/GPU-hour and 500 tokens staked, a client with 100
/// USDC, each step checked through the events it emitted.
async fn world() -> World {
    let mut chain = RpcChain::start().await;
    let market = MarketFixture::prepare(&mut chain, anchor_spl::token::ID).await;
    let out = chain
        .ok(
            &[market.initialize_ix(MarketParams {
                challenge_window_secs: CHALLENGE_WINDOW_SECS,
                ..default_params()
            })],
            &[&market.authority],
        )
        .await;
    let m = market.keys;
    assert_eq!(out.event::<MarketInitialized>().market, m.market);

    let provider = ProviderFixture::wallet(&mut chain, &m, 500).await;
    let out = chain
        .ok(
            &[
                ix::register_provider(&m, &provider.key(), provider_args()),
                ix::stake(
                    &m,
                    &provider.key(),
                    &provider.stake_account,
                    500 * ONE_STAKE,
                ),
            ],
            &[&provider.authority],
        )
        .await;
    assert_eq!(
        out.event::<ProviderRegistered>().provider,
        provider.provider
    );
    assert_eq!(out.event::<Staked>().amount, 500 * ONE_STAKE);
    let on_chain: Provider = chain.anchor_account(&provider.provider).await;
    assert_eq!(on_chain.staked, 500 * ONE_STAKE);
    assert_eq!(
        chain.token_balance(&provider.stake_vault).await,
        500 * ONE_STAKE
    );

    let client = ClientFixture::new(&mut chain, &m, 100).await;
    World {
        chain,
        m,
        provider,
        client,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_runs_from_posting_to_payout() {
    let World {
        mut chain,
        m,
        provider: p,
        client: c,
    } = world().await;

    let out = chain
        .ok(
            &[ix::create_job(
                &m,
                &c.key(),
                &c.payment_account,
                short_job(1),
            )],
            &[&c.authority],
        )
        .await;
    let j = c.job(&m, 1);
    assert_eq!(out.event::<JobCreated>().deposit, DEPOSIT);
    assert_eq!(chain.token_balance(&j.escrow_vault).await, DEPOSIT);

    let out = chain
        .ok(&[ix::claim_job(&m, &p.key(), &j.job)], &[&p.authority])
        .await;
    let started: JobStarted = out.event();
    assert_eq!(started.price_per_gpu_hour, 400_000);

    // A minute of metered work (the Clock follows wall time, so at least that much elapsed).
    chain.advance_time(60).await;
    let out = chain
        .ok(
            &[ix::submit_result(&m, &p.key(), &j.job, result_of(60))],
            &[&p.authority],
        )
        .await;
    let submitted: ResultSubmitted = out.event();
    let window = i64::from(CHALLENGE_WINDOW_SECS);
    let now = chain.clock().await.unix_timestamp;
    assert!((now..=now + window).contains(&submitted.challenge_ends_at));

    // After the challenge window anyone settles: floor(0.40 × 2 GPUs × 60 s / 3600 s) = 13,333,
    // fee floor(2.5%) = 333.
    chain
        .advance_time(submitted.challenge_ends_at + 1 - now)
        .await;
    record_seed(&mut chain, &m, &j.job).await;
    let out = chain
        .ok(&[ix::finalize_job(&m, &j.job, &p.provider)], &[])
        .await;
    let done: JobCompleted = out.event();
    let expected = Settlement {
        provider_share: 13_000,
        fee: 333,
        refund: DEPOSIT - 13_333,
    };
    assert_eq!((done.settlement, done.billed_secs), (expected, 60));
    assert_eq!(done.reason, CompletionReason::ChallengeWindowPassed);
    assert_eq!(chain.token_balance(&p.payout_vault).await, 13_000);
    assert_eq!(chain.token_balance(&m.treasury).await, 333);
    let job: Job = chain.anchor_account(&j.job).await;
    assert_eq!(job.state, JobState::Completed);

    let out = chain
        .ok(
            &[ix::claim_payout(&m, &p.key(), &p.payment_account)],
            &[&p.authority],
        )
        .await;
    assert_eq!(out.event::<PayoutClaimed>().amount, 13_000);
    assert_eq!(chain.token_balance(&p.payment_account).await, 13_000);

    let wallet = chain.lamports(&c.key()).await;
    let rent = chain.lamports(&j.job).await + chain.lamports(&j.escrow_vault).await;
    let out = chain
        .ok(
            &[ix::close_job(&m, &c.key(), &j.job, &c.payment_account)],
            &[&c.authority],
        )
        .await;
    assert_eq!(out.event::<JobClosed>().refund, DEPOSIT - 13_333);
    assert_eq!(
        chain.token_balance(&c.payment_account).await,
        100 * ONE_USDC - 13_333
    );
    // The client signs but does not pay the fee, so it gets the two accounts' rent back exactly.
    assert_eq!(chain.lamports(&c.key()).await, wallet + rent);
    assert!(chain.account(&j.job).await.is_none());

    let market: Market = chain.anchor_account(&m.market).await;
    assert_eq!(
        (market.counters.jobs_completed, market.counters.total_fees),
        (1, 333)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_job_is_cancelled_for_a_full_refund() {
    let World {
        mut chain,
        m,
        client: c,
        ..
    } = world().await;
    let j = c.post(&mut chain, &m, short_job(7)).await;
    assert_eq!(
        chain.token_balance(&c.payment_account).await,
        100 * ONE_USDC - DEPOSIT
    );

    let out = chain
        .ok(
            &[
                ix::cancel_job(&c.key(), &j.job),
                ix::close_job(&m, &c.key(), &j.job, &c.payment_account),
            ],
            &[&c.authority],
        )
        .await;
    assert_eq!(out.event::<JobCancelled>().refund, DEPOSIT);
    assert_eq!(out.event::<JobClosed>().refund, DEPOSIT);
    assert_eq!(
        chain.token_balance(&c.payment_account).await,
        100 * ONE_USDC
    );
    assert!(chain.account(&j.job).await.is_none());
    assert!(chain.account(&j.escrow_vault).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_provider_is_expired_and_slashed() {
    let World {
        mut chain,
        m,
        provider: p,
        client: c,
    } = world().await;
    let j = c.post(&mut chain, &m, short_job(1)).await;
    let out = chain
        .ok(&[ix::claim_job(&m, &p.key(), &j.job)], &[&p.authority])
        .await;
    let deadline = out.event::<JobStarted>().deadline;
    let cranker = chain.funded_wallet(1).await;
    let expire = ix::expire_job(&m, &cranker.pubkey(), &j.job, &p.provider);

    // Before the deadline nobody can expire it.
    let now = chain.clock().await.unix_timestamp;
    chain.advance_time(deadline - now - 30).await;
    let err = chain
        .fails(
            std::slice::from_ref(&expire),
            &[&cranker],
            &[j.job, p.provider],
        )
        .await;
    assert_eq!(
        err.custom_code(),
        Some(gpu_market::error::MarketError::DeadlineNotReached.into())
    );

    let now = chain.clock().await.unix_timestamp;
    chain.advance_time(deadline + 1 - now).await;
    let out = chain.ok(&[expire], &[&cranker]).await;
    let failed: JobFailed = out.event();
    assert_eq!(
        (failed.reason, failed.refund, failed.actor),
        (FailureReason::Expired, DEPOSIT, cranker.pubkey())
    );
    let provider: Provider = chain.anchor_account(&p.provider).await;
    let market: Market = chain.anchor_account(&m.market).await;
    let slashed = 500 * ONE_STAKE * u64::from(market.params.slash_no_show_bps) / 10_000;
    assert_eq!(provider.staked, 500 * ONE_STAKE - slashed);
    assert_eq!(chain.token_balance(&m.slash_destination).await, slashed);

    chain
        .ok(
            &[ix::close_job(&m, &c.key(), &j.job, &c.payment_account)],
            &[&c.authority],
        )
        .await;
    assert_eq!(
        chain.token_balance(&c.payment_account).await,
        100 * ONE_USDC
    );
}
