//! A GPU host's life in the market: registering, updating, heartbeats and leaving.

use anchor_lang::error::ErrorCode as Anchor;
use gpu_market::{
    GpuModel, Region, UpdateProviderArgs,
    constants::SAMPLE_SEED_DELAY_SLOTS,
    error::MarketError,
    events::{ProviderClosed, ProviderHeartbeat, ProviderRegistered, ProviderUpdated},
    state::{Market, Provider, ProviderStatus},
};
use gpu_market_tests::{Chain, TestContext, fixtures::*, ix, ix::MarketKeys};
use solana_sdk::program_pack::Pack;

#[tokio::test]
async fn a_host_registers_with_its_hardware_and_gets_two_vaults() {
    let mut ctx = TestContext::new().await;
    let m = MarketFixture::new(&mut ctx).await.keys;
    let p = ProviderFixture::wallet(&mut ctx, &m, 0).await;

    let out = ctx
        .ok(
            &[ix::register_provider(&m, &p.key(), provider_args())],
            &[&p.authority],
        )
        .await;

    let provider: Provider = ctx.anchor_account(&p.provider).await;
    assert_eq!(provider.authority, p.key());
    assert_eq!(provider.market, m.market);
    assert_eq!(provider.spec, rtx4090_spec());
    assert_eq!(provider.price_per_gpu_hour, 400_000);
    assert_eq!(provider.status, ProviderStatus::Active);
    assert_eq!((provider.staked, provider.unbonding), (0, 0));
    assert_eq!(provider.endpoint, "https://gpu-host.example.org:7070");
    let now = ctx.clock().await.unix_timestamp;
    assert_eq!(
        (provider.registered_at, provider.last_heartbeat_at),
        (now, now)
    );

    // Both vaults are token accounts of the right mint, owned by the provider PDA.
    for (vault, mint) in [
        (p.stake_vault, m.stake_mint),
        (p.payout_vault, m.payment_mint),
    ] {
        let account = ctx.account(&vault).await.expect("vault exists");
        let token = spl_token_interface::state::Account::unpack_from_slice(&account.data).unwrap();
        assert_eq!(
            (token.mint, token.owner, token.amount),
            (mint, p.provider, 0)
        );
    }
    assert_eq!(
        ctx.anchor_account::<Market>(&m.market)
            .await
            .counters
            .providers,
        1
    );

    let ev: ProviderRegistered = out.event();
    assert_eq!(
        (ev.provider, ev.authority, ev.spec),
        (p.provider, p.key(), rtx4090_spec())
    );
}

#[tokio::test]
async fn nonsense_registrations_are_refused() {
    type Break = fn(&mut gpu_market::RegisterProviderArgs);
    let cases: [(Break, MarketError); 10] = [
        (|a| a.spec.gpu_count = 0, MarketError::InvalidGpuCount),
        (|a| a.spec.gpu_count = 65, MarketError::InvalidGpuCount),
        (|a| a.spec.vram_gb = 0, MarketError::InvalidVram),
        (|a| a.spec.cpu_cores = 0, MarketError::InvalidCpuCores),
        (|a| a.spec.ram_gb = 0, MarketError::InvalidRam),
        (
            |a| a.spec.bandwidth_down_mbps = 0,
            MarketError::InvalidBandwidth,
        ),
        (
            |a| a.spec.bandwidth_up_mbps = 400_001,
            MarketError::InvalidBandwidth,
        ),
        (|a| a.price_per_gpu_hour = 0, MarketError::InvalidPrice),
        (
            |a| a.endpoint = "gpu-host.example.org".into(),
            MarketError::InvalidEndpoint,
        ),
        (
            |a| a.endpoint = "https://".into(),
            MarketError::InvalidEndpoint,
        ),
    ];
    let mut ctx = TestContext::new().await;
    let m = MarketFixture::new(&mut ctx).await.keys;
    let p = ProviderFixture::wallet(&mut ctx, &m, 0).await;
    for (break_it, expected) in cases {
        let mut args = provider_args();
        break_it(&mut args);
        let register = ix::register_provider(&m, &p.key(), args);
        ctx.fails_with(
            &[register],
            &[&p.authority],
            expected,
            &[m.market, p.provider, p.stake_vault],
        )
        .await;
        assert!(ctx.account(&p.provider).await.is_none());
    }
}

