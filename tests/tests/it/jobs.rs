//! A job's life: escrow, matching on hardware, metered settlement, payouts and refunds.

use anchor_lang::error::ErrorCode as Anchor;
use gpu_market::{
    GpuModel, UpdateProviderArgs,
    error::MarketError,
    events::{
        CompletionReason, FailureReason, JobCancelled, JobClosed, JobCompleted, JobCreated,
        JobFailed, JobStarted, PayoutClaimed, ResultSubmitted,
    },
    state::{Job, JobState, Market, Provider, Settlement},
};
use gpu_market_tests::{Chain, TestContext, fixtures::*, ix, ix::MarketKeys};
use solana_sdk::pubkey::Pubkey;

struct World {
    ctx: TestContext,
    f: MarketFixture,
    m: MarketKeys,
    provider: ProviderFixture,
    client: ClientFixture,
}

/// A market, a provider with 2 RTX 4090s at 0.40/GPU-hour and 500 tokens staked, a client with 100 USDC.
async fn world() -> World {
    let mut ctx = TestContext::new().await;
    let f = MarketFixture::new(&mut ctx).await;
    let m = f.keys;
    let provider = ProviderFixture::staked(&mut ctx, &m, 500, 500).await;
    let client = ClientFixture::new(&mut ctx, &m, 100).await;
    World {
        ctx,
        f,
        m,
        provider,
        client,
    }
}

const CHALLENGE: i64 = 3_600;

type EditJob<'a> = dyn Fn(&mut gpu_market::CreateJobArgs) + 'a;

