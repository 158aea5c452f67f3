//! Every implemented method, called through solana-client: each answer must deserialize into the
//! client's own response types (any shape mismatch fails the call), and say what the chain holds.

use anchor_lang::{AccountDeserialize, Discriminator, Space};
use gpu_market::state::{Market, Provider};
use gpu_market_tests::{Chain, RpcChain, fixtures::*};
use solana_client::{
    nonblocking::pubsub_client::PubsubClient,
    rpc_client::GetConfirmedSignaturesForAddress2Config,
    rpc_config::{
        RpcAccountInfoConfig, RpcBlockConfig, RpcProgramAccountsConfig, RpcTransactionLogsConfig,
        RpcTransactionLogsFilter,
    },
    rpc_filter::{Memcmp, RpcFilterType},
    rpc_request::TokenAccountsFilter,
};
use solana_commitment_config::CommitmentConfig;
use solana_sdk::{
    message::Message,
    signature::{Keypair, Signature},
    signer::Signer,
};
use solana_transaction_status_client_types::{
    TransactionDetails, UiTransactionEncoding, UiTransactionTokenBalance,
    option_serializer::OptionSerializer,
};
use std::time::Duration;
use tokio_stream::StreamExt;

const TIMEOUT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chain_and_account_methods_answer_in_solana_client_types() {
    let mut chain = RpcChain::start().await;
    let market = MarketFixture::new(&mut chain).await;
    let m = market.keys;
    let p = ProviderFixture::registered(&mut chain, &m, 10).await;
    let rpc = &chain.rpc;

    rpc.get_health().await.expect("getHealth");
    assert!(
        !rpc.get_version()
            .await
            .expect("getVersion")
            .solana_core
            .is_empty()
    );
    rpc.get_genesis_hash().await.expect("getGenesisHash");
    let slot = rpc.get_slot().await.expect("getSlot");
    let epoch = rpc.get_epoch_info().await.expect("getEpochInfo");
    assert!(epoch.absolute_slot >= slot);
    assert!(epoch.transaction_count.unwrap_or_default() > 0);
    let schedule = rpc.get_epoch_schedule().await.expect("getEpochSchedule");
    assert_eq!(
        epoch.slots_in_epoch,
        schedule.get_slots_in_epoch(epoch.epoch)
    );
    let height = rpc.get_block_height().await.expect("getBlockHeight");
    let (blockhash, last_valid) = rpc
        .get_latest_blockhash_with_commitment(CommitmentConfig::confirmed())
        .await
        .expect("getLatestBlockhash");
    // A blockhash lives 150 blocks, as on a cluster (the height may move on between the two calls).
    assert!(
        (height + 145..=height + 151).contains(&last_valid),
        "{height} {last_valid}"
    );
    assert!(
        rpc.is_blockhash_valid(&blockhash, CommitmentConfig::confirmed())
            .await
            .expect("isBlockhashValid")
    );
    assert!(
        !rpc.is_blockhash_valid(
            &solana_sdk::hash::Hash::new_unique(),
            CommitmentConfig::confirmed()
        )
        .await
        .expect("isBlockhashValid")
    );
    assert_eq!(
        rpc.get_minimum_balance_for_rent_exemption(Market::INIT_SPACE + 8)
            .await
            .expect("rent"),
        rpc.get_balance(&m.market).await.expect("getBalance")
    );
    let transfer = solana_system_interface::instruction::transfer(&chain.payer(), &p.key(), 1);
    let message = Message::new_with_blockhash(&[transfer], Some(&chain.payer()), &blockhash);
    assert_eq!(
        rpc.get_fee_for_message(&message)
            .await
            .expect("getFeeForMessage"),
        5_000
    );
    assert!(
        rpc.get_transaction_count()
            .await
            .expect("getTransactionCount")
            > 5
    );

    // Accounts, one by one and together.
    let account = rpc.get_account(&m.market).await.expect("getAccountInfo");
    assert_eq!(account.owner, gpu_market::ID);
    let accounts = rpc
        .get_multiple_accounts(&[m.market, Keypair::new().pubkey(), p.provider])
        .await
        .expect("getMultipleAccounts");
    assert!(
        accounts[0].is_some() && accounts[1].is_none() && accounts[2].is_some(),
        "{accounts:?}"
    );
    assert_eq!(
        rpc.get_balance(&p.key()).await.expect("getBalance"),
        rpc.get_account(&p.key())
            .await
            .expect("getAccountInfo")
            .lamports
    );

    // Program accounts, by discriminator and by size.
    let providers = rpc
        .get_program_ui_accounts_with_config(
            &gpu_market::ID,
            RpcProgramAccountsConfig {
                filters: Some(vec![RpcFilterType::Memcmp(Memcmp::new_raw_bytes(
                    0,
                    Provider::DISCRIMINATOR.to_vec(),
                ))]),
                account_config: RpcAccountInfoConfig {
                    encoding: Some(solana_account_decoder::UiAccountEncoding::Base64),
                    ..RpcAccountInfoConfig::default()
                },
                ..RpcProgramAccountsConfig::default()
            },
        )
        .await
        .expect("getProgramAccounts");
    // (The cluster may be shared with other tests: ours must be there, and only providers.)
    assert!(providers.iter().any(|(k, _)| *k == p.provider));
    for (_, account) in &providers {
        let data = account.data.decode().expect("base64 data");
        Provider::try_deserialize(&mut data.as_slice()).expect("only providers");
    }
    // Left to its default encoding (base58), an account over 128 bytes is refused, as on a real node.
    let refused = rpc
        .get_program_ui_accounts_with_config(&gpu_market::ID, RpcProgramAccountsConfig::default())
        .await
        .expect_err("base58 is for small accounts");
    assert!(refused.to_string().contains("Base64"), "{refused}");
    let markets = rpc
        .get_program_ui_accounts_with_config(
            &gpu_market::ID,
            RpcProgramAccountsConfig {
                filters: Some(vec![RpcFilterType::DataSize(account.data.len() as u64)]),
                account_config: RpcAccountInfoConfig {
                    encoding: Some(solana_account_decoder::UiAccountEncoding::Base64),
                    ..RpcAccountInfoConfig::default()
                },
                ..RpcProgramAccountsConfig::default()
            },
        )
        .await
        .expect("getProgramAccounts");
    let (_, ours) = markets
        .iter()
        .find(|(k, _)| *k == m.market)
        .expect("our market");
    assert_eq!(ours.decode::<solana_sdk::account::Account>(), Some(account));
    assert!(
        markets
            .iter()
            .all(|(_, a)| a.space == Some(ours.space.expect("space")))
    );

    // Token accounts, parsed.
    let stake = rpc
        .get_token_account_balance(&p.stake_account)
        .await
        .expect("getTokenAccountBalance");
    assert_eq!(
        (stake.amount.as_str(), stake.decimals),
        ("10000000000", STAKE_DECIMALS)
    );
    let owned = rpc
        .get_token_accounts_by_owner(&p.key(), TokenAccountsFilter::Mint(m.stake_mint))
        .await
        .expect("getTokenAccountsByOwner");
    assert_eq!(owned.len(), 1);
    assert_eq!(owned[0].pubkey, p.stake_account.to_string());
    let owned = rpc
        .get_token_accounts_by_owner(
            &p.key(),
            TokenAccountsFilter::ProgramId(m.stake_token_program),
        )
        .await
        .expect("getTokenAccountsByOwner");
    assert_eq!(owned.len(), 2, "the stake and the payment account");

    // Token balances before and after, in the minting transaction's metadata.
    let minted = rpc
        .get_signatures_for_address(&p.stake_account)
        .await
        .expect("getSignaturesForAddress")[0]
        .signature
        .parse::<Signature>()
        .expect("signature");
    let tx = chain
        .transaction(&minted, UiTransactionEncoding::Base64)
        .await;
    let meta = tx.transaction.meta.expect("meta");
    let balance = |balances: OptionSerializer<Vec<UiTransactionTokenBalance>>| {
        let balances = Option::<Vec<_>>::from(balances).expect("token balances");
        assert_eq!(balances.len(), 1, "{balances:?}");
        let b = &balances[0];
        assert_eq!(b.mint, m.stake_mint.to_string());
        assert_eq!(b.owner, OptionSerializer::Some(p.key().to_string()));
        (b.ui_token_amount.amount.clone(), b.ui_token_amount.decimals)
    };
    assert_eq!(
        balance(meta.pre_token_balances),
        ("0".into(), STAKE_DECIMALS)
    );
    assert_eq!(
        balance(meta.post_token_balances),
        ("10000000000".into(), STAKE_DECIMALS)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_are_found_by_signature_address_and_block() {
    let mut chain = RpcChain::start().await;
    let market = MarketFixture::new(&mut chain).await;
    let m = market.keys;

    // Five transfers to one address, in order.
    let target = Keypair::new().pubkey();
    let mut sent: Vec<Signature> = vec![];
    for lamports in 1..=5u64 {
        let ix = solana_system_interface::instruction::transfer(
            &chain.payer(),
            &target,
            1_000_000 * lamports,
        );
        chain.ok(&[ix], &[]).await;
        let newest = chain
            .rpc
            .get_signatures_for_address(&target)
            .await
            .expect("getSignaturesForAddress");
        sent.push(newest[0].signature.parse().expect("signature"));
    }
    let page = |before: Option<usize>, until: Option<usize>, limit: Option<usize>| {
        let rpc = &chain.rpc;
        let sent = &sent;
        async move {
            rpc.get_signatures_for_address_with_config(
                &target,
                GetConfirmedSignaturesForAddress2Config {
                    before: before.map(|i| sent[i]),
                    until: until.map(|i| sent[i]),
                    limit,
                    commitment: Some(CommitmentConfig::confirmed()),
                },
            )
            .await
            .expect("getSignaturesForAddress")
            .iter()
            .map(|s| {
                sent.iter()
                    .position(|x| x.to_string() == s.signature)
                    .expect("one of ours")
            })
            .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        page(None, None, None).await,
        vec![4, 3, 2, 1, 0],
        "newest first"
    );
    assert_eq!(page(None, None, Some(2)).await, vec![4, 3]);
    assert_eq!(page(Some(3), None, None).await, vec![2, 1, 0]);
    assert_eq!(page(None, Some(1), None).await, vec![4, 3, 2]);
    assert_eq!(page(Some(4), Some(0), Some(2)).await, vec![3, 2]);

    // A memo shows in the address's history, in a real node's "[length] text" form.
    let memo = solana_sdk::instruction::Instruction {
        program_id: solana_sdk::pubkey!("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"),
        accounts: vec![],
        data: b"hello".to_vec(),
    };
    let ix = solana_system_interface::instruction::transfer(&chain.payer(), &target, 1);
    chain.ok(&[ix, memo], &[]).await;
    let newest = chain
        .rpc
        .get_signatures_for_address(&target)
        .await
        .expect("getSignaturesForAddress");
    assert_eq!(newest[0].memo.as_deref(), Some("[5] hello"));
    assert_eq!(newest[1].memo, None);

    // A gpu-market transaction, by signature: its events are inner instructions of the program.
    let initialize = *chain
        .rpc
        .get_signatures_for_address(&m.market)
        .await
        .expect("getSignaturesForAddress")
        .last()
        .map(|s| s.signature.parse::<Signature>().expect("signature"))
        .as_ref()
        .expect("the market's first transaction");
    let tx = chain
        .transaction(&initialize, UiTransactionEncoding::Json)
        .await;
    let meta = tx.transaction.meta.as_ref().expect("meta");
    assert!(meta.err.is_none());
    assert_eq!(meta.fee, 10_000, "two signatures");
    let inner = Option::<Vec<_>>::from(meta.inner_instructions.clone()).expect("innerInstructions");
    assert!(!inner.is_empty());
    let logs = Option::<Vec<String>>::from(meta.log_messages.clone()).expect("logMessages");
    assert!(logs.iter().any(|l| l.contains(&gpu_market::ID.to_string())));
    assert!(Option::<u64>::from(meta.compute_units_consumed.clone()).is_some());

    // The block that holds it, once produced.
    let slot = tx.slot;
    while chain.rpc.get_slot().await.expect("getSlot") <= slot {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let block = chain
        .rpc
        .get_block_with_config(
            slot,
            RpcBlockConfig {
                encoding: Some(UiTransactionEncoding::Base64),
                transaction_details: Some(TransactionDetails::Signatures),
                rewards: Some(false),
                commitment: Some(CommitmentConfig::confirmed()),
                max_supported_transaction_version: Some(0),
            },
        )
        .await
        .expect("getBlock");
    assert!(
        block
            .signatures
            .expect("signatures")
            .contains(&initialize.to_string())
    );
    assert_eq!(block.block_time, tx.block_time);
    assert_eq!(
        chain.rpc.get_block_time(slot).await.expect("getBlockTime"),
        tx.block_time.expect("blockTime")
    );
    let blocks = chain
        .rpc
        .get_blocks(slot, Some(slot + 1))
        .await
        .expect("getBlocks");
    assert!(blocks.contains(&slot));
    // solana-client's own form (a config in the end slot's place), and a reversed range.
    let produced = chain.rpc.get_blocks(0, None).await.expect("getBlocks");
    assert!(produced.contains(&slot) && produced.is_sorted());
    assert_eq!(
        chain
            .rpc
            .get_blocks(slot + 10, Some(slot))
            .await
            .expect("getBlocks"),
        Vec::<u64>::new()
    );
    assert_eq!(
        chain
            .rpc
            .get_first_available_block()
            .await
            .expect("getFirstAvailableBlock"),
        produced[0]
    );

    // A blockhash stays usable for 150 slots, not a moment: seconds later it still lands.
    let old = chain.rpc.get_latest_blockhash().await.expect("blockhash");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        chain
            .rpc
            .is_blockhash_valid(&old, CommitmentConfig::confirmed())
            .await
            .expect("isBlockhashValid")
    );
    let late = chain.sign(
        &[solana_system_interface::instruction::transfer(
            &chain.payer(),
            &target,
            2,
        )],
        &[],
        old,
    );
    chain
        .rpc
        .send_and_confirm_transaction(&late)
        .await
        .expect("an eight-slot-old blockhash is accepted");

    // Simulation reports the program's logs and leaves nothing behind.
    let transfer = solana_system_interface::instruction::transfer(&chain.payer(), &target, 1);
    let blockhash = chain.rpc.get_latest_blockhash().await.expect("blockhash");
    let tx = chain.sign(&[transfer], &[], blockhash);
    let before = chain.rpc.get_balance(&target).await.expect("getBalance");
    let simulated = chain
        .rpc
        .simulate_transaction(&tx)
        .await
        .expect("simulateTransaction");
    assert!(simulated.value.err.is_none());
    assert!(
        simulated
            .value
            .logs
            .expect("logs")
            .iter()
            .any(|l| l.contains("11111111111111111111111111111111 success"))
    );
    assert_eq!(
        chain.rpc.get_balance(&target).await.expect("getBalance"),
        before
    );
    let statuses = chain
        .rpc
        .get_signature_statuses(&[tx.signatures[0], sent[0]])
        .await
        .expect("getSignatureStatuses");
    assert!(statuses.value[0].is_none());
    assert!(statuses.value[1].as_ref().expect("status").err.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_notify_slots_signatures_logs_and_accounts() {
    let mut chain = RpcChain::start().await;
    let pubsub = PubsubClient::new(&chain.ws_url())
        .await
        .expect("websocket connects");

    let (mut slots, unsubscribe_slots) = pubsub.slot_subscribe().await.expect("slotSubscribe");
    let first = tokio::time::timeout(TIMEOUT, slots.next())
        .await
        .expect("a slot")
        .expect("slot");
    let second = tokio::time::timeout(TIMEOUT, slots.next())
        .await
        .expect("a slot")
        .expect("slot");
    assert!(second.slot > first.slot, "slots advance on their own");
    assert_eq!(second.parent, second.slot - 1);
    unsubscribe_slots().await;

    let target = Keypair::new().pubkey();
    let (mut logs, _unsubscribe_logs) = pubsub
        .logs_subscribe(
            RpcTransactionLogsFilter::Mentions(vec![target.to_string()]),
            RpcTransactionLogsConfig {
                commitment: Some(CommitmentConfig::confirmed()),
            },
        )
        .await
        .expect("logsSubscribe");
    let (mut account, _unsubscribe_account) = pubsub
        .account_subscribe(
            &target,
            Some(RpcAccountInfoConfig {
                encoding: Some(solana_account_decoder::UiAccountEncoding::Base64),
                ..RpcAccountInfoConfig::default()
            }),
        )
        .await
        .expect("accountSubscribe");

    let ix = solana_system_interface::instruction::transfer(&chain.payer(), &target, 7_000_000);
    let blockhash = chain.rpc.get_latest_blockhash().await.expect("blockhash");
    let tx = chain.sign(&[ix], &[], blockhash);
    // Subscribed before it is sent, so the notification comes from the waiting path.
    let (mut status, _unsubscribe_status) = pubsub
        .signature_subscribe(&tx.signatures[0], None)
        .await
        .expect("signatureSubscribe");
    let signature = chain
        .rpc
        .send_transaction(&tx)
        .await
        .expect("sendTransaction");

    let done = tokio::time::timeout(TIMEOUT, status.next())
        .await
        .expect("a status")
        .expect("status");
    assert!(matches!(
        done.value,
        solana_client::rpc_response::RpcSignatureResult::ProcessedSignature(ref r) if r.err.is_none()
    ));
    let logged = tokio::time::timeout(TIMEOUT, logs.next())
        .await
        .expect("logs")
        .expect("logs");
    assert_eq!(logged.value.signature, signature.to_string());
    assert!(!logged.value.logs.is_empty());
    let changed = tokio::time::timeout(TIMEOUT, account.next())
        .await
        .expect("account")
        .expect("account");
    assert_eq!(changed.value.lamports, 7_000_000);
    assert_eq!(chain.lamports(&target).await, 7_000_000);
}
