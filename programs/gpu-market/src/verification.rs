//! Compute-proof primitives shared by the program, the provider agent, the verifier and the tests:
//! the Merkle commitment over a job's chunks, and the derivation of which chunks verifiers sample.
//!
//! - Leaf `i` = `H(i as u32 LE ‖ H(chunk_output))`; the index inside the leaf binds each output to its
//!   position.
//! - Inner node = `H(0x01 ‖ left ‖ right)`; a node without a sibling is carried up unchanged (never
//!   duplicated, which would let two different leaf lists share a root).
//! - Sample seed = `H("gpu-market/sample/v1" ‖ slot_hash ‖ job)`, from a slot hash that did not exist when
//!   the root was committed, so the provider cannot choose which chunks get checked.
//! - Sample indices: `min(k, n)` distinct indices in `0..n`, drawn from `H(seed ‖ counter)`.
//!
//! `H` is SHA-256 (the runtime's `sol_sha256` on-chain).

use solana_sha256_hasher::hashv;

pub type Hash32 = [u8; 32];

const NODE_TAG: &[u8] = &[1];
const SAMPLE_DOMAIN: &[u8] = b"gpu-market/sample/v1";

/// The leaf committing to chunk `index` whose output hashes to `output_hash`.
pub fn leaf(index: u32, output_hash: &Hash32) -> Hash32 {
    hashv(&[index.to_le_bytes().as_slice(), output_hash]).to_bytes()
}

/// The leaf committing to chunk `index` with output bytes `output`.
pub fn chunk_leaf(index: u32, output: &[u8]) -> Hash32 {
    leaf(index, &hashv(&[output]).to_bytes())
}

fn node(left: &Hash32, right: &Hash32) -> Hash32 {
    hashv(&[NODE_TAG, left, right]).to_bytes()
}

/// A whole tree, kept by the provider to answer proof requests.
#[derive(Clone, Debug)]
pub struct MerkleTree {
    /// `levels[0]` are the leaves, the last level is the root alone.
    levels: Vec<Vec<Hash32>>,
}

impl MerkleTree {
    /// Builds the tree over `leaves` (at least one).
    pub fn new(leaves: Vec<Hash32>) -> Self {
        assert!(!leaves.is_empty(), "a Merkle tree needs at least one leaf");
        let mut levels = vec![leaves];
        while levels.last().is_some_and(|level| level.len() > 1) {
            let below = levels.last().expect("non-empty");
            let above = below
                .chunks(2)
                .map(|pair| match pair {
                    [left, right] => node(left, right),
                    [single] => *single,
                    _ => unreachable!("chunks(2) yields one or two"),
                })
                .collect();
            levels.push(above);
        }
        Self { levels }
    }

    pub fn root(&self) -> Hash32 {
        self.levels.last().expect("non-empty")[0]
    }

    pub fn leaf_count(&self) -> u32 {
        self.levels[0].len() as u32
    }

    /// The sibling hashes from leaf `index` up to the root (levels where it has no sibling are skipped).
    pub fn proof(&self, index: u32) -> Vec<Hash32> {
        let mut position = index as usize;
        let mut proof = vec![];
        for level in &self.levels[..self.levels.len() - 1] {
            let sibling = position ^ 1;
            if sibling < level.len() {
                proof.push(level[sibling]);
            }
            position /= 2;
        }
        proof
    }
}

/// Whether `proof` shows that `leaf` sits at `index` in a tree of `leaf_count` leaves with `root`.
pub fn verify_proof(
    root: &Hash32,
    leaf: &Hash32,
    index: u32,
    leaf_count: u32,
    proof: &[Hash32],
) -> bool {
    if index >= leaf_count {
        return false;
    }
    let mut hash = *leaf;
    let mut position = index as u64;
    let mut width = u64::from(leaf_count);
    let mut siblings = proof.iter();
    while width > 1 {
        let sibling = position ^ 1;
        if sibling < width {
            let Some(sibling_hash) = siblings.next() else {
                return false;
            };
            hash = if position.is_multiple_of(2) {
                node(&hash, sibling_hash)
            } else {
                node(sibling_hash, &hash)
            };
        }
        position /= 2;
        width = width.div_ceil(2);
    }
    siblings.next().is_none() && hash == *root
}