#[tokio::test]
async fn registration_needs_the_market_mints_and_an_open_market() {
    let mut ctx = TestContext::new().await;
    let f = MarketFixture::new(&mut ctx).await;
    let m = f.keys;
    let p = ProviderFixture::wallet(&mut ctx, &m, 0).await;
    let watched = [m.market, p.provider, p.stake_vault, p.payout_vault];

    // Stake and payment mints swapped.
    let placeholder = solana_sdk::pubkey::Pubkey::new_unique();
    let swapped = ix::register_provider(&m, &p.key(), provider_args());
    let swapped = ix::replace_account(swapped, &m.stake_mint, &placeholder);
    let swapped = ix::replace_account(swapped, &m.payment_mint, &m.stake_mint);
    let swapped = ix::replace_account(swapped, &placeholder, &m.payment_mint);
    ctx.fails_with(
        &[swapped],
        &[&p.authority],
        Anchor::ConstraintAddress,
        &watched,
    )
    .await;

    // A paused market takes no new providers.
    ctx.ok(&[ix::pause_market(&m)], &[&f.authority]).await;
    let register = ix::register_provider(&m, &p.key(), provider_args());
    ctx.fails_with(
        std::slice::from_ref(&register),
        &[&p.authority],
        MarketError::MarketPaused,
        &watched,
    )
    .await;
    ctx.ok(&[ix::unpause_market(&m)], &[&f.authority]).await;
    ctx.ok(std::slice::from_ref(&register), &[&p.authority])
        .await;

    // Registering twice.
    let err = ctx.fails(&[register], &[&p.authority], &watched).await;
    assert!(
        err.logs
            .iter()
            .any(|l| l.contains("11111111111111111111111111111111 failed"))
    );
}

#[tokio::test]
async fn a_host_updates_its_offer() {
    let mut ctx = TestContext::new().await;
    let m = MarketFixture::new(&mut ctx).await.keys;
    let p = ProviderFixture::registered(&mut ctx, &m, 0).await;

    let mut spec = rtx4090_spec();
    spec.gpu_model = GpuModel::H100;
    spec.vram_gb = 80;
    spec.region = Region::NorthAmerica;
    let args = UpdateProviderArgs {
        spec: Some(spec),
        price_per_gpu_hour: Some(2_500_000),
        endpoint: Some("https://h100.example.org".into()),
        accepting_jobs: Some(false),
    };
    let out = ctx
        .ok(&[ix::update_provider(&m, &p.key(), args)], &[&p.authority])
        .await;
    let provider: Provider = ctx.anchor_account(&p.provider).await;
    assert_eq!(provider.spec, spec);
    assert_eq!(provider.price_per_gpu_hour, 2_500_000);
    assert_eq!(provider.endpoint, "https://h100.example.org");
    assert_eq!(provider.status, ProviderStatus::Inactive);
    let ev: ProviderUpdated = out.event();
    assert_eq!(
        (ev.status, ev.price_per_gpu_hour),
        (ProviderStatus::Inactive, 2_500_000)
    );

    // Only the price: everything else stays.
    let args = UpdateProviderArgs {
        price_per_gpu_hour: Some(2_000_000),
        ..Default::default()
    };
    ctx.ok(&[ix::update_provider(&m, &p.key(), args)], &[&p.authority])
        .await;
    let provider: Provider = ctx.anchor_account(&p.provider).await;
    assert_eq!(
        (provider.spec, provider.price_per_gpu_hour),
        (spec, 2_000_000)
    );
    assert_eq!(provider.status, ProviderStatus::Inactive);
}

