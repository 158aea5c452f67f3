//! The provider endpoint's protocol: chunk outputs with their Merkle proofs, as JSON over HTTP.
//!
//! - `GET /v1/jobs/{job}/chunks/{index}` → [`ChunkProof`]
//! - `GET /v1/jobs/{job}/chunks?from=N` → [`JobOutput`]: chunks from `N` on, up to about 8 MiB, and
//!   where the next page starts (for the client assembling the result)

use base64::{Engine, engine::general_purpose::STANDARD};
use gpu_market::verification::{Hash32, chunk_leaf, verify_proof};
use serde::{Deserialize, Serialize};
use solana_sdk::pubkey::Pubkey;
use std::time::Duration;

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct ChunkProof {
    pub job: String,
    pub index: u32,
    pub chunk_count: u32,
    /// The chunk's output bytes, base64.
    pub output: String,
    /// Sibling hashes from the leaf up, hex.
    pub proof: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct JobOutput {
    pub job: String,
    pub chunk_count: u32,
    /// The first chunk of this page.
    pub from: u32,
    /// Chunk outputs from `from` on, base64, in order.
    pub outputs: Vec<String>,
    /// Where the next page starts; absent on the last.
    pub next: Option<u32>,
}

/// Output bytes per page of [`JobOutput`] (a page holds at least one chunk).
pub const PAGE_BYTES: usize = 8 << 20;

/// Largest answer read from a provider. A page holds under `PAGE_BYTES` plus one chunk, which base64
/// makes 4/3 larger; twice that leaves room for the JSON and the proofs.
const MAX_ANSWER_BYTES: usize = 2 * (PAGE_BYTES + crate::workload::MAX_CHUNK_BYTES as usize);

pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

impl ChunkProof {
    /// The output, once its proof is checked against `root` for a job of `chunk_count` chunks.
    pub fn verified_output(&self, root: &Hash32, chunk_count: u32) -> anyhow::Result<Vec<u8>> {
        let output = STANDARD.decode(&self.output)?;
        let proof = self
            .proof
            .iter()
            .map(|h| {
                let bytes = hex::decode(h)?;
                Hash32::try_from(bytes.as_slice())
                    .map_err(|_| anyhow::anyhow!("a proof hash is not 32 bytes"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let leaf = chunk_leaf(self.index, &output);
        anyhow::ensure!(
            verify_proof(root, &leaf, self.index, chunk_count, &proof),
            "chunk {}'s proof does not lead to the committed root",
            self.index
        );
        Ok(output)
    }
}

/// An HTTP client for provider endpoints.
#[derive(Clone)]
pub struct EndpointClient {
    http: reqwest::Client,
}

impl Default for EndpointClient {
    fn default() -> Self {
        Self {
            // No redirects: a provider's endpoint must not send a verifier elsewhere.
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client"),
        }
    }
}

impl EndpointClient {
    /// GETs `url` and reads a JSON answer of at most [`MAX_ANSWER_BYTES`].
    async fn get<T: serde::de::DeserializeOwned>(&self, url: &str) -> anyhow::Result<T> {
        let mut response = self.http.get(url).send().await?.error_for_status()?;
        let mut body = Vec::new();
        while let Some(part) = response.chunk().await? {
            anyhow::ensure!(
                body.len() + part.len() <= MAX_ANSWER_BYTES,
                "{url} answered with more than {MAX_ANSWER_BYTES} bytes"
            );
            body.extend_from_slice(&part);
        }
        serde_json::from_slice(&body)
            .map_err(|e| anyhow::anyhow!("{url} answered with bad JSON: {e}"))
    }

    pub async fn chunk(
        &self,
        endpoint: &str,
        job: &Pubkey,
        index: u32,
    ) -> anyhow::Result<ChunkProof> {
        let url = format!(
            "{}/v1/jobs/{job}/chunks/{index}",
            endpoint.trim_end_matches('/')
        );
        let proof: ChunkProof = self.get(&url).await?;
        anyhow::ensure!(
            proof.index == index && proof.job == job.to_string(),
            "{url} answered for another chunk"
        );
        Ok(proof)
    }

    /// Every chunk of `job`, page by page: `expected` chunks (the committed count), none over
    /// `max_chunk_bytes`, `max_total_bytes` in all (the spec's sizes), so that a provider cannot make
    /// the client download without end.
    pub async fn all(
        &self,
        endpoint: &str,
        job: &Pubkey,
        expected: u32,
        max_chunk_bytes: u64,
        max_total_bytes: u64,
    ) -> anyhow::Result<Vec<Vec<u8>>> {
        let mut outputs = Vec::new();
        let mut total = 0u64;
        let mut from = 0u32;
        loop {
            let url = format!(
                "{}/v1/jobs/{job}/chunks?from={from}",
                endpoint.trim_end_matches('/')
            );
            let page: JobOutput = self.get(&url).await?;
            anyhow::ensure!(
                page.from == from && page.chunk_count == expected && !page.outputs.is_empty(),
                "{url} answered with another page"
            );
            for output in &page.outputs {
                let bytes = STANDARD.decode(output)?;
                total += bytes.len() as u64;
                anyhow::ensure!(
                    bytes.len() as u64 <= max_chunk_bytes && total <= max_total_bytes,
                    "{url} sent chunks larger than the spec's"
                );
                outputs.push(bytes);
            }
            anyhow::ensure!(
                outputs.len() <= expected as usize,
                "{url} sent too many chunks"
            );
            match page.next {
                Some(next) if next as usize == outputs.len() => from = next,
                Some(_) => anyhow::bail!("{url} skipped chunks"),
                None => break,
            }
        }
        Ok(outputs)
    }
}
