//! Market authority instructions: creating, tuning, pausing a market and managing its verifiers.

use anchor_lang::error::ErrorCode as Anchor;
use anchor_spl::token_2022::spl_token_2022::extension::{ExtensionType, transfer_fee};
use gpu_market::{
    MarketParams,
    error::MarketError,
    events::{
        MarketInitialized, MarketPauseChanged, MarketUpdated, VerifierAdded, VerifierRemoved,
    },
    state::{Market, Verifier},
};
use gpu_market_tests::{Chain, TestContext, fixtures::*, ix};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

#[tokio::test]
async fn authority_creates_a_market() {
    let mut ctx = TestContext::new().await;
    let f = MarketFixture::prepare(&mut ctx, anchor_spl::token::ID).await;
    let out = ctx
        .ok(&[f.initialize_ix(default_params())], &[&f.authority])
        .await;

    let market: Market = ctx.anchor_account(&f.keys.market).await;
    assert_eq!(market.authority, f.authority.pubkey());
    assert_eq!(market.payment_mint, f.keys.payment_mint);
    assert_eq!(market.stake_mint, f.keys.stake_mint);
    assert_eq!(market.treasury, f.keys.treasury);
    assert_eq!(market.slash_destination, f.keys.slash_destination);
    assert_eq!(market.params, default_params());
    assert!(!market.paused);
    assert_eq!(market.counters, Default::default());

    let ev: MarketInitialized = out.event();
    assert_eq!(ev.market, f.keys.market);
    assert_eq!(ev.market_id, 1);
    assert_eq!(ev.params, default_params());
    assert_eq!(ev.timestamp, ctx.clock().await.unix_timestamp);
}

#[tokio::test]
async fn a_market_cannot_be_created_twice() {
    let mut ctx = TestContext::new().await;
    let f = MarketFixture::new(&mut ctx).await;
    let mut params = default_params();
    params.fee_bps = 0;
    let err = ctx
        .fails(
            &[f.initialize_ix(params)],
            &[&f.authority],
            &[f.keys.market],
        )
        .await;
    assert_system_program_refused(&err);
}

/// Each nonsense parameter is refused with its own error, and no market account appears.
#[tokio::test]
async fn nonsense_parameters_are_refused() {
    type Break = fn(&mut MarketParams);
    let cases: [(Break, MarketError); 19] = [
        (|p| p.verifier_bond = 0, MarketError::InvalidVerifierBond),
        (|p| p.fee_bps = 5_001, MarketError::FeeTooHigh),
        (|p| p.fee_bps = u16::MAX, MarketError::FeeTooHigh),
        (|p| p.min_stake_per_gpu = 0, MarketError::InvalidMinStake),
        (|p| p.challenge_window_secs = 9, MarketError::InvalidWindow),
        (
            |p| p.challenge_window_secs = 31 * 24 * 3600,
            MarketError::InvalidWindow,
        ),
        (
            |p| p.unbonding_period_secs = p.challenge_window_secs - 1,
            MarketError::InvalidWindow,
        ),
        // A disputed result can be slashed until twice the dispute timeout after the window.
        (
            |p| p.unbonding_period_secs = p.challenge_window_secs + 2 * p.dispute_timeout_secs - 1,
            MarketError::InvalidWindow,
        ),
        (
            |p| p.unbonding_period_secs = u32::MAX,
            MarketError::InvalidWindow,
        ),
        (|p| p.dispute_timeout_secs = 0, MarketError::InvalidWindow),
        (
            |p| p.heartbeat_interval_secs = 0,
            MarketError::InvalidWindow,
        ),
        (
            |p| p.heartbeat_interval_secs = 2 * 24 * 3600,
            MarketError::InvalidWindow,
        ),
        (|p| p.verifier_quorum = 0, MarketError::InvalidQuorum),
        (|p| p.verifier_quorum = 33, MarketError::InvalidQuorum),
        (|p| p.sample_count = 0, MarketError::InvalidSampleCount),
        (
            |p| p.slash_fraud_bps = 10_001,
            MarketError::InvalidSlashRate,
        ),
        (
            |p| p.slash_no_show_bps = p.slash_fraud_bps + 1,
            MarketError::InvalidSlashRate,
        ),
        (
            |p| p.slash_abandon_bps = p.slash_no_show_bps + 1,
            MarketError::InvalidSlashRate,
        ),
        (
            |p| p.dispute_bond_bps = 10_001,
            MarketError::InvalidDisputeBond,
        ),
    ];
    let mut ctx = TestContext::new().await;
    let f = MarketFixture::prepare(&mut ctx, anchor_spl::token::ID).await;
    for (break_it, expected) in cases {
        let mut params = default_params();
        break_it(&mut params);
        ctx.fails_with(
            &[f.initialize_ix(params)],
            &[&f.authority],
            expected,
            &[f.keys.market],
        )
        .await;
        assert!(ctx.account(&f.keys.market).await.is_none());
    }
}

