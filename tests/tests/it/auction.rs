//! The reverse auction: providers bid on an open job, the client accepts one.

use anchor_lang::error::ErrorCode as Anchor;
use gpu_market::{
    error::MarketError,
    events::{BidPlaced, BidWithdrawn, JobStarted},
    pda::find_bid_address,
    state::{Bid, Job, JobState, Provider},
};
use gpu_market_tests::{Chain, TestContext, fixtures::*, ix};

#[tokio::test]
async fn the_client_takes_the_cheaper_bid() {
    let mut ctx = TestContext::new().await;
    let m = MarketFixture::new(&mut ctx).await.keys;
    let c = ClientFixture::new(&mut ctx, &m, 100).await;
    let cheap = ProviderFixture::staked(&mut ctx, &m, 500, 500).await;
    let dear = ProviderFixture::staked(&mut ctx, &m, 500, 500).await;
    let j = c.post(&mut ctx, &m, job_args(1)).await;

    // Bids may undercut the provider's listed price; not exceed the client's maximum.
    let over = ix::place_bid(&m, &dear.key(), &j.job, ONE_USDC + 1, NO_BID_EXPIRY);
    let dear_bid = find_bid_address(&j.job, &dear.provider).0;
    ctx.fails_with(
        &[over],
        &[&dear.authority],
        MarketError::PriceAboveMaximum,
        &[j.job, dear_bid],
    )
    .await;
    let out = ctx
        .ok(
            &[ix::place_bid(
                &m,
                &dear.key(),
                &j.job,
                900_000,
                NO_BID_EXPIRY,
            )],
            &[&dear.authority],
        )
        .await;
    assert_eq!(out.event::<BidPlaced>().price_per_gpu_hour, 900_000);
    ctx.ok(
        &[ix::place_bid(
            &m,
            &cheap.key(),
            &j.job,
            300_000,
            NO_BID_EXPIRY,
        )],
        &[&cheap.authority],
    )
    .await;
    let cheap_bid = find_bid_address(&j.job, &cheap.provider).0;
    let bid: Bid = ctx.anchor_account(&cheap_bid).await;
    assert_eq!(
        (bid.job, bid.provider, bid.price_per_gpu_hour),
        (j.job, cheap.provider, 300_000)
    );

    // One bid per provider per job.
    let twice = ix::place_bid(&m, &cheap.key(), &j.job, 250_000, NO_BID_EXPIRY);
    let err = ctx.fails(&[twice], &[&cheap.authority], &[cheap_bid]).await;
    assert!(
        err.logs
            .iter()
            .any(|l| l.contains("11111111111111111111111111111111 failed"))
    );

    // Only the client accepts.
    let stranger = ClientFixture::new(&mut ctx, &m, 0).await;
    let forged = ix::replace_account(
        ix::accept_bid(&m, &c.key(), &j.job, &cheap.key(), 300_000),
        &c.key(),
        &stranger.key(),
    );
    ctx.fails_with(
        &[forged],
        &[&stranger.authority],
        Anchor::ConstraintHasOne,
        &[j.job, cheap_bid],
    )
    .await;

    let bid_rent = ctx.lamports(&cheap_bid).await;
    let wallet = ctx.lamports(&cheap.key()).await;
    let out = ctx
        .ok(
            &[ix::accept_bid(&m, &c.key(), &j.job, &cheap.key(), 300_000)],
            &[&c.authority],
        )
        .await;
    let started: JobStarted = out.event();
    assert_eq!(
        (started.provider, started.bid, started.price_per_gpu_hour),
        (cheap.provider, Some(cheap_bid), 300_000)
    );
    let job: Job = ctx.anchor_account(&j.job).await;
    assert_eq!(
        (job.state, job.provider, job.price_per_gpu_hour),
        (JobState::Running, cheap.provider, 300_000)
    );
    assert!(ctx.account(&cheap_bid).await.is_none());
    assert_eq!(ctx.lamports(&cheap.key()).await, wallet + bid_rent);
    let provider: Provider = ctx.anchor_account(&cheap.provider).await;
    assert_eq!(provider.gpus_in_use, 2);

    // The job is taken: the other bid cannot be accepted, and its owner takes it back.
    let late = ix::accept_bid(&m, &c.key(), &j.job, &dear.key(), 900_000);
    ctx.fails_with(
        &[late],
        &[&c.authority],
        MarketError::InvalidJobState,
        &[j.job, dear_bid],
    )
    .await;
    let out = ctx
        .ok(
            &[ix::withdraw_bid(&m, &dear.key(), &j.job)],
            &[&dear.authority],
        )
        .await;
    assert_eq!(out.event::<BidWithdrawn>().bid, dear_bid);
    assert!(ctx.account(&dear_bid).await.is_none());

    // Settles at the bid's price: 0.30 × 2 × 1 h = 0.60.
    ctx.advance_time(3_600).await;
    ctx.ok(
        &[ix::submit_result(
            &m,
            &cheap.key(),
            &j.job,
            result_of(3_600),
        )],
        &[&cheap.authority],
    )
    .await;
    ctx.ok(
        &[ix::accept_result(&m, &c.key(), &j.job, &cheap.provider)],
        &[&c.authority],
    )
    .await;
    let job: Job = ctx.anchor_account(&j.job).await;
    assert_eq!(job.settlement.provider_share + job.settlement.fee, 600_000);
}

