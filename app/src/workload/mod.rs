//! The deterministic workloads: integer and fixed-point arithmetic only, so that a verifier on other
//! hardware recomputes the same bytes. Each is `spec → chunk_count` and `(spec, chunk) → bytes`.
//!
//! A job names its workload by a spec document (canonical JSON) through `spec_uri`, with the document's
//! SHA-256 as `spec_hash`. A `data:` URI carries the document inline, so a job needs no file server.

pub mod matmul;
pub mod render;

use gpu_market::{
    WorkloadKind,
    verification::{Hash32, MerkleTree, chunk_leaf},
};
use serde::{Deserialize, Serialize};
use solana_sha256_hasher::hashv;

pub use matmul::Matmul;
pub use render::Render;

const DATA_URI_PREFIX: &str = "data:application/json,";

/// A workload spec document.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Spec {
    Matmul(Matmul),
    Render(Render),
}

impl Spec {
    pub fn kind(&self) -> WorkloadKind {
        match self {
            Self::Matmul(_) => WorkloadKind::Matmul,
            Self::Render(_) => WorkloadKind::Render,
        }
    }

    /// The canonical document: compact JSON, fields in declaration order.
    pub fn document(&self) -> String {
        serde_json::to_string(self).expect("a spec serializes")
    }

    pub fn hash(&self) -> Hash32 {
        hashv(&[self.document().as_bytes()]).to_bytes()
    }

    /// The spec inline, as the job's `spec_uri`.
    pub fn data_uri(&self) -> String {
        format!("{DATA_URI_PREFIX}{}", self.document())
    }

    /// The spec `job` names, checked against its hash and kind.
    pub fn of_job(job: &gpu_market::state::Job) -> anyhow::Result<Self> {
        Self::resolve(
            &job.workload.spec_uri,
            &job.workload.spec_hash,
            job.workload.kind,
        )
    }

    /// Reads a spec document and checks its bounds.
    pub fn parse(document: &str) -> anyhow::Result<Self> {
        let spec: Self = serde_json::from_str(document)
            .map_err(|e| anyhow::anyhow!("the workload spec is not valid: {e}"))?;
        spec.validate()?;
        Ok(spec)
    }

    /// The spec a job names, checked against the job's hash and kind.
    ///
    /// Only inline `data:` documents are accepted: the spec is then on chain, so every agent and
    /// verifier reads the same bytes, no one is sent to fetch a URL a client chose, and a failure
    /// to resolve is provable rather than a network accident.
    pub fn resolve(uri: &str, hash: &Hash32, kind: WorkloadKind) -> anyhow::Result<Self> {
        let document = uri.strip_prefix(DATA_URI_PREFIX).ok_or_else(|| {
            anyhow::anyhow!(
                "the workload spec URI {uri:?} is not an inline {DATA_URI_PREFIX} document"
            )
        })?;
        anyhow::ensure!(
            hashv(&[document.as_bytes()]).to_bytes() == *hash,
            "the workload spec at {uri:?} does not match the job's spec hash"
        );
        let spec = Self::parse(document)?;
        anyhow::ensure!(
            spec.kind() == kind,
            "the workload spec is a {:?} job but the job says {kind:?}",
            spec.kind()
        );
        Ok(spec)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        match self {
            Self::Matmul(m) => m.validate()?,
            Self::Render(r) => r.validate()?,
        }
        let chunks = self.chunk_count();
        anyhow::ensure!(
            chunks <= MAX_CHUNKS,
            "the spec has {chunks} chunks, over {MAX_CHUNKS}"
        );
        if let Self::Matmul(m) = self {
            let (k, n) = (u64::from(m.k), u64::from(m.n));
            anyhow::ensure!(
                k * n <= MAX_MATMUL_B_ENTRIES,
                "matmul's right-hand matrix has {} entries, over {MAX_MATMUL_B_ENTRIES}",
                k * n
            );
            let chunk_work = u64::from(m.rows_per_chunk) * k * n;
            anyhow::ensure!(
                chunk_work <= MAX_CHUNK_WORK,
                "a matmul chunk is {chunk_work} multiply-adds, over {MAX_CHUNK_WORK}"
            );
        }
        let (chunk, total) = (self.max_chunk_bytes(), self.output_bytes());
        anyhow::ensure!(
            chunk <= MAX_CHUNK_BYTES,
            "a chunk of this spec is {chunk} bytes, over {MAX_CHUNK_BYTES}"
        );
        anyhow::ensure!(
            total <= MAX_OUTPUT_BYTES,
            "this spec's output is {total} bytes, over {MAX_OUTPUT_BYTES}"
        );
        Ok(())
    }

