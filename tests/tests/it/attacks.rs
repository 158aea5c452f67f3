//! The account-level attacks of the security rules, sent against every instruction of the program.
//!
//! Each case puts a fresh market into the state where one instruction succeeds, then sends that
//! instruction altered in one way at a time and expects the named error with every account the
//! instruction names unchanged (lamports, data, owner); finally it sends the instruction unaltered and
//! expects success, which shows the refusals came from the alteration and nothing else.
//!
//! | alteration | expected |
//! |---|---|
//! | a signer's signature missing | `AccountNotSigner` |
//! | an extra account after the expected ones | `UnexpectedRemainingAccounts` |
//! | a program account replaced by an address holding nothing | `AccountNotInitialized` |
//! | a program account replaced by one of another type | `AccountDiscriminatorMismatch` |
//! | an account checked by address only (the job of `close_verdict`) replaced | `ConstraintAddress` |
//! | an account to be created at a PDA replaced by another address | `ConstraintSeeds` |
//! | the event authority replaced by another address | `ConstraintAddress` |
//! | a token account or mint replaced by a wallet (wrong owner) | `AccountOwnedByWrongProgram` |
//! | the token or system program replaced by another program | `InvalidProgramId` |
//! | the SlotHashes sysvar replaced by another sysvar | `InvalidSlotHashes` |
//! | a writable account passed again in place of another writable account of the same kind | `ConstraintDuplicateMutableAccount`, or the constraint that names the mismatch |

use anchor_lang::error::ErrorCode as Anchor;
use gpu_market::{
    DisputeRuling, UpdateProviderArgs,
    constants::SAMPLE_SEED_DELAY_SLOTS,
    error::MarketError,
    state::{self, ProviderStatus},
};
use gpu_market_tests::{Chain, TestContext, fixtures::*, ix, ix::MarketKeys};
use solana_sdk::{
    instruction::{AccountMeta, Instruction},
    pubkey::Pubkey,
    signature::Keypair,
    signer::Signer,
    sysvar::{clock, slot_hashes},
};

/// A market with a staked provider (2 GPUs, 500 tokens staked, 500 more in its wallet), a client with
/// 100 USDC and a registered verifier.
struct World {
    ctx: TestContext,
    f: MarketFixture,
    m: MarketKeys,
    p: ProviderFixture,
    c: ClientFixture,
    verifier: Keypair,
    /// The verifier wallet's own stake-mint account.
    verifier_stake_account: Pubkey,
}

async fn world() -> World {
    let mut ctx = TestContext::new().await;
    ctx.capture_events(false);
    let f = MarketFixture::new(&mut ctx).await;
    let m = f.keys;
    let p = ProviderFixture::staked(&mut ctx, &m, 1_000, 500).await;
    let c = ClientFixture::new(&mut ctx, &m, 100).await;
    let verifier = VerifierFixture::added(&mut ctx, &m, &f.authority, 1_000, VERIFIER_STAKE).await;
    let verifier_stake_account = verifier.stake_account;
    let verifier = verifier.authority;
    World {
        ctx,
        f,
        m,
        p,
        c,
        verifier,
        verifier_stake_account,
    }
}

impl World {
    async fn post(&mut self, nonce: u64) -> JobKeys {
        self.c.post(&mut self.ctx, &self.m, job_args(nonce)).await
    }

    async fn run(&mut self, ixs: &[Instruction], signer: Signers) {
        let keypair = self.keypair(signer).insecure_clone();
        self.ctx.ok(ixs, &[&keypair]).await;
    }

    fn keypair(&self, signer: Signers) -> &Keypair {
        match signer {
            Signers::Authority => &self.f.authority,
            Signers::Provider => &self.p.authority,
            Signers::Client => &self.c.authority,
            Signers::Verifier => &self.verifier,
            Signers::None => &self.c.authority,
        }
    }

    async fn running(&mut self, nonce: u64) -> JobKeys {
        let j = self.post(nonce).await;
        let claim = ix::claim_job(&self.m, &self.p.key(), &j.job);
        self.run(&[claim], Signers::Provider).await;
        j
    }

