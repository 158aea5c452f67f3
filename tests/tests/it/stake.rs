//! Provider stake: bonding, unbonding with the market's period, cancelling and withdrawing.

use anchor_lang::error::ErrorCode as Anchor;
use gpu_market::{
    MarketParams, UpdateProviderArgs,
    error::MarketError,
    events::{JobStarted, Staked, UnstakeCancelled, UnstakeRequested, UnstakeWithdrawn},
    state::{HardwareSpec, Market, Provider},
};
use gpu_market_tests::{Chain, TestContext, fixtures::*, ix};

#[tokio::test]
async fn stake_moves_tokens_into_the_vault() {
    let mut ctx = TestContext::new().await;
    let m = MarketFixture::new(&mut ctx).await.keys;
    let p = ProviderFixture::registered(&mut ctx, &m, 1_000).await;

    let out = ctx
        .ok(
            &[ix::stake(&m, &p.key(), &p.stake_account, 250 * ONE_STAKE)],
            &[&p.authority],
        )
        .await;
    ctx.ok(
        &[ix::stake(&m, &p.key(), &p.stake_account, 50 * ONE_STAKE)],
        &[&p.authority],
    )
    .await;

    assert_eq!(ctx.token_balance(&p.stake_vault).await, 300 * ONE_STAKE);
    assert_eq!(ctx.token_balance(&p.stake_account).await, 700 * ONE_STAKE);
    assert_eq!(
        ctx.anchor_account::<Provider>(&p.provider).await.staked,
        300 * ONE_STAKE
    );
    assert_eq!(
        ctx.anchor_account::<Market>(&m.market)
            .await
            .counters
            .total_stake,
        300 * ONE_STAKE
    );
    let ev: Staked = out.event();
    assert_eq!(
        (ev.amount, ev.staked, ev.market_total_stake),
        (250 * ONE_STAKE, 250 * ONE_STAKE, 250 * ONE_STAKE)
    );
}

#[tokio::test]
async fn bad_stakes_are_refused() {
    let mut ctx = TestContext::new().await;
    let f = MarketFixture::new(&mut ctx).await;
    let m = f.keys;
    let p = ProviderFixture::registered(&mut ctx, &m, 100).await;
    let other = ProviderFixture::registered(&mut ctx, &m, 100).await;
    let watched = [
        m.market,
        p.provider,
        p.stake_vault,
        p.stake_account,
        other.stake_account,
    ];

    let zero = ix::stake(&m, &p.key(), &p.stake_account, 0);
    ctx.fails_with(&[zero], &[&p.authority], MarketError::ZeroAmount, &watched)
        .await;

    // More than the wallet holds: the token program refuses (insufficient funds, its error 1).
    let too_much = ix::stake(&m, &p.key(), &p.stake_account, 101 * ONE_STAKE);
    ctx.fails_with(&[too_much], &[&p.authority], 1u32, &watched)
        .await;

    // Paying with someone else's tokens.
    let theft = ix::stake(&m, &p.key(), &other.stake_account, ONE_STAKE);
    ctx.fails_with(
        &[theft],
        &[&p.authority],
        Anchor::ConstraintTokenOwner,
        &watched,
    )
    .await;

    // Into someone else's vault.
    let wrong_vault = ix::replace_account(
        ix::stake(&m, &p.key(), &p.stake_account, ONE_STAKE),
        &p.stake_vault,
        &other.stake_vault,
    );
    ctx.fails_with(
        &[wrong_vault],
        &[&p.authority],
        Anchor::ConstraintSeeds,
        &watched,
    )
    .await;

    // Paying with payment tokens.
    let wrong_mint = ix::stake(&m, &p.key(), &p.payment_account, ONE_STAKE);
    ctx.fails_with(
        &[wrong_mint],
        &[&p.authority],
        Anchor::ConstraintTokenMint,
        &watched,
    )
    .await;

    // A paused market takes no new stake.
    ctx.ok(&[ix::pause_market(&m)], &[&f.authority]).await;
    let paused = ix::stake(&m, &p.key(), &p.stake_account, ONE_STAKE);
    ctx.fails_with(
        &[paused],
        &[&p.authority],
        MarketError::MarketPaused,
        &watched,
    )
    .await;
}