#[tokio::test]
async fn bad_updates_are_refused() {
    let mut ctx = TestContext::new().await;
    let m = MarketFixture::new(&mut ctx).await.keys;
    // Stake for one two-GPU job.
    let p = ProviderFixture::staked(&mut ctx, &m, 200, 200).await;
    let watched = [p.provider];
    let update = |args| ix::update_provider(&m, &p.key(), args);

    ctx.fails_with(
        &[update(UpdateProviderArgs::default())],
        &[&p.authority],
        MarketError::NothingToUpdate,
        &watched,
    )
    .await;
    let zero_price = UpdateProviderArgs {
        price_per_gpu_hour: Some(0),
        ..Default::default()
    };
    ctx.fails_with(
        &[update(zero_price)],
        &[&p.authority],
        MarketError::InvalidPrice,
        &watched,
    )
    .await;
    let bad_endpoint = UpdateProviderArgs {
        endpoint: Some("https://a b".into()),
        ..Default::default()
    };
    ctx.fails_with(
        &[update(bad_endpoint)],
        &[&p.authority],
        MarketError::InvalidEndpoint,
        &watched,
    )
    .await;
    let mut spec = rtx4090_spec();
    spec.vram_gb = 0;
    let bad_spec = UpdateProviderArgs {
        spec: Some(spec),
        ..Default::default()
    };
    ctx.fails_with(
        &[update(bad_spec)],
        &[&p.authority],
        MarketError::InvalidVram,
        &watched,
    )
    .await;

    // GPUs held by a running job cannot be un-advertised.
    let c = ClientFixture::new(&mut ctx, &m, 10).await;
    let job = c.post(&mut ctx, &m, job_args(0)).await;
    ctx.ok(&[ix::claim_job(&m, &p.key(), &job.job)], &[&p.authority])
        .await;
    let mut spec = rtx4090_spec();
    spec.gpu_count = 1;
    let shrink = UpdateProviderArgs {
        spec: Some(spec),
        ..Default::default()
    };
    ctx.fails_with(
        &[update(shrink)],
        &[&p.authority],
        MarketError::ProviderBusy,
        &watched,
    )
    .await;

    // A jailed provider cannot put itself back to work.
    submit_and_let_the_seed_expire(&mut ctx, &m, &p, &c, &job).await;
    let reactivate = UpdateProviderArgs {
        accepting_jobs: Some(true),
        ..Default::default()
    };
    ctx.fails_with(
        &[update(reactivate)],
        &[&p.authority],
        MarketError::ProviderJailed,
        &watched,
    )
    .await;
}

#[tokio::test]
async fn nobody_else_can_touch_a_provider() {
    let mut ctx = TestContext::new().await;
    let m = MarketFixture::new(&mut ctx).await.keys;
    let victim = ProviderFixture::registered(&mut ctx, &m, 0).await;
    let attacker = ProviderFixture::registered(&mut ctx, &m, 0).await;
    let watched = [victim.provider, attacker.provider];
    let price = UpdateProviderArgs {
        price_per_gpu_hour: Some(1),
        ..Default::default()
    };

    // The attacker signs, naming the victim's provider account: its address is not the attacker's PDA.
    let forged = ix::replace_account(
        ix::update_provider(&m, &attacker.key(), price.clone()),
        &attacker.provider,
        &victim.provider,
    );
    ctx.fails_with(
        &[forged],
        &[&attacker.authority],
        Anchor::ConstraintSeeds,
        &watched,
    )
    .await;

    let forged = ix::replace_account(
        ix::heartbeat(&m, &attacker.key()),
        &attacker.provider,
        &victim.provider,
    );
    ctx.fails_with(
        &[forged],
        &[&attacker.authority],
        Anchor::ConstraintSeeds,
        &watched,
    )
    .await;

    // The victim's key present but not signing.
    let unsigned = ix::strip_signer(ix::update_provider(&m, &victim.key(), price), &victim.key());
    ctx.fails_with(&[unsigned], &[], Anchor::AccountNotSigner, &watched)
        .await;
}

#[tokio::test]
async fn heartbeats_record_liveness() {
    let mut ctx = TestContext::new().await;
    let m = MarketFixture::new(&mut ctx).await.keys;
    let p = ProviderFixture::registered(&mut ctx, &m, 0).await;
    let registered_at = ctx.clock().await.unix_timestamp;

    ctx.advance_time(60).await;
    let out = ctx
        .ok(&[ix::heartbeat(&m, &p.key())], &[&p.authority])
        .await;
    let ev: ProviderHeartbeat = out.event();
    assert_eq!(ev.previous_heartbeat_at, registered_at);
    assert_eq!(ev.timestamp, registered_at + 60);

    // The same heartbeat transaction again, a minute later, is a new heartbeat.
    ctx.advance_time(60).await;
    let out = ctx
        .ok(&[ix::heartbeat(&m, &p.key())], &[&p.authority])
        .await;
    let ev: ProviderHeartbeat = out.event();
    assert_eq!(
        (ev.previous_heartbeat_at, ev.timestamp),
        (registered_at + 60, registered_at + 120)
    );
    let provider: Provider = ctx.anchor_account(&p.provider).await;
    assert_eq!(provider.last_heartbeat_at, registered_at + 120);
}