#[tokio::test]
async fn bids_are_checked_like_claims_and_belong_to_their_provider() {
    let mut ctx = TestContext::new().await;
    let m = MarketFixture::new(&mut ctx).await.keys;
    let c = ClientFixture::new(&mut ctx, &m, 100).await;
    let p = ProviderFixture::staked(&mut ctx, &m, 500, 500).await;
    let thief = ProviderFixture::staked(&mut ctx, &m, 500, 500).await;
    let poor = ProviderFixture::staked(&mut ctx, &m, 100, 100).await;
    let j = c.post(&mut ctx, &m, job_args(1)).await;
    let p_bid = find_bid_address(&j.job, &p.provider).0;

    let under_staked = ix::place_bid(&m, &poor.key(), &j.job, 300_000, NO_BID_EXPIRY);
    ctx.fails_with(
        &[under_staked],
        &[&poor.authority],
        MarketError::InsufficientStake,
        &[j.job],
    )
    .await;
    let free = ix::place_bid(&m, &p.key(), &j.job, 0, NO_BID_EXPIRY);
    ctx.fails_with(
        &[free],
        &[&p.authority],
        MarketError::InvalidPrice,
        &[j.job, p_bid],
    )
    .await;

    ctx.ok(
        &[ix::place_bid(&m, &p.key(), &j.job, 300_000, NO_BID_EXPIRY)],
        &[&p.authority],
    )
    .await;
    // Someone else cannot withdraw it: only the wallet that paid its rent may.
    let forged = ix::replace_account(
        ix::withdraw_bid(&m, &thief.key(), &j.job),
        &find_bid_address(&j.job, &thief.provider).0,
        &p_bid,
    );
    ctx.fails_with(
        &[forged],
        &[&thief.authority],
        Anchor::ConstraintHasOne,
        &[p_bid],
    )
    .await;
    // Nor can the client accept it with another provider in its place.
    let swapped = ix::replace_account(
        ix::accept_bid(&m, &c.key(), &j.job, &p.key(), 300_000),
        &p.provider,
        &thief.provider,
    );
    ctx.fails_with(
        &[swapped],
        &[&c.authority],
        MarketError::WrongProvider,
        &[j.job, p_bid],
    )
    .await;

    // If the provider no longer fits when the client accepts (its GPUs went elsewhere), the start fails.
    let other_job = c.post(&mut ctx, &m, job_args(2)).await;
    ctx.ok(
        &[ix::claim_job(&m, &p.key(), &other_job.job)],
        &[&p.authority],
    )
    .await;
    let full = ix::accept_bid(&m, &c.key(), &j.job, &p.key(), 300_000);
    ctx.fails_with(
        &[full],
        &[&c.authority],
        MarketError::NoFreeCapacity,
        &[j.job, p_bid, p.provider],
    )
    .await;
}

