use anchor_lang::prelude::*;

/// A provider's offer to run one open job at `price_per_gpu_hour` until `expires_at` (reverse
/// auction). It is for that job instance only: `job_serial` tells it from a later job created at
/// the same address.
#[account]
#[derive(InitSpace, Debug)]
pub struct Bid {
    pub market: Pubkey,
    pub job: Pubkey,
    /// The job's `serial` when the bid was placed.
    pub job_serial: u64,
    pub provider: Pubkey,
    /// The provider's wallet, which paid the rent, alone may withdraw the bid and gets the rent back.
    pub provider_authority: Pubkey,
    /// Payment-mint units per GPU-hour.
    pub price_per_gpu_hour: u64,
    pub created_at: i64,
    /// The bid cannot be accepted from this time on (unix seconds).
    pub expires_at: i64,
    pub bump: u8,
}
