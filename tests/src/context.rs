// solana-program-test 3.x marks its whole API deprecated ahead of v4's `agave-unstable-api` feature;
// the API itself is what we want.
#![allow(deprecated)]

use crate::{Chain, chain::events_in};
use anchor_lang::{AccountDeserialize, AccountSerialize, AnchorDeserialize, Discriminator, Event};
use solana_program_test::{ProgramTest, ProgramTestContext, processor};
use solana_sdk::{
    account::Account,
    clock::Clock,
    instruction::{Instruction, InstructionError},
    pubkey::Pubkey,
    signature::Keypair,
    signer::Signer,
    transaction::{Transaction, TransactionError},
};
use std::collections::HashSet;

/// What a failed transaction returned, kept whole so assertions can name the exact error.
#[derive(Debug)]
pub struct TxError {
    pub error: TransactionError,
    pub logs: Vec<String>,
}

impl TxError {
    /// The custom error code of the failing instruction, if the program returned one.
    pub fn custom_code(&self) -> Option<u32> {
        match self.error {
            TransactionError::InstructionError(_, InstructionError::Custom(code)) => Some(code),
            _ => None,
        }
    }
}

/// A successful transaction: its logs and the program's `emit_cpi!` event payloads, in order.
#[derive(Debug, Default)]
pub struct Outcome {
    pub logs: Vec<String>,
    /// Each event's data after Anchor's 8-byte event-CPI tag: discriminator, then Borsh fields.
    pub events: Vec<Vec<u8>>,
}

impl Outcome {
    /// Every event of type `E`, decoded.
    pub fn events_of<E: Event + AnchorDeserialize + Discriminator>(&self) -> Vec<E> {
        self.events
            .iter()
            .filter(|data| data.starts_with(E::DISCRIMINATOR))
            .map(|data| {
                E::deserialize(&mut &data[E::DISCRIMINATOR.len()..]).expect("event decodes")
            })
            .collect()
    }

    /// The one event of type `E`; panics if there is not exactly one.
    pub fn event<E: Event + AnchorDeserialize + Discriminator>(&self) -> E {
        let mut events = self.events_of::<E>();
        assert_eq!(
            events.len(),
            1,
            "expected exactly one {}",
            std::any::type_name::<E>()
        );
        events.remove(0)
    }
}

/// The runtime with gpu-market loaded, and a fee payer that is never any instruction's actor, so a
/// failed transaction leaves every other account exactly as it was.
pub struct TestContext {
    ctx: ProgramTestContext,
    /// Signatures already sent: an identical transaction is re-signed in a later slot instead of being
    /// dropped as a duplicate.
    sent: HashSet<solana_sdk::signature::Signature>,
    /// Whether `send` simulates first to capture events (on by default; property tests that only
    /// look at state turn it off to halve their cost).
    capture_events: bool,
}

impl TestContext {
    pub async fn new() -> Self {
        let mut program_test = ProgramTest::new(
            "gpu_market",
            gpu_market::ID,
            processor!(gpu_market::process_instruction_native),
        );
        program_test.prefer_bpf(false);
        Self {
            ctx: program_test.start_with_context().await,
            sent: HashSet::new(),
            capture_events: true,
        }
    }

    /// Turns event capture (the simulation pass in [`Self::send`]) on or off.
    pub fn capture_events(&mut self, on: bool) {
        self.capture_events = on;
    }

