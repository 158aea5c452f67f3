//! Prints how many bytes each instruction's accounts context takes where Anchor's `try_accounts`
//! builds it: on the program's stack, whose SBF frames are 4 KiB. The program cannot be built for SBF
//! on the project's machines, so this is the check that a context leaves room in its frame; boxed
//! accounts (`Box<Account<…>>`, `Box<InterfaceAccount<…>>`) count as a pointer here, their data is
//! on the heap. The sizes are the host's (64-bit, like SBF), so they stand for the SBF layout.
//!
//! `cargo run -p gpu-market-tests --example context_sizes`

use gpu_market::instructions::*;
use std::mem::size_of;

/// An SBF stack frame.
const FRAME_BYTES: usize = 4_096;

macro_rules! context_sizes {
    ($($context:ident),* $(,)?) => {
        [$((stringify!($context), size_of::<$context<'static>>())),*]
    };
}

fn main() {
    let mut rows = context_sizes!(
        InitializeMarket,
        UpdateMarket,
        SetPaused,
        AddVerifier,
        RemoveVerifier,
        ReinstateProvider,
        ResolveDispute,
        RegisterProvider,
        UpdateProvider,
        Heartbeat,
        CloseProvider,
        Stake,
        RequestUnstake,
        CancelUnstake,
        WithdrawUnstaked,
        ClaimJob,
        PlaceBid,
        WithdrawBid,
        SubmitResult,
        AbandonJob,
        ClaimPayout,
        CreateJob,
        CancelJob,
        AcceptBid,
        AcceptResult,
        CloseJob,
        DisputeResult,
        FinalizeJob,
        ExpireJob,
        RecordSampleSeed,
        ExpireSampleSeed,
        PayPendingSlash,
        SettleDispute,
        SubmitVerdict,
        CloseVerdict,
        StakeVerifier,
        WithdrawVerifierStake,
        CloseVerifier,
        PayVerifierPendingSlash,
    );
    rows.sort_by_key(|(_, bytes)| std::cmp::Reverse(*bytes));
    println!("| accounts context | bytes | share of a 4 KiB frame |");
    println!("|---|---:|---:|");
    for (context, bytes) in rows {
        println!(
            "| `{context}` | {bytes} | {:.0}% |",
            100.0 * bytes as f64 / FRAME_BYTES as f64
        );
    }
    let largest = rows.iter().map(|(_, bytes)| *bytes).max().unwrap_or(0);
    println!("\nlargest context: {largest} bytes, limit {FRAME_BYTES} (one SBF stack frame)");
    assert!(
        largest < FRAME_BYTES,
        "a context no longer fits one SBF stack frame"
    );
}
