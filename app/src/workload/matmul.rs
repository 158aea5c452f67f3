//! Seeded integer matrix multiplication `C = A · B`, `A` m×k and `B` k×n with entries in -128..=127.
//! A chunk is a block of `rows_per_chunk` rows of `C`, as little-endian `i64`s.

use super::splitmix64;
use serde::{Deserialize, Serialize};

/// Largest side accepted, so a spec cannot ask a provider for unbounded memory.
const MAX_SIDE: u32 = 16_384;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Matmul {
    pub seed: u64,
    pub m: u32,
    pub k: u32,
    pub n: u32,
    pub rows_per_chunk: u32,
}

impl Matmul {
    /// The demo's job: 960 × 64 · 64 × 64, one row per chunk (960 chunks).
    pub fn demo(seed: u64) -> Self {
        Self {
            seed,
            m: 960,
            k: 64,
            n: 64,
            rows_per_chunk: 1,
        }
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        for (name, side) in [("m", self.m), ("k", self.k), ("n", self.n)] {
            anyhow::ensure!(
                (1..=MAX_SIDE).contains(&side),
                "matmul {name} must be between 1 and {MAX_SIDE}, not {side}"
            );
        }
        anyhow::ensure!(
            (1..=self.m).contains(&self.rows_per_chunk),
            "matmul rows_per_chunk must be between 1 and m ({})",
            self.m
        );
        Ok(())
    }

    pub fn chunk_count(&self) -> u32 {
        self.m.div_ceil(self.rows_per_chunk)
    }

    /// Entry `index` (row-major) of matrix `which` (0 = A, 1 = B).
    fn entry(&self, which: u64, index: u64) -> i64 {
        let z = splitmix64(self.seed ^ which.wrapping_mul(0xA076_1D64_78BD_642F) ^ index);
        i64::from((z >> 56) as u8 as i8)
    }

    fn row_of_a(&self, row: u32) -> Vec<i64> {
        let k = u64::from(self.k);
        (0..k)
            .map(|j| self.entry(0, u64::from(row) * k + j))
            .collect()
    }

    pub fn prepare(&self) -> Prepared {
        let (k, n) = (u64::from(self.k), u64::from(self.n));
        Prepared {
            b: (0..k * n).map(|i| self.entry(1, i)).collect(),
            spec: self.clone(),
        }
    }
}

pub struct Prepared {
    spec: Matmul,
    /// `B`, row-major.
    b: Vec<i64>,
}

impl Prepared {
    pub fn chunk(&self, index: u32) -> Vec<u8> {
        let spec = &self.spec;
        let first = index * spec.rows_per_chunk;
        let last = (first + spec.rows_per_chunk).min(spec.m);
        let n = spec.n as usize;
        let mut out = Vec::with_capacity((last - first) as usize * n * 8);
        for row in first..last {
            let a = spec.row_of_a(row);
            let mut c = vec![0i64; n];
            for (j, a_j) in a.iter().enumerate() {
                let b_row = &self.b[j * n..(j + 1) * n];
                for (c_x, b_x) in c.iter_mut().zip(b_row) {
                    *c_x += a_j * b_x;
                }
            }
            out.extend(c.iter().flat_map(|v| v.to_le_bytes()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_is_the_product_computed_the_plain_way() {
        let spec = Matmul {
            seed: 3,
            m: 5,
            k: 4,
            n: 3,
            rows_per_chunk: 2,
        };
        spec.validate().expect("valid");
        assert_eq!(spec.chunk_count(), 3);
        let prepared = spec.prepare();
        let mut all = vec![];
        for i in 0..3 {
            all.extend(prepared.chunk(i));
        }
        assert_eq!(all.len(), 5 * 3 * 8);
        for row in 0..5u64 {
            for col in 0..3u64 {
                let expected: i64 = (0..4u64)
                    .map(|j| spec.entry(0, row * 4 + j) * spec.entry(1, j * 3 + col))
                    .sum();
                let at = ((row * 3 + col) * 8) as usize;
                let got = i64::from_le_bytes(all[at..at + 8].try_into().expect("8"));
                assert_eq!(got, expected, "C[{row}][{col}]");
            }
        }
    }

    #[test]
    fn bounds_are_refused() {
        let mut spec = Matmul::demo(1);
        spec.k = 0;
        assert!(spec.validate().is_err());
        let mut spec = Matmul::demo(1);
        spec.rows_per_chunk = spec.m + 1;
        assert!(spec.validate().is_err());
    }
}
