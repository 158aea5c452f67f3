//! What the machine has: GPUs through `nvidia-smi` where present, otherwise a CPU profile labelled as
//! such. A provider may advertise no more than this (bandwidth and region are declared, not measured).

use gpu_market::{GpuModel, HardwareSpec};
use std::process::Command;

/// Where a hardware description came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    NvidiaSmi,
    /// No GPU found: the workloads run on the CPU reference path.
    CpuOnly,
    /// Declared by the demo for its simulated fleet; never the result of detection.
    Simulated,
}

/// One GPU's live readings.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct GpuReading {
    pub index: u32,
    pub name: String,
    pub memory_gb: u16,
    pub temperature_c: Option<i64>,
    pub utilization_pct: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct Hardware {
    pub source: Source,
    pub gpu_model: GpuModel,
    pub gpu_count: u16,
    pub vram_gb: u16,
    pub cpu_cores: u16,
    pub ram_gb: u32,
    pub gpus: Vec<GpuReading>,
}

const QUERY: &str = "--query-gpu=index,name,memory.total,temperature.gpu,utilization.gpu";

impl Hardware {
    /// The machine this runs on.
    pub fn detect() -> Self {
        let cpu_cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u16;
        let ram_gb = ram_gb().unwrap_or(0);
        let gpus = read_gpus().unwrap_or_default();
        match gpus.first().and_then(|g| model_from_name(&g.name)) {
            Some(model) => Self {
                source: Source::NvidiaSmi,
                gpu_model: model,
                gpu_count: gpus
                    .iter()
                    .filter(|g| model_from_name(&g.name) == Some(model))
                    .count() as u16,
                vram_gb: gpus.iter().map(|g| g.memory_gb).min().unwrap_or(0),
                cpu_cores,
                ram_gb,
                gpus,
            },
            None => Self {
                source: Source::CpuOnly,
                gpu_model: GpuModel::Cpu,
                gpu_count: 1,
                vram_gb: 0,
                cpu_cores,
                ram_gb,
                gpus,
            },
        }
    }

    /// A machine the demo pretends to have, labelled as simulated.
    pub fn simulated(spec: &HardwareSpec) -> Self {
        Self {
            source: Source::Simulated,
            gpu_model: spec.gpu_model,
            gpu_count: spec.gpu_count,
            vram_gb: spec.vram_gb,
            cpu_cores: spec.cpu_cores,
            ram_gb: spec.ram_gb,
            gpus: vec![],
        }
    }

    /// Refuses a spec this machine does not have.
    pub fn check_advertised(&self, spec: &HardwareSpec) -> anyhow::Result<()> {
        anyhow::ensure!(
            spec.gpu_model == self.gpu_model,
            "this machine has {:?} ({}), not {:?}",
            self.gpu_model,
            self.describe_source(),
            spec.gpu_model
        );
        let checks = [
            ("GPUs", u64::from(spec.gpu_count), u64::from(self.gpu_count)),
            (
                "GB of VRAM per GPU",
                u64::from(spec.vram_gb),
                u64::from(self.vram_gb),
            ),
            (
                "CPU cores",
                u64::from(spec.cpu_cores),
                u64::from(self.cpu_cores),
            ),
            ("GB of RAM", u64::from(spec.ram_gb), u64::from(self.ram_gb)),
        ];
        for (what, advertised, present) in checks {
            anyhow::ensure!(
                advertised <= present,
                "the spec advertises {advertised} {what} but this machine has {present} ({})",
                self.describe_source()
            );
        }
        Ok(())
    }

    pub fn describe_source(&self) -> &'static str {
        match self.source {
            Source::NvidiaSmi => "detected by nvidia-smi",
            Source::CpuOnly => "CPU only: no NVIDIA GPU found",
            Source::Simulated => "simulated",
        }
    }

    /// Fresh temperature and utilization readings (none without nvidia-smi).
    pub fn readings(&self) -> Vec<GpuReading> {
        match self.source {
            Source::NvidiaSmi => read_gpus().unwrap_or_default(),
            _ => vec![],
        }
    }
}

fn read_gpus() -> Option<Vec<GpuReading>> {
    let out = Command::new("nvidia-smi")
        .args([QUERY, "--format=csv,noheader,nounits"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| parse_nvidia_smi(&String::from_utf8_lossy(&out.stdout)))
}

/// `nvidia-smi --query-gpu=index,name,memory.total,temperature.gpu,utilization.gpu
/// --format=csv,noheader,nounits` lines.
pub fn parse_nvidia_smi(text: &str) -> Vec<GpuReading> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let [index, name, memory_mib, temperature, utilization] = fields[..] else {
                return None;
            };
            Some(GpuReading {
                index: index.parse().ok()?,
                name: name.to_owned(),
                memory_gb: (memory_mib.parse::<u64>().ok()?.div_ceil(1024)) as u16,
                temperature_c: temperature.parse().ok(),
                utilization_pct: utilization.parse().ok(),
            })
        })
        .collect()
}