    async fn submitted(&mut self, nonce: u64) -> JobKeys {
        let j = self.running(nonce).await;
        self.ctx.advance_time(60).await;
        let submit = ix::submit_result(&self.m, &self.p.key(), &j.job, result_of(60));
        self.run(&[submit], Signers::Provider).await;
        j
    }
}

#[derive(Clone, Copy, Debug)]
enum Signers {
    Authority,
    Provider,
    Client,
    Verifier,
    None,
}

const INSTRUCTIONS: [&str; 40] = [
    "initialize_market",
    "update_market",
    "pause_market",
    "unpause_market",
    "add_verifier",
    "remove_verifier",
    "reinstate_provider",
    "resolve_dispute",
    "register_provider",
    "update_provider",
    "heartbeat",
    "close_provider",
    "stake",
    "request_unstake",
    "cancel_unstake",
    "withdraw_unstaked",
    "claim_job",
    "place_bid",
    "withdraw_bid",
    "submit_result",
    "abandon_job",
    "claim_payout",
    "create_job",
    "cancel_job",
    "accept_bid",
    "accept_result",
    "close_job",
    "dispute_result",
    "finalize_job",
    "expire_job",
    "record_sample_seed",
    "expire_sample_seed",
    "pay_pending_slash",
    "settle_dispute",
    "submit_verdict",
    "close_verdict",
    "stake_verifier",
    "withdraw_verifier_stake",
    "close_verifier",
    "pay_verifier_pending_slash",
];

