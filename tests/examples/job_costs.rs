//! The cost of one job's life on-chain: how many transactions, how big each is against Solana's
//! 1,232-byte packet limit, which accounts exist and how much rent they lock, during and after;
//! beside the same figures for Nosana's job flow (list / work / finish / clean).
//!
//! `cargo run -p gpu-market-tests --example job_costs`
//!
//! Our figures come from running the lifecycle for real in the runtime. Nosana's transactions are
//! rebuilt from the account lists, signers and arguments of its public `nosana-jobs` program
//! (`instructions/{list,work,finish,clean}.rs`) with the same serializer, and its account sizes are its
//! declared `SIZE` constants (`state.rs`), so the comparison uses one ruler.

use anchor_lang::Space;
use gpu_market::{
    constants::SAMPLE_SEED_DELAY_SLOTS,
    state::{Job, Verdict},
};
use gpu_market_tests::{Chain, TestContext, fixtures::*, ix};
use solana_sdk::{
    hash::Hash,
    instruction::{AccountMeta, Instruction},
    pubkey::Pubkey,
    rent::Rent,
    signature::Keypair,
    signer::Signer,
    transaction::Transaction,
};

const PACKET_LIMIT: usize = 1_232;

struct Row {
    step: &'static str,
    accounts: usize,
    signatures: usize,
    bytes: usize,
}

fn row(step: &'static str, tx: &Transaction) -> Row {
    Row {
        step,
        accounts: tx.message.account_keys.len(),
        signatures: tx.signatures.len(),
        bytes: bincode::serialized_size(tx).expect("size") as usize,
    }
}

/// A transaction with the shape of one Nosana instruction: its signers, its other accounts, its
/// instruction data length (8-byte discriminator + Borsh arguments).
fn shaped(signers: usize, others: usize, data_len: usize) -> Transaction {
    let keypairs: Vec<Keypair> = (0..signers).map(|_| Keypair::new()).collect();
    let program = Pubkey::new_unique();
    let mut metas: Vec<AccountMeta> = keypairs
        .iter()
        .map(|k| AccountMeta::new(k.pubkey(), true))
        .collect();
    metas.extend((0..others).map(|_| AccountMeta::new(Pubkey::new_unique(), false)));
    let ix = Instruction {
        program_id: program,
        accounts: metas,
        data: vec![0; data_len],
    };
    let signer_refs: Vec<&Keypair> = keypairs.iter().collect();
    Transaction::new_signed_with_payer(
        &[ix],
        Some(&keypairs[0].pubkey()),
        &signer_refs,
        Hash::default(),
    )
}

fn print_rows(title: &str, rows: &[Row]) {
    println!("\n{title}\n");
    println!("| step | accounts | signatures | bytes | share of 1,232 |");
    println!("|---|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {:.0}% |",
            r.step,
            r.accounts,
            r.signatures,
            r.bytes,
            100.0 * r.bytes as f64 / PACKET_LIMIT as f64
        );
        assert!(
            r.bytes <= PACKET_LIMIT,
            "{} does not fit in a packet",
            r.step
        );
    }
}

