//! The RPC datasource: the program's signatures since the checkpoint (`getSignaturesForAddress`,
//! paged backwards) and each transaction (`getTransaction`), at one commitment for both.

use crate::store::Checkpoint;
use solana_client::{
    nonblocking::rpc_client::RpcClient, rpc_client::GetConfirmedSignaturesForAddress2Config,
    rpc_config::RpcTransactionConfig,
};
use solana_commitment_config::CommitmentConfig;
use solana_sdk::{pubkey::Pubkey, signature::Signature};
use solana_transaction_status_client_types::{
    EncodedConfirmedTransactionWithStatusMeta, UiTransactionEncoding,
};
use std::{str::FromStr, time::Duration};

fn oldest_first(mut newest_first: Vec<Pending>) -> Vec<Pending> {
    newest_first.reverse();
    newest_first
}

/// A real node's page size for `getSignaturesForAddress`.
const PAGE: usize = 1_000;

pub struct Source {
    rpc: RpcClient,
    program_id: Pubkey,
    commitment: CommitmentConfig,
}

/// A signature to index, in chain order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    pub signature: Signature,
    pub slot: u64,
}

impl Source {
    /// `commitment` must be confirmed or finalized: processed data is never indexed.
    pub fn new(
        rpc_url: String,
        program_id: Pubkey,
        commitment: CommitmentConfig,
    ) -> anyhow::Result<Self> {
        Self::with_timeout(rpc_url, program_id, commitment, Duration::from_secs(30))
    }

    /// [`Self::new`] with a per-request timeout.
    pub fn with_timeout(
        rpc_url: String,
        program_id: Pubkey,
        commitment: CommitmentConfig,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            !commitment.is_processed(),
            "the indexer reads confirmed or finalized data, never processed"
        );
        Ok(Self {
            rpc: RpcClient::new_with_timeout_and_commitment(rpc_url, timeout, commitment),
            program_id,
            commitment,
        })
    }

    pub fn program_id(&self) -> &Pubkey {
        &self.program_id
    }

    /// Every signature of the program after `checkpoint`, oldest first. The listing pages back
    /// until it reaches the checkpoint's transaction (or a slot before it); a node whose history
    /// ends first is refused, since what lies between would be a silent gap.
    pub async fn signatures_since(
        &self,
        checkpoint: Option<Checkpoint>,
    ) -> anyhow::Result<Vec<Pending>> {
        let mut newest_first = vec![];
        let mut before = None;
        loop {
            let page = self
                .rpc
                .get_signatures_for_address_with_config(
                    &self.program_id,
                    GetConfirmedSignaturesForAddress2Config {
                        before,
                        until: None,
                        limit: Some(PAGE),
                        commitment: Some(self.commitment),
                    },
                )
                .await?;
            let full = page.len() == PAGE;
            for status in &page {
                let pending = Pending {
                    signature: Signature::from_str(&status.signature)?,
                    slot: status.slot,
                };
                if let Some(checkpoint) = checkpoint
                    && (pending.signature == checkpoint.signature || pending.slot < checkpoint.slot)
                {
                    return Ok(oldest_first(newest_first));
                }
                before = Some(pending.signature);
                newest_first.push(pending);
            }
            if !full {
                break;
            }
        }
        if let Some(checkpoint) = checkpoint {
            anyhow::bail!(
                "the node's history of the program ends before the checkpoint (slot {}, {}): \
                 the transactions between could not be listed. Use an RPC node that keeps that \
                 history, or index into a new database",
                checkpoint.slot,
                checkpoint.signature
            );
        }
        Ok(oldest_first(newest_first))
    }

    /// The transaction, base64-encoded so its message's keys are at hand for decoding.
    pub async fn transaction(
        &self,
        signature: &Signature,
    ) -> anyhow::Result<EncodedConfirmedTransactionWithStatusMeta> {
        Ok(self
            .rpc
            .get_transaction_with_config(
                signature,
                RpcTransactionConfig {
                    encoding: Some(UiTransactionEncoding::Base64),
                    commitment: Some(self.commitment),
                    max_supported_transaction_version: Some(0),
                },
            )
            .await?)
    }
}