/// A world in which `name` succeeds, the instruction, and who signs it.
async fn case(name: &str) -> (World, Instruction, Signers) {
    use Signers::*;
    let mut w = world().await;
    let m = w.m;
    let (p, c) = (w.p.key(), w.c.key());
    let (instruction, signer) = match name {
        "initialize_market" => {
            let other = MarketFixture::prepare(&mut w.ctx, anchor_spl::token::ID).await;
            let ix = other.initialize_ix(default_params());
            w.f = other;
            (ix, Authority)
        }
        "update_market" => (
            ix::update_market(&m, &m.treasury, &m.slash_destination, default_params()),
            Authority,
        ),
        "pause_market" => (ix::pause_market(&m), Authority),
        "unpause_market" => {
            w.run(&[ix::pause_market(&m)], Authority).await;
            (ix::unpause_market(&m), Authority)
        }
        "add_verifier" => (ix::add_verifier(&m, &Pubkey::new_unique()), Authority),
        "remove_verifier" => (ix::remove_verifier(&m, &w.verifier.pubkey()), Authority),
        "reinstate_provider" => {
            w.ctx
                .edit_anchor_account::<state::Provider>(&w.p.provider, |p| {
                    p.status = ProviderStatus::Jailed
                })
                .await;
            (ix::reinstate_provider(&m, &w.p.provider), Authority)
        }
        "resolve_dispute" => {
            let j = w.submitted(1).await;
            w.run(
                &[ix::dispute_result(
                    &m,
                    &c,
                    &j.job,
                    &w.p.provider,
                    &w.c.payment_account,
                )],
                Client,
            )
            .await;
            w.ctx
                .advance_time(i64::from(default_params().dispute_timeout_secs))
                .await;
            (
                ix::resolve_dispute(&m, &j.job, &w.p.provider, DisputeRuling::RefundClient),
                Authority,
            )
        }
        "register_provider" => {
            let host = ProviderFixture::wallet(&mut w.ctx, &m, 10).await;
            let ix = ix::register_provider(&m, &host.key(), provider_args());
            w.p = host;
            (ix, Provider)
        }
        "update_provider" => {
            let args = UpdateProviderArgs {
                price_per_gpu_hour: Some(500_000),
                ..Default::default()
            };
            (ix::update_provider(&m, &p, args), Provider)
        }
        "heartbeat" => (ix::heartbeat(&m, &p), Provider),
        "close_provider" => {
            let host = ProviderFixture::registered(&mut w.ctx, &m, 10).await;
            let ix =
                ix::close_provider(&m, &host.key(), &host.stake_account, &host.payment_account);
            w.p = host;
            (ix, Provider)
        }
        "stake" => (ix::stake(&m, &p, &w.p.stake_account, ONE_STAKE), Provider),
        "request_unstake" => (ix::request_unstake(&m, &p, ONE_STAKE), Provider),
        "cancel_unstake" => {
            w.run(&[ix::request_unstake(&m, &p, ONE_STAKE)], Provider)
                .await;
            (ix::cancel_unstake(&m, &p), Provider)
        }
        "withdraw_unstaked" => {
            w.run(&[ix::request_unstake(&m, &p, ONE_STAKE)], Provider)
                .await;
            w.ctx
                .advance_time(i64::from(default_params().unbonding_period_secs))
                .await;
            (ix::withdraw_unstaked(&m, &p, &w.p.stake_account), Provider)
        }
        "claim_job" => {
            let j = w.post(1).await;
            (ix::claim_job(&m, &p, &j.job), Provider)
        }
        "place_bid" => {
            let j = w.post(1).await;
            (
                ix::place_bid(&m, &p, &j.job, 300_000, NO_BID_EXPIRY),
                Provider,
            )
        }
        "withdraw_bid" => {
            let j = w.post(1).await;
            w.run(
                &[ix::place_bid(&m, &p, &j.job, 300_000, NO_BID_EXPIRY)],
                Provider,
            )
            .await;
            (ix::withdraw_bid(&m, &p, &j.job), Provider)
        }
        "submit_result" => {
            let j = w.running(1).await;
            w.ctx.advance_time(60).await;
            (ix::submit_result(&m, &p, &j.job, result_of(60)), Provider)
        }
        "abandon_job" => {
            let j = w.running(1).await;
            (ix::abandon_job(&m, &p, &j.job), Provider)
        }
        "claim_payout" => {
            let j = w.submitted(1).await;
            w.run(&[ix::accept_result(&m, &c, &j.job, &w.p.provider)], Client)
                .await;
            (ix::claim_payout(&m, &p, &w.p.payment_account), Provider)
        }
        "create_job" => (
            ix::create_job(&m, &c, &w.c.payment_account, job_args(1)),
            Client,
        ),
        "cancel_job" => {
            let j = w.post(1).await;
            (ix::cancel_job(&c, &j.job), Client)
        }
        "accept_bid" => {
            let j = w.post(1).await;
            w.run(
                &[ix::place_bid(&m, &p, &j.job, 300_000, NO_BID_EXPIRY)],
                Provider,
            )
            .await;
            (ix::accept_bid(&m, &c, &j.job, &p, 300_000), Client)
        }
        "accept_result" => {
            let j = w.submitted(1).await;
            (ix::accept_result(&m, &c, &j.job, &w.p.provider), Client)
        }
        "close_job" => {
            let j = w.post(1).await;
            w.run(&[ix::cancel_job(&c, &j.job)], Client).await;
            (ix::close_job(&m, &c, &j.job, &w.c.payment_account), Client)
        }
        "dispute_result" => {
            let j = w.submitted(1).await;
            (
                ix::dispute_result(&m, &c, &j.job, &w.p.provider, &w.c.payment_account),
                Client,
            )
        }
        "finalize_job" => {
            let j = w.submitted(1).await;
            w.ctx
                .advance_time(i64::from(default_params().challenge_window_secs))
                .await;
            record_seed(&mut w.ctx, &m, &j.job).await;
            (ix::finalize_job(&m, &j.job, &w.p.provider), None)
        }
        "settle_dispute" => {
            let j = w.submitted(1).await;
            record_seed(&mut w.ctx, &m, &j.job).await;
            let dispute = ix::dispute_result(&m, &c, &j.job, &w.p.provider, &w.c.payment_account);
            w.run(&[dispute], Client).await;
            w.ctx
                .advance_time(2 * i64::from(default_params().dispute_timeout_secs))
                .await;
            (ix::settle_dispute(&m, &j.job, &w.p.provider), None)
        }
        "expire_job" => {
            let j = w.running(1).await;
            w.ctx.advance_time(3_601).await;
            (ix::expire_job(&m, &c, &j.job, &w.p.provider), Client)
        }
        "record_sample_seed" => {
            let j = w.submitted(1).await;
            w.ctx.advance_slots(SAMPLE_SEED_DELAY_SLOTS + 1).await;
            (ix::record_sample_seed(&m, &c, &j.job), Client)
        }
        "expire_sample_seed" => {
            let j = w.submitted(1).await;
            // Past the seed slot, then past the 512 slots the sysvar keeps.
            w.ctx.advance_slots(SAMPLE_SEED_DELAY_SLOTS + 1).await;
            w.ctx.age_out_slot_hashes().await;
            (
                ix::expire_sample_seed(&m, &c, &j.job, &w.p.provider),
                Client,
            )
        }
        "pay_pending_slash" => {
            // The slash destination is closed when a no-show is slashed (the slash waits in the
            // stake vault), then the authority names a new one.
            w.ctx
                .close_token_account(&m.stake_token_program, &m.slash_destination, &w.f.authority)
                .await;
            let j = w.running(1).await;
            w.ctx.advance_time(3_601).await;
            w.run(&[ix::expire_job(&m, &c, &j.job, &w.p.provider)], Client)
                .await;
            let new_destination = w
                .ctx
                .create_token_account(&m.stake_token_program, &m.stake_mint, &m.authority)
                .await;
            let update = ix::update_market(&m, &m.treasury, &new_destination, default_params());
            w.run(&[update], Authority).await;
            w.m.slash_destination = new_destination;
            (ix::pay_pending_slash(&w.m, &c, &w.p.provider), Client)
        }
        "submit_verdict" => {
            let j = w.submitted(1).await;
            w.ctx.advance_slots(SAMPLE_SEED_DELAY_SLOTS + 1).await;
            let verifier = w.verifier.pubkey();
            (
                ix::submit_verdict(&m, &verifier, &j.job, &w.p.provider, true, [9; 32]),
                Verifier,
            )
        }
        "close_verdict" => {
            let j = w.submitted(1).await;
            w.ctx.advance_slots(SAMPLE_SEED_DELAY_SLOTS + 1).await;
            let verifier = w.verifier.pubkey();
            let vote = ix::submit_verdict(&m, &verifier, &j.job, &w.p.provider, true, [9; 32]);
            w.run(&[vote], Verifier).await;
            w.run(&[ix::accept_result(&m, &c, &j.job, &w.p.provider)], Client)
                .await;
            (
                ix::close_verdict(&m, &verifier, &verifier, &j.job),
                Verifier,
            )
        }
        "stake_verifier" => {
            let (v, source) = (w.verifier.pubkey(), w.verifier_stake_account);
            (ix::stake_verifier(&m, &v, &source, ONE_STAKE), Verifier)
        }
        "withdraw_verifier_stake" => {
            let (v, destination) = (w.verifier.pubkey(), w.verifier_stake_account);
            (
                ix::withdraw_verifier_stake(&m, &v, &destination, ONE_STAKE),
                Verifier,
            )
        }
        "close_verifier" => {
            let (v, destination) = (w.verifier.pubkey(), w.verifier_stake_account);
            w.run(&[ix::remove_verifier(&m, &v)], Authority).await;
            (ix::close_verifier(&m, &v, &destination), Verifier)
        }
        "pay_verifier_pending_slash" => {
            // A bond slashed while the slash destination could not receive (how it gets there is
            // `verifier_stake.rs`'s story): moved from its stake to its pending slash.
            let verifier = m.verifier(&w.verifier.pubkey());
            w.ctx
                .edit_anchor_account::<state::Verifier>(&verifier, |v| {
                    v.staked -= ONE_STAKE;
                    v.slash_pending = ONE_STAKE;
                })
                .await;
            let v = w.verifier.pubkey();
            (ix::pay_verifier_pending_slash(&m, &c, &v), Client)
        }
        other => panic!("no case for {other}"),
    };
    (w, instruction, signer)
}

