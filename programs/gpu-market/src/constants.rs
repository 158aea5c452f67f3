//! Every PDA seed and protocol-wide bound lives here, so that the program, the tests, the CLI and the
//! indexer derive the same addresses and enforce the same limits.

use anchor_lang::prelude::*;

#[constant]
pub const SEED_MARKET: &[u8] = b"market";
#[constant]
pub const SEED_PROVIDER: &[u8] = b"provider";
#[constant]
pub const SEED_STAKE_VAULT: &[u8] = b"stake";
#[constant]
pub const SEED_PAYOUT_VAULT: &[u8] = b"payout";
#[constant]
pub const SEED_VERIFIER: &[u8] = b"verifier";
#[constant]
pub const SEED_JOB: &[u8] = b"job";
#[constant]
pub const SEED_ESCROW_VAULT: &[u8] = b"escrow";
#[constant]
pub const SEED_VERDICT: &[u8] = b"verdict";
#[constant]
pub const SEED_BID: &[u8] = b"bid";
#[constant]
pub const SEED_VERIFIER_STAKE_VAULT: &[u8] = b"verifier-stake";

/// Basis points in one whole.
pub const BPS_DENOMINATOR: u64 = 10_000;
/// The protocol fee can never exceed half of a job's cost.
pub const MAX_FEE_BPS: u16 = 5_000;
pub const MAX_SLASH_BPS: u16 = 10_000;
/// A dispute bond can be at most the job's whole deposit.
pub const MAX_DISPUTE_BOND_BPS: u16 = 10_000;

pub const MIN_CHALLENGE_WINDOW_SECS: u32 = 10;
pub const MAX_CHALLENGE_WINDOW_SECS: u32 = 30 * 24 * 3600;
pub const MAX_UNBONDING_PERIOD_SECS: u32 = 365 * 24 * 3600;
pub const MAX_DISPUTE_TIMEOUT_SECS: u32 = 90 * 24 * 3600;
pub const MIN_HEARTBEAT_INTERVAL_SECS: u32 = 10;
pub const MAX_HEARTBEAT_INTERVAL_SECS: u32 = 24 * 3600;
pub const MAX_VERIFIER_QUORUM: u8 = 32;
pub const MAX_SAMPLE_COUNT: u16 = 1_024;

/// Hardware sanity bounds: a spec outside them is a typo or a lie, never a real machine.
pub const MAX_GPU_COUNT: u16 = 64;
pub const MAX_VRAM_GB: u16 = 1_024;
pub const MAX_CPU_CORES: u16 = 1_024;
pub const MAX_RAM_GB: u32 = 65_536;
/// 400 Gbit/s.
pub const MAX_BANDWIDTH_MBPS: u32 = 400_000;

pub const MAX_ENDPOINT_LEN: usize = 128;

/// Longest job a client can post: 30 days.
pub const MAX_JOB_DURATION_SECS: u32 = 30 * 24 * 3600;
pub const MAX_SPEC_URI_LEN: usize = 200;
/// Upper bound on a result's chunk count (a Merkle tree of 2^24 leaves).
pub const MAX_CHUNK_COUNT: u32 = 1 << 24;
pub const SECONDS_PER_HOUR: u64 = 3_600;

/// The verification sample seed comes from the hash of the first slot at least this many slots after
/// the result's submission slot: a hash that did not exist when the provider committed its root.
#[constant]
pub const SAMPLE_SEED_DELAY_SLOTS: u64 = 10;

/// Recommended market parameters. The verification ones are chosen from the verification benchmark
/// (`docs/verification.md`): with 48 samples a provider faking 10% of a job's chunks is caught over 99%
/// of the time, and a job of at least 960 chunks keeps one verifier's share of the work under 5%.
pub mod recommended {
    pub const FEE_BPS: u16 = 250;
    pub const UNBONDING_PERIOD_SECS: u32 = 7 * 24 * 3600;
    pub const CHALLENGE_WINDOW_SECS: u32 = 3600;
    pub const DISPUTE_TIMEOUT_SECS: u32 = 3 * 24 * 3600;
    pub const HEARTBEAT_INTERVAL_SECS: u32 = 60;
    pub const VERIFIER_QUORUM: u8 = 2;
    pub const SAMPLE_COUNT: u16 = 48;
    /// Chunks a job should be split into so that `SAMPLE_COUNT` of them are at most 5% of its work.
    pub const MIN_CHUNK_COUNT: u32 = 960;
    pub const SLASH_NO_SHOW_BPS: u16 = 500;
    pub const SLASH_ABANDON_BPS: u16 = 200;
    pub const SLASH_FRAUD_BPS: u16 = 5_000;
    /// A client disputing a result puts up a tenth of the job's deposit: enough that disputing every
    /// result to delay payment costs something, little next to a wrong result's cost.
    pub const DISPUTE_BOND_BPS: u16 = 1_000;
}
