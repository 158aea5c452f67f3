//! [`Chain`] over JSON-RPC with solana-client: the client code a real cluster gets.
//!
//! By default it starts a [`localnet::Localnet`] in-process on free ports and funds a fresh payer
//! through `requestAirdrop`. When `ANCHOR_PROVIDER_URL` is set (as `anchor test` sets it for
//! `solana-test-validator` running an SBF build), it targets that cluster instead and pays with the
//! keypair in `ANCHOR_WALLET`.

use crate::{Chain, Outcome, TxError, chain::events_in};
use localnet::{Config, Localnet};
use solana_client::{
    client_error::{ClientError, ClientErrorKind},
    nonblocking::rpc_client::RpcClient,
    rpc_config::RpcTransactionConfig,
    rpc_request::{RpcError, RpcRequest, RpcResponseErrorData},
};
use solana_commitment_config::CommitmentConfig;
use solana_sdk::{
    account::Account,
    clock::Clock,
    hash::Hash,
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signature},
    signer::Signer,
    sysvar,
    transaction::Transaction,
};
use solana_transaction_status_client_types::{
    EncodedConfirmedTransactionWithStatusMeta, UiInstruction, UiTransactionEncoding,
    option_serializer::OptionSerializer,
};
use std::{collections::HashSet, path::PathBuf, time::Duration};

/// SOL the payer starts with on localnet.
const PAYER_SOL: u64 = 500;
/// JSON-RPC's "method not found": the cluster is not localnet, so time passes only by waiting.
const METHOD_NOT_FOUND: i64 = -32601;

pub struct RpcChain {
    pub rpc: RpcClient,
    payer: Keypair,
    localnet: Option<Localnet>,
    /// Signatures already sent: an identical transaction waits for a new blockhash instead of being
    /// dropped as a duplicate.
    sent: HashSet<Signature>,
}

impl RpcChain {
    /// localnet in-process, or the cluster at `ANCHOR_PROVIDER_URL`.
    pub async fn start() -> Self {
        match std::env::var("ANCHOR_PROVIDER_URL") {
            Ok(url) => {
                let payer = read_wallet().unwrap_or_else(|e| panic!("ANCHOR_WALLET: {e}"));
                Self::connect(url, payer, None)
            }
            Err(_) => Self::start_localnet().await,
        }
    }

    /// A new localnet in-process on free ports, with a payer funded by `requestAirdrop`.
    pub async fn start_localnet() -> Self {
        Self::start_localnet_with(Config::default()).await
    }

    /// [`Self::start_localnet`] with `config` (a shorter slot, for tests that send many
    /// transactions).
    pub async fn start_localnet_with(config: Config) -> Self {
        let localnet = Localnet::start(config).await.expect("localnet starts");
        let chain = Self::connect(localnet.rpc_url(), Keypair::new(), Some(localnet));
        let signature = chain
            .rpc
            .request_airdrop(&chain.payer.pubkey(), PAYER_SOL * 1_000_000_000)
            .await
            .expect("requestAirdrop");
        chain.confirm(&signature).await;
        chain
    }

    fn connect(url: String, payer: Keypair, localnet: Option<Localnet>) -> Self {
        Self {
            rpc: RpcClient::new_with_commitment(url, CommitmentConfig::confirmed()),
            payer,
            localnet,
            sent: HashSet::new(),
        }
    }

    /// The in-process localnet, if this chain is one.
    pub fn localnet(&self) -> Option<&Localnet> {
        self.localnet.as_ref()
    }

    /// The websocket URL: localnet's, or the Solana convention for `ANCHOR_PROVIDER_URL` (same host,
    /// next port).
    pub fn ws_url(&self) -> String {
        if let Some(localnet) = &self.localnet {
            return localnet.ws_url();
        }
        let url = self.rpc.url().replacen("http", "ws", 1);
        match url.rsplit_once(':') {
            Some((head, port)) => match port.trim_end_matches('/').parse::<u16>() {
                Ok(port) => format!("{head}:{}", port.saturating_add(1)),
                Err(_) => url,
            },
            None => url,
        }
    }

    pub fn payer_keypair(&self) -> &Keypair {
        &self.payer
    }

