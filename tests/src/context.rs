// solana-program-test 3.x marks its whole API deprecated ahead of v4's `agave-unstable-api` feature;
// the API itself is what we want.
#![allow(deprecated)]

use anchor_lang::{AccountDeserialize, AccountSerialize, AnchorDeserialize, Discriminator, Event};
use anchor_spl::token_2022::spl_token_2022::{
    self,
    extension::{BaseStateWithExtensions, ExtensionType, StateWithExtensions},
};
use solana_program_test::{BanksClientError, ProgramTest, ProgramTestContext, processor};
use solana_sdk::{
    account::Account,
    clock::Clock,
    instruction::{Instruction, InstructionError},
    program_pack::Pack,
    pubkey::Pubkey,
    signature::Keypair,
    signer::Signer,
    transaction::{Transaction, TransactionError},
};
use std::collections::{BTreeMap, HashSet};

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

    pub fn payer(&self) -> Pubkey {
        self.ctx.payer.pubkey()
    }

    /// Turns event capture (the simulation pass in [`Self::send`]) on or off.
    pub fn capture_events(&mut self, on: bool) {
        self.capture_events = on;
    }

    /// Signs with the fee payer and `signers`, simulates to capture the inner instructions (which carry
    /// the events), then processes it for real.
    pub async fn send(
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
        let events = inner_instructions
            .into_iter()
            .flatten()
            .filter_map(|inner| {
                let keys = tx.message.account_keys.as_slice();
                let program = keys.get(usize::from(inner.instruction.program_id_index))?;
                let data = &inner.instruction.data;
                (*program == gpu_market::ID
                    && data.starts_with(anchor_lang::event::EVENT_IX_TAG_LE))
                .then(|| data[8..].to_vec())
            })
            .collect();

        match self.process(tx).await {
            Ok(()) => Ok(Outcome { logs, events }),
            Err(error) => Err(TxError { error, logs }),
        }
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

    async fn process(&mut self, tx: Transaction) -> Result<(), TransactionError> {
        match self.ctx.banks_client.process_transaction(tx).await {
            Ok(()) => Ok(()),
            Err(BanksClientError::TransactionError(error))
            | Err(BanksClientError::SimulationError { err: error, .. }) => Err(error),
            Err(other) => panic!("transport error: {other}"),
        }
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

    /// Sends and expects success.
    pub async fn ok(&mut self, instructions: &[Instruction], signers: &[&Keypair]) -> Outcome {
        match self.send(instructions, signers).await {
            Ok(outcome) => outcome,
            Err(e) => panic!("transaction failed: {:?}\n{}", e.error, e.logs.join("\n")),
        }
    }

    /// Sends, expects it to fail with `code`, and checks that none of `watched` changed (lamports, data,
    /// owner). The fee payer is never watched: it pays for failed transactions too.
    pub async fn fails_with(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
        code: impl Into<u32>,
        watched: &[Pubkey],
    ) -> TxError {
        let code = code.into();
        let err = self.fails(instructions, signers, watched).await;
        assert_eq!(
            err.custom_code(),
            Some(code),
            "expected error {code}, got {:?}\n{}",
            err.error,
            err.logs.join("\n")
        );
        err
    }

    /// Sends, expects any failure, and checks that none of `watched` changed.
    pub async fn fails(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
        watched: &[Pubkey],
    ) -> TxError {
        let before = self.snapshot(watched).await;
        let err = match self.send(instructions, signers).await {
            Ok(outcome) => panic!(
                "expected a failure, but the transaction succeeded:\n{}",
                outcome.logs.join("\n")
            ),
            Err(err) => err,
        };
        let after = self.snapshot(watched).await;
        assert_eq!(
            before, after,
            "a failed transaction changed a watched account"
        );
        err
    }

    /// The full state of `keys` (absent accounts as `None`).
    pub async fn snapshot(&mut self, keys: &[Pubkey]) -> BTreeMap<Pubkey, Option<Account>> {
        let mut out = BTreeMap::new();
        for key in keys {
            out.insert(*key, self.account(key).await);
        }
        out
    }

    pub async fn account(&mut self, key: &Pubkey) -> Option<Account> {
        self.ctx
            .banks_client
            .get_account(*key)
            .await
            .expect("get_account")
    }

    /// Reads and decodes an Anchor account of this program; panics if it is missing or not a `T`.
    pub async fn anchor_account<T: AccountDeserialize>(&mut self, key: &Pubkey) -> T {
        let account = self
            .account(key)
            .await
            .unwrap_or_else(|| panic!("account {key} does not exist"));
        assert_eq!(
            account.owner,
            gpu_market::ID,
            "{key} is not owned by gpu-market"
        );
        T::try_deserialize(&mut account.data.as_slice()).expect("account decodes")
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

    pub async fn lamports(&mut self, key: &Pubkey) -> u64 {
        self.account(key).await.map_or(0, |a| a.lamports)
    }

    /// Balance of a token account of either token program (the base layout is shared).
    pub async fn token_balance(&mut self, key: &Pubkey) -> u64 {
        let account = self
            .account(key)
            .await
            .unwrap_or_else(|| panic!("token account {key} does not exist"));
        spl_token_interface::state::Account::unpack_from_slice(
            &account.data[..spl_token_interface::state::Account::LEN],
        )
        .expect("token account")
        .amount
    }

    pub async fn clock(&mut self) -> Clock {
        self.ctx
            .banks_client
            .get_sysvar::<Clock>()
            .await
            .expect("clock")
    }

    /// Moves the chain's unix time forward by `secs`, in a new slot.
    pub async fn advance_time(&mut self, secs: i64) {
        let before = self.clock().await;
        self.ctx.warp_to_slot(before.slot + 1).expect("warp");
        let mut clock = self.clock().await;
        clock.unix_timestamp = before.unix_timestamp + secs;
        self.ctx.set_sysvar(&clock);
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

    /// One slot on, with the same unix time (the runtime would otherwise re-estimate it).
    async fn next_slot(&mut self) {
        self.advance_time(0).await;
    }

    /// A new keypair holding `sol` SOL, paid by the fee payer.
    pub async fn funded_wallet(&mut self, sol: u64) -> Keypair {
        let wallet = Keypair::new();
        let ix = solana_system_interface::instruction::transfer(
            &self.payer(),
            &wallet.pubkey(),
            sol * 1_000_000_000,
        );
        self.ok(&[ix], &[]).await;
        wallet
    }

    pub async fn rent_exempt_minimum(&mut self, len: usize) -> u64 {
        self.ctx
            .banks_client
            .get_rent()
            .await
            .expect("rent")
            .minimum_balance(len)
    }
}

/// Token set-up. The fee payer is every test mint's mint authority.
impl TestContext {
    /// A new mint of `token_program` (SPL Token or Token-2022) with no extensions.
    pub async fn create_mint(&mut self, token_program: &Pubkey, decimals: u8) -> Pubkey {
        self.create_mint_with(token_program, decimals, &[], |_| vec![])
            .await
    }

    /// A new mint with room for `extensions`; `init_extensions` returns the instructions that
    /// initialize them (they must run before the mint itself is initialized).
    pub async fn create_mint_with(
        &mut self,
        token_program: &Pubkey,
        decimals: u8,
        extensions: &[ExtensionType],
        init_extensions: impl FnOnce(&Pubkey) -> Vec<Instruction>,
    ) -> Pubkey {
        let mint = Keypair::new();
        let len = if extensions.is_empty() {
            spl_token_2022::state::Mint::LEN
        } else {
            ExtensionType::try_calculate_account_len::<spl_token_2022::state::Mint>(extensions)
                .expect("mint length")
        };
        let lamports = self.rent_exempt_minimum(len).await;
        let mut ixs = vec![solana_system_interface::instruction::create_account(
            &self.payer(),
            &mint.pubkey(),
            lamports,
            len as u64,
            token_program,
        )];
        ixs.extend(init_extensions(&mint.pubkey()));
        ixs.push(
            spl_token_2022::instruction::initialize_mint2(
                token_program,
                &mint.pubkey(),
                &self.payer(),
                None,
                decimals,
            )
            .expect("initialize_mint2"),
        );
        self.ok(&ixs, &[&mint]).await;
        mint.pubkey()
    }

    /// A new token account of `mint` owned by `owner`.
    pub async fn create_token_account(
        &mut self,
        token_program: &Pubkey,
        mint: &Pubkey,
        owner: &Pubkey,
    ) -> Pubkey {
        let account = Keypair::new();
        let len = self.token_account_len(mint).await;
        let lamports = self.rent_exempt_minimum(len).await;
        let ixs = [
            solana_system_interface::instruction::create_account(
                &self.payer(),
                &account.pubkey(),
                lamports,
                len as u64,
                token_program,
            ),
            spl_token_2022::instruction::initialize_account3(
                token_program,
                &account.pubkey(),
                mint,
                owner,
            )
            .expect("initialize_account3"),
        ];
        self.ok(&ixs, &[&account]).await;
        account.pubkey()
    }

    /// Size of a token account of `mint`, with room for the extensions the mint's own extensions
    /// require on every account (a transfer-fee mint needs a withheld-amount field, say).
    async fn token_account_len(&mut self, mint: &Pubkey) -> usize {
        let mint_account = self.account(mint).await.expect("mint exists");
        let state = StateWithExtensions::<spl_token_2022::state::Mint>::unpack(&mint_account.data)
            .expect("mint");
        let mint_extensions = state.get_extension_types().expect("mint extensions");
        let required = ExtensionType::get_required_init_account_extensions(&mint_extensions);
        ExtensionType::try_calculate_account_len::<spl_token_2022::state::Account>(&required)
            .expect("account length")
    }

    pub async fn mint_to(
        &mut self,
        token_program: &Pubkey,
        mint: &Pubkey,
        account: &Pubkey,
        amount: u64,
    ) {
        let ix = spl_token_2022::instruction::mint_to(
            token_program,
            mint,
            account,
            &self.payer(),
            &[],
            amount,
        )
        .expect("mint_to");
        self.ok(&[ix], &[]).await;
    }
}