/// The seed verifiers sample from, given the hash of a slot after the submission.
pub fn sample_seed(slot_hash: &Hash32, job: &[u8; 32]) -> Hash32 {
    hashv(&[SAMPLE_DOMAIN, slot_hash, job]).to_bytes()
}

/// The SlotHashes sysvar's data was not the list it should be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MalformedSlotHashes;

const SLOT_HASH_ENTRY_LEN: usize = 8 + 32;

/// Where a job's seed slot stands in the SlotHashes sysvar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedSlot {
    /// No slot at or after the target has a hash yet.
    NotReady,
    /// The seed slot and its hash: the first slot at or after the target that has an entry.
    Ready(u64, Hash32),
    /// The target is older than every entry left, so the first slot at or after it can no longer
    /// be told apart from later ones: the seed cannot be recorded any more.
    Expired,
}

/// The entry the sample seed comes from: in the SlotHashes sysvar's data (a `u64` count, then
/// `(slot, hash)` entries from newest to oldest), the oldest entry whose slot is at least
/// `target_slot`. Skipped slots have no entry, hence "at least". The answer is the same whenever it
/// is asked, from the moment the slot has a hash until the target ages out of the sysvar (512
/// slots); from then on it is [`SeedSlot::Expired`], never a later slot's hash, so nobody can pick
/// the seed by choosing when to record it.
pub fn seed_slot_hash(
    slot_hashes: &[u8],
    target_slot: u64,
) -> Result<SeedSlot, MalformedSlotHashes> {
    let (count, entries) = slot_hashes.split_at_checked(8).ok_or(MalformedSlotHashes)?;
    let count = u64::from_le_bytes(count.try_into().map_err(|_| MalformedSlotHashes)?);
    let count = usize::try_from(count).map_err(|_| MalformedSlotHashes)?;
    let entries = entries
        .get(
            ..count
                .checked_mul(SLOT_HASH_ENTRY_LEN)
                .ok_or(MalformedSlotHashes)?,
        )
        .ok_or(MalformedSlotHashes)?;
    let entry = |i: usize| {
        let bytes = &entries[i * SLOT_HASH_ENTRY_LEN..(i + 1) * SLOT_HASH_ENTRY_LEN];
        let slot = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
        let hash: Hash32 = bytes[8..].try_into().expect("32 bytes");
        (slot, hash)
    };
    // Newest first, so the entries at or after the target are a prefix; binary search its end.
    let (mut low, mut high) = (0, count);
    while low < high {
        let mid = low + (high - low) / 2;
        if entry(mid).0 >= target_slot {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    let Some(found) = low.checked_sub(1) else {
        return Ok(SeedSlot::NotReady);
    };
    let (slot, hash) = entry(found);
    // The found entry is the oldest left and is past the target: an entry between the target and
    // it may have aged out, so it is not provably the first.
    if found == count - 1 && slot > target_slot {
        return Ok(SeedSlot::Expired);
    }
    Ok(SeedSlot::Ready(slot, hash))
}

/// `min(sample_count, chunk_count)` distinct chunk indices, determined by `seed` alone.
pub fn sample_indices(seed: &Hash32, chunk_count: u32, sample_count: u16) -> Vec<u32> {
    let n = chunk_count;
    let k = u32::from(sample_count).min(n) as usize;
    let mut draws = (0u64..).map(|counter| {
        let h = hashv(&[seed.as_slice(), &counter.to_le_bytes()]).to_bytes();
        u64::from_le_bytes(h[..8].try_into().expect("8 bytes"))
    });
    if u64::from(n) <= 2 * k as u64 {
        // Dense: a partial Fisher–Yates shuffle of 0..n (n is at most twice the sample count here).
        let mut pool: Vec<u32> = (0..n).collect();
        for i in 0..k {
            let remaining = u64::from(n) - i as u64;
            let j = i + (draws.next().expect("endless") % remaining) as usize;
            pool.swap(i, j);
        }
        pool.truncate(k);
        pool
    } else {
        // Sparse: draw and reject repeats; fewer than two draws per index on average.
        let mut picked = Vec::with_capacity(k);
        while picked.len() < k {
            let index = (draws.next().expect("endless") % u64::from(n)) as u32;
            if !picked.contains(&index) {
                picked.push(index);
            }
        }
        picked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: u32) -> Vec<Hash32> {
        (0..n).map(|i| chunk_leaf(i, &i.to_le_bytes())).collect()
    }

    #[test]
    fn every_leaf_proves_against_the_root_for_every_tree_size() {
        for n in 1..=33 {
            let tree = MerkleTree::new(leaves(n));
            for i in 0..n {
                let proof = tree.proof(i);
                assert!(
                    verify_proof(&tree.root(), &leaves(n)[i as usize], i, n, &proof),
                    "n={n} i={i}"
                );
            }
        }
    }

    #[test]
    fn a_single_leaf_is_its_own_root() {
        let tree = MerkleTree::new(leaves(1));
        assert_eq!(tree.root(), leaves(1)[0]);
        assert!(tree.proof(0).is_empty());
    }

    #[test]
    fn hand_computed_three_leaf_root() {
        let l = leaves(3);
        // Level 1: node(l0, l1), l2 carried up. Root: node(node(l0, l1), l2).
        let expected = node(&node(&l[0], &l[1]), &l[2]);
        assert_eq!(MerkleTree::new(l).root(), expected);
    }

    #[test]
    fn forged_proofs_fail() {
        let n = 10;
        let tree = MerkleTree::new(leaves(n));
        let root = tree.root();
        let good = tree.proof(4);
        let leaf4 = leaves(n)[4];
        // Another output at the same index.
        assert!(!verify_proof(&root, &chunk_leaf(4, b"fake"), 4, n, &good));
        // The right output claimed at another index.
        assert!(!verify_proof(&root, &leaf4, 5, n, &good));
        // A tampered sibling, a missing one, an extra one.
        let mut tampered = good.clone();
        tampered[0][0] ^= 1;
        assert!(!verify_proof(&root, &leaf4, 4, n, &tampered));
        assert!(!verify_proof(&root, &leaf4, 4, n, &good[..good.len() - 1]));
        let mut longer = good.clone();
        longer.push([0; 32]);
        assert!(!verify_proof(&root, &leaf4, 4, n, &longer));
        // An index past the end, and the wrong leaf count.
        assert!(!verify_proof(&root, &leaf4, n, n, &good));
        assert!(!verify_proof(&root, &leaf4, 4, n + 7, &good));
    }

    #[test]
    fn samples_are_distinct_in_range_deterministic_and_capped() {
        let seed = sample_seed(&[9; 32], &[3; 32]);
        for (n, k) in [
            (1, 48),
            (10, 48),
            (96, 48),
            (97, 48),
            (1_000, 48),
            (1 << 24, 1_024),
        ] {
            let picked = sample_indices(&seed, n, k);
            assert_eq!(picked.len() as u32, u32::from(k).min(n), "n={n} k={k}");
            let mut sorted = picked.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), picked.len(), "repeats for n={n}");
            assert!(picked.iter().all(|&i| i < n));
            assert_eq!(picked, sample_indices(&seed, n, k));
        }
        assert_ne!(
            sample_indices(&sample_seed(&[1; 32], &[3; 32]), 1_000, 48),
            sample_indices(&sample_seed(&[2; 32], &[3; 32]), 1_000, 48)
        );
    }

    fn slot_hashes_data(slots: &[u64]) -> Vec<u8> {
        let mut data = (slots.len() as u64).to_le_bytes().to_vec();
        for &slot in slots {
            data.extend_from_slice(&slot.to_le_bytes());
            data.extend_from_slice(&[slot as u8; 32]);
        }
        data
    }

    #[test]
    fn the_seed_slot_is_the_oldest_at_or_after_the_target() {
        // Newest first, with slots 104 and 101 skipped.
        let data = slot_hashes_data(&[107, 106, 105, 103, 102, 100, 99]);
        let at = |target| match seed_slot_hash(&data, target).unwrap() {
            SeedSlot::Ready(slot, _) => Some(slot),
            SeedSlot::NotReady => None,
            SeedSlot::Expired => Some(0),
        };
        assert_eq!(at(100), Some(100));
        assert_eq!(at(101), Some(102));
        assert_eq!(at(104), Some(105));
        assert_eq!(at(107), Some(107));
        assert_eq!(at(108), None);
        // The oldest entry left, when it is the target itself.
        assert_eq!(at(99), Some(99));
        assert_eq!(
            seed_slot_hash(&data, 103).unwrap(),
            SeedSlot::Ready(103, [103; 32])
        );
        assert_eq!(
            seed_slot_hash(&slot_hashes_data(&[]), 1).unwrap(),
            SeedSlot::NotReady
        );
    }

    #[test]
    fn a_target_older_than_every_entry_is_expired_never_a_later_hash() {
        // Slots 99 and older have aged out: whether 98 had a hash can no longer be known.
        let data = slot_hashes_data(&[103, 102, 101, 100]);
        assert_eq!(seed_slot_hash(&data, 98).unwrap(), SeedSlot::Expired);
        assert_eq!(seed_slot_hash(&data, 50).unwrap(), SeedSlot::Expired);
        // The target itself still there: ready, although it is the oldest entry.
        assert_eq!(
            seed_slot_hash(&data, 100).unwrap(),
            SeedSlot::Ready(100, [100; 32])
        );
        // Every later sysvar answers the same until the target ages out, then only Expired.
        let mut newest_first: Vec<u64> = (90..=100).rev().collect();
        let first = seed_slot_hash(&slot_hashes_data(&newest_first), 95).unwrap();
        for next in 101..120 {
            newest_first.insert(0, next);
            newest_first.truncate(11);
            let answer = seed_slot_hash(&slot_hashes_data(&newest_first), 95).unwrap();
            assert!(
                answer == first || answer == SeedSlot::Expired,
                "slot {next}"
            );
            if newest_first.last() > Some(&95) {
                assert_eq!(answer, SeedSlot::Expired, "slot {next}");
            }
        }
    }

    #[test]
    fn malformed_slot_hashes_are_refused() {
        let data = slot_hashes_data(&[5, 4]);
        assert_eq!(seed_slot_hash(&data[..7], 1), Err(MalformedSlotHashes));
        assert_eq!(
            seed_slot_hash(&data[..data.len() - 1], 1),
            Err(MalformedSlotHashes)
        );
        let mut huge = data.clone();
        huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(seed_slot_hash(&huge, 1), Err(MalformedSlotHashes));
    }

    #[test]
    fn samples_cover_chunks_evenly() {
        // 4,000 seeds × 10 samples of 100 chunks: each chunk expects 400 hits; allow ±25%.
        let mut hits = [0u32; 100];
        for s in 0u32..4_000 {
            let seed = sample_seed(&hashv(&[&s.to_le_bytes()]).to_bytes(), &[0; 32]);
            for i in sample_indices(&seed, 100, 10) {
                hits[i as usize] += 1;
            }
        }
        assert!(hits.iter().all(|&h| (300..=500).contains(&h)), "{hits:?}");
    }
}
