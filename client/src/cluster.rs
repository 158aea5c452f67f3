//! The program's accounts and transactions over JSON-RPC.

use crate::{
    errors::{TxFailure, explain},
    ix::MarketKeys,
};
use anchor_lang::{AccountDeserialize, Discriminator};
use gpu_market::{
    constants::SAMPLE_SEED_DELAY_SLOTS,
    state::{Job, Market, Provider, Verdict},
    verification::{self, SeedSlot},
};
use solana_client::{
    nonblocking::rpc_client::RpcClient,
    rpc_config::{RpcAccountInfoConfig, RpcProgramAccountsConfig},
    rpc_filter::{Memcmp, RpcFilterType},
};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client_api::config::UiAccountEncoding;
use solana_sdk::{
    clock::Clock,
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signature},
    signer::Signer,
    sysvar,
    transaction::Transaction,
};
use std::time::Duration;

/// Offset of `market` in Job and Provider accounts (after the 8-byte discriminator).
const MARKET_OFFSET: usize = 8;

/// A cluster, at one commitment.
pub struct Cluster {
    pub rpc: RpcClient,
}

impl Cluster {
    pub fn new(url: impl Into<String>, commitment: CommitmentConfig) -> Self {
        Self {
            rpc: RpcClient::new_with_timeout_and_commitment(
                url.into(),
                Duration::from_secs(30),
                commitment,
            ),
        }
    }

    pub fn url(&self) -> String {
        self.rpc.url()
    }

    /// Signs `instructions` with `payer` (and `signers`), sends, and waits for the cluster's
    /// commitment. A refusal comes back with the program's error name.
    pub async fn send(
        &self,
        instructions: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
    ) -> Result<Signature, TxFailure> {
        let blockhash = self
            .rpc
            .get_latest_blockhash()
            .await
            .map_err(|e| TxFailure::Rpc(e.to_string()))?;
        let mut all: Vec<&Keypair> = vec![payer];
        all.extend(
            signers
                .iter()
                .copied()
                .filter(|k| k.pubkey() != payer.pubkey()),
        );
        let tx = Transaction::new_signed_with_payer(
            instructions,
            Some(&payer.pubkey()),
            &all,
            blockhash,
        );
        self.rpc
            .send_and_confirm_transaction(&tx)
            .await
            .map_err(|e| explain(&e))
    }

    /// An Anchor account of the program, or `None` if there is no account at `key`.
    pub async fn anchor_account<T: AccountDeserialize>(
        &self,
        key: &Pubkey,
    ) -> anyhow::Result<Option<T>> {
        let account = self
            .rpc
            .get_account_with_commitment(key, self.rpc.commitment())
            .await?
            .value;
        account
            .map(|a| {
                T::try_deserialize(&mut a.data.as_slice())
                    .map_err(|e| anyhow::anyhow!("{key} is not the account expected: {e}"))
            })
            .transpose()
    }

    /// Like [`Self::anchor_account`], with a sentence when it does not exist.
    pub async fn require<T: AccountDeserialize>(
        &self,
        key: &Pubkey,
        what: &str,
    ) -> anyhow::Result<T> {
        self.anchor_account(key)
            .await?
            .ok_or_else(|| anyhow::anyhow!("there is no {what} at {key}"))
    }

    /// Every account of type `T` whose `market` field is `market`.
    async fn of_market<T: AccountDeserialize + Discriminator>(
        &self,
        market: &Pubkey,
    ) -> anyhow::Result<Vec<(Pubkey, T)>> {
        self.with_key_at(MARKET_OFFSET, market).await
    }

    /// Every account of type `T` that holds `key` at byte `offset`.
    async fn with_key_at<T: AccountDeserialize + Discriminator>(
        &self,
        offset: usize,
        key: &Pubkey,
    ) -> anyhow::Result<Vec<(Pubkey, T)>> {
        let config = RpcProgramAccountsConfig {
            filters: Some(vec![
                RpcFilterType::Memcmp(Memcmp::new_raw_bytes(0, T::DISCRIMINATOR.to_vec())),
                RpcFilterType::Memcmp(Memcmp::new_raw_bytes(offset, key.to_bytes().to_vec())),
            ]),
            account_config: RpcAccountInfoConfig {
                encoding: Some(UiAccountEncoding::Base64),
                commitment: Some(self.rpc.commitment()),
                ..RpcAccountInfoConfig::default()
            },
            ..RpcProgramAccountsConfig::default()
        };
        let accounts = self
            .rpc
            .get_program_ui_accounts_with_config(&gpu_market::ID, config)
            .await?;
        let mut decoded = Vec::with_capacity(accounts.len());
        for (key, account) in accounts {
            let data = account
                .data
                .decode()
                .ok_or_else(|| anyhow::anyhow!("{key}: the node sent undecodable data"))?;
            // An account that does not decode (another version's layout) is skipped, not fatal.
            if let Ok(value) = T::try_deserialize(&mut data.as_slice()) {
                decoded.push((key, value));
            }
        }
        Ok(decoded)
    }