#[tokio::test]
async fn boundary_parameters_are_accepted() {
    let mut ctx = TestContext::new().await;
    let f = MarketFixture::prepare(&mut ctx, anchor_spl::token::ID).await;
    let params = MarketParams {
        fee_bps: 5_000,
        min_stake_per_gpu: 1,
        unbonding_period_secs: 30,
        challenge_window_secs: 10,
        dispute_timeout_secs: 10,
        heartbeat_interval_secs: 10,
        verifier_quorum: 32,
        sample_count: 1_024,
        slash_no_show_bps: 10_000,
        slash_abandon_bps: 10_000,
        slash_fraud_bps: 10_000,
        dispute_bond_bps: 10_000,
        verifier_bond: 1,
    };
    ctx.ok(&[f.initialize_ix(params)], &[&f.authority]).await;
    let market: Market = ctx.anchor_account(&f.keys.market).await;
    assert_eq!(market.params, params);
}

#[tokio::test]
async fn treasury_and_slash_destination_must_be_of_the_right_mint() {
    let mut ctx = TestContext::new().await;
    let f = MarketFixture::prepare(&mut ctx, anchor_spl::token::ID).await;
    let k = f.keys;
    let swapped = ix::initialize_market(
        &k.authority,
        k.market_id,
        &k.payment_mint,
        &k.stake_mint,
        &k.slash_destination,
        &k.treasury,
        default_params(),
    );
    ctx.fails_with(
        &[swapped],
        &[&f.authority],
        Anchor::ConstraintTokenMint,
        &[k.market],
    )
    .await;
}

#[tokio::test]
async fn token_2022_mints_with_transfer_fees_are_refused() {
    let mut ctx = TestContext::new().await;
    let token_2022 = anchor_spl::token_2022::ID;
    let f = MarketFixture::prepare(&mut ctx, token_2022).await;
    let payer = ctx.payer();
    let fee_mint = ctx
        .create_mint_with(
            &token_2022,
            6,
            &[ExtensionType::TransferFeeConfig],
            |mint| {
                vec![
                    transfer_fee::instruction::initialize_transfer_fee_config(
                        &token_2022,
                        mint,
                        Some(&payer),
                        Some(&payer),
                        100,
                        u64::MAX,
                    )
                    .unwrap(),
                ]
            },
        )
        .await;
    let treasury = ctx
        .create_token_account(&token_2022, &fee_mint, &f.authority.pubkey())
        .await;
    let k = f.keys;
    let ix = ix::initialize_market(
        &k.authority,
        k.market_id,
        &fee_mint,
        &k.stake_mint,
        &treasury,
        &k.slash_destination,
        default_params(),
    );
    ctx.fails_with(
        &[ix],
        &[&f.authority],
        MarketError::UnsupportedMint,
        &[k.market],
    )
    .await;
}

#[tokio::test]
async fn plain_token_2022_mints_work_end_to_end() {
    let mut ctx = TestContext::new().await;
    let f = MarketFixture::with_token_program(&mut ctx, anchor_spl::token_2022::ID).await;
    let p = ProviderFixture::staked(&mut ctx, &f.keys, 500, 300).await;
    assert_eq!(ctx.token_balance(&p.stake_vault).await, 300 * ONE_STAKE);
    assert_eq!(ctx.token_balance(&p.stake_account).await, 200 * ONE_STAKE);
}

