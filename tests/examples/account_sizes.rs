//! Prints the size and rent-exempt deposit of every account the program creates.
//!
//! `cargo run -p gpu-market-tests --example account_sizes`

use anchor_lang::{Space, solana_program::rent::Rent};
use anchor_spl::token_2022::spl_token_2022::state::Account as TokenAccount;
use gpu_market::state::{Bid, Job, Market, Provider, Verdict, Verifier};
use solana_sdk::program_pack::Pack;

fn main() {
    let rent = Rent::default();
    let rows = [
        ("Market", 8 + Market::INIT_SPACE, "one per market"),
        ("Provider", 8 + Provider::INIT_SPACE, "one per GPU host"),
        (
            "Stake vault (token account)",
            TokenAccount::LEN,
            "one per GPU host",
        ),
        (
            "Payout vault (token account)",
            TokenAccount::LEN,
            "one per GPU host",
        ),
        ("Verifier", 8 + Verifier::INIT_SPACE, "one per verifier"),
        (
            "Verifier stake vault (token account)",
            TokenAccount::LEN,
            "one per verifier, paid by the market authority, closed by close_verifier",
        ),
        (
            "Job",
            8 + Job::INIT_SPACE,
            "one per job, closed by close_job",
        ),
        (
            "Escrow vault (token account)",
            TokenAccount::LEN,
            "one per job, closed by close_job",
        ),
        (
            "Bid",
            8 + Bid::INIT_SPACE,
            "one per bid, closed when accepted or withdrawn",
        ),
        (
            "Verdict",
            8 + Verdict::INIT_SPACE,
            "one per vote, paid by the verifier, closed by close_verdict once the job is settled",
        ),
    ];
    println!("| account | bytes | rent-exempt lamports | SOL | created |");
    println!("|---|---:|---:|---:|---|");
    for (name, len, when) in rows {
        let lamports = rent.minimum_balance(len);
        println!(
            "| {name} | {len} | {lamports} | {:.6} | {when} |",
            lamports as f64 / 1e9
        );
    }
    let provider_total: u64 = [
        8 + Provider::INIT_SPACE,
        TokenAccount::LEN,
        TokenAccount::LEN,
    ]
    .iter()
    .map(|len| rent.minimum_balance(*len))
    .sum();
    println!(
        "\nA provider locks {provider_total} lamports ({:.6} SOL) of rent, all returned by close_provider.",
        provider_total as f64 / 1e9
    );
}