    /// Sends without the simulation pass: no events, half the cost. For property tests that only
    /// look at state.
    pub async fn execute(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<(), TransactionError> {
        let tx = self.sign_fresh(instructions, signers).await;
        self.process(tx).await
    }

    /// Processes `tx` on the working bank, as a validator would, and returns its result.
    ///
    /// `process_transaction` first simulates, then hands the transaction to the bank's thread and
    /// polls for its signature with a timer sleep per poll (tokio's 1 ms at the least); those
    /// round trips were most of every test's time. `process_transaction_with_metadata` processes
    /// it in place. That path skips signature verification, so it is done here first.
    ///
    /// An expired blockhash or a duplicate is the harness's mistake, never an outcome a test means
    /// (`sign_fresh` signs a repeated transaction anew, every warp takes a new blockhash): it
    /// panics rather than pass for the program's refusal.
    async fn process(&mut self, tx: Transaction) -> Result<(), TransactionError> {
        tx.verify()
            .map_err(|_| TransactionError::SignatureFailure)?;
        let processed = match self
            .ctx
            .banks_client
            .process_transaction_with_metadata(tx)
            .await
        {
            Ok(processed) => processed,
            Err(other) => panic!("transport error: {other}"),
        };
        if let Err(
            error @ (TransactionError::BlockhashNotFound | TransactionError::AlreadyProcessed),
        ) = &processed.result
        {
            panic!("the harness sent a transaction the chain cannot take: {error}");
        }
        processed.result
    }

    /// Signs with the fee payer; a transaction identical to one already sent is signed again in the
    /// next slot, so it is a new transaction rather than a duplicate.
    async fn sign_fresh(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Transaction {
        let mut tx = self.sign(instructions, signers);
        if self.sent.contains(&tx.signatures[0]) {
            self.next_slot().await;
            tx = self.sign(instructions, signers);
        }
        self.sent.insert(tx.signatures[0]);
        tx
    }

    fn sign(&self, instructions: &[Instruction], signers: &[&Keypair]) -> Transaction {
        let mut all_signers: Vec<&Keypair> = vec![&self.ctx.payer];
        all_signers.extend(
            signers
                .iter()
                .copied()
                .filter(|s| s.pubkey() != self.payer()),
        );
        Transaction::new_signed_with_payer(
            instructions,
            Some(&self.ctx.payer.pubkey()),
            &all_signers,
            self.ctx.last_blockhash,
        )
    }

    /// Edits an Anchor account in place. Only for putting an account into a state that instructions
    /// of a later milestone would reach (say, a provider with a running job).
    pub async fn edit_anchor_account<T: AccountDeserialize + AccountSerialize>(
        &mut self,
        key: &Pubkey,
        edit: impl FnOnce(&mut T),
    ) {
        let mut value: T = self.anchor_account(key).await;
        edit(&mut value);
        let mut account = self.account(key).await.expect("account exists");
        let mut data = Vec::with_capacity(account.data.len());
        value.try_serialize(&mut data).expect("serialize");
        account.data[..data.len()].copy_from_slice(&data);
        self.ctx.set_account(key, &account.into());
    }

    /// `slots` slots on, with the same unix time. The bank at the new slot records its parent's hash in
    /// the SlotHashes sysvar, as a real cluster does (the slots warped over have no entry, like
    /// skipped slots).
    pub async fn advance_slots(&mut self, slots: u64) {
        let before = self.clock().await;
        self.ctx.warp_to_slot(before.slot + slots).expect("warp");
        let mut clock = self.clock().await;
        clock.unix_timestamp = before.unix_timestamp;
        self.ctx.set_sysvar(&clock);
    }

    /// Enough single slots for every slot before now to leave the SlotHashes sysvar (it keeps the
    /// newest 512), as about three and a half minutes of a real cluster would. Unix time stays.
    pub async fn age_out_slot_hashes(&mut self) {
        for _ in 0..=solana_sdk::slot_hashes::MAX_ENTRIES {
            self.advance_slots(1).await;
        }
    }

    /// One slot on, with the same unix time (the runtime would otherwise re-estimate it).
    async fn next_slot(&mut self) {
        self.advance_time(0).await;
    }
}

impl Chain for TestContext {
    fn payer(&self) -> Pubkey {
        self.ctx.payer.pubkey()
    }

    /// Signs with the fee payer and `signers`, simulates to capture the inner instructions (which carry
    /// the events), then processes it for real.
    async fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Outcome, TxError> {
        let tx = self.sign_fresh(instructions, signers).await;
        if !self.capture_events {
            return self
                .process(tx)
                .await
                .map(|()| Outcome::default())
                .map_err(|error| TxError {
                    error,
                    logs: vec![],
                });
        }

        let simulation = self
            .ctx
            .banks_client
            .simulate_transaction(tx.clone())
            .await
            .expect("simulation transport");
        let (logs, inner_instructions) = match simulation.simulation_details {
            Some(details) => (details.logs, details.inner_instructions.unwrap_or_default()),
            None => (vec![], vec![]),
        };
        if let Some(Err(error)) = simulation.result {
            return Err(TxError { error, logs });
        }
        let keys = tx.message.account_keys.as_slice();
        let events = events_in(inner_instructions.iter().flatten().filter_map(|inner| {
            let program = keys.get(usize::from(inner.instruction.program_id_index))?;
            Some((*program, inner.instruction.data.as_slice()))
        }));

        match self.process(tx).await {
            Ok(()) => Ok(Outcome { logs, events }),
            Err(error) => Err(TxError { error, logs }),
        }
    }

    async fn account(&mut self, key: &Pubkey) -> Option<Account> {
        self.ctx
            .banks_client
            .get_account(*key)
            .await
            .expect("get_account")
    }

    async fn rent_exempt_minimum(&mut self, len: usize) -> u64 {
        self.ctx
            .banks_client
            .get_rent()
            .await
            .expect("rent")
            .minimum_balance(len)
    }

    async fn clock(&mut self) -> Clock {
        self.ctx
            .banks_client
            .get_sysvar::<Clock>()
            .await
            .expect("clock")
    }

    async fn advance_slots(&mut self, slots: u64) {
        TestContext::advance_slots(self, slots).await;
    }

    /// Moves the chain's unix time forward by `secs`, in a new slot.
    async fn advance_time(&mut self, secs: i64) {
        let before = self.clock().await;
        self.ctx.warp_to_slot(before.slot + 1).expect("warp");
        let mut clock = self.clock().await;
        clock.unix_timestamp = before.unix_timestamp + secs;
        self.ctx.set_sysvar(&clock);
    }
}