/// What an account of an instruction is, as far as the attacks are concerned.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// An account of this program.
    Program,
    /// A token account or mint.
    Token,
    /// A program (executable): token, system, this one.
    Executable,
    Sysvar,
    /// A wallet or other system-owned address.
    Wallet,
    /// Not there yet: created by the instruction (or the event authority, which never holds data).
    Missing,
}

async fn kind_of(ctx: &mut TestContext, key: &Pubkey) -> Kind {
    match ctx.account(key).await {
        None => Kind::Missing,
        Some(a) if a.executable => Kind::Executable,
        Some(a) if a.owner == gpu_market::ID => Kind::Program,
        Some(a) if a.owner == anchor_spl::token::ID || a.owner == anchor_spl::token_2022::ID => {
            Kind::Token
        }
        Some(a) if a.owner == solana_sdk::sysvar::ID => Kind::Sysvar,
        Some(_) => Kind::Wallet,
    }
}

fn code(error: impl Into<u32>) -> u32 {
    error.into()
}

/// Errors that name an identity mismatch: a duplicate or swapped writable account must end in one.
fn identity_errors() -> Vec<u32> {
    let mut codes: Vec<u32> = [
        Anchor::ConstraintDuplicateMutableAccount,
        Anchor::ConstraintSeeds,
        Anchor::ConstraintHasOne,
        Anchor::ConstraintAddress,
        Anchor::ConstraintTokenMint,
        Anchor::ConstraintTokenOwner,
        Anchor::ConstraintMintTokenProgram,
        Anchor::ConstraintTokenTokenProgram,
        Anchor::ConstraintRaw,
        Anchor::AccountDiscriminatorMismatch,
        Anchor::AccountNotInitialized,
        Anchor::AccountOwnedByWrongProgram,
    ]
    .into_iter()
    .map(code)
    .collect();
    codes.extend(
        [
            MarketError::WrongTreasury,
            MarketError::WrongProvider,
            MarketError::WrongStakeVault,
            MarketError::WrongSlashDestination,
            MarketError::WrongMint,
            MarketError::NotTheJobClient,
            MarketError::NotMarketAuthority,
            MarketError::BidJobMismatch,
            MarketError::DestinationIsVault,
        ]
        .map(code),
    );
    codes
}

