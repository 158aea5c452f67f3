use anchor_lang::prelude::*;

/// One verifier's vote on one submitted result. Its address (job, verifier) makes a second vote on
/// the same result impossible; `submitted_slot` tells a vote on this result from one on an earlier
/// job that lived at the same address (a closed job whose nonce the client reused).
#[account]
#[derive(InitSpace, Debug)]
pub struct Verdict {
    pub job: Pubkey,
    /// The Verifier account that voted.
    pub verifier: Pubkey,
    /// The verifier's wallet: it paid the rent and takes it back with `close_verdict`.
    pub authority: Pubkey,
    /// Submission slot of the result voted on.
    pub submitted_slot: u64,
    pub pass: bool,
    /// SHA-256 of the verifier's evidence (sampled chunks, recomputed outputs, proofs it checked).
    pub evidence_hash: [u8; 32],
    pub voted_at: i64,
    pub bump: u8,
    /// Verifier stake this vote locked (the job's `verifier_bond`), released or slashed by
    /// `close_verdict`.
    pub bond: u64,
    /// Room for fields added later without a migration.
    pub reserved: [u8; 8],
}