    /// Waits until `signature` is confirmed.
    pub async fn confirm(&self, signature: &Signature) {
        for _ in 0..300 {
            let statuses = self
                .rpc
                .get_signature_statuses(&[*signature])
                .await
                .expect("getSignatureStatuses");
            if statuses.value[0].is_some() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{signature} was not confirmed within 30 s");
    }

    async fn fresh_blockhash(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Transaction {
        let mut blockhash = self
            .rpc
            .get_latest_blockhash()
            .await
            .expect("getLatestBlockhash");
        loop {
            let tx = self.sign(instructions, signers, blockhash);
            if self.sent.insert(tx.signatures[0]) {
                return tx;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            blockhash = self
                .rpc
                .get_latest_blockhash()
                .await
                .expect("getLatestBlockhash");
        }
    }

    /// `instructions` signed by the fee payer and `signers` over `blockhash`, not sent.
    pub fn sign(
        &self,
        instructions: &[Instruction],
        signers: &[&Keypair],
        blockhash: Hash,
    ) -> Transaction {
        let mut all_signers: Vec<&Keypair> = vec![&self.payer];
        all_signers.extend(
            signers
                .iter()
                .copied()
                .filter(|s| s.pubkey() != self.payer.pubkey()),
        );
        Transaction::new_signed_with_payer(
            instructions,
            Some(&self.payer.pubkey()),
            &all_signers,
            blockhash,
        )
    }

    /// A committed transaction with its metadata, as `getTransaction` serves it in `encoding`.
    pub async fn transaction(
        &self,
        signature: &Signature,
        encoding: UiTransactionEncoding,
    ) -> EncodedConfirmedTransactionWithStatusMeta {
        self.rpc
            .get_transaction_with_config(
                signature,
                RpcTransactionConfig {
                    encoding: Some(encoding),
                    commitment: Some(CommitmentConfig::confirmed()),
                    max_supported_transaction_version: Some(0),
                },
            )
            .await
            .expect("getTransaction")
    }

    /// The committed transaction's logs and events, read back with `getTransaction`.
    async fn outcome(&self, signature: &Signature) -> (Vec<String>, Vec<Vec<u8>>) {
        let tx = self
            .transaction(signature, UiTransactionEncoding::Base64)
            .await;
        let meta = tx.transaction.meta.expect("transaction meta");
        let decoded = tx
            .transaction
            .transaction
            .decode()
            .expect("transaction decodes");
        let keys = decoded.message.static_account_keys();
        let logs = match meta.log_messages {
            OptionSerializer::Some(logs) => logs,
            _ => vec![],
        };
        let inner = match meta.inner_instructions {
            OptionSerializer::Some(inner) => inner,
            _ => vec![],
        };
        let compiled: Vec<(Pubkey, Vec<u8>)> = inner
            .iter()
            .flat_map(|ixs| &ixs.instructions)
            .filter_map(|ix| match ix {
                UiInstruction::Compiled(ix) => Some((
                    *keys.get(usize::from(ix.program_id_index))?,
                    bs58::decode(&ix.data).into_vec().ok()?,
                )),
                UiInstruction::Parsed(_) => None,
            })
            .collect();
        let events = events_in(
            compiled
                .iter()
                .map(|(program, data)| (*program, data.as_slice())),
        );
        (logs, events)
    }
}

/// The keypair `anchor test` names in `ANCHOR_WALLET` (the Solana CLI's JSON keypair file).
fn read_wallet() -> anyhow::Result<Keypair> {
    let path = std::env::var("ANCHOR_WALLET")
        .map(PathBuf::from)
        .or_else(|_| {
            std::env::var("HOME").map(|home| PathBuf::from(home).join(".config/solana/id.json"))
        })?;
    let bytes: Vec<u8> = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    Keypair::try_from(bytes.as_slice()).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn rpc_error_code(error: &ClientError) -> Option<i64> {
    match error.kind() {
        ClientErrorKind::RpcError(RpcError::RpcResponseError { code, .. }) => Some(*code),
        _ => None,
    }
}

impl Chain for RpcChain {
    fn payer(&self) -> Pubkey {
        self.payer.pubkey()
    }

    /// Sends with preflight and waits for confirmation, as a client of a real cluster does. A
    /// preflight failure carries the simulation's logs; a transaction that fails on chain carries
    /// the logs `getTransaction` returns.
    async fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Outcome, TxError> {
        let tx = self.fresh_blockhash(instructions, signers).await;
        let signature = tx.signatures[0];
        match self.rpc.send_and_confirm_transaction(&tx).await {
            Ok(_) => {
                let (logs, events) = self.outcome(&signature).await;
                Ok(Outcome { logs, events })
            }
            Err(error) => match error.kind() {
                ClientErrorKind::RpcError(RpcError::RpcResponseError {
                    data: RpcResponseErrorData::SendTransactionPreflightFailure(result),
                    ..
                }) => Err(TxError {
                    error: result
                        .err
                        .clone()
                        .expect("a preflight failure has an error")
                        .into(),
                    logs: result.logs.clone().unwrap_or_default(),
                }),
                ClientErrorKind::TransactionError(error) => Err(TxError {
                    error: error.clone(),
                    logs: self.outcome(&signature).await.0,
                }),
                _ => panic!("transport error: {error}"),
            },
        }
    }

    async fn account(&mut self, key: &Pubkey) -> Option<Account> {
        self.rpc
            .get_account_with_commitment(key, CommitmentConfig::confirmed())
            .await
            .expect("getAccountInfo")
            .value
    }

    async fn rent_exempt_minimum(&mut self, len: usize) -> u64 {
        self.rpc
            .get_minimum_balance_for_rent_exemption(len)
            .await
            .expect("getMinimumBalanceForRentExemption")
    }

    async fn clock(&mut self) -> Clock {
        let account = self
            .account(&sysvar::clock::ID)
            .await
            .expect("clock sysvar");
        bincode::deserialize(&account.data).expect("clock decodes")
    }

    /// `localnet_warpTime` on localnet; elsewhere, waits until the cluster's clock has moved on.
    /// A real cluster (and localnet) produces a slot every 400 ms or so: this waits for them.
    async fn advance_slots(&mut self, slots: u64) {
        let target = self.clock().await.slot + slots;
        while self.clock().await.slot < target {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn advance_time(&mut self, secs: i64) {
        if secs <= 0 {
            return;
        }
        let target = self.clock().await.unix_timestamp + secs;
        let warp = self
            .rpc
            .send::<serde_json::Value>(
                RpcRequest::Custom {
                    method: "localnet_warpTime",
                },
                serde_json::json!([secs]),
            )
            .await;
        match warp {
            Ok(_) => {}
            Err(error) if rpc_error_code(&error) == Some(METHOD_NOT_FOUND) => {
                while self.clock().await.unix_timestamp < target {
                    tokio::time::sleep(Duration::from_millis(400)).await;
                }
            }
            Err(error) => panic!("localnet_warpTime: {error}"),
        }
    }
}