struct Attack {
    what: String,
    instruction: Instruction,
    /// The signer left out, if the attack removes one.
    unsigned: Option<Pubkey>,
    expected: Vec<u32>,
}

/// `address_checked`: program accounts the instruction takes unread and checks by address only (the
/// job of `close_verdict`, which may already be closed); any replacement is `ConstraintAddress`.
/// `handler_checked`: token accounts taken unread and checked by address in the handler (a
/// slash's destination, which may be frozen or closed); a replacement fails with the given error.
async fn attacks_on(
    w: &mut World,
    original: &Instruction,
    address_checked: &[Pubkey],
    handler_checked: &[(Pubkey, u32)],
) -> Vec<Attack> {
    let mut attacks = vec![];
    let metas = original.accounts.clone();
    let verifier_account = w.m.verifier(&w.verifier.pubkey());
    let decoy_program_account = |key: &Pubkey| {
        if *key == w.m.market {
            verifier_account
        } else {
            w.m.market
        }
    };
    let event_authority = gpu_market::pda::find_event_authority_address().0;
    let mut kinds = vec![];
    for meta in &metas {
        kinds.push(kind_of(&mut w.ctx, &meta.pubkey).await);
    }
    let funded_wallet = w.c.key();

    let mut seen = std::collections::HashSet::new();
    for (meta, &kind) in metas.iter().zip(&kinds) {
        let key = meta.pubkey;
        // An account named twice (one token program for both mints) is attacked once.
        if !seen.insert(key) {
            continue;
        }
        if meta.is_signer {
            attacks.push(Attack {
                what: format!("{key} not signing"),
                instruction: ix::strip_signer(original.clone(), &key),
                unsigned: Some(key),
                expected: vec![code(Anchor::AccountNotSigner)],
            });
        }
        let replaced = |new: &Pubkey| ix::replace_account(original.clone(), &key, new);
        let mut push = |what: String, instruction: Instruction, expected: Vec<u32>| {
            attacks.push(Attack {
                what,
                instruction,
                unsigned: None,
                expected,
            })
        };
        match kind {
            Kind::Program => {
                let by_address = address_checked.contains(&key);
                let expect = |typed: Anchor| {
                    vec![code(if by_address {
                        Anchor::ConstraintAddress
                    } else {
                        typed
                    })]
                };
                push(
                    format!("{key} replaced by an empty address"),
                    replaced(&Pubkey::new_unique()),
                    expect(Anchor::AccountNotInitialized),
                );
                push(
                    format!("{key} replaced by an account of another type"),
                    replaced(&decoy_program_account(&key)),
                    expect(Anchor::AccountDiscriminatorMismatch),
                );
            }
            Kind::Missing if key == event_authority => push(
                "event authority replaced by another address".into(),
                replaced(&Pubkey::new_unique()),
                vec![code(Anchor::ConstraintAddress)],
            ),
            Kind::Missing => push(
                format!("{key} (to be created) replaced by another address"),
                replaced(&Pubkey::new_unique()),
                vec![code(Anchor::ConstraintSeeds)],
            ),
            Kind::Token => push(
                format!("{key} replaced by a wallet"),
                replaced(&funded_wallet),
                vec![
                    handler_checked
                        .iter()
                        .find(|(checked, _)| *checked == key)
                        .map_or(code(Anchor::AccountOwnedByWrongProgram), |(_, error)| {
                            *error
                        }),
                ],
            ),
            Kind::Executable if key != gpu_market::ID => {
                let other = if key == anchor_lang::system_program::ID {
                    anchor_spl::token::ID
                } else {
                    anchor_lang::system_program::ID
                };
                push(
                    format!("program {key} replaced by {other}"),
                    replaced(&other),
                    vec![code(Anchor::InvalidProgramId)],
                );
            }
            Kind::Sysvar if key == slot_hashes::ID => push(
                "SlotHashes replaced by Clock".into(),
                replaced(&clock::ID),
                vec![code(MarketError::InvalidSlotHashes)],
            ),
            _ => {}
        }
    }

    // Duplicate mutable accounts: every writable program or token account in the place of another one
    // of the same kind.
    for (i, (a, ka)) in metas.iter().zip(&kinds).enumerate() {
        for (b, kb) in metas.iter().zip(&kinds).skip(i + 1) {
            let same_kind = ka == kb && matches!(ka, Kind::Program | Kind::Token);
            if a.is_writable && b.is_writable && same_kind && a.pubkey != b.pubkey {
                attacks.push(Attack {
                    what: format!("{} passed again in place of {}", a.pubkey, b.pubkey),
                    instruction: ix::replace_account(original.clone(), &b.pubkey, &a.pubkey),
                    unsigned: None,
                    expected: identity_errors(),
                });
            }
        }
    }

    let mut extra = original.clone();
    extra
        .accounts
        .push(AccountMeta::new_readonly(Pubkey::new_unique(), false));
    attacks.push(Attack {
        what: "an extra account".into(),
        instruction: extra,
        unsigned: None,
        expected: vec![code(MarketError::UnexpectedRemainingAccounts)],
    });
    attacks
}