#[tokio::test]
async fn unstaking_waits_out_the_unbonding_period() {
    let mut ctx = TestContext::new().await;
    let m = MarketFixture::new(&mut ctx).await.keys;
    let p = ProviderFixture::staked(&mut ctx, &m, 500, 500).await;
    let period = i64::from(default_params().unbonding_period_secs);
    let start = ctx.clock().await.unix_timestamp;

    let out = ctx
        .ok(
            &[ix::request_unstake(&m, &p.key(), 200 * ONE_STAKE)],
            &[&p.authority],
        )
        .await;
    let ev: UnstakeRequested = out.event();
    assert_eq!(
        (ev.staked, ev.unbonding, ev.unlock_at),
        (300 * ONE_STAKE, 200 * ONE_STAKE, start + period)
    );
    // Nothing left the vault yet.
    assert_eq!(ctx.token_balance(&p.stake_vault).await, 500 * ONE_STAKE);

    let withdraw = ix::withdraw_unstaked(&m, &p.key(), &p.stake_account);
    let watched = [m.market, p.provider, p.stake_vault, p.stake_account];
    ctx.advance_time(period - 1).await;
    ctx.fails_with(
        std::slice::from_ref(&withdraw),
        &[&p.authority],
        MarketError::UnbondingNotFinished,
        &watched,
    )
    .await;

    ctx.advance_time(1).await;
    let out = ctx
        .ok(std::slice::from_ref(&withdraw), &[&p.authority])
        .await;
    let ev: UnstakeWithdrawn = out.event();
    assert_eq!(
        (ev.amount, ev.staked, ev.market_total_stake),
        (200 * ONE_STAKE, 300 * ONE_STAKE, 300 * ONE_STAKE)
    );
    assert_eq!(ctx.token_balance(&p.stake_vault).await, 300 * ONE_STAKE);
    assert_eq!(ctx.token_balance(&p.stake_account).await, 200 * ONE_STAKE);
    let provider: Provider = ctx.anchor_account(&p.provider).await;
    assert_eq!(
        (
            provider.staked,
            provider.unbonding,
            provider.unbonding_unlock_at
        ),
        (300 * ONE_STAKE, 0, 0)
    );

    // Withdrawing again finds nothing pending.
    ctx.fails_with(
        &[withdraw],
        &[&p.authority],
        MarketError::NoPendingUnstake,
        &watched,
    )
    .await;
}

#[tokio::test]
async fn a_second_request_restarts_the_clock_for_the_whole_amount() {
    let mut ctx = TestContext::new().await;
    let m = MarketFixture::new(&mut ctx).await.keys;
    let p = ProviderFixture::staked(&mut ctx, &m, 500, 500).await;
    let period = i64::from(default_params().unbonding_period_secs);

    ctx.ok(
        &[ix::request_unstake(&m, &p.key(), 100 * ONE_STAKE)],
        &[&p.authority],
    )
    .await;
    ctx.advance_time(period / 2).await;
    let out = ctx
        .ok(
            &[ix::request_unstake(&m, &p.key(), 100 * ONE_STAKE)],
            &[&p.authority],
        )
        .await;
    let ev: UnstakeRequested = out.event();
    assert_eq!(ev.unbonding, 200 * ONE_STAKE);
    assert_eq!(ev.unlock_at, ctx.clock().await.unix_timestamp + period);

    ctx.advance_time(period / 2 + 1).await;
    let withdraw = ix::withdraw_unstaked(&m, &p.key(), &p.stake_account);
    ctx.fails_with(
        &[withdraw],
        &[&p.authority],
        MarketError::UnbondingNotFinished,
        &[p.stake_vault],
    )
    .await;
}

