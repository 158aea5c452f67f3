//! Property test: random sequences of job instructions over several clients and providers never
//! create or destroy a token, and every escrow holds exactly what it owes.
//!
//! After every step (successful or refused) it checks that:
//! - the payment mint's supply equals the sum of every account that can hold payment tokens, and
//!   equals what was minted at the start (no token created or destroyed);
//! - each unsettled job's escrow holds exactly its deposit plus its dispute bond, each settled job's
//!   escrow holds exactly its refund, and a closed job's escrow is closed too;
//! - every settled job's deposit plus dispute bond equals provider share + fee + refund;
//! - payout vaults hold exactly what providers earned and have not claimed, the treasury holds
//!   exactly the market's fees, and each provider's GPU, job, stake-lock and open-dispute counts
//!   match the jobs it holds;
//! - on the stake side, no stake token is created or destroyed, each stake vault holds exactly its
//!   provider's staked plus unbonding stake, and the slash destination holds exactly what the market
//!   and the providers record as slashed (expiries, abandons and verifier fail quorums slash), plus
//!   the bonds of verifiers that voted against a quorum;
//! - each verifier's stake vault holds exactly its stake (plus a deferred slash), its locked stake
//!   is the sum of its open verdicts' bonds, and each job counts exactly the verdicts cast on it
//!   that are still open.
//!
//! The sequences include disputes (with their bonds), verifier votes (quorum 2 of 3 until the
//! market changes it) and the closing of their verdicts, verifiers staking and withdrawing, the
//! authority's rulings, disputes settled by default and reinstatements, so completions and failures
//! by verification go through the same checks. They also include what moves under live jobs:
//! providers staking, requesting, cancelling and withdrawing unstakes, and changing their GPU
//! count; the authority replacing the market's parameters (fee, minimum stake, windows, quorum,
//! slash rate, dispute and verifier bonds); bids withdrawn; and a job created again at the address
//! of a closed one (the same nonce), so bids from the earlier job meet the new one. Some also check
//! their own rule when the chain accepts them: an unstake never leaves less staked than the live
//! jobs lock, a spec update never declares fewer GPUs than running jobs use, and an accepted bid
//! was placed on that very job, not on an earlier one at the same address (bids left from an
//! earlier job are offered to the new one, and must all be refused). After every step, each job's
//! terms are the market parameters it was created under, and a completed job's fee is its cost at
//! that fee rate.
//!
//! At the end it settles and closes every job, claims every payout, and checks that every escrow and
//! payout vault is empty. It also counts the operations the chain accepted and fails if any kind never
//! succeeded, so a generator that stops reaching a transition cannot pass unnoticed.
//!
//! The sequences are the same on every run unless `PROPTEST_RNG_SEED` is set.
//! Cases: `PROPTEST_CASES` (default 1,000), e.g. `PROPTEST_CASES=20000 cargo test --workspace
//! --release --test it conservation::` for a long run.

use gpu_market::{
    CreateJobArgs, DisputeRuling, UpdateProviderArgs,
    constants::{
        MAX_DISPUTE_BOND_BPS, MAX_FEE_BPS, MAX_SLASH_BPS, SAMPLE_SEED_DELAY_SLOTS, recommended,
    },
    error::MarketError,
    pda::find_verdict_address,
    settlement,
    state::{
        Job, JobState, JobTerms, Market, MarketParams, Provider, ProviderStatus, Verdict, Verifier,
    },
    verification,
};
use gpu_market_tests::{Chain, TestContext, fixtures::*, ix, ix::MarketKeys};
use proptest::{
    prelude::*,
    test_runner::{RngSeed, TestRunner},
};
use solana_sdk::{
    instruction::{Instruction, InstructionError},
    program_pack::Pack,
    pubkey::Pubkey,
    signature::Keypair,
    sysvar::slot_hashes,
    transaction::TransactionError,
};

const CLIENTS: usize = 3;
const PROVIDERS: usize = 3;
/// The market's quorum is 2 of these.
const VERIFIERS: usize = 3;
const CLIENT_FUNDS_USDC: u64 = 10_000;
/// Listed prices of the three providers, payment units per GPU-hour.
const PROVIDER_PRICES: [u64; PROVIDERS] = [400_000, 250_000, 900_000];

#[derive(Clone, Debug)]
enum Op {
    Create {
        client: usize,
        gpus: u16,
        max_price: u64,
        duration: u32,
        named: Option<usize>,
    },
    Cancel(usize),
    Claim {
        provider: usize,
        job: usize,
    },
    Bid {
        provider: usize,
        job: usize,
        price: u64,
    },
    /// Accepts one of the bids placed so far (by index, modulo their number).
    AcceptBid {
        bid: usize,
    },
    /// Its provider withdraws one of the bids placed so far, whatever became of its job.
    WithdrawBid(usize),
    /// The provider works `work_secs` more, then submits, billing a share of the elapsed time.
    Submit {
        job: usize,
        work_secs: u32,
        percent_of_elapsed: u32,
    },
    AcceptResult(usize),
    Finalize(usize),
    Expire(usize),
    Abandon(usize),
    ClaimPayout(usize),
    Close(usize),
    Warp(u32),
    /// The client disputes a submitted result.
    Dispute(usize),
    /// Once the seed slot has passed, a verifier votes on a submitted or disputed result; with
    /// `quorum`, the next verifier casts the same vote in the same transaction, deciding the job.
    Vote {
        verifier: usize,
        job: usize,
        pass: bool,
        quorum: bool,
    },
    /// After the dispute timeout, the authority rules on a disputed job.
    Resolve {
        job: usize,
        pay: bool,
    },
    /// After twice the dispute timeout, anyone settles a disputed job by its default (the result
    /// stands); the seed is recorded first if it still can be.
    SettleDispute(usize),
    Reinstate(usize),
    /// A verifier stakes `tokens` more whole tokens, or withdraws that many (refused beyond its
    /// free stake).
    VerifierStake {
        verifier: usize,
        tokens: u64,
        withdraw: bool,
    },
    /// A provider stakes `tokens` more whole tokens, asks to unstake that many, cancels its
    /// request, or withdraws what has unbonded (after waiting out the unbonding period).
    ProviderStake {
        provider: usize,
        tokens: u64,
        change: StakeChange,
    },
    /// A provider declares another GPU count; one below the GPUs its running jobs use is refused
    /// (`ProviderBusy`).
    UpdateSpec {
        provider: usize,
        gpus: u16,
    },
    /// The authority replaces the market's parameters; every job created before keeps its terms.
    UpdateMarket(MarketChange),
    /// A client creates a job at the address of one of its closed jobs (the same nonce), so bids
    /// left from the earlier job meet a new one (verdicts cannot be left: a job closes only with its
    /// verdicts closed).
    Recreate(usize),
}