#[tokio::test]
async fn a_host_leaves_with_everything_it_is_owed() {
    let mut ctx = TestContext::new().await;
    let f = MarketFixture::new(&mut ctx).await;
    let m = f.keys;
    let p = ProviderFixture::staked(&mut ctx, &m, 300, 200).await;
    let close = ix::close_provider(&m, &p.key(), &p.stake_account, &p.payment_account);
    let watched = [
        m.market,
        p.provider,
        p.stake_vault,
        p.payout_vault,
        p.stake_account,
    ];

    // Busy with a job, until its result is accepted (the earnings wait in the payout vault).
    let c = ClientFixture::new(&mut ctx, &m, 10).await;
    let job = c.post(&mut ctx, &m, job_args(0)).await;
    ctx.ok(&[ix::claim_job(&m, &p.key(), &job.job)], &[&p.authority])
        .await;
    ctx.fails_with(
        std::slice::from_ref(&close),
        &[&p.authority],
        MarketError::ProviderBusy,
        &watched,
    )
    .await;
    ctx.advance_time(60).await;
    let submit = ix::submit_result(&m, &p.key(), &job.job, result_of(60));
    ctx.ok(&[submit], &[&p.authority]).await;
    // A submitted result still holds the provider (it can be slashed until it settles).
    ctx.fails_with(
        std::slice::from_ref(&close),
        &[&p.authority],
        MarketError::ProviderBusy,
        &watched,
    )
    .await;
    let accept = ix::accept_result(&m, &c.key(), &job.job, &p.provider);
    ctx.ok(&[accept], &[&c.authority]).await;
    let earned = ctx.token_balance(&p.payout_vault).await;
    assert!(earned > 0);

    // Still staked.
    ctx.fails_with(
        std::slice::from_ref(&close),
        &[&p.authority],
        MarketError::StakeRemaining,
        &watched,
    )
    .await;
    // Unbonding is still stake.
    ctx.ok(
        &[ix::request_unstake(&m, &p.key(), 200 * ONE_STAKE)],
        &[&p.authority],
    )
    .await;
    ctx.fails_with(
        std::slice::from_ref(&close),
        &[&p.authority],
        MarketError::StakeRemaining,
        &watched,
    )
    .await;
    ctx.advance_time(i64::from(default_params().unbonding_period_secs))
        .await;
    ctx.ok(
        &[ix::withdraw_unstaked(&m, &p.key(), &p.stake_account)],
        &[&p.authority],
    )
    .await;

    // Unclaimed earnings, and tokens someone sent to the stake vault, go to the owner.
    ctx.mint_to(
        &m.payment_token_program,
        &m.payment_mint,
        &p.payout_vault,
        1_234_567,
    )
    .await;
    ctx.mint_to(&m.stake_token_program, &m.stake_mint, &p.stake_vault, 42)
        .await;
    let rent: u64 = {
        let mut total = 0;
        for key in [p.provider, p.stake_vault, p.payout_vault] {
            total += ctx.lamports(&key).await;
        }
        total
    };
    let wallet_lamports = ctx.lamports(&p.key()).await;

    let out = ctx.ok(&[close], &[&p.authority]).await;
    assert_eq!(out.event::<ProviderClosed>().provider, p.provider);
    for key in [p.provider, p.stake_vault, p.payout_vault] {
        assert!(ctx.account(&key).await.is_none(), "{key} should be closed");
    }
    assert_eq!(
        ctx.token_balance(&p.payment_account).await,
        earned + 1_234_567
    );
    assert_eq!(
        ctx.token_balance(&p.stake_account).await,
        300 * ONE_STAKE + 42
    );
    assert_eq!(ctx.lamports(&p.key()).await, wallet_lamports + rent);
    assert_eq!(
        ctx.anchor_account::<Market>(&m.market)
            .await
            .counters
            .providers,
        0
    );

    // Once gone, the wallet may register again from scratch.
    ctx.ok(
        &[ix::register_provider(&m, &p.key(), provider_args())],
        &[&p.authority],
    )
    .await;
}