#[tokio::test]
async fn authority_updates_parameters_and_destinations() {
    let mut ctx = TestContext::new().await;
    let f = MarketFixture::new(&mut ctx).await;
    let k = f.keys;
    let new_treasury = ctx
        .create_token_account(
            &k.payment_token_program,
            &k.payment_mint,
            &Pubkey::new_unique(),
        )
        .await;
    let mut params = default_params();
    params.fee_bps = 100;
    params.sample_count = 64;
    let out = ctx
        .ok(
            &[ix::update_market(
                &k,
                &new_treasury,
                &k.slash_destination,
                params,
            )],
            &[&f.authority],
        )
        .await;

    let market: Market = ctx.anchor_account(&k.market).await;
    assert_eq!(market.params, params);
    assert_eq!(market.treasury, new_treasury);
    let ev: MarketUpdated = out.event();
    assert_eq!((ev.params, ev.treasury), (params, new_treasury));
}

#[tokio::test]
async fn only_the_authority_updates_a_market_and_only_with_valid_values() {
    let mut ctx = TestContext::new().await;
    let f = MarketFixture::new(&mut ctx).await;
    let k = f.keys;
    let mut params = default_params();
    params.fee_bps = 0;
    let update = ix::update_market(&k, &k.treasury, &k.slash_destination, params);

    // Someone else signing in the authority's place.
    let intruder = ctx.funded_wallet(1).await;
    let forged = ix::replace_account(update.clone(), &k.authority, &intruder.pubkey());
    ctx.fails_with(
        &[forged],
        &[&intruder],
        Anchor::ConstraintHasOne,
        &[k.market],
    )
    .await;

    // The authority's key present but not signing.
    let unsigned = ix::strip_signer(update, &k.authority);
    ctx.fails_with(&[unsigned], &[], Anchor::AccountNotSigner, &[k.market])
        .await;

    // Out-of-range values.
    params.fee_bps = 9_000;
    let bad = ix::update_market(&k, &k.treasury, &k.slash_destination, params);
    ctx.fails_with(
        &[bad],
        &[&f.authority],
        MarketError::FeeTooHigh,
        &[k.market],
    )
    .await;

    // A treasury of the stake mint.
    let wrong = ix::update_market(
        &k,
        &k.slash_destination,
        &k.slash_destination,
        default_params(),
    );
    ctx.fails_with(
        &[wrong],
        &[&f.authority],
        Anchor::ConstraintTokenMint,
        &[k.market],
    )
    .await;
}

#[tokio::test]
async fn pause_and_unpause() {
    let mut ctx = TestContext::new().await;
    let f = MarketFixture::new(&mut ctx).await;
    let k = f.keys;

    let out = ctx.ok(&[ix::pause_market(&k)], &[&f.authority]).await;
    assert!(out.event::<MarketPauseChanged>().paused);
    assert!(ctx.anchor_account::<Market>(&k.market).await.paused);
    ctx.fails_with(
        &[ix::pause_market(&k)],
        &[&f.authority],
        MarketError::MarketAlreadyPaused,
        &[k.market],
    )
    .await;

    let out = ctx.ok(&[ix::unpause_market(&k)], &[&f.authority]).await;
    assert!(!out.event::<MarketPauseChanged>().paused);
    assert!(!ctx.anchor_account::<Market>(&k.market).await.paused);
    ctx.fails_with(
        &[ix::unpause_market(&k)],
        &[&f.authority],
        MarketError::MarketNotPaused,
        &[k.market],
    )
    .await;

    let intruder = ctx.funded_wallet(1).await;
    let forged = ix::replace_account(ix::pause_market(&k), &k.authority, &intruder.pubkey());
    ctx.fails_with(
        &[forged],
        &[&intruder],
        Anchor::ConstraintHasOne,
        &[k.market],
    )
    .await;
}

