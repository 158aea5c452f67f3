//! `gpu-market-localnet` as a user starts it: it prints where it listens and answers the basic
//! methods a wallet or the Solana CLI uses.

use solana_client::nonblocking::rpc_client::RpcClient;
use solana_commitment_config::CommitmentConfig;
use solana_sdk::{signature::Keypair, signer::Signer, transaction::Transaction};
use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::Duration,
};

/// The child process, killed when the test ends however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port_pair() -> u16 {
    loop {
        let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = socket.local_addr().expect("addr").port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_a_wallets_basic_calls() {
    let port = free_port_pair();
    let dir = std::env::temp_dir().join(format!("localnet-binary-test-{port}"));
    let faucet_path = dir.join("faucet.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gpu-market-localnet"))
        .args(["--rpc-port", &port.to_string(), "--faucet-keypair"])
        .arg(&faucet_path)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let _running = Running(child);

    // It prints its URLs, the program id and the faucet keypair's path.
    let (lines, printed_lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    let mut printed = String::new();
    while !printed.contains("ledger:") {
        let line = printed_lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("the binary stopped printing:\n{printed}"));
        printed.push_str(&line);
        printed.push('\n');
    }
    let rpc_url = format!("http://127.0.0.1:{port}");
    assert!(printed.contains(&rpc_url), "{printed}");
    assert!(
        printed.contains(&format!("ws://127.0.0.1:{}", port + 1)),
        "{printed}"
    );
    assert!(printed.contains(&gpu_market::ID.to_string()), "{printed}");
    assert!(
        printed.contains(&faucet_path.display().to_string()),
        "{printed}"
    );
    assert!(printed.contains("in memory"), "{printed}");

    let rpc = RpcClient::new_with_commitment(rpc_url, CommitmentConfig::confirmed());
    rpc.get_health().await.expect("getHealth");
    assert_eq!(
        rpc.get_version().await.expect("getVersion").solana_core,
        localnet::rpc::RUNTIME_VERSION
    );
    let slot = rpc.get_slot().await.expect("getSlot");
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert!(
        rpc.get_slot().await.expect("getSlot") > slot,
        "slots advance"
    );

    // The faucet file holds the keypair that funds airdrops.
    let faucet: Vec<u8> =
        serde_json::from_str(&std::fs::read_to_string(&faucet_path).expect("faucet file"))
            .expect("a JSON keypair");
    let faucet = Keypair::try_from(faucet.as_slice()).expect("a keypair");
    assert!(rpc.get_balance(&faucet.pubkey()).await.expect("getBalance") > 0);

    let wallet = Keypair::new();
    let airdrop = rpc
        .request_airdrop(&wallet.pubkey(), 2_000_000_000)
        .await
        .expect("requestAirdrop");
    rpc.poll_for_signature(&airdrop)
        .await
        .expect("the airdrop lands");
    assert_eq!(
        rpc.get_balance(&wallet.pubkey()).await.expect("getBalance"),
        2_000_000_000
    );

    // A transfer sent with sendTransaction is found by address and by signature.
    let to = Keypair::new().pubkey();
    let blockhash = rpc
        .get_latest_blockhash()
        .await
        .expect("getLatestBlockhash");
    let ix = solana_system_interface::instruction::transfer(&wallet.pubkey(), &to, 1_000_000);
    let tx =
        Transaction::new_signed_with_payer(&[ix], Some(&wallet.pubkey()), &[&wallet], blockhash);
    let signature = rpc
        .send_and_confirm_transaction(&tx)
        .await
        .expect("sendTransaction");
    let found = rpc
        .get_signatures_for_address(&to)
        .await
        .expect("getSignaturesForAddress");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].signature, signature.to_string());
    let got = rpc
        .get_transaction(
            &signature,
            solana_transaction_status_client_types::UiTransactionEncoding::Json,
        )
        .await
        .expect("getTransaction");
    let meta = got.transaction.meta.expect("meta");
    assert_eq!(
        meta.pre_balances[0] - meta.post_balances[0],
        1_000_000 + meta.fee
    );
    assert_eq!(rpc.get_balance(&to).await.expect("getBalance"), 1_000_000);
    let _ = std::fs::remove_dir_all(dir);
}
