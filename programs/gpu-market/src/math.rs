//! Checked arithmetic that turns overflow into a named error instead of a panic or a silent wrap.

use crate::error::MarketError;
use anchor_lang::prelude::*;

pub trait SafeMath: Sized {
    fn safe_add(self, rhs: Self) -> Result<Self>;
    fn safe_sub(self, rhs: Self) -> Result<Self>;
    fn safe_mul(self, rhs: Self) -> Result<Self>;
    fn safe_div(self, rhs: Self) -> Result<Self>;
}

macro_rules! impl_safe_math {
    ($($t:ty),*) => {$(
        impl SafeMath for $t {
            #[inline]
            fn safe_add(self, rhs: Self) -> Result<Self> {
                self.checked_add(rhs).ok_or_else(|| error!(MarketError::MathOverflow))
            }
            #[inline]
            fn safe_sub(self, rhs: Self) -> Result<Self> {
                self.checked_sub(rhs).ok_or_else(|| error!(MarketError::MathOverflow))
            }
            #[inline]
            fn safe_mul(self, rhs: Self) -> Result<Self> {
                self.checked_mul(rhs).ok_or_else(|| error!(MarketError::MathOverflow))
            }
            #[inline]
            fn safe_div(self, rhs: Self) -> Result<Self> {
                self.checked_div(rhs).ok_or_else(|| error!(MarketError::MathOverflow))
            }
        }
    )*};
}

impl_safe_math!(u8, u16, u32, u64, u128, i64);

/// Narrows a u128 intermediate back to u64, failing instead of truncating.
pub fn to_u64(value: u128) -> Result<u64> {
    u64::try_from(value).map_err(|_| error!(MarketError::MathOverflow))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        assert!(u64::MAX.safe_add(1).is_err());
        assert!(0u64.safe_sub(1).is_err());
        assert!(u64::MAX.safe_mul(2).is_err());
        assert!(1u64.safe_div(0).is_err());
        assert_eq!(u64::MAX.safe_sub(1).unwrap(), u64::MAX - 1);
        assert!(to_u64(u128::from(u64::MAX) + 1).is_err());
        assert_eq!(to_u64(7).unwrap(), 7);
    }
}
