//! `gpu-market-indexer` as a user starts it: a backfill with `--once`, then following the chain.

use gpu_market_tests::{RpcChain, fixtures::*};
use indexer::store::{Store, Table};
use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_backfills_then_follows() {
    let mut chain = RpcChain::start_localnet().await;
    let market = MarketFixture::new(&mut chain).await;
    ProviderFixture::staked(&mut chain, &market.keys, 10, 10).await;
    let rpc_url = chain.rpc.url();
    let ws_url = chain.ws_url();
    let database = std::env::temp_dir().join(format!("indexer-binary-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&database);
    let binary = env!("CARGO_BIN_EXE_gpu-market-indexer");

    // --once: index what is there, then exit.
    let status = Command::new(binary)
        .args(["--once", "--rpc-url", &rpc_url, "--database-url"])
        .arg(&database)
        .stderr(Stdio::null())
        .status()
        .expect("the binary runs");
    assert!(status.success());
    let store = Store::connect(&database.display().to_string())
        .await
        .expect("the database it made");
    assert_eq!(
        store.count(Table::Events).await.expect("count"),
        3,
        "initialized, registered, staked"
    );

    // Following: new transactions show up without a restart.
    let mut follower = Command::new(binary)
        .args([
            "--rpc-url",
            &rpc_url,
            "--ws-url",
            &ws_url,
            "--poll-secs",
            "1",
            "--database-url",
        ])
        .arg(&database)
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    ProviderFixture::staked(&mut chain, &market.keys, 10, 10).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.count(Table::Events).await.expect("count") < 5 {
        assert!(
            Instant::now() < deadline,
            "the follower did not index the new provider"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = follower.kill();
    let _ = follower.wait();
    assert_eq!(store.count(Table::Events).await.expect("count"), 5);

    // Bad settings are refused with a sentence, before anything starts.
    let output = Command::new(binary)
        .args(["--once", "--commitment", "processed"])
        .output()
        .expect("the binary runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("never processed"));
    let _ = std::fs::remove_file(&database);
}
