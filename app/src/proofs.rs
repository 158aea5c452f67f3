//! The provider endpoint's protocol: chunk outputs with their Merkle proofs, as JSON over HTTP.
//!
//! - `GET /v1/jobs/{job}/chunks/{index}` → [`ChunkProof`]
//! - `GET /v1/jobs/{job}/chunks` → [`JobOutput`] (every chunk, for the client assembling the result)

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
    /// Every chunk's output, base64, in order.
    pub outputs: Vec<String>,
}

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
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client"),
        }
    }
}

impl EndpointClient {
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
        let proof: ChunkProof = self
            .http
            .get(&url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        anyhow::ensure!(
            proof.index == index && proof.job == job.to_string(),
            "{url} answered for another chunk"
        );
        Ok(proof)
    }

    pub async fn all(&self, endpoint: &str, job: &Pubkey) -> anyhow::Result<Vec<Vec<u8>>> {
        let url = format!("{}/v1/jobs/{job}/chunks", endpoint.trim_end_matches('/'));
        let output: JobOutput = self
            .http
            .get(&url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        output
            .outputs
            .iter()
            .map(|o| Ok(STANDARD.decode(o)?))
            .collect()
    }
}
