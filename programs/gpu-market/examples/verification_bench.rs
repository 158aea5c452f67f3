//! Verification benchmark: how often sampled verification catches a provider that fakes part of a job,
//! what checking costs a verifier next to doing the job, what cheating is worth under the
//! recommended market parameters, and what a verifier that votes pass without checking stands to
//! gain or lose by its bond. It uses the program's own sampling and Merkle code.
//!
//! ```text
//! cargo run --release -p gpu-market --example verification_bench [-- --precision 0.001 --max-runs 1000000 --chunks 1024]
//! ```
//!
//! Detection: for each (faked fraction f, sample count k) the provider commits a Merkle root over its
//! chunk outputs with `ceil(f × n)` of them faked. Each run draws a fresh slot hash and job key, derives
//! the sample seed and indices exactly as verifiers do, and for every sampled chunk checks the served
//! output against the root with its Merkle proof, then against the honest recomputation. A run detects
//! the fraud when any sampled chunk differs. Runs continue until the 95% confidence half-width is
//! within `--precision` (or `--max-runs`), and the rate is printed beside `1 − (1 − f)^k`.

use gpu_market::{
    MarketParams,
    constants::recommended,
    verification::{Hash32, MerkleTree, leaf, sample_indices, sample_seed, verify_proof},
};
use solana_sha256_hasher::hashv;
use std::{thread, time::Instant};

/// SplitMix64: the benchmark's own randomness (which chunks are faked, slot hashes, job keys). Not
/// security-relevant; a few lines instead of a dependency.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn hash(&mut self) -> Hash32 {
        let mut out = [0; 32];
        for part in out.chunks_mut(8) {
            part.copy_from_slice(&self.next().to_le_bytes());
        }
        out
    }
}

