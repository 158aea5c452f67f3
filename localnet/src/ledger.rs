//! The chain: the solana-program-test bank, the transaction history a real node keeps in its
//! blockstore, and an index of every account a transaction wrote (for `getProgramAccounts`).
//!
//! Every write (a transaction, a new slot, a clock warp) goes through one lock, so a transaction is
//! simulated (for its inner instructions) and then processed against exactly the same bank state,
//! and a slot never closes half-way through a transaction. Reads go straight to the bank.

// solana-program-test 3.x marks its whole API deprecated ahead of v4's `agave-unstable-api` feature;
// the API itself is what we want.
#![allow(deprecated)]

use solana_account_decoder::parse_account_data::SplTokenAdditionalDataV2;
use solana_account_decoder::parse_token::{get_token_account_mint, token_amount_to_ui_amount_v3};
use solana_commitment_config::CommitmentLevel;
use solana_program_test::{BanksClient, ProgramTest, ProgramTestContext, processor};
use solana_sdk::{
    account::Account,
    clock::{Clock, Slot, UnixTimestamp},
    epoch_schedule::EpochSchedule,
    hash::Hash,
    message::{Message, VersionedMessage},
    pubkey::Pubkey,
    rent::Rent,
    signature::{Keypair, Signature},
    signer::Signer,
    transaction::{TransactionError, VersionedTransaction},
};
use solana_transaction_status_client_types::{
    InnerInstructions, TransactionStatusMeta, TransactionTokenBalance, UiTransactionReturnData,
};
use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};
use tokio::sync::{Mutex, broadcast};

/// The SPL Memo programs, whose data a real node shows in `getSignaturesForAddress`'s `memo`.
const MEMO_PROGRAMS: [Pubkey; 2] = [
    solana_sdk::pubkey!("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"),
    solana_sdk::pubkey!("Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo"),
];
/// The two token programs (the base account layouts are shared).
pub const TOKEN_PROGRAMS: [Pubkey; 2] = [spl_token_interface::ID, spl_token_2022_id()];