#[tokio::test]
async fn a_job_runs_and_everyone_gets_exactly_their_share() {
    let World {
        mut ctx,
        m,
        provider: p,
        client: c,
        ..
    } = world().await;

    // Posting escrows the maximum: 1.00/GPU-hour × 2 GPUs × 1 h.
    let out = ctx
        .ok(
            &[ix::create_job(
                &m,
                &c.key(),
                &c.payment_account,
                job_args(1),
            )],
            &[&c.authority],
        )
        .await;
    let j = c.job(&m, 1);
    assert_eq!(out.event::<JobCreated>().deposit, 2 * ONE_USDC);
    assert_eq!(ctx.token_balance(&j.escrow_vault).await, 2 * ONE_USDC);
    assert_eq!(ctx.token_balance(&c.payment_account).await, 98 * ONE_USDC);

    // The provider claims it at its own price, 0.40.
    let out = ctx
        .ok(&[ix::claim_job(&m, &p.key(), &j.job)], &[&p.authority])
        .await;
    let started: JobStarted = out.event();
    let start = ctx.clock().await.unix_timestamp;
    assert_eq!(
        (started.price_per_gpu_hour, started.deadline),
        (400_000, start + 3_600)
    );
    let provider: Provider = ctx.anchor_account(&p.provider).await;
    assert_eq!((provider.gpus_in_use, provider.active_jobs), (2, 1));

    // Half an hour of work.
    ctx.advance_time(1_800).await;
    let out = ctx
        .ok(
            &[ix::submit_result(&m, &p.key(), &j.job, result_of(1_800))],
            &[&p.authority],
        )
        .await;
    let submitted: ResultSubmitted = out.event();
    assert_eq!(submitted.challenge_ends_at, start + 1_800 + CHALLENGE);
    let provider: Provider = ctx.anchor_account(&p.provider).await;
    // GPUs are free again, but the job still holds the provider's stake until settled.
    assert_eq!((provider.gpus_in_use, provider.active_jobs), (0, 1));

    // Nobody can settle inside the challenge window.
    let finalize = ix::finalize_job(&m, &j.job, &p.provider);
    ctx.advance_time(CHALLENGE - 1).await;
    ctx.fails_with(
        std::slice::from_ref(&finalize),
        &[],
        MarketError::ChallengeWindowOpen,
        &[j.job, j.escrow_vault, p.payout_vault, m.treasury],
    )
    .await;

    // After it, anyone can, once the sample seed is recorded (else nobody could have checked the
    // result). cost = 0.40 × 2 × 0.5 h = 0.40; fee 2.5% = 0.01.
    ctx.advance_time(1).await;
    ctx.fails_with(
        std::slice::from_ref(&finalize),
        &[],
        MarketError::SampleSeedNotRecorded,
        &[j.job, j.escrow_vault, p.payout_vault, m.treasury],
    )
    .await;
    record_seed(&mut ctx, &m, &j.job).await;
    let out = ctx.ok(std::slice::from_ref(&finalize), &[]).await;
    let done: JobCompleted = out.event();
    let expected = Settlement {
        provider_share: 390_000,
        fee: 10_000,
        refund: 1_600_000,
    };
    assert_eq!((done.settlement, done.billed_secs), (expected, 1_800));
    assert_eq!(done.reason, CompletionReason::ChallengeWindowPassed);
    assert_eq!(ctx.token_balance(&p.payout_vault).await, 390_000);
    assert_eq!(ctx.token_balance(&m.treasury).await, 10_000);
    assert_eq!(ctx.token_balance(&j.escrow_vault).await, 1_600_000);
    let job: Job = ctx.anchor_account(&j.job).await;
    assert_eq!((job.state, job.settlement), (JobState::Completed, expected));
    let provider: Provider = ctx.anchor_account(&p.provider).await;
    assert_eq!(
        (provider.active_jobs, provider.counters.jobs_completed),
        (0, 1)
    );
    assert_eq!(provider.counters.total_earned, 390_000);
    let market: Market = ctx.anchor_account(&m.market).await;
    assert_eq!(
        (market.counters.total_volume, market.counters.total_fees),
        (400_000, 10_000)
    );
    assert_eq!(
        (market.counters.jobs_created, market.counters.jobs_completed),
        (1, 1)
    );

    // Settling twice moves nothing.
    ctx.fails_with(
        &[finalize],
        &[],
        MarketError::InvalidJobState,
        &[j.job, j.escrow_vault, p.payout_vault],
    )
    .await;

    // The provider takes its earnings.
    let out = ctx
        .ok(
            &[ix::claim_payout(&m, &p.key(), &p.payment_account)],
            &[&p.authority],
        )
        .await;
    assert_eq!(out.event::<PayoutClaimed>().amount, 390_000);
    assert_eq!(ctx.token_balance(&p.payment_account).await, 390_000);
    let claim = ix::claim_payout(&m, &p.key(), &p.payment_account);
    ctx.fails_with(
        &[claim],
        &[&p.authority],
        MarketError::NothingToClaim,
        &[p.payout_vault],
    )
    .await;

    // The client takes its refund and the rent of both accounts.
    let rent = ctx.lamports(&j.job).await + ctx.lamports(&j.escrow_vault).await;
    let wallet = ctx.lamports(&c.key()).await;
    let out = ctx
        .ok(
            &[ix::close_job(&m, &c.key(), &j.job, &c.payment_account)],
            &[&c.authority],
        )
        .await;
    assert_eq!(out.event::<JobClosed>().refund, 1_600_000);
    assert_eq!(
        ctx.token_balance(&c.payment_account).await,
        100 * ONE_USDC - 400_000
    );
    assert_eq!(ctx.lamports(&c.key()).await, wallet + rent);
    assert!(ctx.account(&j.job).await.is_none());
    assert!(ctx.account(&j.escrow_vault).await.is_none());
}

#[tokio::test]
async fn the_client_may_accept_early_and_nobody_else_may() {
    let World {
        mut ctx,
        m,
        provider: p,
        client: c,
        ..
    } = world().await;
    let j = c.post(&mut ctx, &m, job_args(1)).await;
    ctx.ok(&[ix::claim_job(&m, &p.key(), &j.job)], &[&p.authority])
        .await;
    ctx.advance_time(600).await;
    ctx.ok(
        &[ix::submit_result(&m, &p.key(), &j.job, result_of(600))],
        &[&p.authority],
    )
    .await;

    let stranger = ClientFixture::new(&mut ctx, &m, 0).await;
    let forged = ix::accept_result(&m, &stranger.key(), &j.job, &p.provider);
    ctx.fails_with(
        &[forged],
        &[&stranger.authority],
        MarketError::NotTheJobClient,
        &[j.job, j.escrow_vault],
    )
    .await;

    let out = ctx
        .ok(
            &[ix::accept_result(&m, &c.key(), &j.job, &p.provider)],
            &[&c.authority],
        )
        .await;
    let done: JobCompleted = out.event();
    assert_eq!(done.reason, CompletionReason::AcceptedByClient);
    // 0.40 × 2 × 600 s = 133_333.33 -> 133_333; fee 3_333.
    assert_eq!(
        done.settlement,
        Settlement {
            provider_share: 130_000,
            fee: 3_333,
            refund: 1_866_667
        }
    );
}

