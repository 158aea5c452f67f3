//! The provider agent and the verifier against localnet, one behaviour at a time:
//! - a job claimed while the agent was down is computed and submitted when it starts (restart
//!   safety), and its chunks are served with proofs that check against the committed root;
//! - a restarted agent serves the submitted result again;
//! - when the provider stops answering, a verifier votes fail once its proof timeout passes, with
//!   the reason recorded in its verdict's evidence.

use app::{
    hardware::Hardware,
    proofs::EndpointClient,
    provider::{Agent, AgentConfig, AlertRules, Behaviour},
    verifier::{VerifierAgent, VerifierConfig},
    workload::{Matmul, Spec},
};
use gpu_market::{
    UpdateProviderArgs, Workload,
    pda::find_verdict_address,
    state::{Job, JobState, Verdict},
};
use gpu_market_client::{Cluster, ix};
use gpu_market_tests::{
    Chain, RpcChain,
    fixtures::{
        ClientFixture, MarketFixture, ProviderFixture, VerifierFixture, job_args, rtx4090_spec,
    },
};
use solana_commitment_config::CommitmentConfig;
use solana_sdk::{pubkey::Pubkey, signer::Signer};
use std::{net::SocketAddr, sync::Arc, time::Duration};

fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address")
}

async fn wait_until<T>(what: &str, secs: u64, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..secs * 4 {
        if let Some(value) = probe().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("{what} did not happen within {secs} s");
}

async fn start_agent(
    cluster: &Arc<Cluster>,
    wallet: &Arc<solana_sdk::signature::Keypair>,
    config: &AgentConfig,
) -> tokio::task::JoinHandle<anyhow::Result<()>> {
    let agent = Agent::new(
        cluster.clone(),
        wallet.clone(),
        Hardware::simulated(&rtx4090_spec()),
        config.clone(),
    )
    .await
    .expect("the agent starts");
    tokio::spawn(agent.run())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_agent_resumes_what_it_holds_and_a_silent_provider_gets_a_fail_vote() {
    let mut chain = RpcChain::start_localnet().await;
    let market = MarketFixture::new(&mut chain).await;
    let m = market.keys;
    let p = ProviderFixture::staked(&mut chain, &m, 1_000, 1_000).await;
    let listen = free_addr();
    let endpoint = format!("http://{listen}");
    let update = UpdateProviderArgs {
        spec: None,
        price_per_gpu_hour: None,
        endpoint: Some(endpoint.clone()),
        accepting_jobs: None,
    };
    chain
        .ok(
            &[ix::update_provider(&m, &p.key(), update)],
            &[&p.authority],
        )
        .await;
    let client = ClientFixture::new(&mut chain, &m, 100).await;
    // A job's verifiers are those registered before it: this one is added now, its agent started
    // once the provider has gone silent.
    let verifier = VerifierFixture::staked(&mut chain, &m, &market.authority)
        .await
        .authority;
    let spec = Spec::Matmul(Matmul::demo(5));
    let mut args = job_args(1);
    args.workload = Workload {
        kind: spec.kind(),
        spec_hash: spec.hash(),
        spec_uri: spec.data_uri(),
    };
    let job = client.post(&mut chain, &m, args).await.job;
    // The provider claims the job while its agent is down.
    chain
        .ok(&[ix::claim_job(&m, &p.key(), &job)], &[&p.authority])
        .await;

    let cluster = Arc::new(Cluster::new(chain.rpc.url(), CommitmentConfig::confirmed()));
    let wallet = Arc::new(p.authority.insecure_clone());
    let config = AgentConfig {
        market: m.market,
        listen,
        poll: Duration::from_millis(300),
        payouts: None,
        threads: 2,
        retain_results: Duration::from_secs(3600),
        rules: AlertRules::default(),
        webhook: None,
        behaviour: Behaviour::default(),
    };
    let agent = start_agent(&cluster, &wallet, &config).await;
    let submitted: Job = wait_until("the resumed job's submission", 60, async || {
        let j: Job = cluster.require(&job, "job").await.ok()?;
        (j.state == JobState::Submitted).then_some(j)
    })
    .await;
    assert_eq!(submitted.result.chunk_count, spec.chunk_count());
    let computed = app::workload::Computed::run(&spec, 1, |_| false);
    assert_eq!(submitted.result.merkle_root, computed.root());
    assert_eq!(submitted.result.output_hash, computed.output_hash());
    assert!(
        i64::from(submitted.result.metered_secs) <= submitted.submitted_at - submitted.started_at
    );

    let endpoints = EndpointClient::default();
    // Each probe on a new connection: a connection pooled from before a restart is served by its
    // own task, which outlives the agent that accepted it, and would say nothing about the agent.
    let chunk_ok = async |index: u32| {
        let fresh = EndpointClient::default();
        let proof = fresh.chunk(&endpoint, &job, index).await.ok()?;
        let output = proof
            .verified_output(&submitted.result.merkle_root, submitted.result.chunk_count)
            .expect("the proof checks");
        Some(output)
    };
    assert_eq!(chunk_ok(7).await, Some(spec.prepare().chunk(7)));
    assert!(
        endpoints
            .chunk(&endpoint, &job, spec.chunk_count())
            .await
            .is_err()
    );
    assert!(
        endpoints
            .chunk(&endpoint, &Pubkey::new_unique(), 0)
            .await
            .is_err()
    );

    // Restarted, the agent serves the same result again.
    agent.abort();
    let _ = agent.await;
    assert!(
        chunk_ok(7).await.is_none(),
        "the endpoint is down with the agent"
    );
    let agent = start_agent(&cluster, &wallet, &config).await;
    let again = wait_until("the result served again", 60, async || chunk_ok(900).await).await;
    assert_eq!(again, spec.prepare().chunk(900));

    // The provider goes silent; a verifier gives it its timeout, then votes fail.
    agent.abort();
    let _ = agent.await;
    let verifier_agent = VerifierAgent::new(
        cluster.clone(),
        Arc::new(verifier.insecure_clone()),
        VerifierConfig {
            market: m.market,
            poll: Duration::from_millis(300),
            proof_timeout: Duration::from_secs(2),
            crank: false,
        },
    )
    .await
    .expect("the verifier starts");
    let verifier_task = tokio::spawn(verifier_agent.run());
    let verdict_key = find_verdict_address(&job, &m.verifier(&verifier.pubkey())).0;
    let verdict: Verdict = wait_until("the verifier's vote", 60, async || {
        cluster.anchor_account::<Verdict>(&verdict_key).await.ok()?
    })
    .await;
    verifier_task.abort();
    assert!(!verdict.pass);
    assert_eq!(verdict.submitted_slot, submitted.submitted_slot);
    let after: Job = cluster.require(&job, "job").await.expect("job");
    assert_eq!(
        (after.pass_votes, after.fail_votes, after.state),
        (0, 1, JobState::Disputed),
        "one fail vote short of the quorum disputes the result"
    );
    assert!(
        after.sample_seed.is_some(),
        "the verifier recorded the sample seed"
    );
}
