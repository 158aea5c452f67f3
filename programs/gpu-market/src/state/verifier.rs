use anchor_lang::prelude::*;

#[account]
#[derive(InitSpace, Debug)]
pub struct Verifier {
    pub market: Pubkey,
    pub authority: Pubkey,
    pub added_at: i64,
    pub votes_cast: u64,
    pub bump: u8,
    /// Room for fields added later without a migration.
    pub reserved: [u8; 32],
}