#[tokio::test]
async fn every_instruction_refuses_every_account_attack_and_changes_nothing() {
    let mut refused = 0;
    let mut failures = vec![];
    for name in INSTRUCTIONS {
        let (mut w, original, signer) = case(name).await;
        let keypair = w.keypair(signer).insecure_clone();
        let signs = !matches!(signer, Signers::None);
        // Sysvars move with the slot, and the fee payer pays for refused transactions too.
        let watched: Vec<Pubkey> = original
            .accounts
            .iter()
            .map(|meta| meta.pubkey)
            .filter(|key| *key != w.ctx.payer() && *key != slot_hashes::ID)
            .collect();
        let address_checked = vec![];
        let handler_checked = match name {
            "expire_job" | "abandon_job" | "expire_sample_seed" | "submit_verdict"
            | "close_verdict" => vec![(
                w.m.slash_destination,
                code(MarketError::WrongSlashDestination),
            )],
            _ => vec![],
        };
        for attack in attacks_on(&mut w, &original, &address_checked, &handler_checked).await {
            let signers: Vec<&Keypair> = if signs && attack.unsigned != Some(keypair.pubkey()) {
                vec![&keypair]
            } else {
                vec![]
            };
            let before = w.ctx.snapshot(&watched).await;
            let result = w.ctx.send(&[attack.instruction], &signers).await;
            let after = w.ctx.snapshot(&watched).await;
            match result {
                Ok(_) => failures.push(format!("{name}: {} succeeded", attack.what)),
                Err(err) => {
                    let got = err.custom_code();
                    if !got.is_some_and(|c| attack.expected.contains(&c)) {
                        failures.push(format!(
                            "{name}: {} failed with {:?}, expected one of {:?}",
                            attack.what, err.error, attack.expected
                        ));
                    }
                }
            }
            if before != after {
                failures.push(format!("{name}: {} changed an account", attack.what));
            }
            refused += 1;
        }
        // The unaltered instruction goes through: the refusals were the alterations' doing.
        let signers: Vec<&Keypair> = if signs { vec![&keypair] } else { vec![] };
        if let Err(err) = w.ctx.send(&[original], &signers).await {
            failures.push(format!(
                "{name}: the unaltered instruction failed: {:?}\n{}",
                err.error,
                err.logs.join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!(
        "{refused} attacks refused across {} instructions",
        INSTRUCTIONS.len()
    );
    assert!(refused > 300, "only {refused} attacks were sent");
}

/// Keeps the list above complete: every instruction of the IDL has a case.
#[test]
fn every_instruction_has_a_case() {
    let idl: serde_json::Value =
        serde_json::from_str(include_str!("../../../idl/gpu_market.json")).expect("IDL");
    let mut names: Vec<String> = idl["instructions"]
        .as_array()
        .expect("instructions")
        .iter()
        .map(|i| i["name"].as_str().expect("name").to_owned())
        .collect();
    names.sort();
    let mut covered: Vec<String> = INSTRUCTIONS.iter().map(|s| s.to_string()).collect();
    covered.sort();
    assert_eq!(names, covered);
}

/// Re-initialization: every instruction that creates an account, sent again once the account exists,
/// fails in the System Program (natively reported as invalid instruction data, see `docs/protocol.md`)
/// and changes nothing. A second verdict is refused by name instead (`AlreadyVoted`, in
/// `verification.rs`): `submit_verdict` creates its account with `init_if_needed`.
#[tokio::test]
async fn creating_instructions_cannot_run_twice() {
    for name in [
        "initialize_market",
        "add_verifier",
        "register_provider",
        "create_job",
        "place_bid",
    ] {
        let (mut w, original, signer) = case(name).await;
        // The simulation pass keeps the logs that show which program refused.
        w.ctx.capture_events(true);
        let keypair = w.keypair(signer).insecure_clone();
        w.ctx.ok(std::slice::from_ref(&original), &[&keypair]).await;
        let watched: Vec<Pubkey> = original
            .accounts
            .iter()
            .map(|meta| meta.pubkey)
            .filter(|key| *key != w.ctx.payer())
            .collect();
        let err = w.ctx.fails(&[original], &[&keypair], &watched).await;
        assert!(
            err.logs
                .iter()
                .any(|l| l.starts_with("Program 11111111111111111111111111111111 failed")),
            "{name}: {:?}",
            err.logs
        );
    }
}
