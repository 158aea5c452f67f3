use anchor_lang::prelude::*;

#[account]
#[derive(InitSpace, Debug)]
pub struct Verifier {
    pub market: Pubkey,
    pub authority: Pubkey,
    pub added_at: i64,
    pub votes_cast: u64,
    pub bump: u8,
    /// The serial of the first job this verifier may vote on: the market's next job when it was
    /// added. A job's verifiers are those registered before it was created, so a verifier added
    /// later (the market authority itself, say) cannot decide a live job.
    pub first_job_serial: u64,
    /// Room for fields added later without a migration.
    pub reserved: [u8; 24],
}