#[tokio::test]
async fn settlement_pays_only_the_markets_treasury_and_the_jobs_provider() {
    let World {
        mut ctx,
        m,
        provider: p,
        client: c,
        ..
    } = world().await;
    let other = ProviderFixture::staked(&mut ctx, &m, 500, 500).await;
    let j = c.post(&mut ctx, &m, job_args(1)).await;
    ctx.ok(&[ix::claim_job(&m, &p.key(), &j.job)], &[&p.authority])
        .await;
    ctx.advance_time(60).await;
    ctx.ok(
        &[ix::submit_result(&m, &p.key(), &j.job, result_of(60))],
        &[&p.authority],
    )
    .await;
    ctx.advance_time(CHALLENGE).await;
    record_seed(&mut ctx, &m, &j.job).await;
    let watched = [
        j.job,
        j.escrow_vault,
        p.payout_vault,
        other.payout_vault,
        m.treasury,
    ];

    let attacker_treasury = ctx
        .create_token_account(&m.payment_token_program, &m.payment_mint, &c.key())
        .await;
    let forged = ix::replace_account(
        ix::finalize_job(&m, &j.job, &p.provider),
        &m.treasury,
        &attacker_treasury,
    );
    ctx.fails_with(&[forged], &[], MarketError::WrongTreasury, &watched)
        .await;

    let forged = ix::finalize_job(&m, &j.job, &other.provider);
    ctx.fails_with(&[forged], &[], MarketError::WrongProvider, &watched)
        .await;

    // Right provider, someone else's payout vault.
    let forged = ix::replace_account(
        ix::finalize_job(&m, &j.job, &p.provider),
        &p.payout_vault,
        &other.payout_vault,
    );
    ctx.fails_with(&[forged], &[], Anchor::ConstraintSeeds, &watched)
        .await;

    ctx.ok(&[ix::finalize_job(&m, &j.job, &p.provider)], &[])
        .await;
}

#[tokio::test]
async fn an_open_job_can_be_cancelled_for_a_full_refund() {
    let World {
        mut ctx,
        m,
        provider: p,
        client: c,
        ..
    } = world().await;
    let j = c.post(&mut ctx, &m, job_args(1)).await;

    // Not by someone else, and not closed while open.
    let stranger = ClientFixture::new(&mut ctx, &m, 0).await;
    let forged = ix::replace_account(ix::cancel_job(&c.key(), &j.job), &c.key(), &stranger.key());
    ctx.fails_with(
        &[forged],
        &[&stranger.authority],
        Anchor::ConstraintHasOne,
        &[j.job],
    )
    .await;
    let early_close = ix::close_job(&m, &c.key(), &j.job, &c.payment_account);
    ctx.fails_with(
        &[early_close],
        &[&c.authority],
        MarketError::InvalidJobState,
        &[j.job, j.escrow_vault],
    )
    .await;

    // Cancel and close in one transaction, as a client would.
    let out = ctx
        .ok(
            &[
                ix::cancel_job(&c.key(), &j.job),
                ix::close_job(&m, &c.key(), &j.job, &c.payment_account),
            ],
            &[&c.authority],
        )
        .await;
    assert_eq!(out.event::<JobCancelled>().refund, 2 * ONE_USDC);
    assert_eq!(out.event::<JobClosed>().refund, 2 * ONE_USDC);
    assert_eq!(ctx.token_balance(&c.payment_account).await, 100 * ONE_USDC);
    assert!(ctx.account(&j.job).await.is_none());

    // A job a provider already holds cannot be cancelled.
    let j = c.post(&mut ctx, &m, job_args(2)).await;
    ctx.ok(&[ix::claim_job(&m, &p.key(), &j.job)], &[&p.authority])
        .await;
    ctx.fails_with(
        &[ix::cancel_job(&c.key(), &j.job)],
        &[&c.authority],
        MarketError::InvalidJobState,
        &[j.job],
    )
    .await;
}

