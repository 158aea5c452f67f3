use crate::{constants::*, error::MarketError};
use anchor_lang::prelude::*;

/// GPU models the market knows. Append-only: the discriminant is stored on-chain and is the bit index in
/// a job's `allowed_gpu_models` mask. Memory size is not part of the model: it is matched through VRAM.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum GpuModel {
    /// No GPU: the reference CPU implementation of the workloads, clearly labelled as such.
    Cpu,
    Rtx3060,
    Rtx3070,
    Rtx3080,
    Rtx3090,
    Rtx4060,
    Rtx4070,
    Rtx4080,
    Rtx4090,
    Rtx5090,
    RtxA4000,
    RtxA5000,
    RtxA6000,
    L4,
    L40S,
    A10,
    A40,
    A100,
    H100,
    H200,
    B200,
    Mi250,
    Mi300X,
}

impl GpuModel {
    /// This model's bit in a job's `allowed_gpu_models` mask.
    pub const fn mask_bit(self) -> u64 {
        1u64 << (self as u8)
    }
}

/// Coarse regions a client may pin a job to (latency or data-residency reasons).
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    NorthAmerica,
    SouthAmerica,
    Europe,
    AsiaPacific,
    MiddleEast,
    Africa,
}

/// What a provider advertises. Matching checks jobs against it on-chain.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub struct HardwareSpec {
    pub gpu_model: GpuModel,
    pub gpu_count: u16,
    /// Memory of one GPU, in GB.
    pub vram_gb: u16,
    pub cpu_cores: u16,
    /// System memory, in GB.
    pub ram_gb: u32,
    /// Upload bandwidth, in Mbit/s.
    pub bandwidth_up_mbps: u32,
    /// Download bandwidth, in Mbit/s.
    pub bandwidth_down_mbps: u32,
    pub region: Region,
}

impl HardwareSpec {
    pub fn validate(&self) -> Result<()> {
        require!(
            (1..=MAX_GPU_COUNT).contains(&self.gpu_count),
            MarketError::InvalidGpuCount
        );
        require!(
            (1..=MAX_VRAM_GB).contains(&self.vram_gb),
            MarketError::InvalidVram
        );
        require!(
            (1..=MAX_CPU_CORES).contains(&self.cpu_cores),
            MarketError::InvalidCpuCores
        );
        require!(
            (1..=MAX_RAM_GB).contains(&self.ram_gb),
            MarketError::InvalidRam
        );
        require!(
            (1..=MAX_BANDWIDTH_MBPS).contains(&self.bandwidth_up_mbps)
                && (1..=MAX_BANDWIDTH_MBPS).contains(&self.bandwidth_down_mbps),
            MarketError::InvalidBandwidth
        );
        Ok(())
    }
}

/// An endpoint is where the provider serves chunk proofs; verifiers fetch from it, so it must at least
/// look like a URL they can reach.
pub fn validate_endpoint(endpoint: &str) -> Result<()> {
    let rest = endpoint
        .strip_prefix("https://")
        .or_else(|| endpoint.strip_prefix("http://"));
    require!(
        endpoint.len() <= MAX_ENDPOINT_LEN
            && rest.is_some_and(|host| !host.is_empty())
            && endpoint.bytes().all(|b| b.is_ascii_graphic()),
        MarketError::InvalidEndpoint
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> HardwareSpec {
        HardwareSpec {
            gpu_model: GpuModel::Rtx4090,
            gpu_count: 2,
            vram_gb: 24,
            cpu_cores: 16,
            ram_gb: 64,
            bandwidth_up_mbps: 500,
            bandwidth_down_mbps: 1_000,
            region: Region::Europe,
        }
    }

    #[test]
    fn a_real_machine_is_valid() {
        assert!(spec().validate().is_ok());
    }

    #[test]
    fn nonsense_specs_are_refused() {
        let cases: [fn(&mut HardwareSpec); 7] = [
            |s| s.gpu_count = 0,
            |s| s.gpu_count = MAX_GPU_COUNT + 1,
            |s| s.vram_gb = 0,
            |s| s.cpu_cores = 0,
            |s| s.ram_gb = MAX_RAM_GB + 1,
            |s| s.bandwidth_up_mbps = 0,
            |s| s.bandwidth_down_mbps = MAX_BANDWIDTH_MBPS + 1,
        ];
        for break_it in cases {
            let mut s = spec();
            break_it(&mut s);
            assert!(s.validate().is_err(), "{s:?} should be refused");
        }
    }

    #[test]
    fn endpoints() {
        assert!(validate_endpoint("https://gpu.example.org:9000").is_ok());
        assert!(validate_endpoint("http://127.0.0.1:7000/proofs").is_ok());
        for bad in [
            "",
            "ftp://x",
            "https://",
            "https://a b",
            "gpu.example.org",
            &format!("https://{}", "a".repeat(MAX_ENDPOINT_LEN)),
        ] {
            assert!(validate_endpoint(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn model_bits_are_distinct() {
        assert_eq!(GpuModel::Cpu.mask_bit(), 1);
        assert_eq!(GpuModel::Mi300X.mask_bit(), 1 << 22);
    }
}