#[tokio::test]
async fn cancelling_puts_unbonding_stake_back_to_work() {
    let mut ctx = TestContext::new().await;
    let m = MarketFixture::new(&mut ctx).await.keys;
    let p = ProviderFixture::staked(&mut ctx, &m, 500, 500).await;

    ctx.fails_with(
        &[ix::cancel_unstake(&m, &p.key())],
        &[&p.authority],
        MarketError::NoPendingUnstake,
        &[p.provider],
    )
    .await;
    ctx.ok(
        &[ix::request_unstake(&m, &p.key(), 150 * ONE_STAKE)],
        &[&p.authority],
    )
    .await;
    let out = ctx
        .ok(&[ix::cancel_unstake(&m, &p.key())], &[&p.authority])
        .await;
    let ev: UnstakeCancelled = out.event();
    assert_eq!((ev.amount, ev.staked), (150 * ONE_STAKE, 500 * ONE_STAKE));
    let provider: Provider = ctx.anchor_account(&p.provider).await;
    assert_eq!(
        (
            provider.staked,
            provider.unbonding,
            provider.unbonding_unlock_at
        ),
        (500 * ONE_STAKE, 0, 0)
    );
}

#[tokio::test]
async fn bad_unstake_requests_are_refused() {
    let mut ctx = TestContext::new().await;
    let m = MarketFixture::new(&mut ctx).await.keys;
    let p = ProviderFixture::staked(&mut ctx, &m, 500, 500).await;
    let watched = [p.provider, p.stake_vault];

    ctx.fails_with(
        &[ix::request_unstake(&m, &p.key(), 0)],
        &[&p.authority],
        MarketError::ZeroAmount,
        &watched,
    )
    .await;
    let too_much = ix::request_unstake(&m, &p.key(), 500 * ONE_STAKE + 1);
    ctx.fails_with(
        &[too_much],
        &[&p.authority],
        MarketError::InsufficientStake,
        &watched,
    )
    .await;
    let overflow = ix::request_unstake(&m, &p.key(), u64::MAX);
    ctx.fails_with(
        &[overflow],
        &[&p.authority],
        MarketError::InsufficientStake,
        &watched,
    )
    .await;

    // A running job of 2 GPUs locks min_stake_per_gpu × 2 = 200 tokens.
    let c = ClientFixture::new(&mut ctx, &m, 100).await;
    let j = c.post(&mut ctx, &m, job_args(1)).await;
    ctx.ok(&[ix::claim_job(&m, &p.key(), &j.job)], &[&p.authority])
        .await;
    assert_eq!(
        ctx.anchor_account::<Provider>(&p.provider)
            .await
            .locked_stake,
        200 * ONE_STAKE
    );
    let below = ix::request_unstake(&m, &p.key(), 300 * ONE_STAKE + 1);
    ctx.fails_with(
        &[below],
        &[&p.authority],
        MarketError::StakeBelowMinimum,
        &watched,
    )
    .await;
    ctx.ok(
        &[ix::request_unstake(&m, &p.key(), 300 * ONE_STAKE)],
        &[&p.authority],
    )
    .await;

    // Submitted and then disputed, the job still holds its stake.
    ctx.advance_time(60).await;
    let submit = ix::submit_result(&m, &p.key(), &j.job, result_of(60));
    ctx.ok(&[submit], &[&p.authority]).await;
    let dispute = ix::dispute_result(&m, &c.key(), &j.job, &p.provider, &c.payment_account);
    ctx.ok(&[dispute], &[&c.authority]).await;
    let more = ix::request_unstake(&m, &p.key(), 1);
    ctx.fails_with(
        &[more],
        &[&p.authority],
        MarketError::StakeBelowMinimum,
        &watched,
    )
    .await;
}