#[tokio::test]
async fn a_silent_provider_is_expired_after_its_deadline() {
    let World {
        mut ctx,
        m,
        provider: p,
        client: c,
        ..
    } = world().await;
    let j = c.post(&mut ctx, &m, job_args(1)).await;
    ctx.ok(&[ix::claim_job(&m, &p.key(), &j.job)], &[&p.authority])
        .await;
    let cranker = ctx.funded_wallet(1).await;
    let expire = ix::expire_job(&m, &cranker_key(&cranker), &j.job, &p.provider);

    ctx.advance_time(3_600).await;
    ctx.fails_with(
        std::slice::from_ref(&expire),
        &[&cranker],
        MarketError::DeadlineNotReached,
        &[j.job, p.provider],
    )
    .await;
    // At the deadline the provider may still submit; one second later it may not.
    ctx.advance_time(1).await;
    let late = ix::submit_result(&m, &p.key(), &j.job, result_of(3_600));
    ctx.fails_with(
        &[late],
        &[&p.authority],
        MarketError::DeadlinePassed,
        &[j.job, p.provider],
    )
    .await;

    let out = ctx.ok(std::slice::from_ref(&expire), &[&cranker]).await;
    let failed: JobFailed = out.event();
    assert_eq!(
        (failed.reason, failed.refund),
        (FailureReason::Expired, 2 * ONE_USDC)
    );
    assert_eq!(failed.actor, cranker_key(&cranker));
    let job: Job = ctx.anchor_account(&j.job).await;
    assert_eq!(job.state, JobState::Failed);
    let provider: Provider = ctx.anchor_account(&p.provider).await;
    assert_eq!(
        (
            provider.gpus_in_use,
            provider.active_jobs,
            provider.counters.jobs_failed
        ),
        (0, 0, 1)
    );
    assert_eq!(
        ctx.anchor_account::<Market>(&m.market)
            .await
            .counters
            .jobs_failed,
        1
    );

    ctx.fails_with(
        &[expire],
        &[&cranker],
        MarketError::InvalidJobState,
        &[j.job, p.provider],
    )
    .await;
    ctx.ok(
        &[ix::close_job(&m, &c.key(), &j.job, &c.payment_account)],
        &[&c.authority],
    )
    .await;
    assert_eq!(ctx.token_balance(&c.payment_account).await, 100 * ONE_USDC);
}

fn cranker_key(k: &solana_sdk::signature::Keypair) -> Pubkey {
    solana_sdk::signer::Signer::pubkey(k)
}

#[tokio::test]
async fn a_provider_can_give_a_job_up_and_only_its_own() {
    let World {
        mut ctx,
        m,
        provider: p,
        client: c,
        ..
    } = world().await;
    let other = ProviderFixture::staked(&mut ctx, &m, 500, 500).await;
    let j = c.post(&mut ctx, &m, job_args(1)).await;

    ctx.fails_with(
        &[ix::abandon_job(&m, &p.key(), &j.job)],
        &[&p.authority],
        MarketError::WrongProvider,
        &[j.job],
    )
    .await;
    ctx.ok(&[ix::claim_job(&m, &p.key(), &j.job)], &[&p.authority])
        .await;
    let theirs = ix::abandon_job(&m, &other.key(), &j.job);
    ctx.fails_with(
        &[theirs],
        &[&other.authority],
        MarketError::WrongProvider,
        &[j.job, p.provider],
    )
    .await;

    let out = ctx
        .ok(&[ix::abandon_job(&m, &p.key(), &j.job)], &[&p.authority])
        .await;
    let failed: JobFailed = out.event();
    assert_eq!(
        (failed.reason, failed.refund, failed.actor),
        (FailureReason::Abandoned, 2 * ONE_USDC, p.key())
    );
    let provider: Provider = ctx.anchor_account(&p.provider).await;
    assert_eq!((provider.gpus_in_use, provider.active_jobs), (0, 0));
    let again = ix::abandon_job(&m, &p.key(), &j.job);
    ctx.fails_with(
        &[again],
        &[&p.authority],
        MarketError::InvalidJobState,
        &[j.job],
    )
    .await;
}