impl Op {
    /// The operation's kind, as the run counts acceptances: its variant, and for provider stake
    /// changes which one.
    fn kind(&self) -> String {
        if let Op::ProviderStake { change, .. } = self {
            return format!("ProviderStake::{change:?}");
        }
        let debug = format!("{self:?}");
        debug
            .split([' ', '('])
            .next()
            .unwrap_or_default()
            .to_string()
    }
}

#[derive(Clone, Copy, Debug)]
enum StakeChange {
    Stake,
    RequestUnstake,
    CancelUnstake,
    Withdraw,
}

/// The parameters a market change draws (the no-show and abandon slash rates as shares of the
/// fraud rate, which bounds them); the rest stay as they are. Every drawn set is valid, and bounded
/// so that the final drain (which waits out the recommended periods) settles every job.
#[derive(Clone, Copy, Debug)]
struct MarketChange {
    fee_bps: u16,
    min_stake_tokens: u64,
    challenge_window_secs: u32,
    dispute_timeout_secs: u32,
    verifier_quorum: u8,
    slash_fraud_bps: u16,
    /// `slash_no_show_bps` in percent of the fraud rate, and `slash_abandon_bps` in percent of that.
    no_show_percent: u16,
    abandon_percent: u16,
    dispute_bond_bps: u16,
    verifier_bond_tokens: u64,
}

impl MarketChange {
    fn apply(&self, params: &mut MarketParams) {
        params.fee_bps = self.fee_bps;
        params.min_stake_per_gpu = self.min_stake_tokens * ONE_STAKE;
        params.challenge_window_secs = self.challenge_window_secs;
        params.dispute_timeout_secs = self.dispute_timeout_secs;
        params.verifier_quorum = self.verifier_quorum;
        params.slash_fraud_bps = self.slash_fraud_bps;
        let share = |bps: u16, percent: u16| (u32::from(bps) * u32::from(percent) / 100) as u16;
        params.slash_no_show_bps = share(self.slash_fraud_bps, self.no_show_percent);
        params.slash_abandon_bps = share(params.slash_no_show_bps, self.abandon_percent);
        params.dispute_bond_bps = self.dispute_bond_bps;
        params.verifier_bond = self.verifier_bond_tokens * ONE_STAKE;
    }
}