    /// Bytes of the largest chunk.
    pub fn max_chunk_bytes(&self) -> u64 {
        match self {
            Self::Matmul(m) => u64::from(m.rows_per_chunk) * u64::from(m.n) * 8,
            Self::Render(r) => u64::from(r.tile) * u64::from(r.tile) * 3,
        }
    }

    /// Bytes of the whole output.
    pub fn output_bytes(&self) -> u64 {
        match self {
            Self::Matmul(m) => u64::from(m.m) * u64::from(m.n) * 8,
            Self::Render(r) => u64::from(r.width) * u64::from(r.height) * 3,
        }
    }

    /// The work a job is, in the units [`Throughput`] measures (multiply-adds, or pixels).
    pub fn work(&self) -> f64 {
        match self {
            Self::Matmul(m) => f64::from(m.m) * f64::from(m.k) * f64::from(m.n),
            Self::Render(r) => f64::from(r.width) * f64::from(r.height),
        }
    }

    pub fn chunk_count(&self) -> u32 {
        match self {
            Self::Matmul(m) => m.chunk_count(),
            Self::Render(r) => r.chunk_count(),
        }
    }

    /// What computing chunks needs, prepared once (matmul's right-hand matrix, render's scene).
    pub fn prepare(&self) -> Prepared {
        match self {
            Self::Matmul(m) => Prepared::Matmul(m.prepare()),
            Self::Render(r) => Prepared::Render(r.scene()),
        }
    }
}

/// What agents, verifiers and clients accept, so that no spec can exhaust their memory or make one
/// sampled chunk too long to recompute within a challenge window:
/// - chunks per job (a Merkle tree of 2^20 leaves is 64 MiB; the protocol allows 2^24);
pub const MAX_CHUNKS: u32 = 1 << 20;
/// - bytes per chunk, and of the whole output (held in memory while under review, sent to the client);
pub const MAX_CHUNK_BYTES: u64 = 4 << 20;
pub const MAX_OUTPUT_BYTES: u64 = 1 << 30;
/// - matmul's right-hand matrix (every chunk needs all of it: 32 MiB of `i64`s);
pub const MAX_MATMUL_B_ENTRIES: u64 = 1 << 22;
/// - multiply-adds per matmul chunk (about a second on one core).
pub const MAX_CHUNK_WORK: u64 = 1 << 30;

/// How fast this machine computes each workload on one thread, measured on the demo-sized specs.
#[derive(Clone, Copy, Debug)]
pub struct Throughput {
    pub matmul_per_sec: f64,
    pub render_per_sec: f64,
}

impl Throughput {
    /// Times a sample of chunks of each workload (about a tenth of a second).
    pub fn measure() -> Self {
        let rate = |spec: Spec, chunks: u32| {
            let prepared = spec.prepare();
            let started = std::time::Instant::now();
            for index in 0..chunks {
                std::hint::black_box(prepared.chunk(index));
            }
            let per_chunk = spec.work() / f64::from(spec.chunk_count());
            per_chunk * f64::from(chunks) / started.elapsed().as_secs_f64().max(1e-6)
        };
        Self {
            matmul_per_sec: rate(Spec::Matmul(Matmul::demo(0)), 96),
            render_per_sec: rate(Spec::Render(Render::demo(0)), 96),
        }
    }

    /// Seconds `spec` takes on `threads` threads, by this measure.
    pub fn estimate_secs(&self, spec: &Spec, threads: usize) -> f64 {
        let rate = match spec {
            Spec::Matmul(_) => self.matmul_per_sec,
            Spec::Render(_) => self.render_per_sec,
        };
        spec.work() / (rate * threads.max(1) as f64)
    }
}

/// A spec ready to compute chunks.
pub enum Prepared {
    Matmul(matmul::Prepared),
    Render(render::Scene),
}

