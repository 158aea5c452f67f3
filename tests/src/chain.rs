//! What a scenario needs from a chain, whichever it is: the runtime in-process ([`crate::TestContext`])
//! or a cluster over JSON-RPC ([`crate::RpcChain`]: localnet, or `solana-test-validator` under
//! `anchor test`). Fixtures are written once against this trait.

use crate::{Outcome, TxError};
use anchor_lang::AccountDeserialize;
use anchor_spl::token_2022::spl_token_2022::{
    self,
    extension::{BaseStateWithExtensions, ExtensionType, StateWithExtensions},
};
use solana_sdk::{
    account::Account, clock::Clock, instruction::Instruction, program_pack::Pack, pubkey::Pubkey,
    signature::Keypair, signer::Signer,
};
use std::collections::BTreeMap;

// The harness runs on one test's runtime; its futures need no `Send` bound.
#[allow(async_fn_in_trait)]
pub trait Chain {
    /// The fee payer of every transaction, and every test mint's mint authority.
    fn payer(&self) -> Pubkey;

    /// Signs with the fee payer and `signers`, sends, and returns the logs and the program's events.
    async fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Outcome, TxError>;

    async fn account(&mut self, key: &Pubkey) -> Option<Account>;

    async fn rent_exempt_minimum(&mut self, len: usize) -> u64;

    async fn clock(&mut self) -> Clock;

    /// Moves the chain's unix time forward by `secs`, in a new slot.
    async fn advance_time(&mut self, secs: i64);

    /// Moves the chain at least `slots` slots on (the SlotHashes sysvar gains their hashes).
    async fn advance_slots(&mut self, slots: u64);

    /// Sends and expects success.
    async fn ok(&mut self, instructions: &[Instruction], signers: &[&Keypair]) -> Outcome {
        match self.send(instructions, signers).await {
            Ok(outcome) => outcome,
            Err(e) => panic!("transaction failed: {:?}\n{}", e.error, e.logs.join("\n")),
        }
    }

    /// Sends, expects it to fail with `code`, and checks that none of `watched` changed (lamports, data,
    /// owner). The fee payer is never watched: it pays for failed transactions too.
    async fn fails_with(
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
    async fn fails(
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
    async fn snapshot(&mut self, keys: &[Pubkey]) -> BTreeMap<Pubkey, Option<Account>> {
        let mut out = BTreeMap::new();
        for key in keys {
            out.insert(*key, self.account(key).await);
        }
        out
    }

    /// Reads and decodes an Anchor account of this program; panics if it is missing or not a `T`.
    async fn anchor_account<T: AccountDeserialize>(&mut self, key: &Pubkey) -> T {
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

    async fn lamports(&mut self, key: &Pubkey) -> u64 {
        self.account(key).await.map_or(0, |a| a.lamports)
    }

    /// Balance of a token account of either token program (the base layout is shared).
    async fn token_balance(&mut self, key: &Pubkey) -> u64 {
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

    /// A new keypair holding `sol` SOL, paid by the fee payer.
    async fn funded_wallet(&mut self, sol: u64) -> Keypair {
        let wallet = Keypair::new();
        let ix = solana_system_interface::instruction::transfer(
            &self.payer(),
            &wallet.pubkey(),
            sol * 1_000_000_000,
        );
        self.ok(&[ix], &[]).await;
        wallet
    }

    /// A new mint of `token_program` (SPL Token or Token-2022) with no extensions.
    async fn create_mint(&mut self, token_program: &Pubkey, decimals: u8) -> Pubkey {
        self.create_mint_with(token_program, decimals, &[], |_| vec![])
            .await
    }

    /// A new mint with room for `extensions`; `init_extensions` returns the instructions that
    /// initialize them (they must run before the mint itself is initialized).
    async fn create_mint_with(
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
    async fn create_token_account(
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

    /// Closes an empty token account, its rent going back to `owner`.
    async fn close_token_account(
        &mut self,
        token_program: &Pubkey,
        account: &Pubkey,
        owner: &Keypair,
    ) {
        let ix = spl_token_2022::instruction::close_account(
            token_program,
            account,
            &owner.pubkey(),
            &owner.pubkey(),
            &[],
        )
        .expect("close_account");
        self.ok(&[ix], &[owner]).await;
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

    async fn mint_to(
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

/// The program's `emit_cpi!` payloads among a transaction's inner instructions, given each inner
/// instruction's program and data: everything after Anchor's 8-byte event tag.
pub fn events_in<'a>(inner: impl IntoIterator<Item = (Pubkey, &'a [u8])>) -> Vec<Vec<u8>> {
    inner
        .into_iter()
        .filter(|(program, data)| {
            *program == gpu_market::ID && data.starts_with(anchor_lang::event::EVENT_IX_TAG_LE)
        })
        .map(|(_, data)| data[8..].to_vec())
        .collect()
}