/// Hole: stake was checked per job (`staked >= min × the job's GPUs`), so one stake could back
/// any number of concurrent jobs, and the amount kept back followed the provider's mutable GPU
/// count. Now every unsettled job locks its share and the locks add up.
#[tokio::test]
async fn stake_backs_every_unsettled_job_at_once_whatever_the_spec_says() {
    let mut ctx = TestContext::new().await;
    let m = MarketFixture::new(&mut ctx).await.keys;
    let p = ProviderFixture::staked(&mut ctx, &m, 1_000, 300).await;
    let c = ClientFixture::new(&mut ctx, &m, 100).await;
    let four_gpus = UpdateProviderArgs {
        spec: Some(HardwareSpec {
            gpu_count: 4,
            ..rtx4090_spec()
        }),
        ..Default::default()
    };
    ctx.ok(
        &[ix::update_provider(&m, &p.key(), four_gpus)],
        &[&p.authority],
    )
    .await;
    let (a, b) = (
        c.post(&mut ctx, &m, job_args(1)).await,
        c.post(&mut ctx, &m, job_args(2)).await,
    );
    ctx.ok(&[ix::claim_job(&m, &p.key(), &a.job)], &[&p.authority])
        .await;

    // 300 staked backs one 2-GPU job (200), not two (400), although each alone would fit.
    let watched = [p.provider, p.stake_vault, b.job, b.escrow_vault];
    ctx.fails_with(
        &[ix::claim_job(&m, &p.key(), &b.job)],
        &[&p.authority],
        MarketError::InsufficientStake,
        &watched,
    )
    .await;
    ctx.ok(
        &[ix::stake(&m, &p.key(), &p.stake_account, 100 * ONE_STAKE)],
        &[&p.authority],
    )
    .await;
    let out = ctx
        .ok(&[ix::claim_job(&m, &p.key(), &b.job)], &[&p.authority])
        .await;
    let started: JobStarted = out.event();
    assert_eq!(
        (started.locked_stake, started.provider_locked_stake),
        (200 * ONE_STAKE, 400 * ONE_STAKE)
    );

    // Job A submitted frees its GPUs; lowering the GPU count to 2 then no longer lowers what is
    // held back: both jobs can still be slashed.
    ctx.advance_time(60).await;
    let submit = ix::submit_result(&m, &p.key(), &a.job, result_of(60));
    ctx.ok(&[submit], &[&p.authority]).await;
    let two_gpus = UpdateProviderArgs {
        spec: Some(rtx4090_spec()),
        ..Default::default()
    };
    ctx.ok(
        &[ix::update_provider(&m, &p.key(), two_gpus)],
        &[&p.authority],
    )
    .await;
    let watched = [p.provider, p.stake_vault];
    ctx.fails_with(
        &[ix::request_unstake(&m, &p.key(), ONE_STAKE)],
        &[&p.authority],
        MarketError::StakeBelowMinimum,
        &watched,
    )
    .await;

    // Each settlement releases exactly its job's lock.
    ctx.ok(
        &[ix::accept_result(&m, &c.key(), &a.job, &p.provider)],
        &[&c.authority],
    )
    .await;
    let provider: Provider = ctx.anchor_account(&p.provider).await;
    assert_eq!(provider.locked_stake, 200 * ONE_STAKE);
    ctx.ok(
        &[ix::request_unstake(&m, &p.key(), 200 * ONE_STAKE)],
        &[&p.authority],
    )
    .await;
    ctx.ok(&[ix::abandon_job(&m, &p.key(), &b.job)], &[&p.authority])
        .await;
    let provider: Provider = ctx.anchor_account(&p.provider).await;
    assert_eq!(provider.locked_stake, 0);
}

#[tokio::test]
async fn leaving_works_while_the_market_is_paused() {
    let mut ctx = TestContext::new().await;
    let f = MarketFixture::new(&mut ctx).await;
    let m = f.keys;
    let p = ProviderFixture::staked(&mut ctx, &m, 500, 500).await;
    ctx.ok(&[ix::pause_market(&m)], &[&f.authority]).await;

    ctx.ok(
        &[ix::request_unstake(&m, &p.key(), 500 * ONE_STAKE)],
        &[&p.authority],
    )
    .await;
    ctx.advance_time(i64::from(default_params().unbonding_period_secs))
        .await;
    ctx.ok(
        &[ix::withdraw_unstaked(&m, &p.key(), &p.stake_account)],
        &[&p.authority],
    )
    .await;
    ctx.ok(&[ix::heartbeat(&m, &p.key())], &[&p.authority])
        .await;
    let close = ix::close_provider(&m, &p.key(), &p.stake_account, &p.payment_account);
    ctx.ok(&[close], &[&p.authority]).await;
    assert_eq!(ctx.token_balance(&p.stake_account).await, 500 * ONE_STAKE);
}

