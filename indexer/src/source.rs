//! The RPC datasource: the program's signatures since the checkpoint (`getSignaturesForAddress`,
//! paged backwards) and each transaction (`getTransaction`), at one commitment for both.

use solana_client::{
    nonblocking::rpc_client::RpcClient, rpc_client::GetConfirmedSignaturesForAddress2Config,
    rpc_config::RpcTransactionConfig, rpc_response::RpcConfirmedTransactionStatusWithSignature,
};
use solana_commitment_config::CommitmentConfig;
use solana_sdk::{pubkey::Pubkey, signature::Signature};
use solana_transaction_status_client_types::{
    EncodedConfirmedTransactionWithStatusMeta, UiTransactionEncoding,
};
use std::str::FromStr;

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
        anyhow::ensure!(
            !commitment.is_processed(),
            "the indexer reads confirmed or finalized data, never processed"
        );
        Ok(Self {
            rpc: RpcClient::new_with_commitment(rpc_url, commitment),
            program_id,
            commitment,
        })
    }

    pub fn program_id(&self) -> &Pubkey {
        &self.program_id
    }

    /// Every signature of the program newer than `until`, oldest first.
    pub async fn signatures_since(&self, until: Option<Signature>) -> anyhow::Result<Vec<Pending>> {
        let mut newest_first: Vec<RpcConfirmedTransactionStatusWithSignature> = vec![];
        let mut before = None;
        loop {
            let page = self
                .rpc
                .get_signatures_for_address_with_config(
                    &self.program_id,
                    GetConfirmedSignaturesForAddress2Config {
                        before,
                        until,
                        limit: Some(PAGE),
                        commitment: Some(self.commitment),
                    },
                )
                .await?;
            let full = page.len() == PAGE;
            before = match page.last() {
                Some(last) => Some(Signature::from_str(&last.signature)?),
                None => None,
            };
            newest_first.extend(page);
            if !full {
                break;
            }
        }
        newest_first
            .iter()
            .rev()
            .map(|s| {
                Ok(Pending {
                    signature: Signature::from_str(&s.signature)?,
                    slot: s.slot,
                })
            })
            .collect()
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