    pub async fn jobs(&self, market: &Pubkey) -> anyhow::Result<Vec<(Pubkey, Job)>> {
        self.of_market(market).await
    }

    /// The verdicts still open on `job` (each must be closed before the job can be).
    pub async fn verdicts_on(&self, job: &Pubkey) -> anyhow::Result<Vec<(Pubkey, Verdict)>> {
        // `Verdict.job` follows the discriminator.
        self.with_key_at(8, job).await
    }

    /// The open verdicts of the Verifier account `verifier`.
    pub async fn verdicts_of(&self, verifier: &Pubkey) -> anyhow::Result<Vec<(Pubkey, Verdict)>> {
        // `Verdict.verifier` follows the discriminator and `job`.
        self.with_key_at(8 + 32, verifier).await
    }

    pub async fn providers(&self, market: &Pubkey) -> anyhow::Result<Vec<(Pubkey, Provider)>> {
        self.of_market(market).await
    }

    pub async fn market(&self, market: &Pubkey) -> anyhow::Result<Market> {
        self.require(market, "market").await
    }

    /// The addresses the instruction builders need, read from the market account and its mints.
    pub async fn market_keys(&self, market: &Pubkey) -> anyhow::Result<MarketKeys> {
        let m = self.market(market).await?;
        let owners = self
            .rpc
            .get_multiple_accounts(&[m.payment_mint, m.stake_mint])
            .await?;
        let owner = |i: usize, what: &str| {
            owners[i]
                .as_ref()
                .map(|a| a.owner)
                .ok_or_else(|| anyhow::anyhow!("the market's {what} mint does not exist"))
        };
        Ok(MarketKeys {
            market: *market,
            authority: m.authority,
            market_id: m.market_id,
            payment_mint: m.payment_mint,
            stake_mint: m.stake_mint,
            payment_token_program: owner(0, "payment")?,
            stake_token_program: owner(1, "stake")?,
            treasury: m.treasury,
            slash_destination: m.slash_destination,
        })
    }

    /// The cluster's Clock sysvar (its unix time is what the program's deadlines use).
    pub async fn clock(&self) -> anyhow::Result<Clock> {
        let account = self.rpc.get_account(&sysvar::clock::ID).await?;
        bincode_clock(&account.data)
    }

    /// Where `job`'s sample seed stands in the cluster's SlotHashes sysvar: not ready yet,
    /// recordable (`record_sample_seed`), or expired (`expire_sample_seed`).
    pub async fn seed_slot(&self, job: &Job) -> anyhow::Result<SeedSlot> {
        let account = self.rpc.get_account(&sysvar::slot_hashes::ID).await?;
        let target = job.submitted_slot + SAMPLE_SEED_DELAY_SLOTS;
        verification::seed_slot_hash(&account.data, target)
            .map_err(|_| anyhow::anyhow!("the SlotHashes sysvar's data is malformed"))
    }

    /// A token account's balance in base units (SPL Token or Token-2022: the amount sits after the
    /// mint and the owner in both).
    pub async fn token_balance(&self, account: &Pubkey) -> anyhow::Result<u64> {
        let data = self.rpc.get_account_data(account).await?;
        data.get(64..72)
            .filter(|_| data.len() >= TOKEN_ACCOUNT_LEN)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
            .ok_or_else(|| anyhow::anyhow!("{account} is not a token account"))
    }
}

/// Bytes of an SPL token account without extensions.
const TOKEN_ACCOUNT_LEN: usize = 165;

fn bincode_clock(data: &[u8]) -> anyhow::Result<Clock> {
    // Clock is five little-endian 8-byte fields.
    let field = |i: usize| -> anyhow::Result<[u8; 8]> {
        data.get(i * 8..i * 8 + 8)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| anyhow::anyhow!("the Clock sysvar is malformed"))
    };
    Ok(Clock {
        slot: u64::from_le_bytes(field(0)?),
        epoch_start_timestamp: i64::from_le_bytes(field(1)?),
        epoch: u64::from_le_bytes(field(2)?),
        leader_schedule_epoch: u64::from_le_bytes(field(3)?),
        unix_timestamp: i64::from_le_bytes(field(4)?),
    })
}
