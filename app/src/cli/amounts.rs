//! Token amounts as people write them, and the mint decimals that scale them.

use gpu_market_client::Cluster;
use solana_sdk::pubkey::Pubkey;

/// `"1.5"` in a mint of `decimals` decimals, in base units.
pub fn parse_amount(text: &str, decimals: u8) -> anyhow::Result<u64> {
    let invalid = || anyhow::anyhow!("{text:?} is not an amount (write it like 12 or 0.45)");
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    if whole.is_empty() && fraction.is_empty() {
        return Err(invalid());
    }
    anyhow::ensure!(
        fraction.len() <= usize::from(decimals),
        "{text:?} has more than {decimals} decimals"
    );
    let digits = |s: &str| s.is_empty() || s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        return Err(invalid());
    }
    let scale = 10u64
        .checked_pow(u32::from(decimals))
        .ok_or_else(|| anyhow::anyhow!("a mint with {decimals} decimals is not supported"))?;
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| invalid())?
    };
    let fraction: u64 = if fraction.is_empty() {
        0
    } else {
        fraction.parse::<u64>().map_err(|_| invalid())?
            * 10u64.pow(u32::from(decimals) - fraction.len() as u32)
    };
    whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(|| anyhow::anyhow!("{text:?} is too large"))
}

/// Base units as a decimal amount.
pub fn format_amount(units: u64, decimals: u8) -> String {
    let Some(scale) = 10u64
        .checked_pow(u32::from(decimals))
        .filter(|_| decimals > 0)
    else {
        return units.to_string();
    };
    let fraction = format!("{:0width$}", units % scale, width = usize::from(decimals));
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        (units / scale).to_string()
    } else {
        format!("{}.{fraction}", units / scale)
    }
}

/// A mint's decimals (SPL Token and Token-2022 share the base layout).
pub(super) async fn mint_decimals(cluster: &Cluster, mint: &Pubkey) -> anyhow::Result<u8> {
    let data = cluster.rpc.get_account_data(mint).await?;
    data.get(44)
        .copied()
        .ok_or_else(|| anyhow::anyhow!("{mint} is not a mint"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_and_format_exactly() {
        assert_eq!(parse_amount("1.5", 6).unwrap(), 1_500_000);
        assert_eq!(parse_amount("0.000001", 6).unwrap(), 1);
        assert_eq!(parse_amount("250", 9).unwrap(), 250_000_000_000);
        assert_eq!(parse_amount(".5", 2).unwrap(), 50);
        for bad in ["", ".", "1.2.3", "-1", "1e6", "abc", "0.0000001"] {
            assert!(parse_amount(bad, 6).is_err(), "{bad:?}");
        }
        assert!(parse_amount("99999999999999999999", 6).is_err());
        assert_eq!(format_amount(1_500_000, 6), "1.5");
        assert_eq!(format_amount(2_000_000, 6), "2");
        assert_eq!(format_amount(1, 6), "0.000001");
    }
}