#[tokio::test]
async fn claims_are_checked_against_hardware_price_stake_and_capacity() {
    let World {
        mut ctx,
        f,
        m,
        provider: p,
        client: c,
    } = world().await;
    let watched = |j: &JobKeys| [j.job, p.provider];
    let mut nonce = 0;
    let mut post = async |ctx: &mut TestContext, edit: &EditJob<'_>| {
        nonce += 1;
        let mut args = job_args(nonce);
        edit(&mut args);
        c.post(ctx, &m, args).await
    };

    let cases: [(&EditJob<'_>, MarketError); 7] = [
        (
            &|a| a.requirements.allowed_gpu_models = GpuModel::H100.mask_bit(),
            MarketError::GpuModelNotAllowed,
        ),
        (
            &|a| a.requirements.min_vram_gb = 80,
            MarketError::InsufficientVram,
        ),
        (
            &|a| a.requirements.gpu_count = 3,
            MarketError::InsufficientGpus,
        ),
        (
            &|a| a.requirements.min_bandwidth_down_mbps = 10_000,
            MarketError::InsufficientBandwidth,
        ),
        (
            &|a| a.requirements.region = Some(gpu_market::Region::AsiaPacific),
            MarketError::WrongRegion,
        ),
        (
            &|a| a.max_price_per_gpu_hour = 399_999,
            MarketError::PriceAboveMaximum,
        ),
        (
            &|a| a.named_provider = Some(Pubkey::new_unique()),
            MarketError::NotTheNamedProvider,
        ),
    ];
    for (edit, expected) in cases {
        let j = post(&mut ctx, edit).await;
        ctx.fails_with(
            &[ix::claim_job(&m, &p.key(), &j.job)],
            &[&p.authority],
            expected,
            &watched(&j),
        )
        .await;
    }

    // Named for this provider: it may take it.
    let named = p.provider;
    let j = post(&mut ctx, &|a| a.named_provider = Some(named)).await;
    ctx.ok(&[ix::claim_job(&m, &p.key(), &j.job)], &[&p.authority])
        .await;
    // Its 2 GPUs are busy now: no room for another 2-GPU job.
    let busy = post(&mut ctx, &|_| {}).await;
    ctx.fails_with(
        &[ix::claim_job(&m, &p.key(), &busy.job)],
        &[&p.authority],
        MarketError::NoFreeCapacity,
        &watched(&busy),
    )
    .await;
    // And the same job cannot be claimed twice.
    ctx.fails_with(
        &[ix::claim_job(&m, &p.key(), &j.job)],
        &[&p.authority],
        MarketError::InvalidJobState,
        &watched(&j),
    )
    .await;

    // A provider under the minimum stake for the job's GPUs (100 per GPU × 2).
    let poor = ProviderFixture::staked(&mut ctx, &m, 199, 199).await;
    ctx.fails_with(
        &[ix::claim_job(&m, &poor.key(), &busy.job)],
        &[&poor.authority],
        MarketError::InsufficientStake,
        &[busy.job, poor.provider],
    )
    .await;

    // A provider that stopped taking jobs.
    let resting = ProviderFixture::staked(&mut ctx, &m, 500, 500).await;
    let pause_me = UpdateProviderArgs {
        accepting_jobs: Some(false),
        ..Default::default()
    };
    ctx.ok(
        &[ix::update_provider(&m, &resting.key(), pause_me)],
        &[&resting.authority],
    )
    .await;
    ctx.fails_with(
        &[ix::claim_job(&m, &resting.key(), &busy.job)],
        &[&resting.authority],
        MarketError::ProviderNotActive,
        &[busy.job],
    )
    .await;

    // A paused market starts no jobs.
    let fresh = ProviderFixture::staked(&mut ctx, &m, 500, 500).await;
    ctx.ok(&[ix::pause_market(&m)], &[&f.authority]).await;
    ctx.fails_with(
        &[ix::claim_job(&m, &fresh.key(), &busy.job)],
        &[&fresh.authority],
        MarketError::MarketPaused,
        &[busy.job],
    )
    .await;
    ctx.ok(&[ix::unpause_market(&m)], &[&f.authority]).await;
    ctx.ok(
        &[ix::claim_job(&m, &fresh.key(), &busy.job)],
        &[&fresh.authority],
    )
    .await;
}