/// The program's model for a marketing name such as "NVIDIA GeForce RTX 4090".
pub fn model_from_name(name: &str) -> Option<GpuModel> {
    let name = name.to_ascii_uppercase().replace(['-', ' '], "");
    // Longer names first, so "RTX A4000" is not read as "A40" nor "H200" as "H100"-like prefixes.
    const MODELS: &[(&str, GpuModel)] = &[
        ("RTXA4000", GpuModel::RtxA4000),
        ("RTXA5000", GpuModel::RtxA5000),
        ("RTXA6000", GpuModel::RtxA6000),
        ("RTX3060", GpuModel::Rtx3060),
        ("RTX3070", GpuModel::Rtx3070),
        ("RTX3080", GpuModel::Rtx3080),
        ("RTX3090", GpuModel::Rtx3090),
        ("RTX4060", GpuModel::Rtx4060),
        ("RTX4070", GpuModel::Rtx4070),
        ("RTX4080", GpuModel::Rtx4080),
        ("RTX4090", GpuModel::Rtx4090),
        ("RTX5090", GpuModel::Rtx5090),
        ("L40S", GpuModel::L40S),
        ("MI300X", GpuModel::Mi300X),
        ("MI250", GpuModel::Mi250),
        ("A100", GpuModel::A100),
        ("H100", GpuModel::H100),
        ("H200", GpuModel::H200),
        ("B200", GpuModel::B200),
        ("A40", GpuModel::A40),
        ("A10", GpuModel::A10),
        ("L4", GpuModel::L4),
    ];
    MODELS
        .iter()
        .find(|(key, _)| name.contains(key))
        .map(|(_, model)| *model)
}

fn ram_gb() -> Option<u32> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some((kib / (1024 * 1024)) as u32)
}

/// Every GPU model the program knows, in discriminant order.
pub const ALL_GPU_MODELS: [GpuModel; 23] = [
    GpuModel::Cpu,
    GpuModel::Rtx3060,
    GpuModel::Rtx3070,
    GpuModel::Rtx3080,
    GpuModel::Rtx3090,
    GpuModel::Rtx4060,
    GpuModel::Rtx4070,
    GpuModel::Rtx4080,
    GpuModel::Rtx4090,
    GpuModel::Rtx5090,
    GpuModel::RtxA4000,
    GpuModel::RtxA5000,
    GpuModel::RtxA6000,
    GpuModel::L4,
    GpuModel::L40S,
    GpuModel::A10,
    GpuModel::A40,
    GpuModel::A100,
    GpuModel::H100,
    GpuModel::H200,
    GpuModel::B200,
    GpuModel::Mi250,
    GpuModel::Mi300X,
];

#[cfg(test)]
mod tests {
    use super::*;
    use gpu_market::Region;

    #[test]
    fn nvidia_smi_lines_and_names_are_read() {
        let gpus = parse_nvidia_smi(
            "0, NVIDIA GeForce RTX 4090, 24564, 61, 97\n1, NVIDIA GeForce RTX 4090, 24564, [N/A], 0\nbad line\n",
        );
        assert_eq!(gpus.len(), 2);
        assert_eq!(gpus[0].memory_gb, 24);
        assert_eq!(gpus[0].temperature_c, Some(61));
        assert_eq!(gpus[1].temperature_c, None);
        assert_eq!(model_from_name(&gpus[0].name), Some(GpuModel::Rtx4090));
        assert_eq!(
            model_from_name("NVIDIA RTX A4000"),
            Some(GpuModel::RtxA4000)
        );
        assert_eq!(model_from_name("NVIDIA H200"), Some(GpuModel::H200));
        assert_eq!(
            model_from_name("NVIDIA A100-SXM4-80GB"),
            Some(GpuModel::A100)
        );
        assert_eq!(model_from_name("Matrox G200"), None);
    }

    #[test]
    fn a_spec_beyond_the_machine_is_refused() {
        let spec = HardwareSpec {
            gpu_model: GpuModel::Rtx4090,
            gpu_count: 2,
            vram_gb: 24,
            cpu_cores: 16,
            ram_gb: 64,
            bandwidth_up_mbps: 100,
            bandwidth_down_mbps: 100,
            region: Region::Europe,
        };
        let machine = Hardware::simulated(&spec);
        machine.check_advertised(&spec).expect("its own spec");
        let more_gpus = HardwareSpec {
            gpu_count: 4,
            ..spec
        };
        let error = machine
            .check_advertised(&more_gpus)
            .unwrap_err()
            .to_string();
        assert!(error.contains("4 GPUs"), "{error}");
        let other_model = HardwareSpec {
            gpu_model: GpuModel::H100,
            ..spec
        };
        assert!(machine.check_advertised(&other_model).is_err());
        let cpu = Hardware::detect();
        if cpu.source == Source::CpuOnly {
            assert_eq!(cpu.gpu_model, GpuModel::Cpu);
            assert!(cpu.check_advertised(&spec).is_err());
        }
    }
}