impl Prepared {
    /// Chunk `index`'s output bytes (the caller keeps `index < chunk_count`).
    pub fn chunk(&self, index: u32) -> Vec<u8> {
        match self {
            Self::Matmul(m) => m.chunk(index),
            Self::Render(r) => r.tile(index),
        }
    }
}

/// Every chunk of a job computed, with the Merkle commitment over them.
pub struct Computed {
    pub outputs: Vec<Vec<u8>>,
    pub tree: MerkleTree,
}

impl Computed {
    /// Computes every chunk of `spec`, on `threads` threads. `corrupt(index)` says which chunks to
    /// falsify (the demo's dishonest provider; `|_| false` for everyone else).
    pub fn run(spec: &Spec, threads: usize, corrupt: impl Fn(u32) -> bool + Sync) -> Self {
        let prepared = spec.prepare();
        let count = spec.chunk_count();
        let threads = threads.clamp(1, count as usize);
        let mut outputs = vec![Vec::new(); count as usize];
        std::thread::scope(|scope| {
            let per_thread = (count as usize).div_ceil(threads);
            for (part, slots) in outputs.chunks_mut(per_thread).enumerate() {
                let (prepared, corrupt) = (&prepared, &corrupt);
                scope.spawn(move || {
                    for (offset, slot) in slots.iter_mut().enumerate() {
                        let index = (part * per_thread + offset) as u32;
                        let mut bytes = prepared.chunk(index);
                        if corrupt(index) {
                            falsify(&mut bytes, index);
                        }
                        *slot = bytes;
                    }
                });
            }
        });
        Self::from_outputs(outputs)
    }

    pub fn from_outputs(outputs: Vec<Vec<u8>>) -> Self {
        let leaves = outputs
            .iter()
            .enumerate()
            .map(|(i, out)| chunk_leaf(i as u32, out))
            .collect();
        Self {
            tree: MerkleTree::new(leaves),
            outputs,
        }
    }

    pub fn root(&self) -> Hash32 {
        self.tree.root()
    }

    pub fn output_hash(&self) -> Hash32 {
        output_hash(&self.outputs)
    }
}

/// The hash of a job's whole output: SHA-256 over the chunk outputs in order.
pub fn output_hash(outputs: &[Vec<u8>]) -> Hash32 {
    let parts: Vec<&[u8]> = outputs.iter().map(Vec::as_slice).collect();
    hashv(&parts).to_bytes()
}

/// What a cheating provider does to a chunk it did not compute: plausible bytes of the right length.
fn falsify(bytes: &mut [u8], index: u32) {
    let noise = hashv(&[b"not computed", &index.to_le_bytes()]).to_bytes();
    for (byte, n) in bytes.iter_mut().zip(noise.iter().cycle()) {
        *byte ^= n | 1;
    }
}