#[tokio::main]
async fn main() {
    let mut ctx = TestContext::new().await;
    let m = MarketFixture::new(&mut ctx).await.keys;
    let p = ProviderFixture::staked(&mut ctx, &m, 500, 500).await;
    let c = ClientFixture::new(&mut ctx, &m, 100).await;
    let j = c.job(&m, 1);
    let rent_of = async |ctx: &mut TestContext, keys: &[Pubkey]| {
        let mut total = 0;
        for key in keys {
            total += ctx.lamports(key).await;
        }
        total
    };

    let steps = [
        (
            "create_job (client)",
            ix::create_job(&m, &c.key(), &c.payment_account, job_args(1)),
            &c.authority,
        ),
        (
            "claim_job (provider)",
            ix::claim_job(&m, &p.key(), &j.job),
            &p.authority,
        ),
        (
            "submit_result (provider)",
            ix::submit_result(&m, &p.key(), &j.job, result_of(1_800)),
            &p.authority,
        ),
        (
            "record_sample_seed (provider, or anyone)",
            ix::record_sample_seed(&m, &p.key(), &j.job),
            &p.authority,
        ),
        (
            "finalize_job (anyone)",
            ix::finalize_job(&m, &j.job, &p.provider),
            &p.authority,
        ),
        (
            "claim_payout (provider)",
            ix::claim_payout(&m, &p.key(), &p.payment_account),
            &p.authority,
        ),
        (
            "close_job (client)",
            ix::close_job(&m, &c.key(), &j.job, &c.payment_account),
            &c.authority,
        ),
    ];
    let mut rows = vec![];
    let mut rent_during = 0;
    for (i, (step, instruction, signer)) in steps.into_iter().enumerate() {
        if step.starts_with("submit") {
            ctx.advance_time(1_800).await;
        }
        if step.starts_with("record") {
            ctx.advance_slots(SAMPLE_SEED_DELAY_SLOTS + 1).await;
        }
        if step.starts_with("finalize") {
            ctx.advance_time(i64::from(default_params().challenge_window_secs))
                .await;
        }
        // The fee payer is the actor itself, as on a real cluster.
        let tx = Transaction::new_signed_with_payer(
            std::slice::from_ref(&instruction),
            Some(&signer.pubkey()),
            &[signer],
            Hash::default(),
        );
        rows.push(row(step, &tx));
        // In the harness the fee payer is its own; the crank's instruction needs no other signature.
        let signers: &[&Keypair] = if step.starts_with("finalize") {
            &[]
        } else {
            &[signer]
        };
        ctx.ok(&[instruction], signers).await;
        if i == 0 {
            rent_during = rent_of(&mut ctx, &[j.job, j.escrow_vault]).await;
        }
    }
    let rent_after = rent_of(&mut ctx, &[j.job, j.escrow_vault]).await;
    print_rows(
        "gpu-market, one job (open order, settled after the challenge window)",
        &rows,
    );
    let job_len = 8 + Job::INIT_SPACE;
    println!(
        "\nAccounts created: Job ({job_len} B) and its escrow token account (165 B). Rent locked while the \
         job lives: {rent_during} lamports ({:.6} SOL); after close_job: {rent_after} lamports.",
        rent_during as f64 / 1e9
    );

    // The verification path, when a result is checked: sizes only (each is sent by its own actor).
    let verifier = Keypair::new();
    let sized = |step, instruction: Instruction, signer: &Keypair| {
        row(
            step,
            &Transaction::new_signed_with_payer(
                &[instruction],
                Some(&signer.pubkey()),
                &[signer],
                Hash::default(),
            ),
        )
    };
    let verification = [
        sized(
            "record_sample_seed (anyone)",
            ix::record_sample_seed(&m, &verifier.pubkey(), &j.job),
            &verifier,
        ),
        sized(
            "expire_sample_seed (anyone, when no seed was recorded in time)",
            ix::expire_sample_seed(&m, &verifier.pubkey(), &j.job, &p.provider),
            &verifier,
        ),
        sized(
            "pay_pending_slash (anyone, after a deferred slash)",
            ix::pay_pending_slash(&m, &verifier.pubkey(), &p.provider),
            &verifier,
        ),
        sized(
            "submit_verdict (verifier)",
            ix::submit_verdict(&m, &verifier.pubkey(), &j.job, &p.provider, true, [0; 32]),
            &verifier,
        ),
        sized(
            "close_verdict (anyone, once the job is settled; settles the vote's bond)",
            ix::close_verdict(&m, &verifier.pubkey(), &verifier.pubkey(), &j.job),
            &verifier,
        ),
        sized(
            "stake_verifier (verifier)",
            ix::stake_verifier(&m, &verifier.pubkey(), &Pubkey::new_unique(), 1),
            &verifier,
        ),
        sized(
            "withdraw_verifier_stake (verifier)",
            ix::withdraw_verifier_stake(&m, &verifier.pubkey(), &Pubkey::new_unique(), 1),
            &verifier,
        ),
        sized(
            "pay_verifier_pending_slash (anyone, after a deferred slash)",
            ix::pay_verifier_pending_slash(&m, &verifier.pubkey(), &verifier.pubkey()),
            &verifier,
        ),
        sized(
            "dispute_result (client)",
            ix::dispute_result(&m, &c.key(), &j.job, &p.provider, &c.payment_account),
            &c.authority,
        ),
        sized(
            "settle_dispute (anyone, after twice the dispute timeout)",
            ix::settle_dispute(&m, &j.job, &p.provider),
            &verifier,
        ),
    ];
    print_rows(
        "gpu-market, verification and disputes (when a result is checked)",
        &verification,
    );
    let verdict_len = 8 + Verdict::INIT_SPACE;
    println!(
        "\nEach vote creates a Verdict ({verdict_len} B, {} lamports of rent) paid by the verifier and \
         returned by close_verdict once the job is settled.",
        Rent::default().minimum_balance(verdict_len)
    );

    // Nosana, typical case: the client's payer is its authority, the node's payer is the node.
    let nosana = [
        // job, run (new keypairs) + payer/authority sign; market, user, vault, rewards reflection,
        // rewards vault, rewards program, token program, system program; args ipfs_job + timeout.
        row("list (client)", &shaped(3, 8, 8 + 32 + 8)),
        // run (new keypair) + payer/authority sign; market, stake, nft, metadata, system program.
        row("work (node)", &shaped(2, 5, 8)),
        // authority signs; job, run, market, vault, deposit, user, payer, project, token program.
        row("finish (node)", &shaped(1, 9, 8 + 32)),
        // a crank pays; job, market, payer; after the market's job expiration.
        row("clean (anyone)", &shaped(1, 3, 8)),
    ];
    print_rows(
        "Nosana, one job (list, work, finish, clean), rebuilt from its account lists",
        &nosana,
    );
    let rent = Rent::default();
    let (job_size, run_size) = (240, 120);
    println!(
        "\nAccounts created: JobAccount ({job_size} B, declared SIZE) and RunAccount ({run_size} B). Rent \
         locked while the job runs: {} lamports; after finish: {} lamports (the JobAccount) until clean, \
         allowed only after the market's job expiration.",
        rent.minimum_balance(job_size) + rent.minimum_balance(run_size),
        rent.minimum_balance(job_size)
    );
}