#[tokio::test]
async fn only_the_owner_moves_a_providers_stake() {
    let mut ctx = TestContext::new().await;
    let m = MarketFixture::new(&mut ctx).await.keys;
    let victim = ProviderFixture::staked(&mut ctx, &m, 500, 500).await;
    let thief = ProviderFixture::registered(&mut ctx, &m, 0).await;
    ctx.ok(
        &[ix::request_unstake(&m, &victim.key(), 500 * ONE_STAKE)],
        &[&victim.authority],
    )
    .await;
    ctx.advance_time(i64::from(default_params().unbonding_period_secs))
        .await;
    let watched = [victim.provider, victim.stake_vault, thief.stake_account];

    // The thief names the victim's provider and vault, paying out to itself.
    let forged = ix::withdraw_unstaked(&m, &thief.key(), &thief.stake_account);
    let forged = ix::replace_account(forged, &thief.provider, &victim.provider);
    let forged = ix::replace_account(forged, &thief.stake_vault, &victim.stake_vault);
    ctx.fails_with(
        &[forged],
        &[&thief.authority],
        Anchor::ConstraintSeeds,
        &watched,
    )
    .await;

    // The victim's key present but not signing.
    let unsigned = ix::strip_signer(
        ix::withdraw_unstaked(&m, &victim.key(), &thief.stake_account),
        &victim.key(),
    );
    ctx.fails_with(&[unsigned], &[], Anchor::AccountNotSigner, &watched)
        .await;

    let unsigned = ix::strip_signer(ix::cancel_unstake(&m, &victim.key()), &victim.key());
    ctx.fails_with(&[unsigned], &[], Anchor::AccountNotSigner, &watched)
        .await;
    let unsigned = ix::strip_signer(ix::request_unstake(&m, &victim.key(), 1), &victim.key());
    ctx.fails_with(&[unsigned], &[], Anchor::AccountNotSigner, &watched)
        .await;
}

/// A job keeps the windows it was created with. If the authority then shortens the market's
/// challenge window, dispute timeout and unbonding period, stake unbonded after a submission still
/// waits until that result can no longer be challenged or disputed under its own job's terms: a
/// provider cannot submit fakes, unbond and leave before a fraud slash could land.
#[tokio::test]
async fn unbonding_stake_waits_for_the_results_own_windows() {
    let mut ctx = TestContext::new().await;
    let f = MarketFixture::new(&mut ctx).await;
    let m = f.keys;
    let p = ProviderFixture::staked(&mut ctx, &m, 500, 500).await;
    let c = ClientFixture::new(&mut ctx, &m, 100).await;
    let j = c.post(&mut ctx, &m, job_args(1)).await;
    ctx.ok(&[ix::claim_job(&m, &p.key(), &j.job)], &[&p.authority])
        .await;
    ctx.advance_time(60).await;
    let submit = ix::submit_result(&m, &p.key(), &j.job, result_of(60));
    ctx.ok(&[submit], &[&p.authority]).await;
    let submitted_at = ctx.clock().await.unix_timestamp;
    let params = default_params();
    let slashable_until = submitted_at
        + i64::from(params.challenge_window_secs)
        + 2 * i64::from(params.dispute_timeout_secs);
    let provider: Provider = ctx.anchor_account(&p.provider).await;
    assert_eq!(provider.slashable_until, slashable_until);

    let shorter = MarketParams {
        challenge_window_secs: 10,
        dispute_timeout_secs: 10,
        unbonding_period_secs: 30,
        ..params
    };
    let update = ix::update_market(&m, &m.treasury, &m.slash_destination, shorter);
    ctx.ok(&[update], &[&f.authority]).await;
    ctx.ok(
        &[ix::request_unstake(&m, &p.key(), 300 * ONE_STAKE)],
        &[&p.authority],
    )
    .await;

    // The market's 30 s pass; the job's own windows have not.
    ctx.advance_time(30).await;
    let withdraw = ix::withdraw_unstaked(&m, &p.key(), &p.stake_account);
    let watched = [m.market, p.provider, p.stake_vault, p.stake_account];
    ctx.fails_with(
        std::slice::from_ref(&withdraw),
        &[&p.authority],
        MarketError::StakeStillSlashable,
        &watched,
    )
    .await;

    let now = ctx.clock().await.unix_timestamp;
    ctx.advance_time(slashable_until - now).await;
    ctx.ok(&[withdraw], &[&p.authority]).await;
    assert_eq!(ctx.token_balance(&p.stake_account).await, 300 * ONE_STAKE);
}