/// A deterministic 64-bit generator (SplitMix64) for seeded inputs.
pub(crate) fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gpu_market::verification::verify_proof;

    fn specs() -> Vec<Spec> {
        vec![Spec::Matmul(Matmul::demo(7)), Spec::Render(Render::demo(7))]
    }

    #[test]
    fn documents_round_trip_and_hash_what_they_say() {
        for spec in specs() {
            let uri = spec.data_uri();
            assert!(
                uri.len() <= gpu_market::constants::MAX_SPEC_URI_LEN,
                "{uri}"
            );
            let parsed = Spec::parse(&spec.document()).expect("parses");
            assert_eq!(parsed, spec);
            assert_eq!(parsed.hash(), spec.hash());
        }
        assert_ne!(specs()[0].hash(), Spec::Matmul(Matmul::demo(8)).hash());
    }

    #[test]
    fn a_spec_is_refused_when_its_hash_kind_scheme_or_size_is_wrong() {
        let spec = Spec::Matmul(Matmul::demo(1));
        let ok = Spec::resolve(&spec.data_uri(), &spec.hash(), WorkloadKind::Matmul);
        assert_eq!(ok.expect("resolves"), spec);
        let wrong_hash = Spec::resolve(&spec.data_uri(), &[0; 32], WorkloadKind::Matmul);
        assert!(wrong_hash.unwrap_err().to_string().contains("spec hash"));
        let wrong_kind = Spec::resolve(&spec.data_uri(), &spec.hash(), WorkloadKind::Render);
        assert!(wrong_kind.unwrap_err().to_string().contains("Render"));
        let fetched = Spec::resolve(
            "http://10.0.0.1/spec.json",
            &spec.hash(),
            WorkloadKind::Matmul,
        );
        assert!(fetched.unwrap_err().to_string().contains("inline"));
        assert!(Spec::parse(r#"{"kind":"matmul","seed":1}"#).is_err());

        // Each side within bounds, the whole too large: a 2 GiB right-hand matrix, a chunk of 2^31
        // multiply-adds, 2^26 tiles.
        let huge = r#"{"kind":"matmul","seed":1,"m":16384,"k":16384,"n":16384,"rows_per_chunk":1}"#;
        assert!(
            Spec::parse(huge)
                .unwrap_err()
                .to_string()
                .contains("right-hand")
        );
        let long = r#"{"kind":"matmul","seed":1,"m":16384,"k":2048,"n":2048,"rows_per_chunk":512}"#;
        assert!(
            Spec::parse(long)
                .unwrap_err()
                .to_string()
                .contains("multiply-adds")
        );
        let tiles = r#"{"kind":"render","seed":1,"width":8192,"height":8192,"tile":1}"#;
        assert!(
            Spec::parse(tiles)
                .unwrap_err()
                .to_string()
                .contains("chunks")
        );
        let wide = r#"{"kind":"render","seed":1,"width":8192,"height":8192,"tile":256}"#;
        assert!(Spec::parse(wide).is_ok(), "192 MiB of pixels is allowed");
    }

    #[test]
    fn the_extreme_render_shapes_compute() {
        for (width, height, tile) in [(8192, 1, 256), (1, 8192, 1), (1, 1, 1)] {
            let spec = Spec::Render(Render {
                seed: 9,
                width,
                height,
                tile,
            });
            spec.validate().expect("valid");
            let prepared = spec.prepare();
            let last = prepared.chunk(spec.chunk_count() - 1);
            assert!(!last.is_empty() && last.len() as u64 <= spec.max_chunk_bytes());
        }
    }

    #[test]
    fn throughput_estimates_scale_with_work() {
        let t = Throughput {
            matmul_per_sec: 1e9,
            render_per_sec: 1e6,
        };
        let small = Spec::Matmul(Matmul::demo(1));
        assert!((t.estimate_secs(&small, 1) - 960.0 * 64.0 * 64.0 / 1e9).abs() < 1e-9);
        assert!((t.estimate_secs(&small, 2) * 2.0 - t.estimate_secs(&small, 1)).abs() < 1e-9);
        let measured = Throughput::measure();
        assert!(measured.matmul_per_sec > 0.0 && measured.render_per_sec > 0.0);
    }

    #[test]
    fn threads_do_not_change_the_output_and_proofs_check() {
        for spec in specs() {
            let one = Computed::run(&spec, 1, |_| false);
            let many = Computed::run(&spec, 3, |_| false);
            assert_eq!(one.outputs, many.outputs);
            assert_eq!(one.root(), many.root());
            assert_eq!(one.outputs.len() as u32, spec.chunk_count());
            assert!(spec.chunk_count() >= gpu_market::constants::recommended::MIN_CHUNK_COUNT);
            let prepared = spec.prepare();
            for index in [0, 1, spec.chunk_count() / 2, spec.chunk_count() - 1] {
                assert_eq!(prepared.chunk(index), one.outputs[index as usize]);
                let leaf = chunk_leaf(index, &one.outputs[index as usize]);
                let proof = one.tree.proof(index);
                assert!(verify_proof(
                    &one.root(),
                    &leaf,
                    index,
                    spec.chunk_count(),
                    &proof
                ));
            }
        }
    }

    #[test]
    fn falsified_chunks_differ_and_only_those() {
        let spec = specs().remove(1);
        let honest = Computed::run(&spec, 2, |_| false);
        let faked = Computed::run(&spec, 2, |i| i % 10 == 3);
        for (i, (a, b)) in honest.outputs.iter().zip(&faked.outputs).enumerate() {
            assert_eq!(a.len(), b.len());
            assert_eq!(a == b, i % 10 != 3, "chunk {i}");
        }
        assert_ne!(honest.root(), faked.root());
    }
}