#[tokio::test]
async fn a_jailed_provider_cannot_leave() {
    let mut ctx = TestContext::new().await;
    let m = MarketFixture::new(&mut ctx).await.keys;
    let p = ProviderFixture::staked(&mut ctx, &m, 200, 200).await;
    let c = ClientFixture::new(&mut ctx, &m, 10).await;
    let job = c.post(&mut ctx, &m, job_args(0)).await;
    ctx.ok(&[ix::claim_job(&m, &p.key(), &job.job)], &[&p.authority])
        .await;
    submit_and_let_the_seed_expire(&mut ctx, &m, &p, &c, &job).await;
    // Whatever stake the slash left is taken out, so only the jail stands in the way.
    let left: Provider = ctx.anchor_account(&p.provider).await;
    ctx.ok(
        &[ix::request_unstake(&m, &p.key(), left.staked)],
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
    let close = ix::close_provider(&m, &p.key(), &p.stake_account, &p.payment_account);
    ctx.fails_with(
        &[close],
        &[&p.authority],
        MarketError::ProviderJailed,
        &[p.provider, m.market],
    )
    .await;
}

#[tokio::test]
async fn account_sizes_match_the_declared_space() {
    let mut ctx = TestContext::new().await;
    let f = MarketFixture::new(&mut ctx).await;
    let p = ProviderFixture::registered(&mut ctx, &f.keys, 0).await;
    let market = ctx.account(&f.keys.market).await.unwrap();
    assert_eq!(
        market.data.len(),
        8 + <Market as anchor_lang::Space>::INIT_SPACE
    );
    let provider = ctx.account(&p.provider).await.unwrap();
    assert_eq!(
        provider.data.len(),
        8 + <Provider as anchor_lang::Space>::INIT_SPACE
    );
    // Rent-exempt, as the runtime requires of every new account.
    assert_eq!(
        provider.lamports,
        ctx.rent_exempt_minimum(provider.data.len()).await
    );
}

#[tokio::test]
async fn a_fake_token_program_is_refused() {
    let mut ctx = TestContext::new().await;
    let m = MarketFixture::new(&mut ctx).await.keys;
    let p = ProviderFixture::wallet(&mut ctx, &m, 0).await;
    let fake = solana_sdk::pubkey::Pubkey::new_unique();
    let register = ix::register_provider(&m, &p.key(), provider_args());
    let forged = ix::replace_account(register, &m.stake_token_program, &fake);
    // Both token-program slots named the same program; the first checked one reports.
    ctx.fails(
        &[forged],
        &[&p.authority],
        &[m.market, p.provider, p.stake_vault],
    )
    .await;
    assert!(ctx.account(&p.provider).await.is_none());
}

#[tokio::test]
async fn nobody_else_can_close_or_heartbeat_a_provider() {
    let mut ctx = TestContext::new().await;
    let m = MarketFixture::new(&mut ctx).await.keys;
    let victim = ProviderFixture::registered(&mut ctx, &m, 0).await;
    let thief = ProviderFixture::registered(&mut ctx, &m, 0).await;
    ctx.mint_to(
        &m.payment_token_program,
        &m.payment_mint,
        &victim.payout_vault,
        5_000_000,
    )
    .await;
    let watched = [
        victim.provider,
        victim.payout_vault,
        victim.stake_vault,
        thief.payment_account,
    ];

    let forged = ix::close_provider(
        &m,
        &thief.key(),
        &thief.stake_account,
        &thief.payment_account,
    );
    let forged = ix::replace_account(forged, &thief.provider, &victim.provider);
    let forged = ix::replace_account(forged, &thief.payout_vault, &victim.payout_vault);
    let forged = ix::replace_account(forged, &thief.stake_vault, &victim.stake_vault);
    ctx.fails_with(
        &[forged],
        &[&thief.authority],
        Anchor::ConstraintSeeds,
        &watched,
    )
    .await;

    let unsigned = ix::strip_signer(
        ix::close_provider(
            &m,
            &victim.key(),
            &thief.stake_account,
            &thief.payment_account,
        ),
        &victim.key(),
    );
    ctx.fails_with(&[unsigned], &[], Anchor::AccountNotSigner, &watched)
        .await;

    let unsigned = ix::strip_signer(ix::heartbeat(&m, &victim.key()), &victim.key());
    ctx.fails_with(&[unsigned], &[], Anchor::AccountNotSigner, &watched)
        .await;
}

/// The provider submits a result on its running `job` and nobody records the sample seed in time:
/// the job fails as unverifiable, which slashes the provider for fraud and jails it.
async fn submit_and_let_the_seed_expire(
    ctx: &mut TestContext,
    m: &MarketKeys,
    p: &ProviderFixture,
    c: &ClientFixture,
    job: &JobKeys,
) {
    ctx.advance_time(1).await;
    let submit = ix::submit_result(m, &p.key(), &job.job, result_of(1));
    ctx.ok(&[submit], &[&p.authority]).await;
    ctx.advance_slots(SAMPLE_SEED_DELAY_SLOTS + 1).await;
    ctx.age_out_slot_hashes().await;
    ctx.advance_time(i64::from(default_params().challenge_window_secs))
        .await;
    let expire = ix::expire_sample_seed(m, &c.key(), &job.job, &p.provider);
    ctx.ok(&[expire], &[&c.authority]).await;
    let provider: Provider = ctx.anchor_account(&p.provider).await;
    assert_eq!(provider.status, ProviderStatus::Jailed);
}