/// The deterministic work of one chunk: a 32×32 integer matrix product over inputs seeded by the
/// chunk index (a stand-in for a block of the matmul workload). Returns the output bytes.
fn compute_chunk(job_seed: u64, index: u32) -> Vec<u8> {
    const N: usize = 32;
    let mut rng = SplitMix(job_seed ^ (u64::from(index) << 32));
    let a: Vec<u32> = (0..N * N).map(|_| rng.next() as u32).collect();
    let b: Vec<u32> = (0..N * N).map(|_| rng.next() as u32).collect();
    let mut c = vec![0u32; N * N];
    for i in 0..N {
        for k in 0..N {
            let aik = a[i * N + k];
            for j in 0..N {
                c[i * N + j] = c[i * N + j].wrapping_add(aik.wrapping_mul(b[k * N + j]));
            }
        }
    }
    c.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn output_hash(output: &[u8]) -> Hash32 {
    hashv(&[output]).to_bytes()
}

/// A provider's commitment with `faked` chunks replaced by made-up outputs.
struct Commitment {
    tree: MerkleTree,
    /// What the provider serves for each chunk (the hash of the output it claims).
    served: Vec<Hash32>,
}

fn commit(honest: &[Hash32], faked: usize, rng: &mut SplitMix) -> Commitment {
    let n = honest.len();
    let mut served = honest.to_vec();
    // A uniformly random set of `faked` chunks (partial Fisher–Yates).
    let mut order: Vec<usize> = (0..n).collect();
    for i in 0..faked {
        let j = i + (rng.next() % (n - i) as u64) as usize;
        order.swap(i, j);
        served[order[i]] = rng.hash();
    }
    let leaves = served
        .iter()
        .enumerate()
        .map(|(i, h)| leaf(i as u32, h))
        .collect();
    Commitment {
        tree: MerkleTree::new(leaves),
        served,
    }
}

/// One verifier's check of one submitted result: true when it finds a faked chunk.
fn verify_once(c: &Commitment, honest: &[Hash32], k: u16, rng: &mut SplitMix) -> bool {
    let n = honest.len() as u32;
    let root = c.tree.root();
    let seed = sample_seed(&rng.hash(), &rng.hash());
    for index in sample_indices(&seed, n, k) {
        let served = &c.served[index as usize];
        let proof = c.tree.proof(index);
        assert!(
            verify_proof(&root, &leaf(index, served), index, n, &proof),
            "a served chunk must prove against the committed root"
        );
        if *served != honest[index as usize] {
            return true;
        }
    }
    false
}

struct Estimate {
    rate: f64,
    half_width: f64,
    runs: u64,
}

/// Runs batches on every core until the 95% half-width is within `precision` or `max_runs` is reached.
fn estimate(
    c: &Commitment,
    honest: &[Hash32],
    k: u16,
    precision: f64,
    max_runs: u64,
    seed: u64,
) -> Estimate {
    let threads = thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let (mut runs, mut hits, mut round) = (0u64, 0u64, 0u64);
    loop {
        let batch = 2_000u64;
        let found: u64 = thread::scope(|s| {
            let workers: Vec<_> = (0..threads)
                .map(|t| {
                    s.spawn(move || {
                        let mut rng =
                            SplitMix(seed ^ (round * threads + t).wrapping_mul(0xA24B_AED4));
                        (0..batch)
                            .filter(|_| verify_once(c, honest, k, &mut rng))
                            .count() as u64
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().expect("worker")).sum()
        });
        runs += batch * threads;
        hits += found;
        round += 1;
        let p = hits as f64 / runs as f64;
        let half_width = 1.96 * (p * (1.0 - p) / runs as f64).sqrt();
        // At p = 0 or 1 the normal interval collapses; the rule of three bounds it instead.
        let half_width = half_width.max(3.0 / runs as f64);
        if half_width <= precision || runs >= max_runs {
            return Estimate {
                rate: p,
                half_width,
                runs,
            };
        }
    }
}

struct Args {
    precision: f64,
    max_runs: u64,
    chunks: u32,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        precision: 0.001,
        max_runs: 1_000_000,
        chunks: 1_024,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--precision" => args.precision = value.parse().map_err(|e| bad(&e))?,
            "--max-runs" => args.max_runs = value.parse().map_err(|e| bad(&e))?,
            "--chunks" => args.chunks = value.parse().map_err(|e| bad(&e))?,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(args)
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("verification_bench: {e}");
            std::process::exit(2);
        }
    };
    let n = args.chunks;
    let job_seed = 0x6A0B;
    let honest: Vec<Hash32> = (0..n)
        .map(|i| output_hash(&compute_chunk(job_seed, i)))
        .collect();
    let mut rng = SplitMix(7);

    println!(
        "# Detection rate ({n} chunks; 95% half-width ≤ {:.2}% or {} runs)",
        args.precision * 100.0,
        args.max_runs
    );
    println!();
    println!("| faked f | samples k | measured | ± 95% | runs | 1 − (1 − f)^k |");
    println!("|---:|---:|---:|---:|---:|---:|");
    let fractions = [0.01, 0.02, 0.05, 0.10, 0.20];
    let samples = [16u16, 32, 44, 48, 64];
    let mut at_recommended = vec![];
    for &f in &fractions {
        // At least the fraction named: ceil(f × n) chunks.
        let faked = (f * f64::from(n)).ceil() as usize;
        let f = faked as f64 / f64::from(n);
        let commitment = commit(&honest, faked, &mut rng);
        for &k in &samples {
            let e = estimate(
                &commitment,
                &honest,
                k,
                args.precision,
                args.max_runs,
                rng.next(),
            );
            let formula = 1.0 - (1.0 - f).powi(i32::from(k));
            println!(
                "| {:.2}% | {k} | {:.2}% | {:.2}% | {} | {:.2}% |",
                f * 100.0,
                e.rate * 100.0,
                e.half_width * 100.0,
                e.runs,
                formula * 100.0
            );
            if k == recommended::SAMPLE_COUNT {
                at_recommended.push((f, e.rate));
            }
        }
    }

    // Work: the provider computes every chunk and commits; a verifier derives the sample, recomputes
    // the sampled chunks and checks their proofs.
    let k = recommended::SAMPLE_COUNT;
    let jobs = 5;
    let (mut provider_secs, mut verifier_secs) = (0.0, 0.0);
    for job in 0..jobs {
        let started = Instant::now();
        let outputs: Vec<Hash32> = (0..n)
            .map(|i| output_hash(&compute_chunk(job, i)))
            .collect();
        let tree = MerkleTree::new(
            outputs
                .iter()
                .enumerate()
                .map(|(i, h)| leaf(i as u32, h))
                .collect(),
        );
        provider_secs += started.elapsed().as_secs_f64();

        let started = Instant::now();
        let seed = sample_seed(&rng.hash(), &rng.hash());
        let root = tree.root();
        for index in sample_indices(&seed, n, k) {
            let recomputed = output_hash(&compute_chunk(job, index));
            let proof = tree.proof(index);
            assert!(verify_proof(
                &root,
                &leaf(index, &recomputed),
                index,
                n,
                &proof
            ));
        }
        verifier_secs += started.elapsed().as_secs_f64();
    }
    println!();
    println!("# Verifier work ({jobs} jobs of {n} chunks, {k} samples)");
    println!();
    println!(
        "provider: {:.1} ms per job; verifier: {:.2} ms per job; verifier share: {:.2}% of the job's work ({:.2}% of its chunks)",
        provider_secs / f64::from(jobs as u32) * 1e3,
        verifier_secs / f64::from(jobs as u32) * 1e3,
        verifier_secs / provider_secs * 100.0,
        f64::from(k) / f64::from(n) * 100.0
    );

    // Expected value of cheating on an example job: 2 GPUs for 1 hour at 0.40 per GPU-hour. The cheater
    // saves the cost of the work it skips; caught, it forfeits the job's pay and is slashed at the fraud
    // rate on the minimum stake (assumed: its cost equals the price, the case most favourable to it).
    let price = 0.80;
    let gpus = 2.0;
    let min_stake_per_gpu = 100.0;
    let fraud = f64::from(recommended::SLASH_FRAUD_BPS) / 10_000.0;
    println!();
    println!(
        "# Expected value of cheating (job pays {price:.2}; stake {:.0} tokens × fraud slash {:.0}%; k = {k})",
        min_stake_per_gpu * gpus,
        fraud * 100.0
    );
    println!();
    println!(
        "| faked f | caught | gain if not caught | EV vs honest, stake token = 0 | = 0.01 | = 0.10 |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    for &(f, caught) in &at_recommended {
        let saved = f * price;
        let ev = |stake_price: f64| {
            let slash = fraud * min_stake_per_gpu * gpus * stake_price;
            saved - caught * (price + slash)
        };
        println!(
            "| {:.2}% | {:.2}% | {saved:+.3} | {:+.3} | {:+.3} | {:+.3} |",
            f * 100.0,
            caught * 100.0,
            ev(0.0),
            ev(0.01),
            ev(0.10)
        );
    }

    // Expected value of a lazy pass vote: a verifier that votes pass without re-executing saves its
    // share of the job's work (measured above, valued at the job's price, the case most favourable
    // to laziness). It loses the verifier bond only when a verifier quorum decides the job the
    // other way (`close_verdict`), and its own pass vote never counts towards a fail quorum: so only
    // when at least a quorum of *other* verifiers check the job and vote fail. Those checking peers
    // all draw the same sample (one seed per job), so they catch a fake as often as sampling does.
    // Per vote it then loses `share of faked jobs × caught × bond × stake token price`; every faker
    // is assumed to fake the 10% row's fraction. With fewer checking peers than the quorum, a lazy
    // pass is never outvoted and costs nothing (an honest fail and a lazy pass leave the job to a
    // ruling or the default, which slash no verifier), and lazy voters that reach a pass quorum
    // first pass the fake and take the honest dissenters' bonds. Verifiers are not paid per vote,
    // so not voting at all saves as much and risks nothing; the table compares lazy with honest
    // voting, for a verifier that votes.
    let (faked_f, caught) = at_recommended
        .iter()
        .copied()
        .find(|(f, _)| *f >= 0.10)
        .expect("a 10% row");
    let share = verifier_secs / provider_secs;
    let saved = share * price;
    let params = MarketParams::recommended(min_stake_per_gpu as u64);
    let bond = params.verifier_bond as f64;
    let quorum = params.verifier_quorum;
    println!();
    println!(
        "# Expected value of a lazy pass vote, when at least {quorum} other verifiers check (saves {:.2}% of the job's work = {saved:+.3}; bond {bond:.0} tokens; fakers fake {:.2}%, caught {:.2}%)",
        share * 100.0,
        faked_f * 100.0,
        caught * 100.0
    );
    println!();
    println!("| faked jobs | EV of laziness, stake token = 0 | = 0.01 | = 0.10 |");
    println!("|---:|---:|---:|---:|");
    for faked_jobs in [0.001, 0.01, 0.05, 0.10] {
        let ev = |stake_price: f64| saved - faked_jobs * caught * bond * stake_price;
        println!(
            "| {:.1}% | {:+.3} | {:+.3} | {:+.3} |",
            faked_jobs * 100.0,
            ev(0.0),
            ev(0.01),
            ev(0.10)
        );
    }
    println!();
    println!(
        "With fewer than {quorum} other verifiers checking, a lazy pass vote is never outvoted: EV of laziness = {saved:+.3} whatever the bond."
    );
}
