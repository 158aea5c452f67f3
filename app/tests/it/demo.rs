//! The whole network end to end: `gpu-market demo` on localnet with three honest providers, one that
//! fakes a fifth of its chunks and one that goes offline mid-job, three verifiers, two clients and the
//! indexer on SQLite. Its summary must show the fraud caught and slashed, the faker ranked last, the
//! offline provider slashed for its no-show, and at least ten completed jobs; the summary's figures
//! must agree with the chain and with the indexer's API; and while it lingers, the `gpu-market` binary
//! fetches a completed render job's image from its provider and checks it against the commitment.

use app::demo::{self, DemoOptions, Summary};
use gpu_market::{
    WorkloadKind,
    state::{Job, JobState},
};
use gpu_market_client::Cluster;
use solana_commitment_config::CommitmentConfig;
use std::{process::Command, str::FromStr, time::Duration};

fn gpu_market(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gpu-market"))
        .args(args)
        .output()
        .expect("gpu-market runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn check_while_lingering(summary: Summary) {
    let cluster = Cluster::new(summary.rpc_url.clone(), CommitmentConfig::confirmed());
    let market = solana_sdk::pubkey::Pubkey::from_str(&summary.market).expect("market");

    // The summary's chain figures are the market account's.
    let m = cluster.market(&market).await.expect("market");
    assert_eq!(summary.jobs_created, m.counters.jobs_created);
    assert_eq!(summary.jobs_completed, m.counters.jobs_completed);
    assert_eq!(summary.jobs_failed, m.counters.jobs_failed);
    assert_eq!(summary.fees_total, m.counters.total_fees);
    let slashed: u64 = summary.slashed.iter().map(|s| s.amount).sum();
    assert_eq!(slashed, m.counters.total_slashed, "every slash is listed");

    // Every job is settled, and the indexer's refunds are the chain's.
    let jobs: Vec<(solana_sdk::pubkey::Pubkey, Job)> = cluster.jobs(&market).await.expect("jobs");
    assert!(jobs.iter().all(|(_, j)| j.state.is_settled()));
    let refunds: u64 = jobs.iter().map(|(_, j)| j.settlement.refund).sum();
    assert_eq!(summary.refunds_total, refunds);
    let shares: u64 = jobs.iter().map(|(_, j)| j.settlement.provider_share).sum();
    assert_eq!(summary.payouts_total, shares);

    // The CLI reads the same market through the demo's configuration file.
    let config = summary.cli_config.as_str();
    let (ok, stdout, stderr) = gpu_market(&["-C", config, "--output", "json", "market", "show"]);
    assert!(ok, "{stderr}");
    let shown: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(shown["counters"]["jobs_completed"], summary.jobs_completed);

    // A completed render job's image, fetched from its provider and checked against the root.
    let (render, job) = jobs
        .iter()
        .find(|(_, j)| j.state == JobState::Completed && j.workload.kind == WorkloadKind::Render)
        .expect("a completed render job");
    let png = std::env::temp_dir().join(format!("gpu-market-demo-{render}.png"));
    let (ok, stdout, stderr) = gpu_market(&[
        "-C",
        config,
        "job",
        "result",
        &render.to_string(),
        "--out",
        png.to_str().expect("utf-8"),
    ]);
    assert!(ok, "job result: {stderr}");
    assert!(stdout.contains("checked against root"), "{stdout}");
    let bytes = std::fs::read(&png).expect("the image");
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let info = decoder.read_info().expect("a PNG").info().clone();
    assert_eq!((info.width, info.height), (320, 192));
    assert_eq!(job.result.chunk_count, 960);
    let _ = std::fs::remove_file(&png);

    // A client closes one of its settled jobs with the CLI: what the escrow held comes back.
    let client_keypair = format!("{}/client-0.json", summary.data_dir);
    let client = app::cli::read_keypair(std::path::Path::new(&client_keypair)).expect("keypair");
    let (closed, _) = jobs
        .iter()
        .find(|(_, j)| {
            j.client == solana_sdk::signer::Signer::pubkey(&client) && j.state.is_settled()
        })
        .expect("a settled job of client 0");
    let (ok, stdout, stderr) = gpu_market(&[
        "-C",
        config,
        "-k",
        &client_keypair,
        "--output",
        "json",
        "job",
        "close",
        &closed.to_string(),
    ]);
    assert!(ok, "job close: {stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(report["action"], "close_job");
    assert!(
        cluster.rpc.get_account(closed).await.is_err(),
        "the job account is closed"
    );

    // The market's authority changes a parameter; the rest stay.
    let authority = format!("{}/market-authority.json", summary.data_dir);
    let (ok, stdout, stderr) = gpu_market(&[
        "-C",
        config,
        "-k",
        &authority,
        "--output",
        "json",
        "market",
        "update",
        "--challenge-window-secs",
        "45",
    ]);
    assert!(ok, "market update: {stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(report["market"]["params"]["challenge_window_secs"], 45);
    let updated = cluster.market(&market).await.expect("market");
    assert_eq!(updated.params.challenge_window_secs, 45);
    assert_eq!(updated.params.sample_count, m.params.sample_count);

    // Failures are sentences: a missing keypair file, then the program's error by name (a funded
    // wallet that is no provider sends a heartbeat).
    let (ok, _, stderr) = gpu_market(&[
        "-C",
        config,
        "-k",
        "/nonexistent.json",
        "job",
        "cancel",
        &render.to_string(),
    ]);
    assert!(!ok);
    assert!(stderr.contains("could not read the keypair"), "{stderr}");
    let stranger = solana_sdk::signature::Keypair::new();
    let airdrop = cluster
        .rpc
        .request_airdrop(
            &solana_sdk::signer::Signer::pubkey(&stranger),
            1_000_000_000,
        )
        .await
        .expect("airdrop");
    for _ in 0..100 {
        let status = cluster.rpc.get_signature_statuses(&[airdrop]).await;
        if status.expect("status").value[0].is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let keypair =
        std::env::temp_dir().join(format!("gpu-market-stranger-{}.json", std::process::id()));
    localnet::write_keypair(&stranger, &keypair).expect("keypair file");
    let (ok, _, stderr) = gpu_market(&[
        "-C",
        config,
        "-k",
        keypair.to_str().expect("utf-8"),
        "provider",
        "heartbeat",
    ]);
    let _ = std::fs::remove_file(&keypair);
    assert!(!ok);
    assert!(
        stderr.contains("heartbeat failed: AccountNotInitialized:"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_demo_catches_the_faker_and_ranks_it_last() {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let options = DemoOptions {
        duration: Duration::from_secs(75),
        linger: Duration::from_secs(30),
        rpc_port: 0,
        api_port: 0,
        data_dir: None,
        progress: false,
        divert_program_logs: false,
    };
    let demo = tokio::spawn(demo::run(options, move |summary, _| {
        let _ = sender.send(summary.clone());
    }));
    let summary = receiver.await.expect("the demo reaches its summary");
    println!("{}", demo::render_text(&summary));
    println!("{}", serde_json::to_string_pretty(&summary).expect("JSON"));

    assert!(
        summary.jobs_completed >= 10,
        "{} completed",
        summary.jobs_completed
    );
    assert!(summary.fraud_detected >= 1);
    let faker: Vec<_> = summary
        .slashed
        .iter()
        .filter(|s| s.profile == "faker-rtx3090")
        .collect();
    assert!(
        faker.iter().any(|s| s.reason == "Fraud" && s.amount > 0),
        "{faker:?}"
    );
    let offline: Vec<_> = summary
        .slashed
        .iter()
        .filter(|s| s.profile == "offline-l40s")
        .collect();
    assert!(
        offline.iter().any(|s| s.reason == "NoShow" && s.amount > 0),
        "{offline:?}"
    );
    assert!(
        summary
            .slashed
            .iter()
            .all(|s| s.profile == "faker-rtx3090" || s.profile == "offline-l40s"),
        "only the faker and the offline provider are slashed: {:?}",
        summary.slashed
    );
    assert_eq!(summary.reputation.len(), 5);
    assert_eq!(
        summary.reputation.last().map(|r| r.profile.as_str()),
        Some("faker-rtx3090")
    );
    let scores: Vec<f64> = summary.reputation.iter().map(|r| r.score).collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "best first: {scores:?}"
    );
    assert!(summary.payouts_total > 0 && summary.fees_total > 0 && summary.refunds_total > 0);

    check_while_lingering(summary).await;
    demo.await.expect("joins").expect("the demo ends cleanly");
}