fn market_change() -> impl Strategy<Value = MarketChange> {
    let window = 10..=recommended::CHALLENGE_WINDOW_SECS;
    (
        (0..=MAX_FEE_BPS, 50..=150u64, window),
        (
            1..=VERIFIERS as u8,
            0..=MAX_SLASH_BPS,
            0..=MAX_DISPUTE_BOND_BPS,
            1..=200u64,
        ),
        (0..=100u16, 0..=100u16),
    )
        .prop_flat_map(
            |(
                (fee, min_stake, window),
                (quorum, fraud, bond, verifier_bond),
                (no_show, abandon),
            )| {
                (window..=recommended::DISPUTE_TIMEOUT_SECS).prop_map(move |timeout| MarketChange {
                    fee_bps: fee,
                    min_stake_tokens: min_stake,
                    challenge_window_secs: window,
                    dispute_timeout_secs: timeout,
                    verifier_quorum: quorum,
                    slash_fraud_bps: fraud,
                    no_show_percent: no_show,
                    abandon_percent: abandon,
                    dispute_bond_bps: bond,
                    verifier_bond_tokens: verifier_bond,
                })
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    let job = 0..4usize;
    prop_oneof![
        2 => (
            0..CLIENTS, 1..=2u16, 1..3_000_000u64, 1..7_200u32, proptest::option::weighted(0.2, 0..PROVIDERS))
            .prop_map(|(client, gpus, max_price, duration, named)| Op::Create { client, gpus, max_price, duration, named }),
        1 => job.clone().prop_map(Op::Cancel),
        3 => (0..PROVIDERS, job.clone()).prop_map(|(provider, job)| Op::Claim { provider, job }),
        1 => (0..PROVIDERS, job.clone(), 1..3_000_000u64).prop_map(|(provider, job, price)| Op::Bid { provider, job, price }),
        2 => (0..8usize).prop_map(|bid| Op::AcceptBid { bid }),
        1 => (0..8usize).prop_map(Op::WithdrawBid),
        4 => (job.clone(), 0..900u32, 0..=110u32).prop_map(|(job, work_secs, percent_of_elapsed)| Op::Submit { job, work_secs, percent_of_elapsed }),
        3 => job.clone().prop_map(Op::AcceptResult),
        3 => job.clone().prop_map(Op::Finalize),
        1 => job.clone().prop_map(Op::Expire),
        1 => job.clone().prop_map(Op::Abandon),
        4 => (0..PROVIDERS).prop_map(Op::ClaimPayout),
        2 => job.clone().prop_map(Op::Close),
        4 => (1..3_000u32).prop_map(Op::Warp),
        3 => job.clone().prop_map(Op::Dispute),
        4 => (0..VERIFIERS, job.clone(), any::<bool>(), proptest::bool::weighted(0.5))
            .prop_map(|(verifier, job, pass, quorum)| Op::Vote { verifier, job, pass, quorum }),
        2 => (job.clone(), any::<bool>()).prop_map(|(job, pay)| Op::Resolve { job, pay }),
        1 => job.clone().prop_map(Op::SettleDispute),
        3 => (0..PROVIDERS).prop_map(Op::Reinstate),
        1 => (0..VERIFIERS, 1..100u64, any::<bool>())
            .prop_map(|(verifier, tokens, withdraw)| Op::VerifierStake { verifier, tokens, withdraw }),
        2 => (0..PROVIDERS, 1..150u64, prop_oneof![
                Just(StakeChange::Stake),
                Just(StakeChange::RequestUnstake),
                Just(StakeChange::CancelUnstake),
                Just(StakeChange::Withdraw),
            ])
            .prop_map(|(provider, tokens, change)| Op::ProviderStake { provider, tokens, change }),
        1 => (0..PROVIDERS, 1..=4u16).prop_map(|(provider, gpus)| Op::UpdateSpec { provider, gpus }),
        1 => market_change().prop_map(Op::UpdateMarket),
        1 => job.clone().prop_map(Op::Recreate),
    ]
}

#[derive(Clone, Copy)]
struct PlacedBid {
    client: usize,
    keys: JobKeys,
    provider: usize,
    price: u64,
    /// The serial of the job it was placed on: a later job at the same address has another.
    job_serial: u64,
}

/// Who signs an operation besides the fee payer.
enum Signer {
    Client(usize),
    Provider(usize),
    Authority,
}

struct World {
    ctx: TestContext,
    m: MarketKeys,
    authority: Keypair,
    verifiers: Vec<VerifierFixture>,
    providers: Vec<ProviderFixture>,
    clients: Vec<ClientFixture>,
    /// (client index, job keys), in creation order.
    jobs: Vec<(usize, JobKeys)>,
    /// The nonce and market parameters each job address was last created with.
    created: std::collections::HashMap<Pubkey, (u64, MarketParams)>,
    /// Every bid placed and not withdrawn or accepted.
    bids: Vec<PlacedBid>,
    /// The first rule an accepted operation broke, for `check` to report.
    broken: Option<String>,
    /// Situations worth reaching that are not an accepted operation (say, a stale bid refused),
    /// for the run to count like operations.
    reached: Vec<&'static str>,
    /// The market's parameters as last set.
    params: MarketParams,
    minted: u64,
}

impl World {
    async fn new(fee_bps: u16) -> Self {
        let mut ctx = TestContext::new().await;
        ctx.capture_events(false);
        let f = MarketFixture::prepare(&mut ctx, anchor_spl::token::ID).await;
        let mut params = default_params();
        params.fee_bps = fee_bps;
        ctx.ok(&[f.initialize_ix(params)], &[&f.authority]).await;
        let m = f.keys;
        let mut verifiers = vec![];
        for _ in 0..VERIFIERS {
            let v = VerifierFixture::added(&mut ctx, &m, &f.authority, 1_000, VERIFIER_STAKE);
            verifiers.push(v.await);
        }
        let mut providers = vec![];
        for price in PROVIDER_PRICES {
            // Half its tokens staked: the other half is there to stake more.
            let p = ProviderFixture::staked(&mut ctx, &m, 1_000, 500).await;
            let update = UpdateProviderArgs {
                price_per_gpu_hour: Some(price),
                ..Default::default()
            };
            ctx.ok(
                &[ix::update_provider(&m, &p.key(), update)],
                &[&p.authority],
            )
            .await;
            providers.push(p);
        }
        let mut clients = vec![];
        for _ in 0..CLIENTS {
            clients.push(ClientFixture::new(&mut ctx, &m, CLIENT_FUNDS_USDC).await);
        }
        World {
            ctx,
            m,
            authority: f.authority,
            verifiers,
            providers,
            clients,
            jobs: vec![],
            created: Default::default(),
            bids: vec![],
            broken: None,
            reached: vec![],
            params,
            minted: CLIENTS as u64 * CLIENT_FUNDS_USDC * ONE_USDC,
        }
    }

    /// The `recency`-th most recent job (0 = newest) among those in one of `states`, so sequences
    /// follow jobs through their lives; if none is in those states, any job (the chain then refuses
    /// the transition, which is worth exercising too).
    async fn pick(&mut self, recency: usize, states: &[JobState]) -> Option<(usize, JobKeys)> {
        let mut fitting = vec![];
        for (client, keys) in self.jobs.clone() {
            if let Some(job) = self.job_account(&keys).await
                && states.contains(&job.state)
            {
                fitting.push((client, keys));
            }
        }
        let pool = if fitting.is_empty() {
            &self.jobs
        } else {
            &fitting
        };
        let len = pool.len();
        (len > 0).then(|| pool[len - 1 - recency % len])
    }

    async fn job_account(&mut self, keys: &JobKeys) -> Option<Job> {
        self.ctx.account(&keys.job).await?;
        Some(self.ctx.anchor_account(&keys.job).await)
    }

    /// The index of the provider running a job, if the job exists and has one.
    async fn provider_of(&mut self, keys: &JobKeys) -> Option<usize> {
        let job = self.job_account(keys).await?;
        self.providers
            .iter()
            .position(|p| p.provider == job.provider)
    }

    /// Applies one operation and says whether the chain accepted it. Refusals are expected (wrong
    /// state, wrong time, no funds): what matters is what the chain looks like afterwards.
    async fn apply(&mut self, op: &Op) -> bool {
        const OPEN: &[JobState] = &[JobState::Open];
        const RUNNING: &[JobState] = &[JobState::Running];
        const SUBMITTED: &[JobState] = &[JobState::Submitted];
        const UNDER_REVIEW: &[JobState] = &[JobState::Submitted, JobState::Disputed];
        const SETTLED: &[JobState] = &[JobState::Completed, JobState::Failed, JobState::Cancelled];
        let m = self.m;
        let (instruction, signer) = match *op {
            Op::Create {
                client,
                gpus,
                max_price,
                duration,
                named,
            } => {
                let nonce = self.jobs.len() as u64;
                let mut args: CreateJobArgs = job_args(nonce);
                args.requirements.gpu_count = gpus;
                args.max_price_per_gpu_hour = max_price;
                args.max_duration_secs = duration;
                args.named_provider = named.map(|i| self.providers[i].provider);
                let c = &self.clients[client];
                let create = ix::create_job(&m, &c.key(), &c.payment_account, args);
                let ok = self.ctx.execute(&[create], &[&c.authority]).await.is_ok();
                if ok {
                    let keys = c.job(&m, nonce);
                    self.created.insert(keys.job, (nonce, self.params));
                    self.jobs.push((client, keys));
                }
                return ok;
            }
            Op::Recreate(j) => {
                // A closed job, one with bids left on it if there is one: the attack is a client
                // accepting such a bid for the new job. With none, an open job with bids is
                // cancelled and closed by its client first, as the attack would begin.
                self.close_an_open_job_with_bids().await;
                let mut closed = vec![];
                let mut with_bids = vec![];
                for (index, (_, keys)) in self.jobs.clone().into_iter().enumerate() {
                    if self.ctx.account(&keys.job).await.is_none() {
                        closed.push(index);
                        if self.bids.iter().any(|b| b.keys.job == keys.job) {
                            with_bids.push(index);
                        }
                    }
                }
                let pool = if with_bids.is_empty() {
                    closed
                } else {
                    with_bids
                };
                let Some(&index) = pool.get(j % pool.len().max(1)) else {
                    return false;
                };
                let (client, keys) = self.jobs[index];
                let c = &self.clients[client];
                let nonce = self.created[&keys.job].0;
                let create = ix::create_job(&m, &c.key(), &c.payment_account, job_args(nonce));
                let ok = self.ctx.execute(&[create], &[&c.authority]).await.is_ok();
                if ok {
                    self.created.insert(keys.job, (nonce, self.params));
                    self.accept_stale_bids(client, &keys).await;
                    // The address now holds the new job: it is the newest.
                    self.jobs.remove(index);
                    self.jobs.push((client, keys));
                }
                return ok;
            }
            Op::WithdrawBid(bid) => {
                if self.bids.is_empty() {
                    return false;
                }
                let index = bid % self.bids.len();
                let PlacedBid { keys, provider, .. } = self.bids[index];
                let p = &self.providers[provider];
                let withdraw = ix::withdraw_bid(&m, &p.key(), &keys.job);
                let ok = self.ctx.execute(&[withdraw], &[&p.authority]).await.is_ok();
                if ok {
                    self.bids.remove(index);
                }
                return ok;
            }
            Op::ProviderStake {
                provider,
                tokens,
                change,
            } => {
                let p = &self.providers[provider];
                let amount = tokens * ONE_STAKE;
                let instruction = match change {
                    StakeChange::Stake => ix::stake(&m, &p.key(), &p.stake_account, amount),
                    StakeChange::RequestUnstake => ix::request_unstake(&m, &p.key(), amount),
                    StakeChange::CancelUnstake => ix::cancel_unstake(&m, &p.key()),
                    StakeChange::Withdraw => {
                        // The provider waits until what it unbonds can be withdrawn, if anything.
                        let key = p.provider;
                        let account: Provider = self.ctx.anchor_account(&key).await;
                        let now = self.ctx.clock().await.unix_timestamp;
                        if account.unbonding > 0 && account.unbonding_unlock_at > now {
                            self.ctx
                                .advance_time(account.unbonding_unlock_at - now)
                                .await;
                        }
                        let p = &self.providers[provider];
                        ix::withdraw_unstaked(&m, &p.key(), &p.stake_account)
                    }
                };
                let p = &self.providers[provider];
                let ok = self
                    .ctx
                    .execute(&[instruction], &[&p.authority])
                    .await
                    .is_ok();
                if ok && matches!(change, StakeChange::RequestUnstake) {
                    let key = self.providers[provider].provider;
                    let p: Provider = self.ctx.anchor_account(&key).await;
                    if p.staked < p.locked_stake {
                        self.break_rule(format!(
                            "unstaking left provider {provider} with {} staked under {} locked",
                            p.staked, p.locked_stake
                        ));
                    }
                }
                return ok;
            }
            Op::UpdateSpec { provider, gpus } => {
                let mut spec = rtx4090_spec();
                spec.gpu_count = gpus;
                let update = UpdateProviderArgs {
                    spec: Some(spec),
                    ..Default::default()
                };
                let p = &self.providers[provider];
                let update = ix::update_provider(&m, &p.key(), update);
                let key = p.provider;
                let ok = self
                    .ctx
                    .execute(&[update], &[&self.providers[provider].authority])
                    .await
                    .is_ok();
                let after: Provider = self.ctx.anchor_account(&key).await;
                if ok && after.spec.gpu_count < after.gpus_in_use {
                    self.break_rule(format!(
                        "a spec update left provider {provider} with {} GPUs under the {} in use",
                        after.spec.gpu_count, after.gpus_in_use
                    ));
                }
                return ok;
            }
            Op::UpdateMarket(change) => {
                let mut params = self.params;
                change.apply(&mut params);
                let update = ix::update_market(&m, &m.treasury, &m.slash_destination, params);
                let ok = self
                    .ctx
                    .execute(&[update], &[&self.authority])
                    .await
                    .is_ok();
                if ok {
                    self.params = params;
                }
                return ok;
            }
            Op::Bid {
                provider,
                job,
                price,
            } => {
                let Some((client, keys)) = self.pick(job, OPEN).await else {
                    return false;
                };
                let Some(job_serial) = self.job_account(&keys).await.map(|j| j.serial) else {
                    return false;
                };
                let p = &self.providers[provider];
                let bid = ix::place_bid(&m, &p.key(), &keys.job, price, NO_BID_EXPIRY);
                let ok = self.ctx.execute(&[bid], &[&p.authority]).await.is_ok();
                if ok {
                    self.bids.push(PlacedBid {
                        client,
                        keys,
                        provider,
                        price,
                        job_serial,
                    });
                }
                return ok;
            }
            Op::AcceptBid { bid } => {
                if self.bids.is_empty() {
                    return false;
                }
                let index = bid % self.bids.len();
                let placed = self.bids[index];
                let c = &self.clients[placed.client];
                let provider = self.providers[placed.provider].key();
                let accept =
                    ix::accept_bid(&m, &c.key(), &placed.keys.job, &provider, placed.price);
                let ok = self.ctx.execute(&[accept], &[&c.authority]).await.is_ok();
                if ok {
                    // Accepting closes the bid.
                    self.bids.remove(index);
                    let serial = self.job_account(&placed.keys).await.map(|j| j.serial);
                    if serial != Some(placed.job_serial) {
                        self.break_rule(format!(
                            "a bid placed on job serial {} was accepted for serial {serial:?}",
                            placed.job_serial
                        ));
                    }
                }
                return ok;
            }
            Op::Warp(secs) => {
                self.ctx.advance_time(i64::from(secs)).await;
                return true;
            }
            Op::ClaimPayout(provider) => {
                // A provider with something to claim if there is one (else the chain refuses).
                let vaults: Vec<Pubkey> = self.providers.iter().map(|p| p.payout_vault).collect();
                let mut owed = vec![];
                for (i, vault) in vaults.iter().enumerate() {
                    if self.ctx.token_balance(vault).await > 0 {
                        owed.push(i);
                    }
                }
                let provider = owed
                    .get(provider % owed.len().max(1))
                    .copied()
                    .unwrap_or(provider);
                let p = &self.providers[provider];
                (
                    ix::claim_payout(&m, &p.key(), &p.payment_account),
                    Some(Signer::Provider(provider)),
                )
            }
            Op::Cancel(j) => {
                let Some((client, keys)) = self.pick(j, OPEN).await else {
                    return false;
                };
                (
                    ix::cancel_job(&self.clients[client].key(), &keys.job),
                    Some(Signer::Client(client)),
                )
            }
            Op::Close(j) => {
                let Some((client, keys)) = self.pick(j, SETTLED).await else {
                    return false;
                };
                // The client closes the job's verdicts first, as the CLI does.
                let mut ixs = self
                    .close_verdicts(&keys, &self.clients[client].key())
                    .await;
                let c = &self.clients[client];
                ixs.push(ix::close_job(&m, &c.key(), &keys.job, &c.payment_account));
                return self.ctx.execute(&ixs, &[&c.authority]).await.is_ok();
            }
            Op::VerifierStake {
                verifier,
                tokens,
                withdraw,
            } => {
                let v = &self.verifiers[verifier];
                let amount = tokens * ONE_STAKE;
                let change = if withdraw {
                    ix::withdraw_verifier_stake(&m, &v.key(), &v.stake_account, amount)
                } else {
                    ix::stake_verifier(&m, &v.key(), &v.stake_account, amount)
                };
                return self.ctx.execute(&[change], &[&v.authority]).await.is_ok();
            }
            Op::Claim { provider, job } => {
                let Some((_, keys)) = self.pick(job, OPEN).await else {
                    return false;
                };
                (
                    ix::claim_job(&m, &self.providers[provider].key(), &keys.job),
                    Some(Signer::Provider(provider)),
                )
            }
            Op::Submit {
                job,
                work_secs,
                percent_of_elapsed,
            } => {
                let Some((_, keys)) = self.pick(job, RUNNING).await else {
                    return false;
                };
                let Some(provider) = self.provider_of(&keys).await else {
                    return false;
                };
                self.ctx.advance_time(i64::from(work_secs)).await;
                let started_at = self.job_account(&keys).await.map_or(0, |j| j.started_at);
                let elapsed = (self.ctx.clock().await.unix_timestamp - started_at).max(0) as u64;
                let metered =
                    (elapsed * u64::from(percent_of_elapsed) / 100).min(u64::from(u32::MAX)) as u32;
                let submit = ix::submit_result(
                    &m,
                    &self.providers[provider].key(),
                    &keys.job,
                    result_of(metered),
                );
                (submit, Some(Signer::Provider(provider)))
            }
            Op::Abandon(j) => {
                let Some((_, keys)) = self.pick(j, RUNNING).await else {
                    return false;
                };
                let Some(provider) = self.provider_of(&keys).await else {
                    return false;
                };
                (
                    ix::abandon_job(&m, &self.providers[provider].key(), &keys.job),
                    Some(Signer::Provider(provider)),
                )
            }
            Op::Expire(j) => {
                let Some((client, keys)) = self.pick(j, RUNNING).await else {
                    return false;
                };
                let Some(provider) = self.provider_of(&keys).await else {
                    return false;
                };
                let c = &self.clients[client];
                let expire =
                    ix::expire_job(&m, &c.key(), &keys.job, &self.providers[provider].provider);
                (expire, Some(Signer::Client(client)))
            }
            Op::AcceptResult(j) => {
                let Some((client, keys)) = self.pick(j, UNDER_REVIEW).await else {
                    return false;
                };
                let Some(provider) = self.provider_of(&keys).await else {
                    return false;
                };
                let c = &self.clients[client];
                let accept =
                    ix::accept_result(&m, &c.key(), &keys.job, &self.providers[provider].provider);
                (accept, Some(Signer::Client(client)))
            }
            Op::Dispute(j) => {
                let Some((client, keys)) = self.pick(j, SUBMITTED).await else {
                    return false;
                };
                let Some(provider) = self.provider_of(&keys).await else {
                    return false;
                };
                let c = &self.clients[client];
                let provider = self.providers[provider].provider;
                let dispute =
                    ix::dispute_result(&m, &c.key(), &keys.job, &provider, &c.payment_account);
                (dispute, Some(Signer::Client(client)))
            }
            Op::Vote {
                verifier,
                job,
                pass,
                quorum,
            } => {
                let Some((_, keys)) = self.pick(job, UNDER_REVIEW).await else {
                    return false;
                };
                let Some(provider) = self.provider_of(&keys).await else {
                    return false;
                };
                let Some(account) = self.job_account(&keys).await else {
                    return false;
                };
                // With `quorum`, as many verifiers as the job's terms need vote alike.
                let count = if quorum {
                    usize::from(account.terms.verifier_quorum)
                } else {
                    1
                };
                return self.vote(&keys, provider, verifier, count, pass).await;
            }
            Op::Resolve { job, pay } => {
                let Some((keys, provider, account)) = self.in_dispute(job).await else {
                    return false;
                };
                let timeout = account.terms.dispute_timeout_secs;
                self.ctx.advance_time(i64::from(timeout)).await;
                let ruling = if pay {
                    DisputeRuling::PayProvider
                } else {
                    DisputeRuling::RefundClient
                };
                let resolve = ix::resolve_dispute(&m, &keys.job, &provider, ruling);
                (resolve, Some(Signer::Authority))
            }
            Op::SettleDispute(j) => {
                let Some((keys, provider, account)) = self.in_dispute(j).await else {
                    return false;
                };
                self.ctx.advance_slots(SAMPLE_SEED_DELAY_SLOTS + 1).await;
                let record = ix::record_sample_seed(&m, &self.ctx.payer(), &keys.job);
                // Refused if the seed is recorded already or can no longer be: either is a case.
                let _ = self.ctx.execute(&[record], &[]).await;
                let timeout = account.terms.dispute_timeout_secs;
                self.ctx.advance_time(2 * i64::from(timeout)).await;
                let settle = ix::settle_dispute(&m, &keys.job, &provider);
                (settle, None)
            }
            Op::Reinstate(provider) => {
                // A jailed provider if there is one; else a verifier quorum first fails a result
                // under review, which jails its provider (fail quorums are otherwise too rare for
                // reinstatements to be exercised). The drawn index also picks that job (by
                // recency) and the first voter.
                if self.jailed().await.is_empty()
                    && let Some((_, keys)) = self.pick(provider, UNDER_REVIEW).await
                    && let Some(held_by) = self.provider_of(&keys).await
                    && let Some(account) = self.job_account(&keys).await
                {
                    let quorum = usize::from(account.terms.verifier_quorum);
                    self.vote(&keys, held_by, provider, quorum, false).await;
                }
                let jailed = self.jailed().await;
                let provider = jailed
                    .get(provider % jailed.len().max(1))
                    .copied()
                    .unwrap_or(provider);
                (
                    ix::reinstate_provider(&m, &self.providers[provider].provider),
                    Some(Signer::Authority),
                )
            }
            Op::Finalize(j) => {
                let Some((_, keys)) = self.pick(j, SUBMITTED).await else {
                    return false;
                };
                let Some(provider) = self.provider_of(&keys).await else {
                    return false;
                };
                let Some(job) = self.job_account(&keys).await else {
                    return false;
                };
                // A job settles only with its sample seed recorded, as verifiers or its provider
                // would have done, and once its challenge window is over: the cranker waits for it.
                let mut ixs = self.seed_instructions(&job, &keys).await;
                let window_ends = job.submitted_at + i64::from(job.terms.challenge_window_secs);
                let now = self.ctx.clock().await.unix_timestamp;
                if window_ends >= now {
                    self.ctx.advance_time(window_ends - now + 1).await;
                }
                ixs.push(ix::finalize_job(
                    &m,
                    &keys.job,
                    &self.providers[provider].provider,
                ));
                return self.ctx.execute(&ixs, &[]).await.is_ok();
            }
        };
        let signer = match signer {
            Some(Signer::Client(i)) => vec![&self.clients[i].authority],
            Some(Signer::Provider(i)) => vec![&self.providers[i].authority],
            Some(Signer::Authority) => vec![&self.authority],
            None => vec![],
        };
        self.ctx.execute(&[instruction], &signer).await.is_ok()
    }

    /// A disputed job (the `recency`-th among those under review), with its provider account and
    /// its state; a submitted one is disputed by its client first, since disputes are otherwise
    /// too rare for rulings and defaults to be exercised. With none under review, any job (as
    /// `pick` does: the ruling is then refused). `None` if there is no job or the dispute is
    /// refused.
    async fn in_dispute(&mut self, recency: usize) -> Option<(JobKeys, Pubkey, Job)> {
        let (client, keys) = self
            .pick(recency, &[JobState::Submitted, JobState::Disputed])
            .await?;
        let account = self.job_account(&keys).await?;
        let provider = account.provider;
        if account.state == JobState::Submitted {
            let c = &self.clients[client];
            let dispute =
                ix::dispute_result(&self.m, &c.key(), &keys.job, &provider, &c.payment_account);
            self.ctx.execute(&[dispute], &[&c.authority]).await.ok()?;
        }
        Some((keys, provider, self.job_account(&keys).await?))
    }

    /// `count` verifiers from `first` on (wrapping) vote `pass` on a job under review held by
    /// `provider`, in one transaction once its seed slot has passed; says whether it was accepted.
    async fn vote(
        &mut self,
        keys: &JobKeys,
        provider: usize,
        first: usize,
        count: usize,
        pass: bool,
    ) -> bool {
        self.ctx.advance_slots(SAMPLE_SEED_DELAY_SLOTS + 1).await;
        let voters: Vec<usize> = (0..count.min(VERIFIERS))
            .map(|i| (first + i) % VERIFIERS)
            .collect();
        let votes: Vec<_> = voters
            .iter()
            .map(|&v| {
                let verifier = &self.verifiers[v].key();
                let provider = &self.providers[provider].provider;
                ix::submit_verdict(&self.m, verifier, &keys.job, provider, pass, [0; 32])
            })
            .collect();
        let signers: Vec<&Keypair> = voters
            .iter()
            .map(|&v| &self.verifiers[v].authority)
            .collect();
        self.ctx.execute(&votes, &signers).await.is_ok()
    }

    /// The indices of the providers that are jailed.
    async fn jailed(&mut self) -> Vec<usize> {
        let mut jailed = vec![];
        let keys: Vec<Pubkey> = self.providers.iter().map(|p| p.provider).collect();
        for (i, key) in keys.iter().enumerate() {
            let account: Provider = self.ctx.anchor_account(key).await;
            if account.status == ProviderStatus::Jailed {
                jailed.push(i);
            }
        }
        jailed
    }

    /// If no closed job has bids left on it, the client of an open job with bids cancels and
    /// closes it.
    async fn close_an_open_job_with_bids(&mut self) {
        let mut open_with_bids = None;
        for (client, keys) in self.jobs.clone() {
            let has_bids = self.bids.iter().any(|b| b.keys.job == keys.job);
            match self.job_account(&keys).await {
                None if has_bids => return,
                Some(job) if has_bids && job.state == JobState::Open => {
                    open_with_bids.get_or_insert((client, keys));
                }
                _ => {}
            }
        }
        if let Some((client, keys)) = open_with_bids {
            let c = &self.clients[client];
            let cancel = ix::cancel_job(&c.key(), &keys.job);
            let close = ix::close_job(&self.m, &c.key(), &keys.job, &c.payment_account);
            let _ = self.ctx.execute(&[cancel, close], &[&c.authority]).await;
        }
    }

    /// The client tries to accept, for the job now at `keys`, each bid left from an earlier job
    /// there: every one must be refused.
    async fn accept_stale_bids(&mut self, client: usize, keys: &JobKeys) {
        let stale: Vec<PlacedBid> = self
            .bids
            .iter()
            .filter(|b| b.keys.job == keys.job)
            .copied()
            .collect();
        for bid in stale {
            let c = &self.clients[client];
            let provider = self.providers[bid.provider].key();
            let accept = ix::accept_bid(&self.m, &c.key(), &keys.job, &provider, bid.price);
            let refused_as_stale: u32 = MarketError::BidForEarlierJob.into();
            match self.ctx.execute(&[accept], &[&c.authority]).await {
                Err(TransactionError::InstructionError(_, InstructionError::Custom(code)))
                    if code == refused_as_stale =>
                {
                    self.reached.push("StaleBidRefused")
                }
                outcome => self.break_rule(format!(
                    "a bid placed on job serial {} for the job created again at {}: {outcome:?}, \
                     not BidForEarlierJob",
                    bid.job_serial, keys.job
                )),
            }
        }
    }

    fn break_rule(&mut self, rule: String) {
        self.broken.get_or_insert(rule);
    }

    /// `close_verdict` for every verdict cast on the job, signed by `actor`.
    async fn close_verdicts(&mut self, keys: &JobKeys, actor: &Pubkey) -> Vec<Instruction> {
        let mut ixs = vec![];
        for v in &self.verifiers {
            let verdict = find_verdict_address(&keys.job, &v.verifier).0;
            if self.ctx.account(&verdict).await.is_some() {
                ixs.push(ix::close_verdict(&self.m, actor, &v.key(), &keys.job));
            }
        }
        ixs
    }

    /// What a job under review needs before it can settle: nothing if its seed is recorded, else
    /// `record_sample_seed` once its seed slot has a hash (the payer cranks it).
    async fn seed_instructions(&mut self, job: &Job, keys: &JobKeys) -> Vec<Instruction> {
        if job.sample_seed.is_some() {
            return vec![];
        }
        self.ctx.advance_slots(SAMPLE_SEED_DELAY_SLOTS + 1).await;
        vec![ix::record_sample_seed(
            &self.m,
            &self.ctx.payer(),
            &keys.job,
        )]
    }

    async fn balance_or_zero(&mut self, key: &Pubkey) -> u64 {
        match self.ctx.account(key).await {
            Some(_) => self.ctx.token_balance(key).await,
            None => 0,
        }
    }

    /// The invariants of the module doc; returns the first violation.
    async fn check(&mut self) -> Result<(), String> {
        if let Some(rule) = &self.broken {
            return Err(rule.clone());
        }
        let m = self.m;
        let mint = self.ctx.account(&m.payment_mint).await.unwrap();
        let supply = spl_token_interface::state::Mint::unpack(&mint.data)
            .unwrap()
            .supply;
        if supply != self.minted {
            return Err(format!("supply {supply} != minted {}", self.minted));
        }

        let mut held = 0u64;
        let client_accounts: Vec<_> = self.clients.iter().map(|c| c.payment_account).collect();
        for account in &client_accounts {
            held += self.balance_or_zero(account).await;
        }
        let mut payouts = 0u64;
        let mut unclaimed_earnings = 0u64;
        let mut expected_gpus = [0u16; PROVIDERS];
        let mut expected_active = [0u16; PROVIDERS];
        let mut expected_locked = [0u64; PROVIDERS];
        let mut expected_disputes = [0u16; PROVIDERS];
        let provider_accounts: Vec<_> = self
            .providers
            .iter()
            .map(|p| (p.payment_account, p.payout_vault, p.provider))
            .collect();
        for (wallet, payout_vault, provider) in &provider_accounts {
            held += self.balance_or_zero(wallet).await;
            payouts += self.balance_or_zero(payout_vault).await;
            let provider: Provider = self.ctx.anchor_account(provider).await;
            unclaimed_earnings += provider.counters.total_earned - provider.counters.total_claimed;
        }
        held += payouts;
        let treasury = self.balance_or_zero(&m.treasury).await;
        held += treasury;

        let mut verifier_locks = vec![(0u64, 0u32); VERIFIERS];
        for (_, keys) in self.jobs.clone() {
            let escrow = self.ctx.account(&keys.escrow_vault).await;
            let Some(job) = self.job_account(&keys).await else {
                if escrow.is_some() {
                    return Err(format!("job {} closed but its escrow is open", keys.job));
                }
                continue;
            };
            let mut open_verdicts = 0;
            for (i, v) in self.verifiers.iter().enumerate() {
                let verdict = find_verdict_address(&keys.job, &v.verifier).0;
                if self.ctx.account(&verdict).await.is_some() {
                    let verdict: Verdict = self.ctx.anchor_account(&verdict).await;
                    verifier_locks[i].0 += verdict.bond;
                    verifier_locks[i].1 += 1;
                    open_verdicts += 1;
                }
            }
            if job.open_verdicts != open_verdicts {
                return Err(format!(
                    "job {} counts {} open verdicts, {open_verdicts} exist",
                    keys.job, job.open_verdicts
                ));
            }
            // The job keeps the terms it was created under, whatever the market changed since, and
            // settles on them. Built field by field rather than with `JobTerms::of`, so that a
            // parameter that function forgets to copy shows here.
            let params = self.created[&keys.job].1;
            let terms = JobTerms {
                fee_bps: params.fee_bps,
                challenge_window_secs: params.challenge_window_secs,
                dispute_timeout_secs: params.dispute_timeout_secs,
                dispute_bond_bps: params.dispute_bond_bps,
                verifier_quorum: params.verifier_quorum,
                sample_count: params.sample_count,
                slash_no_show_bps: params.slash_no_show_bps,
                slash_abandon_bps: params.slash_abandon_bps,
                slash_fraud_bps: params.slash_fraud_bps,
                slash_destination: m.slash_destination,
                verifier_bond: params.verifier_bond,
            };
            if job.terms != terms {
                return Err(format!(
                    "job {} has terms {:?}, was created under {terms:?}",
                    keys.job, job.terms
                ));
            }
            if job.state == JobState::Completed {
                let fee = settlement::split(
                    job.deposit,
                    job.price_per_gpu_hour,
                    job.requirements.gpu_count,
                    job.result.metered_secs,
                    job.max_duration_secs,
                    params.fee_bps,
                )
                .map_err(|e| format!("split of {}: {e}", keys.job))?
                .fee;
                if job.settlement.fee != fee {
                    return Err(format!(
                        "job {} paid a fee of {}, its creation fee rate gives {fee}",
                        keys.job, job.settlement.fee
                    ));
                }
            }
            let balance = self.ctx.token_balance(&keys.escrow_vault).await;
            held += balance;
            let s = job.settlement;
            // A dispute bond joins the deposit in escrow and is settled with it.
            let owed = job.deposit + job.dispute_bond;
            if job.state.is_settled() {
                if balance != s.refund {
                    return Err(format!(
                        "settled job {} escrow {balance} != refund {}",
                        keys.job, s.refund
                    ));
                }
                if s.provider_share + s.fee + s.refund != owed {
                    return Err(format!(
                        "job {} split {s:?} != deposit + bond {owed}",
                        keys.job
                    ));
                }
            } else if balance != owed {
                return Err(format!(
                    "unsettled job {} escrow {balance} != deposit + bond {owed}",
                    keys.job
                ));
            }
            if let Some(i) = self
                .providers
                .iter()
                .position(|p| p.provider == job.provider)
            {
                match job.state {
                    JobState::Running => {
                        expected_gpus[i] += job.requirements.gpu_count;
                        expected_active[i] += 1;
                        expected_locked[i] += job.locked_stake;
                    }
                    JobState::Submitted => {
                        expected_active[i] += 1;
                        expected_locked[i] += job.locked_stake;
                    }
                    JobState::Disputed => {
                        expected_active[i] += 1;
                        expected_locked[i] += job.locked_stake;
                        expected_disputes[i] += 1;
                    }
                    _ => {}
                }
            }
        }
        if held != supply {
            return Err(format!("tokens held {held} != supply {supply}"));
        }
        self.check_stake(&verifier_locks).await?;
        if payouts != unclaimed_earnings {
            return Err(format!(
                "payout vaults {payouts} != unclaimed earnings {unclaimed_earnings}"
            ));
        }
        let market: Market = self.ctx.anchor_account(&m.market).await;
        if treasury != market.counters.total_fees {
            return Err(format!(
                "treasury {treasury} != fees {}",
                market.counters.total_fees
            ));
        }
        for (i, (_, _, key)) in provider_accounts.iter().enumerate() {
            let provider: Provider = self.ctx.anchor_account(key).await;
            let recorded = (
                provider.gpus_in_use,
                provider.active_jobs,
                provider.locked_stake,
                provider.open_disputes,
            );
            let expected = (
                expected_gpus[i],
                expected_active[i],
                expected_locked[i],
                expected_disputes[i],
            );
            if recorded != expected {
                return Err(format!(
                    "provider {i}: gpus/active/locked stake/open disputes {recorded:?} != jobs' {expected:?}"
                ));
            }
        }
        Ok(())
    }

    /// The stake side: no stake token created or destroyed, each stake vault holds exactly its
    /// provider's or verifier's stake, each verifier's lock is its open verdicts' bonds
    /// (`verifier_locks`: bonds and count, by verifier), and the slash destination holds exactly
    /// what was slashed.
    async fn check_stake(&mut self, verifier_locks: &[(u64, u32)]) -> Result<(), String> {
        let m = self.m;
        let mint = self.ctx.account(&m.stake_mint).await.unwrap();
        let supply = spl_token_interface::state::Mint::unpack(&mint.data)
            .unwrap()
            .supply;
        let slashed = self.ctx.token_balance(&m.slash_destination).await;
        let mut held = slashed;
        let mut provider_slashed = 0;
        let mut pending = 0;
        let accounts: Vec<_> = self
            .providers
            .iter()
            .map(|p| (p.stake_account, p.stake_vault, p.provider))
            .collect();
        for (i, (wallet, vault, provider)) in accounts.into_iter().enumerate() {
            let in_vault = self.ctx.token_balance(&vault).await;
            held += self.ctx.token_balance(&wallet).await + in_vault;
            let p: Provider = self.ctx.anchor_account(&provider).await;
            if in_vault != p.staked + p.unbonding + p.slash_pending {
                return Err(format!(
                    "provider {i}: stake vault {in_vault} != staked {} + unbonding {} + pending slash {}",
                    p.staked, p.unbonding, p.slash_pending
                ));
            }
            provider_slashed += p.counters.total_slashed;
            pending += p.slash_pending;
        }
        let mut verifier_slashed = 0;
        let verifiers: Vec<_> = self
            .verifiers
            .iter()
            .map(|v| (v.stake_account, v.stake_vault, v.verifier))
            .collect();
        for (i, (wallet, vault, verifier)) in verifiers.into_iter().enumerate() {
            let in_vault = self.ctx.token_balance(&vault).await;
            held += self.ctx.token_balance(&wallet).await + in_vault;
            let v: Verifier = self.ctx.anchor_account(&verifier).await;
            if in_vault != v.staked + v.slash_pending {
                return Err(format!(
                    "verifier {i}: stake vault {in_vault} != staked {} + pending slash {}",
                    v.staked, v.slash_pending
                ));
            }
            if (v.locked, v.open_verdicts) != verifier_locks[i] {
                return Err(format!(
                    "verifier {i}: locked/open verdicts {:?} != its verdicts' {:?}",
                    (v.locked, v.open_verdicts),
                    verifier_locks[i]
                ));
            }
            verifier_slashed += v.total_slashed;
            pending += v.slash_pending;
        }
        if held != supply {
            return Err(format!("stake held {held} != stake supply {supply}"));
        }
        let market: Market = self.ctx.anchor_account(&m.market).await;
        if (provider_slashed, slashed + pending)
            != (
                market.counters.total_slashed,
                provider_slashed + verifier_slashed,
            )
        {
            return Err(format!(
                "slash destination {slashed} + pending {pending}, providers' slashed \
                 {provider_slashed}, verifiers' {verifier_slashed}, market's {}",
                market.counters.total_slashed
            ));
        }
        Ok(())
    }

    /// Settles and closes every job the way participants would, then checks nothing is left in escrow.
    async fn drain(&mut self) -> Result<(), String> {
        let m = self.m;
        // Past every deadline, challenge window and dispute timeout.
        let timeout = i64::from(default_params().dispute_timeout_secs);
        self.ctx.advance_time(7_200 + timeout + 1).await;
        for (client, keys) in self.jobs.clone() {
            let Some(job) = self.job_account(&keys).await else {
                continue;
            };
            let c = &self.clients[client];
            let provider = job.provider;
            let settle = match job.state {
                JobState::Open => Some(ix::cancel_job(&c.key(), &keys.job)),
                JobState::Running => Some(ix::expire_job(&m, &c.key(), &keys.job, &provider)),
                JobState::Submitted if job.sample_seed.is_none() => {
                    // Too late to record the seed now, or still in time.
                    self.ctx.advance_slots(SAMPLE_SEED_DELAY_SLOTS + 1).await;
                    let slot_hashes = self.ctx.account(&slot_hashes::ID).await.unwrap();
                    let target = job.submitted_slot + SAMPLE_SEED_DELAY_SLOTS;
                    match verification::seed_slot_hash(&slot_hashes.data, target).unwrap() {
                        verification::SeedSlot::Expired => {
                            Some(ix::expire_sample_seed(&m, &c.key(), &keys.job, &provider))
                        }
                        _ => {
                            let record = ix::record_sample_seed(&m, &c.key(), &keys.job);
                            let finalize = ix::finalize_job(&m, &keys.job, &provider);
                            self.ctx
                                .execute(&[record], &[&c.authority])
                                .await
                                .map_err(|e| format!("seed of {}: {e:?}", keys.job))?;
                            Some(finalize)
                        }
                    }
                }
                JobState::Submitted => Some(ix::finalize_job(&m, &keys.job, &provider)),
                JobState::Disputed => Some(ix::resolve_dispute(
                    &m,
                    &keys.job,
                    &provider,
                    DisputeRuling::RefundClient,
                )),
                _ => None,
            };
            let close = ix::close_job(&m, &c.key(), &keys.job, &c.payment_account);
            let client_key = c.key();
            let verdicts = self.close_verdicts(&keys, &client_key).await;
            let c = &self.clients[client];
            let ixs: Vec<_> = settle.into_iter().chain(verdicts).chain([close]).collect();
            let mut signers = vec![&c.authority];
            if job.state == JobState::Disputed {
                signers.push(&self.authority);
            }
            self.ctx
                .execute(&ixs, &signers)
                .await
                .map_err(|e| format!("draining job {}: {e:?}", keys.job))?;
        }
        for (_, keys) in &self.jobs {
            if self.ctx.account(&keys.escrow_vault).await.is_some() {
                return Err(format!("escrow of {} still open after draining", keys.job));
            }
        }
        for i in 0..PROVIDERS {
            let vault = self.providers[i].payout_vault;
            if self.ctx.token_balance(&vault).await > 0 {
                let p = &self.providers[i];
                let claim = ix::claim_payout(&m, &p.key(), &p.payment_account);
                self.ctx
                    .execute(&[claim], &[&p.authority])
                    .await
                    .map_err(|e| format!("claiming payouts of provider {i}: {e:?}"))?;
            }
            if self.ctx.token_balance(&vault).await != 0 {
                return Err(format!(
                    "payout vault of provider {i} not empty after claiming"
                ));
            }
        }
        Ok(())
    }
}

#[test]
fn tokens_are_conserved_and_escrows_hold_what_they_owe() {
    let config = ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000),
        failure_persistence: None,
        // CI runs the same sequences every time (so the "every kind succeeded" gate is stable);
        // PROPTEST_RNG_SEED=<u64> explores others.
        rng_seed: match std::env::var("PROPTEST_RNG_SEED") {
            Ok(_) => ProptestConfig::default().rng_seed,
            Err(_) => RngSeed::Fixed(0x0067_7075_2d6d_6b74),
        },
        ..ProptestConfig::default()
    };
    // One thread: the banks server and the test hand requests back and forth, which across threads
    // costs more in context switches than the work itself.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let strategy = (0..=5_000u16, proptest::collection::vec(op(), 1..40));
    // Successful operations by kind, over every case: the run must reach every transition, or its
    // invariants prove little.
    let accepted = std::cell::RefCell::new(std::collections::BTreeMap::<String, u32>::new());
    let mut runner = TestRunner::new(config);
    runner
        .run(&strategy, |(fee_bps, ops)| {
            runtime.block_on(async {
                let mut world = World::new(fee_bps).await;
                for (step, op) in ops.iter().enumerate() {
                    if world.apply(op).await {
                        *accepted.borrow_mut().entry(op.kind()).or_default() += 1;
                    }
                    for situation in world.reached.drain(..) {
                        *accepted.borrow_mut().entry(situation.into()).or_default() += 1;
                    }
                    world.check().await.map_err(|e| {
                        TestCaseError::fail(format!("after step {step} {op:?}: {e}"))
                    })?;
                }
                world.drain().await.map_err(TestCaseError::fail)?;
                world
                    .check()
                    .await
                    .map_err(|e| TestCaseError::fail(format!("after draining: {e}")))
            })
        })
        .unwrap();

    let accepted = accepted.into_inner();
    eprintln!("accepted operations: {accepted:?}");
    for kind in [
        "Create",
        "Cancel",
        "Claim",
        "Bid",
        "AcceptBid",
        "Submit",
        "AcceptResult",
        "Finalize",
        "Expire",
        "Abandon",
        "ClaimPayout",
        "Close",
        "Dispute",
        "Vote",
        "Resolve",
        "SettleDispute",
        "Reinstate",
        "VerifierStake",
        "WithdrawBid",
        "ProviderStake::Stake",
        "ProviderStake::RequestUnstake",
        "ProviderStake::CancelUnstake",
        "ProviderStake::Withdraw",
        "UpdateSpec",
        "UpdateMarket",
        "Recreate",
        "StaleBidRefused",
    ] {
        assert!(
            accepted.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} ever succeeded: {accepted:?}"
        );
    }
}