#[tokio::test]
async fn results_are_checked() {
    let World {
        mut ctx,
        m,
        provider: p,
        client: c,
        ..
    } = world().await;
    let other = ProviderFixture::staked(&mut ctx, &m, 500, 500).await;
    let j = c.post(&mut ctx, &m, job_args(1)).await;
    let submit =
        |who: &ProviderFixture, secs| ix::submit_result(&m, &who.key(), &j.job, result_of(secs));

    ctx.fails_with(
        &[submit(&p, 0)],
        &[&p.authority],
        MarketError::WrongProvider,
        &[j.job],
    )
    .await;
    ctx.ok(&[ix::claim_job(&m, &p.key(), &j.job)], &[&p.authority])
        .await;
    ctx.advance_time(100).await;

    ctx.fails_with(
        &[submit(&other, 100)],
        &[&other.authority],
        MarketError::WrongProvider,
        &[j.job],
    )
    .await;
    ctx.fails_with(
        &[submit(&p, 101)],
        &[&p.authority],
        MarketError::MeteredTimeExceedsElapsed,
        &[j.job, p.provider],
    )
    .await;
    let mut no_chunks = result_of(100);
    no_chunks.chunk_count = 0;
    let bad = ix::submit_result(&m, &p.key(), &j.job, no_chunks);
    ctx.fails_with(
        &[bad],
        &[&p.authority],
        MarketError::InvalidChunkCount,
        &[j.job],
    )
    .await;

    ctx.ok(&[submit(&p, 100)], &[&p.authority]).await;
    ctx.fails_with(
        &[submit(&p, 100)],
        &[&p.authority],
        MarketError::InvalidJobState,
        &[j.job, p.provider],
    )
    .await;
    // A submitted job is neither abandoned nor expired.
    ctx.fails_with(
        &[ix::abandon_job(&m, &p.key(), &j.job)],
        &[&p.authority],
        MarketError::InvalidJobState,
        &[j.job],
    )
    .await;
}

#[tokio::test]
async fn the_longest_job_bills_its_full_duration_to_the_last_unit() {
    let World {
        mut ctx,
        m,
        provider: p,
        client: c,
        ..
    } = world().await;
    // 7 seconds at 1.00/GPU-hour on 1 GPU: deposit ceil(1_944.4) = 1_945.
    let mut args = job_args(1);
    args.requirements.gpu_count = 1;
    args.max_duration_secs = 7;
    let j = c.post(&mut ctx, &m, args).await;
    let job: Job = ctx.anchor_account(&j.job).await;
    assert_eq!(job.deposit, 1_945);
    ctx.ok(&[ix::claim_job(&m, &p.key(), &j.job)], &[&p.authority])
        .await;
    ctx.advance_time(7).await;
    ctx.ok(
        &[ix::submit_result(&m, &p.key(), &j.job, result_of(7))],
        &[&p.authority],
    )
    .await;
    let out = ctx
        .ok(
            &[ix::accept_result(&m, &c.key(), &j.job, &p.provider)],
            &[&c.authority],
        )
        .await;
    // 400_000 × 7 / 3600 = 777.8 -> 777; fee 2.5% = 19.4 -> 19.
    let done: JobCompleted = out.event();
    assert_eq!(
        done.settlement,
        Settlement {
            provider_share: 758,
            fee: 19,
            refund: 1_168
        }
    );
    assert_eq!(done.billed_secs, 7);
}

