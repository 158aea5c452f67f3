//! The money rules of a job, as pure functions: what a client escrows, and how a settled escrow splits
//! between provider, treasury and client. u128 intermediates; every result checked back into u64.

use crate::{
    constants::{BPS_DENOMINATOR, SECONDS_PER_HOUR},
    error::MarketError,
    math::{SafeMath, to_u64},
    state::Settlement,
};
use anchor_lang::prelude::*;

/// Deposit at creation: `ceil(max_price_per_gpu_hour × gpu_count × max_duration_secs / 3600)`, the
/// most the job can ever cost.
pub fn deposit_for(
    max_price_per_gpu_hour: u64,
    gpu_count: u16,
    max_duration_secs: u32,
) -> Result<u64> {
    let numerator = u128::from(max_price_per_gpu_hour)
        .safe_mul(u128::from(gpu_count))?
        .safe_mul(u128::from(max_duration_secs))?;
    let hour = u128::from(SECONDS_PER_HOUR);
    let deposit = to_u64(numerator.safe_add(hour - 1)?.safe_div(hour)?)
        .map_err(|_| error!(MarketError::InvalidDeposit))?;
    require!(deposit > 0, MarketError::InvalidDeposit);
    Ok(deposit)
}

/// Splits a completed job's escrow. Billed time is the metered time capped at the maximum duration;
/// cost rounds down (the client never pays for a fraction it did not buy), the fee rounds down (the
/// provider keeps the dust), and the client gets back everything else.
pub fn split(
    deposit: u64,
    price_per_gpu_hour: u64,
    gpu_count: u16,
    metered_secs: u32,
    max_duration_secs: u32,
    fee_bps: u16,
) -> Result<Settlement> {
    let billed_secs = metered_secs.min(max_duration_secs);
    let cost = to_u64(
        u128::from(price_per_gpu_hour)
            .safe_mul(u128::from(gpu_count))?
            .safe_mul(u128::from(billed_secs))?
            .safe_div(u128::from(SECONDS_PER_HOUR))?,
    )?;
    let fee = to_u64(
        u128::from(cost)
            .safe_mul(u128::from(fee_bps))?
            .safe_div(u128::from(BPS_DENOMINATOR))?,
    )?;
    Ok(Settlement {
        provider_share: cost.safe_sub(fee)?,
        fee,
        refund: deposit.safe_sub(cost)?,
    })
}

/// Where a slash's stake comes from, in stake-mint base units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SlashAmounts {
    pub from_staked: u64,
    pub from_unbonding: u64,
}

impl SlashAmounts {
    pub fn total(&self) -> Result<u64> {
        self.from_staked.safe_add(self.from_unbonding)
    }
}

/// A slash of `rate_bps` of the provider's whole stake (staked and unbonding alike, so unbonding is no
/// escape), rounded down, capped at what the stake vault holds, taken from staked stake first.
pub fn slash_amounts(
    staked: u64,
    unbonding: u64,
    vault_balance: u64,
    rate_bps: u16,
) -> Result<SlashAmounts> {
    let stake = u128::from(staked).safe_add(u128::from(unbonding))?;
    let amount = to_u64(
        stake
            .safe_mul(u128::from(rate_bps))?
            .safe_div(u128::from(BPS_DENOMINATOR))?
            .min(u128::from(vault_balance)),
    )?;
    let from_staked = amount.min(staked);
    Ok(SlashAmounts {
        from_staked,
        from_unbonding: amount.safe_sub(from_staked)?.min(unbonding),
    })
}

/// Everything back to the client.
/// The bond a client puts up to dispute a job: `ceil(deposit × bond_bps / 10,000)`, so any
/// nonzero rate costs at least one base unit.
pub fn dispute_bond(deposit: u64, bond_bps: u16) -> Result<u64> {
    let denominator = u128::from(BPS_DENOMINATOR);
    to_u64(
        u128::from(deposit)
            .safe_mul(u128::from(bond_bps))?
            .safe_add(denominator - 1)?
            .safe_div(denominator)?,
    )
}

