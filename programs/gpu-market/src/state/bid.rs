use anchor_lang::prelude::*;

/// A provider's offer to run an open job at `price_per_gpu_hour` (reverse auction).
#[account]
#[derive(InitSpace, Debug)]
pub struct Bid {
    pub job: Pubkey,
    pub provider: Pubkey,
    /// The provider's wallet, which paid the rent and gets it back.
    pub provider_authority: Pubkey,
    /// Payment-mint units per GPU-hour.
    pub price_per_gpu_hour: u64,
    pub created_at: i64,
    pub bump: u8,
}