#[tokio::test]
async fn bad_jobs_are_refused_at_creation() {
    type Break = fn(&mut gpu_market::CreateJobArgs);
    let cases: [(Break, MarketError); 8] = [
        (|a| a.max_duration_secs = 0, MarketError::InvalidDuration),
        (
            |a| a.max_duration_secs = 30 * 24 * 3_600 + 1,
            MarketError::InvalidDuration,
        ),
        (
            |a| a.requirements.gpu_count = 0,
            MarketError::InvalidGpuCount,
        ),
        (
            |a| a.requirements.min_vram_gb = 2_000,
            MarketError::InvalidVram,
        ),
        (
            |a| a.workload.spec_uri = String::new(),
            MarketError::InvalidSpecUri,
        ),
        (|a| a.max_price_per_gpu_hour = 0, MarketError::InvalidPrice),
        (
            |a| a.max_price_per_gpu_hour = u64::MAX,
            MarketError::InvalidDeposit,
        ),
        // 1 unit/GPU-hour for 1 second rounds up to a deposit of 1, so no input can make it zero;
        // an overflowing product is the only other deposit failure.
        (
            |a| {
                a.max_price_per_gpu_hour = u64::MAX / 2;
                a.requirements.gpu_count = 64
            },
            MarketError::InvalidDeposit,
        ),
    ];
    let World {
        mut ctx,
        f,
        m,
        client: c,
        ..
    } = world().await;
    for (break_it, expected) in cases {
        let mut args = job_args(9);
        break_it(&mut args);
        let create = ix::create_job(&m, &c.key(), &c.payment_account, args);
        let j = c.job(&m, 9);
        ctx.fails_with(
            &[create],
            &[&c.authority],
            expected,
            &[m.market, j.job, c.payment_account],
        )
        .await;
    }

    // More than the client holds: the token program refuses (insufficient funds, its error 1).
    let mut args = job_args(9);
    args.max_price_per_gpu_hour = 51 * ONE_USDC;
    let create = ix::create_job(&m, &c.key(), &c.payment_account, args);
    ctx.fails_with(
        &[create],
        &[&c.authority],
        1u32,
        &[m.market, c.payment_account],
    )
    .await;

    // Paying from someone else's account.
    let victim = ClientFixture::new(&mut ctx, &m, 10).await;
    let theft = ix::create_job(&m, &c.key(), &victim.payment_account, job_args(9));
    ctx.fails_with(
        &[theft],
        &[&c.authority],
        Anchor::ConstraintTokenOwner,
        &[victim.payment_account],
    )
    .await;

    // Paused.
    ctx.ok(&[ix::pause_market(&m)], &[&f.authority]).await;
    let create = ix::create_job(&m, &c.key(), &c.payment_account, job_args(9));
    ctx.fails_with(
        &[create],
        &[&c.authority],
        MarketError::MarketPaused,
        &[m.market, c.payment_account],
    )
    .await;
}

#[tokio::test]
async fn a_pause_stops_new_jobs_but_running_ones_finish_and_pay() {
    let World {
        mut ctx,
        f,
        m,
        provider: p,
        client: c,
    } = world().await;
    let j = c.post(&mut ctx, &m, job_args(1)).await;
    let open = c.post(&mut ctx, &m, job_args(2)).await;
    ctx.ok(&[ix::claim_job(&m, &p.key(), &j.job)], &[&p.authority])
        .await;
    ctx.ok(&[ix::pause_market(&m)], &[&f.authority]).await;

    let bid = ix::place_bid(&m, &p.key(), &open.job, 300_000, NO_BID_EXPIRY);
    ctx.fails_with(
        &[bid],
        &[&p.authority],
        MarketError::MarketPaused,
        &[open.job],
    )
    .await;

    ctx.advance_time(600).await;
    ctx.ok(
        &[ix::submit_result(&m, &p.key(), &j.job, result_of(600))],
        &[&p.authority],
    )
    .await;
    ctx.advance_time(CHALLENGE).await;
    record_seed(&mut ctx, &m, &j.job).await;
    ctx.ok(&[ix::finalize_job(&m, &j.job, &p.provider)], &[])
        .await;
    ctx.ok(
        &[ix::claim_payout(&m, &p.key(), &p.payment_account)],
        &[&p.authority],
    )
    .await;
    ctx.ok(
        &[ix::close_job(&m, &c.key(), &j.job, &c.payment_account)],
        &[&c.authority],
    )
    .await;
    ctx.ok(
        &[
            ix::cancel_job(&c.key(), &open.job),
            ix::close_job(&m, &c.key(), &open.job, &c.payment_account),
        ],
        &[&c.authority],
    )
    .await;
    // 0.40 × 2 GPUs × 600 s = 133_333, of which the fee is 3_333.
    assert_eq!(ctx.token_balance(&p.payment_account).await, 130_000);
    assert_eq!(
        ctx.token_balance(&c.payment_account).await,
        100 * ONE_USDC - 133_333
    );
}