pub fn full_refund(deposit: u64) -> Settlement {
    Settlement {
        provider_share: 0,
        fee: 0,
        refund: deposit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dispute_bond_rounds_up_and_never_exceeds_the_deposit() {
        assert_eq!(dispute_bond(2_000_000, 1_000).unwrap(), 200_000);
        assert_eq!(dispute_bond(1, 1).unwrap(), 1);
        assert_eq!(dispute_bond(10_001, 1).unwrap(), 2);
        assert_eq!(dispute_bond(123, 0).unwrap(), 0);
        assert_eq!(dispute_bond(u64::MAX, 10_000).unwrap(), u64::MAX);
    }

    /// 0.40 tokens (6 decimals) per GPU-hour.
    const PRICE: u64 = 400_000;

    fn total(s: &Settlement) -> u64 {
        s.provider_share + s.fee + s.refund
    }

    #[test]
    fn deposit_rounds_up() {
        // 0.40/GPU-hour × 2 GPUs × 1 h = 0.80.
        assert_eq!(deposit_for(PRICE, 2, 3_600).unwrap(), 800_000);
        // 1 second of 1 GPU at 1 unit/hour is 1/3600 of a unit: escrow 1.
        assert_eq!(deposit_for(1, 1, 1).unwrap(), 1);
        // 400_000 × 1 × 7 / 3600 = 777.77… -> 778.
        assert_eq!(deposit_for(PRICE, 1, 7).unwrap(), 778);
    }

    #[test]
    fn deposit_refuses_zero_and_overflow() {
        assert!(deposit_for(0, 1, 3_600).is_err());
        assert!(deposit_for(PRICE, 0, 3_600).is_err());
        assert!(deposit_for(PRICE, 1, 0).is_err());
        // u64::MAX/hour × 64 GPUs × 30 days does not fit in u64.
        assert!(deposit_for(u64::MAX, 64, 30 * 24 * 3_600).is_err());
    }

    #[test]
    fn an_hour_at_2_5_percent() {
        let s = split(800_000, PRICE, 2, 3_600, 3_600, 250).unwrap();
        // cost 800_000; fee 20_000; provider 780_000; nothing back.
        assert_eq!(
            s,
            Settlement {
                provider_share: 780_000,
                fee: 20_000,
                refund: 0
            }
        );
    }

    #[test]
    fn one_second() {
        let deposit = deposit_for(PRICE, 2, 3_600).unwrap();
        let s = split(deposit, PRICE, 2, 1, 3_600, 250).unwrap();
        // cost = 400_000 × 2 × 1 / 3600 = 222.2 -> 222; fee = 222 × 250 / 10_000 = 5.55 -> 5.
        assert_eq!(
            s,
            Settlement {
                provider_share: 217,
                fee: 5,
                refund: 799_778
            }
        );
        assert_eq!(total(&s), deposit);
    }

    #[test]
    fn metered_time_is_capped_at_max_duration() {
        let deposit = deposit_for(PRICE, 1, 600).unwrap();
        let capped = split(deposit, PRICE, 1, 10_000, 600, 0).unwrap();
        assert_eq!(capped, split(deposit, PRICE, 1, 600, 600, 0).unwrap());
        // 400_000 × 600 / 3600 = 66_666.67 -> cost 66_666; deposit 66_667: the rounding unit goes back.
        assert_eq!(
            capped,
            Settlement {
                provider_share: 66_666,
                fee: 0,
                refund: 1
            }
        );
    }

    #[test]
    fn a_cheaper_locked_price_refunds_the_difference() {
        let deposit = deposit_for(1_000_000, 4, 3_600).unwrap();
        let s = split(deposit, 250_000, 4, 3_600, 3_600, 1_000).unwrap();
        // cost 1_000_000; fee 100_000; refund 3_000_000.
        assert_eq!(
            s,
            Settlement {
                provider_share: 900_000,
                fee: 100_000,
                refund: 3_000_000
            }
        );
    }

    #[test]
    fn tiny_prices_can_cost_nothing() {
        let deposit = deposit_for(1, 1, 3_599).unwrap();
        assert_eq!(deposit, 1);
        let s = split(deposit, 1, 1, 3_599, 3_599, 5_000).unwrap();
        assert_eq!(
            s,
            Settlement {
                provider_share: 0,
                fee: 0,
                refund: 1
            }
        );
    }

    #[test]
    fn huge_prices_stay_exact() {
        // The largest deposit that fits: a price that makes 64 GPUs × 30 days just under u64::MAX.
        let secs = 30 * 24 * 3_600u32;
        let price = u64::MAX / (64 * u64::from(secs)) * 3_600;
        let deposit = deposit_for(price, 64, secs).unwrap();
        let s = split(deposit, price, 64, secs, secs, 5_000).unwrap();
        assert_eq!(total(&s), deposit);
        assert_eq!(s.refund, 0);
        assert!(s.fee > 0 && s.provider_share >= s.fee);
    }

    #[test]
    fn fee_extremes() {
        let deposit = deposit_for(PRICE, 1, 3_600).unwrap();
        let none = split(deposit, PRICE, 1, 3_600, 3_600, 0).unwrap();
        assert_eq!(
            none,
            Settlement {
                provider_share: 400_000,
                fee: 0,
                refund: 0
            }
        );
        let half = split(deposit, PRICE, 1, 3_600, 3_600, 5_000).unwrap();
        assert_eq!(
            half,
            Settlement {
                provider_share: 200_000,
                fee: 200_000,
                refund: 0
            }
        );
    }

    #[test]
    fn a_cost_above_the_deposit_is_an_error_not_a_loss() {
        assert!(split(10, PRICE, 1, 3_600, 3_600, 0).is_err());
    }

    #[test]
    fn slashes_take_staked_first_then_unbonding() {
        let amounts = |staked, unbonding, vault, bps| {
            let a = slash_amounts(staked, unbonding, vault, bps).unwrap();
            (a.from_staked, a.from_unbonding)
        };
        // 50% of 1_000 + 600 = 800: all from staked while it lasts.
        assert_eq!(amounts(1_000, 600, 1_600, 5_000), (800, 0));
        // 50% of 200 + 1_400 = 800: 200 from staked, 600 from unbonding.
        assert_eq!(amounts(200, 1_400, 1_600, 5_000), (200, 600));
        // Everything unbonding: unbonding is no escape.
        assert_eq!(amounts(0, 1_000, 1_000, 500), (0, 50));
        // 100% takes it all.
        assert_eq!(amounts(7, 3, 10, 10_000), (7, 3));
        // Rounds down: 3% of 33 = 0.99 -> 0; rate 0 slashes nothing.
        assert_eq!(amounts(33, 0, 33, 300), (0, 0));
        assert_eq!(amounts(1_000, 0, 1_000, 0), (0, 0));
        // Capped at what the vault holds.
        assert_eq!(amounts(1_000, 1_000, 300, 10_000), (300, 0));
        // The whole u64 range computes without overflow.
        assert_eq!(amounts(u64::MAX, u64::MAX, u64::MAX, 10_000), (u64::MAX, 0));
    }
}