const fn spl_token_2022_id() -> Pubkey {
    solana_sdk::pubkey!("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
}

/// How often the bank's rooted account writes are flushed and cleaned (every 20 s at 400 ms slots).
const CLEAN_EVERY_SLOTS: u64 = 50;

/// A committed transaction, as `getTransaction` serves it.
#[derive(Debug)]
pub struct TxRecord {
    pub signature: Signature,
    pub slot: Slot,
    pub block_time: UnixTimestamp,
    pub transaction: VersionedTransaction,
    pub meta: TransactionStatusMeta,
    /// `[len] text` of each memo instruction, joined by "; " (a real node's format).
    pub memo: Option<String>,
}

/// A produced slot, as `getBlock` serves it.
#[derive(Debug, Clone)]
pub struct Block {
    pub slot: Slot,
    pub parent_slot: Slot,
    pub blockhash: Hash,
    pub previous_blockhash: Hash,
    pub block_time: UnixTimestamp,
    pub block_height: u64,
    pub signatures: Vec<Signature>,
}

/// What subscriptions hear about.
#[derive(Debug, Clone)]
pub enum LedgerEvent {
    Slot {
        slot: Slot,
        parent: Slot,
        root: Slot,
    },
    Transaction(Arc<TxRecord>),
    Account {
        pubkey: Pubkey,
        account: Account,
        slot: Slot,
    },
}

/// Why a transaction was not accepted.
#[derive(Debug)]
pub enum SendError {
    /// Its signatures do not verify.
    SignatureVerification,
    /// Well-formed but refused by preflight (the simulation's error and details).
    Preflight(Box<Simulation>),
    /// A form localnet does not serve (address lookup tables).
    Unsupported(String),
}

/// A simulation's outcome, with what a real node reports from it.
#[derive(Debug, Default)]
pub struct Simulation {
    pub err: Option<TransactionError>,
    pub logs: Vec<String>,
    pub units_consumed: u64,
    pub inner_instructions: Vec<InnerInstructions>,
    pub return_data: Option<UiTransactionReturnData>,
    pub loaded_accounts_data_size: u32,
}

struct Runtime {
    ctx: ProgramTestContext,
    /// Seconds added to wall time by `localnet_warpTime`.
    time_offset: i64,
    /// The previous block's hash, for the next `getBlock`'s `previousBlockhash`.
    previous_blockhash: Hash,
}

#[derive(Default)]
struct History {
    transactions: HashMap<Signature, Arc<TxRecord>>,
    /// Signatures mentioning each address, oldest first.
    by_address: HashMap<Pubkey, Vec<Signature>>,
    blocks: BTreeMap<Slot, Block>,
    /// Signatures of the slot being produced.
    pending: Vec<Signature>,
    /// Every account a committed transaction wrote, as it is now.
    accounts: HashMap<Pubkey, Account>,
}

/// The chain and its history.
pub struct Ledger {
    runtime: Mutex<Runtime>,
    banks: BanksClient,
    history: RwLock<History>,
    events: broadcast::Sender<LedgerEvent>,
    slot: AtomicU64,
    faucet: Keypair,
    genesis_hash: Hash,
    epoch_schedule: EpochSchedule,
    rent: Rent,
}

fn wall_clock() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The runtime with gpu-market loaded natively; SPL Token, Token-2022, ATA and Memo come with
/// program-test as their real SBF binaries.
fn program_test() -> ProgramTest {
    let mut program_test = ProgramTest::new(
        "gpu_market",
        gpu_market::ID,
        processor!(gpu_market::process_instruction_native),
    );
    program_test.prefer_bpf(false);
    program_test
}

impl Ledger {
    pub async fn start() -> anyhow::Result<Arc<Self>> {
        let mut ctx = program_test().start_with_context().await;
        // Slots (and their blockhashes) come from `next_slot` alone, so a blockhash ages one entry
        // per slot and lives 150 slots, as on a cluster.
        ctx.stop_blockhash_task();
        let banks = ctx.banks_client.clone();
        let faucet = ctx.payer.insecure_clone();
        let genesis_hash = ctx.genesis_config().hash();
        let epoch_schedule = ctx.genesis_config().epoch_schedule.clone();
        let rent = banks.get_rent().await?;
        let slot = banks.get_root_slot().await?;
        let previous_blockhash = banks.get_latest_blockhash().await?;
        let (events, _) = broadcast::channel(4096);
        let ledger = Arc::new(Self {
            runtime: Mutex::new(Runtime {
                ctx,
                time_offset: 0,
                previous_blockhash,
            }),
            banks,
            history: RwLock::default(),
            events,
            slot: AtomicU64::new(slot),
            faucet,
            genesis_hash,
            epoch_schedule,
            rent,
        });
        // The clock starts at wall time, and the faucet is indexed like any funded account.
        {
            let runtime = ledger.runtime.lock().await;
            ledger.set_clock(&runtime, None).await?;
        }
        let faucet_key = ledger.faucet.pubkey();
        ledger.reindex(&[faucet_key], slot).await?;
        Ok(ledger)
    }

    pub fn faucet(&self) -> &Keypair {
        &self.faucet
    }

    pub fn genesis_hash(&self) -> Hash {
        self.genesis_hash
    }

    pub fn epoch_schedule(&self) -> &EpochSchedule {
        &self.epoch_schedule
    }

    pub fn rent(&self) -> &Rent {
        &self.rent
    }

    /// The slot being produced: transactions land in it, and it is `processed` until it closes.
    pub fn slot(&self) -> Slot {
        self.slot.load(Ordering::Acquire)
    }

    /// The last produced slot: confirmed and finalized (one node, no forks).
    pub fn produced_slot(&self) -> Slot {
        self.slot().saturating_sub(1)
    }

    /// Whether `slot` has been produced, so what it holds is confirmed and finalized.
    pub fn is_final(&self, slot: Slot) -> bool {
        slot < self.slot()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LedgerEvent> {
        self.events.subscribe()
    }

    pub fn banks(&self) -> &BanksClient {
        &self.banks
    }

    pub async fn clock(&self) -> anyhow::Result<Clock> {
        Ok(self.banks.get_sysvar::<Clock>().await?)
    }

    pub async fn block_height(&self) -> anyhow::Result<u64> {
        Ok(self.banks.get_root_block_height().await?)
    }

    pub async fn account(&self, pubkey: &Pubkey) -> anyhow::Result<Option<Account>> {
        Ok(self
            .banks
            .get_account_with_commitment(*pubkey, CommitmentLevel::Processed)
            .await?)
    }

    /// The newest blockhash and the last block height at which a transaction using it lands.
    pub async fn latest_blockhash(&self) -> anyhow::Result<(Hash, u64)> {
        self.banks
            .get_latest_blockhash_with_commitment(CommitmentLevel::Processed)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the bank has no blockhash"))
    }

    /// The fee the bank charges for `message`, or `None` if its blockhash is unknown or expired.
    pub async fn fee_for_message(&self, message: &VersionedMessage) -> anyhow::Result<Option<u64>> {
        let Some(legacy) = as_legacy(message) else {
            anyhow::bail!("messages with address lookup tables are not supported by localnet")
        };
        Ok(self
            .banks
            .get_fee_for_message_with_commitment(legacy, CommitmentLevel::Processed)
            .await?)
    }

    /// Whether a transaction using `blockhash` would still load: the bank's own age check decides,
    /// through a simulation of an empty transaction.
    pub async fn is_blockhash_valid(&self, blockhash: &Hash) -> bool {
        let message = Message::new_with_blockhash(&[], Some(&self.faucet.pubkey()), blockhash);
        let probe = VersionedTransaction {
            signatures: vec![Signature::default()],
            message: VersionedMessage::Legacy(message),
        };
        self.simulate(&probe).await.err != Some(TransactionError::BlockhashNotFound)
    }

    /// Committed transactions, failed ones included.
    pub fn transaction_count(&self) -> u64 {
        self.history
            .read()
            .expect("history lock")
            .transactions
            .len() as u64
    }

    /// Every indexed account `keep` accepts, in address order.
    pub fn accounts_where(
        &self,
        keep: impl Fn(&Pubkey, &Account) -> bool,
    ) -> Vec<(Pubkey, Account)> {
        let history = self.history.read().expect("history lock");
        let mut found: Vec<_> = history
            .accounts
            .iter()
            .filter(|(key, account)| keep(key, account))
            .map(|(key, account)| (*key, account.clone()))
            .collect();
        found.sort_unstable_by_key(|(key, _)| *key);
        found
    }

    pub fn transaction(&self, signature: &Signature) -> Option<Arc<TxRecord>> {
        self.history
            .read()
            .expect("history lock")
            .transactions
            .get(signature)
            .cloned()
    }

    pub fn block(&self, slot: Slot) -> Option<Block> {
        self.history
            .read()
            .expect("history lock")
            .blocks
            .get(&slot)
            .cloned()
    }

    /// Produced slots in `[start, end]`, ascending.
    pub fn block_slots(&self, start: Slot, end: Slot) -> Vec<Slot> {
        self.history
            .read()
            .expect("history lock")
            .blocks
            .range(start..=end)
            .map(|(slot, _)| *slot)
            .collect()
    }

    /// Produced transactions mentioning `address`, newest first, strictly older than `before` and
    /// strictly newer than `until` (as a real node pages them). An unknown `before` yields nothing;
    /// an unknown `until` does not stop the walk.
    pub fn signatures_for_address(
        &self,
        address: &Pubkey,
        before: Option<&Signature>,
        until: Option<&Signature>,
        limit: usize,
    ) -> Vec<Arc<TxRecord>> {
        let history = self.history.read().expect("history lock");
        let Some(signatures) = history.by_address.get(address) else {
            return vec![];
        };
        let newest_first = signatures.iter().rev();
        let mut walk: Box<dyn Iterator<Item = &Signature>> = Box::new(newest_first);
        if let Some(before) = before {
            if !signatures.contains(before) {
                return vec![];
            }
            walk = Box::new(walk.skip_while(move |s| *s != before).skip(1));
        }
        walk.take_while(|s| Some(*s) != until)
            .filter_map(|s| history.transactions.get(s).cloned())
            .filter(|record| self.is_final(record.slot))
            .take(limit)
            .collect()
    }

    /// Runs `tx` through preflight (unless skipped) and then the bank. A transaction the bank refuses
    /// to load (unknown blockhash, fee payer without funds) after a skipped preflight is dropped, as a
    /// leader drops it; the signature is still returned, and its status stays unknown.
    pub async fn send_transaction(
        &self,
        tx: VersionedTransaction,
        preflight: bool,
    ) -> Result<Signature, SendError> {
        if tx
            .message
            .address_table_lookups()
            .is_some_and(|l| !l.is_empty())
        {
            return Err(SendError::Unsupported(
                "transactions with address lookup tables are not supported by localnet".into(),
            ));
        }
        let signature = tx.signatures[0];
        let signatures_verify = tx.verify_with_results().iter().all(|ok| *ok);
        let runtime = self.runtime.lock().await;
        if !signatures_verify {
            return if preflight {
                Err(SendError::SignatureVerification)
            } else {
                Ok(signature)
            };
        }
        let simulation = self.simulate_locked(&tx).await;
        if preflight && simulation.err.is_some() {
            return Err(SendError::Preflight(Box::new(simulation)));
        }
        if let Err(error) = self.commit(&runtime, tx, simulation).await {
            tracing::warn!(%signature, "transaction dropped: {error:#}");
        }
        Ok(signature)
    }

    /// Simulates `tx` against the current bank without committing it.
    pub async fn simulate(&self, tx: &VersionedTransaction) -> Simulation {
        let _runtime = self.runtime.lock().await;
        self.simulate_locked(tx).await
    }

    async fn simulate_locked(&self, tx: &VersionedTransaction) -> Simulation {
        let result = self
            .banks
            .simulate_transaction_with_commitment(tx.clone(), CommitmentLevel::Processed)
            .await;
        let result = match result {
            Ok(result) => result,
            // The runtime runs in this process; its transport fails only while shutting down.
            Err(error) => {
                return Simulation {
                    err: Some(TransactionError::ClusterMaintenance),
                    logs: vec![format!("localnet: the runtime did not answer: {error}")],
                    ..Simulation::default()
                };
            }
        };
        let mut simulation = Simulation {
            err: result.result.and_then(Result::err),
            ..Simulation::default()
        };
        if let Some(details) = result.simulation_details {
            simulation.logs = details.logs;
            simulation.units_consumed = details.units_consumed;
            simulation.inner_instructions = details
                .inner_instructions
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .filter(|(_, ixs)| !ixs.is_empty())
                .map(|(index, ixs)| InnerInstructions {
                    index: index as u8,
                    instructions: ixs
                        .into_iter()
                        .map(
                            |ix| solana_transaction_status_client_types::InnerInstruction {
                                instruction: ix.instruction,
                                stack_height: Some(u32::from(ix.stack_height)),
                            },
                        )
                        .collect(),
                })
                .collect();
            simulation.return_data = details.return_data.map(Into::into);
            simulation.loaded_accounts_data_size = details.loaded_accounts_data_size;
        }
        simulation
    }

    /// Processes `tx` for real and records it. `simulation` ran against the same bank state a moment
    /// ago (under the same lock), so its inner instructions are this execution's.
    /// `_held` is the runtime lock's guard: committing without it could interleave with a new slot.
    async fn commit(
        &self,
        _held: &Runtime,
        tx: VersionedTransaction,
        simulation: Simulation,
    ) -> anyhow::Result<()> {
        let keys = tx.message.static_account_keys().to_vec();
        let fee = self
            .fee_for_message(&tx.message)
            .await?
            .ok_or_else(|| anyhow::anyhow!("blockhash not found"))?;
        let pre = self.accounts_of(&keys).await?;
        let processed = self
            .banks
            .process_transaction_with_metadata(tx.clone())
            .await?;
        let Some(metadata) = processed.metadata else {
            anyhow::bail!(
                "not committed: {}",
                processed
                    .result
                    .err()
                    .map_or_else(String::new, |e| e.to_string())
            );
        };
        let post = self.accounts_of(&keys).await?;
        let decimals = self.mint_decimals_for(&keys, &pre, &post).await?;
        let slot = self.slot();
        let clock = self.clock().await?;
        let status = processed.result;
        // The simulation's inner instructions belong to this execution only if it ended the same way.
        let inner_instructions =
            (simulation.err == status.clone().err()).then_some(simulation.inner_instructions);
        let meta = TransactionStatusMeta {
            status,
            fee,
            pre_balances: pre
                .iter()
                .map(|a| a.as_ref().map_or(0, |a| a.lamports))
                .collect(),
            post_balances: post
                .iter()
                .map(|a| a.as_ref().map_or(0, |a| a.lamports))
                .collect(),
            inner_instructions,
            log_messages: Some(metadata.log_messages),
            pre_token_balances: Some(token_balances(&pre, &decimals)),
            post_token_balances: Some(token_balances(&post, &decimals)),
            rewards: Some(vec![]),
            loaded_addresses: Default::default(),
            return_data: metadata.return_data,
            compute_units_consumed: Some(metadata.compute_units_consumed),
            cost_units: None,
        };
        let record = Arc::new(TxRecord {
            signature: tx.signatures[0],
            slot,
            block_time: clock.unix_timestamp,
            memo: memo_of(&tx),
            transaction: tx,
            meta,
        });
        {
            let mut history = self.history.write().expect("history lock");
            for key in &keys {
                history
                    .by_address
                    .entry(*key)
                    .or_default()
                    .push(record.signature);
            }
            history.pending.push(record.signature);
            history
                .transactions
                .insert(record.signature, record.clone());
        }
        // Only writable accounts can change; read-only ones (programs, sysvars) stay out of the index.
        let (written, written_state): (Vec<Pubkey>, Vec<Option<Account>>) = keys
            .iter()
            .zip(post)
            .enumerate()
            .filter(|(i, _)| record.transaction.message.is_maybe_writable(*i, None))
            .map(|(_, (key, account))| (*key, account))
            .unzip();
        let _ = self.events.send(LedgerEvent::Transaction(record));
        self.index(&written, written_state, slot);
        Ok(())
    }

    /// Decimals of every mint whose token accounts appear among `keys`, read from the transaction's
    /// own accounts or, for mints it does not list, from the bank.
    async fn mint_decimals_for(
        &self,
        keys: &[Pubkey],
        pre: &[Option<Account>],
        post: &[Option<Account>],
    ) -> anyhow::Result<HashMap<Pubkey, u8>> {
        let mut mints: Vec<Pubkey> = pre
            .iter()
            .chain(post)
            .flatten()
            .filter(|account| TOKEN_PROGRAMS.contains(&account.owner))
            .filter_map(|account| get_token_account_mint(&account.data))
            .collect();
        mints.sort_unstable();
        mints.dedup();
        let mut decimals = HashMap::with_capacity(mints.len());
        for mint in mints {
            let listed = keys.iter().position(|k| *k == mint);
            let mint_account = match listed {
                Some(i) => post[i].clone().or_else(|| pre[i].clone()),
                None => self.account(&mint).await?,
            };
            if let Some(d) = mint_account.as_ref().and_then(mint_decimals) {
                decimals.insert(mint, d);
            }
        }
        Ok(decimals)
    }

    async fn accounts_of(&self, keys: &[Pubkey]) -> anyhow::Result<Vec<Option<Account>>> {
        let mut accounts = Vec::with_capacity(keys.len());
        for key in keys {
            accounts.push(self.account(key).await?);
        }
        Ok(accounts)
    }

    async fn reindex(&self, keys: &[Pubkey], slot: Slot) -> anyhow::Result<()> {
        let accounts = self.accounts_of(keys).await?;
        self.index(keys, accounts, slot);
        Ok(())
    }

    /// Records the accounts' new state and tells subscribers about those that changed.
    fn index(&self, keys: &[Pubkey], accounts: Vec<Option<Account>>, slot: Slot) {
        let mut changed = vec![];
        {
            let mut history = self.history.write().expect("history lock");
            for (key, account) in keys.iter().zip(accounts) {
                let account = account.filter(|a| a.lamports > 0);
                let before = match &account {
                    Some(account) => history.accounts.insert(*key, account.clone()),
                    None => history.accounts.remove(key),
                };
                if before != account {
                    changed.push((*key, account.unwrap_or_default()));
                }
            }
        }
        for (pubkey, account) in changed {
            let _ = self.events.send(LedgerEvent::Account {
                pubkey,
                account,
                slot,
            });
        }
    }

    /// Closes the slot being produced and opens the next, with the Clock at wall time (plus warps).
    pub async fn advance_slot(&self) -> anyhow::Result<Slot> {
        let mut runtime = self.runtime.lock().await;
        self.next_slot(&mut runtime).await
    }

    /// Moves the Clock `secs` forward, in a new slot. Returns the new clock.
    pub async fn warp_time(&self, secs: i64) -> anyhow::Result<Clock> {
        let mut runtime = self.runtime.lock().await;
        runtime.time_offset = runtime
            .time_offset
            .checked_add(secs)
            .ok_or_else(|| anyhow::anyhow!("time offset overflows"))?;
        self.next_slot(&mut runtime).await?;
        self.clock().await
    }

    async fn next_slot(&self, runtime: &mut Runtime) -> anyhow::Result<Slot> {
        let closing = self.clock().await?;
        let height = self.block_height().await?;
        let slot = closing.slot;
        runtime.ctx.warp_to_slot(slot + 1)?;
        // The new bank's last blockhash is the one that closed the parent slot.
        let blockhash = self.banks.get_latest_blockhash().await?;
        self.set_clock(runtime, Some(closing.unix_timestamp))
            .await?;
        {
            let mut history = self.history.write().expect("history lock");
            let signatures = std::mem::take(&mut history.pending);
            let parent_slot = history.blocks.last_key_value().map_or(slot, |(s, _)| *s);
            history.blocks.insert(
                slot,
                Block {
                    slot,
                    parent_slot,
                    blockhash,
                    previous_blockhash: runtime.previous_blockhash,
                    block_time: closing.unix_timestamp,
                    block_height: height,
                    signatures,
                },
            );
        }
        runtime.previous_blockhash = blockhash;
        if slot.is_multiple_of(CLEAN_EVERY_SLOTS) {
            runtime.ctx.clean_accounts();
        }
        self.slot.store(slot + 1, Ordering::Release);
        let _ = self.events.send(LedgerEvent::Slot {
            slot: slot + 1,
            parent: slot,
            root: slot,
        });
        Ok(slot + 1)
    }

    /// Sets the Clock's unix time to wall time plus the warp offset, never earlier than `not_before`.
    async fn set_clock(&self, runtime: &Runtime, not_before: Option<i64>) -> anyhow::Result<()> {
        let mut clock = self.clock().await?;
        let now = wall_clock() + runtime.time_offset;
        clock.unix_timestamp = not_before.map_or(now, |t| now.max(t));
        runtime.ctx.set_sysvar(&clock);
        Ok(())
    }
}

/// `message` as a legacy message (the same fee), unless it loads addresses from lookup tables.
fn as_legacy(message: &VersionedMessage) -> Option<Message> {
    match message {
        VersionedMessage::Legacy(message) => Some(message.clone()),
        VersionedMessage::V0(v0) if v0.address_table_lookups.is_empty() => Some(Message {
            header: v0.header,
            account_keys: v0.account_keys.clone(),
            recent_blockhash: v0.recent_blockhash,
            instructions: v0.instructions.clone(),
        }),
        VersionedMessage::V0(_) => None,
    }
}

/// The memo text of `tx`'s memo instructions, as a real node formats it.
fn memo_of(tx: &VersionedTransaction) -> Option<String> {
    let keys = tx.message.static_account_keys();
    let memos: Vec<String> = tx
        .message
        .instructions()
        .iter()
        .filter(|ix| {
            keys.get(usize::from(ix.program_id_index))
                .is_some_and(|p| MEMO_PROGRAMS.contains(p))
        })
        .map(|ix| {
            let text = String::from_utf8_lossy(&ix.data);
            format!("[{}] {text}", ix.data.len())
        })
        .collect();
    (!memos.is_empty()).then(|| memos.join("; "))
}

/// The token balances among `accounts` (one state of a transaction's accounts, in key order).
fn token_balances(
    accounts: &[Option<Account>],
    decimals: &HashMap<Pubkey, u8>,
) -> Vec<TransactionTokenBalance> {
    accounts
        .iter()
        .enumerate()
        .filter_map(|(index, account)| {
            let account = account.as_ref()?;
            if !TOKEN_PROGRAMS.contains(&account.owner) {
                return None;
            }
            let mint = get_token_account_mint(&account.data)?;
            let (owner, amount) = token_owner_and_amount(&account.data)?;
            let decimals = *decimals.get(&mint)?;
            Some(TransactionTokenBalance {
                account_index: index as u8,
                mint: mint.to_string(),
                ui_token_amount: token_amount_to_ui_amount_v3(
                    amount,
                    &SplTokenAdditionalDataV2 {
                        decimals,
                        ..Default::default()
                    },
                ),
                owner: owner.to_string(),
                program_id: account.owner.to_string(),
            })
        })
        .collect()
}

/// A token account's owner and amount (the base layout both token programs share).
pub fn token_owner_and_amount(data: &[u8]) -> Option<(Pubkey, u64)> {
    let owner = Pubkey::try_from(data.get(32..64)?).ok()?;
    let amount = u64::from_le_bytes(data.get(64..72)?.try_into().ok()?);
    Some((owner, amount))
}

/// A mint's decimals, if `account` is a mint of either token program.
pub fn mint_decimals(account: &Account) -> Option<u8> {
    use solana_sdk::program_pack::Pack;
    if !TOKEN_PROGRAMS.contains(&account.owner) {
        return None;
    }
    let base = account.data.get(..spl_token_interface::state::Mint::LEN)?;
    let is_mint = account.data.len() == spl_token_interface::state::Mint::LEN
        || account.data.get(spl_token_interface::state::Account::LEN) == Some(&1);
    is_mint
        .then(|| spl_token_interface::state::Mint::unpack_from_slice(base).ok())
        .flatten()
        .map(|mint| mint.decimals)
}