#[tokio::test]
async fn authority_adds_and_removes_verifiers() {
    let mut ctx = TestContext::new().await;
    let f = MarketFixture::new(&mut ctx).await;
    let k = f.keys;
    let alice = Keypair::new().pubkey();
    let bob = Keypair::new().pubkey();

    let out = ctx
        .ok(&[ix::add_verifier(&k, &alice)], &[&f.authority])
        .await;
    assert_eq!(out.event::<VerifierAdded>().verifier_count, 1);
    ctx.ok(&[ix::add_verifier(&k, &bob)], &[&f.authority]).await;
    let verifier: Verifier = ctx.anchor_account(&k.verifier(&alice)).await;
    assert_eq!((verifier.market, verifier.authority), (k.market, alice));
    assert_eq!(
        ctx.anchor_account::<Market>(&k.market)
            .await
            .counters
            .verifiers,
        2
    );

    let err = ctx
        .fails(
            &[ix::add_verifier(&k, &alice)],
            &[&f.authority],
            &[k.market, k.verifier(&alice)],
        )
        .await;
    assert_system_program_refused(&err);

    let out = ctx
        .ok(&[ix::remove_verifier(&k, &alice)], &[&f.authority])
        .await;
    let ev: VerifierRemoved = out.event();
    assert_eq!((ev.verifier_authority, ev.verifier_count), (alice, 1));
    // The account stays, marked removed, until the verifier closes it (`verifier_stake.rs`).
    let verifier: Verifier = ctx.anchor_account(&k.verifier(&alice)).await;
    assert_eq!(verifier.removed_at, ev.timestamp);
    ctx.ok(&[ix::remove_verifier(&k, &bob)], &[&f.authority])
        .await;

    // Removing one that was removed already.
    ctx.fails_with(
        &[ix::remove_verifier(&k, &alice)],
        &[&f.authority],
        MarketError::VerifierWasRemoved,
        &[k.market, k.verifier(&alice)],
    )
    .await;
}

#[tokio::test]
async fn only_the_authority_manages_verifiers() {
    let mut ctx = TestContext::new().await;
    let f = MarketFixture::new(&mut ctx).await;
    let k = f.keys;
    let intruder = ctx.funded_wallet(1).await;
    let alice = Keypair::new().pubkey();

    let forged = ix::replace_account(
        ix::add_verifier(&k, &alice),
        &k.authority,
        &intruder.pubkey(),
    );
    ctx.fails_with(
        &[forged],
        &[&intruder],
        Anchor::ConstraintHasOne,
        &[k.market, k.verifier(&alice)],
    )
    .await;

    ctx.ok(&[ix::add_verifier(&k, &alice)], &[&f.authority])
        .await;
    let forged = ix::replace_account(
        ix::remove_verifier(&k, &alice),
        &k.authority,
        &intruder.pubkey(),
    );
    ctx.fails_with(
        &[forged],
        &[&intruder],
        Anchor::ConstraintHasOne,
        &[k.market, k.verifier(&alice)],
    )
    .await;
}

#[tokio::test]
async fn unexpected_remaining_accounts_are_refused() {
    let mut ctx = TestContext::new().await;
    let f = MarketFixture::new(&mut ctx).await;
    let mut pause = ix::pause_market(&f.keys);
    pause
        .accounts
        .push(solana_sdk::instruction::AccountMeta::new_readonly(
            Pubkey::new_unique(),
            false,
        ));
    ctx.fails_with(
        &[pause],
        &[&f.authority],
        MarketError::UnexpectedRemainingAccounts,
        &[f.keys.market],
    )
    .await;
}

/// `init` on an address in use fails inside the System Program's allocate. (Natively the runtime
/// reports it as invalid instruction data rather than the System Program's `AccountAlreadyInUse`,
/// because its custom error 0 does not survive the native CPI boundary.)
fn assert_system_program_refused(err: &gpu_market_tests::TxError) {
    assert!(
        err.logs
            .iter()
            .any(|l| l.starts_with("Program 11111111111111111111111111111111 failed")),
        "{:?}",
        err.logs
    );
}