/// A bid is an offer for one job instance, at the price the client saw, until its expiry; whatever
/// happens to the job or the provider, its rent goes back to the wallet that paid it.
#[tokio::test]
async fn a_bid_holds_only_for_its_job_its_price_and_its_lifetime() {
    let mut ctx = TestContext::new().await;
    let m = MarketFixture::new(&mut ctx).await.keys;
    let c = ClientFixture::new(&mut ctx, &m, 100).await;
    let p = ProviderFixture::staked(&mut ctx, &m, 500, 500).await;
    let j = c.post(&mut ctx, &m, job_args(1)).await;
    let bid = find_bid_address(&j.job, &p.provider).0;
    let watched = [j.job, bid, p.provider];
    let now = ctx.clock().await.unix_timestamp;

    // An expiry must lie ahead.
    let lapsed = ix::place_bid(&m, &p.key(), &j.job, 300_000, now);
    ctx.fails_with(
        &[lapsed],
        &[&p.authority],
        MarketError::InvalidBidExpiry,
        &[j.job],
    )
    .await;
    assert!(ctx.account(&bid).await.is_none());

    // The provider withdraws and bids higher while the client's accept is in flight: the client
    // named the price it saw, so the accept fails instead of starting the job at the new price.
    let place = |price, expires_at| ix::place_bid(&m, &p.key(), &j.job, price, expires_at);
    ctx.ok(&[place(300_000, now + 600)], &[&p.authority]).await;
    let withdraw = ix::withdraw_bid(&m, &p.key(), &j.job);
    ctx.ok(std::slice::from_ref(&withdraw), &[&p.authority])
        .await;
    ctx.ok(&[place(900_000, now + 600)], &[&p.authority]).await;
    let seen = ix::accept_bid(&m, &c.key(), &j.job, &p.key(), 300_000);
    ctx.fails_with(
        &[seen],
        &[&c.authority],
        MarketError::BidPriceChanged,
        &watched,
    )
    .await;

    // At its expiry the bid lapses, at any price.
    ctx.advance_time(600).await;
    let expired = ix::accept_bid(&m, &c.key(), &j.job, &p.key(), 900_000);
    ctx.fails_with(
        &[expired],
        &[&c.authority],
        MarketError::BidExpired,
        &watched,
    )
    .await;
    ctx.ok(std::slice::from_ref(&withdraw), &[&p.authority])
        .await;

    // The client cancels and closes the job, then creates one at the same address asking for ten
    // times the hours: the bid was for the earlier job and does not carry over.
    ctx.ok(&[place(300_000, NO_BID_EXPIRY)], &[&p.authority])
        .await;
    ctx.ok(&[ix::cancel_job(&c.key(), &j.job)], &[&c.authority])
        .await;
    ctx.ok(
        &[ix::close_job(&m, &c.key(), &j.job, &c.payment_account)],
        &[&c.authority],
    )
    .await;
    let mut longer = job_args(1);
    longer.max_duration_secs *= 10;
    assert_eq!(c.post(&mut ctx, &m, longer).await.job, j.job);
    let carried_over = ix::accept_bid(&m, &c.key(), &j.job, &p.key(), 300_000);
    ctx.fails_with(
        &[carried_over],
        &[&c.authority],
        MarketError::BidForEarlierJob,
        &watched,
    )
    .await;
    let job: Job = ctx.anchor_account(&j.job).await;
    assert_eq!(job.state, JobState::Open);

    // The provider leaves the market; the bid's rent still comes back to its wallet.
    ctx.ok(
        &[ix::request_unstake(&m, &p.key(), 500 * ONE_STAKE)],
        &[&p.authority],
    )
    .await;
    ctx.advance_time(i64::from(default_params().unbonding_period_secs))
        .await;
    ctx.ok(
        &[
            ix::withdraw_unstaked(&m, &p.key(), &p.stake_account),
            ix::close_provider(&m, &p.key(), &p.stake_account, &p.payment_account),
        ],
        &[&p.authority],
    )
    .await;
    assert!(ctx.account(&p.provider).await.is_none());
    let rent = ctx.lamports(&bid).await;
    let wallet = ctx.lamports(&p.key()).await;
    ctx.ok(&[withdraw], &[&p.authority]).await;
    assert!(ctx.account(&bid).await.is_none());
    assert_eq!(ctx.lamports(&p.key()).await, wallet + rent);
}
