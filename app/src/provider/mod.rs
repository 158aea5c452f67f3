//! The provider agent (`gpu-market provider run`): heartbeats, claims the open jobs its machine can
//! serve, computes them, commits the Merkle root, submits, serves chunk proofs to verifiers and
//! clients, claims payouts, and watches itself (metrics, alerts).
//!
//! The chain is its state: on start it resumes every job its provider account holds (recomputing
//! what it must serve: the workloads are deterministic), so a restart loses nothing.

pub mod monitor;
pub mod server;

use crate::{
    hardware::Hardware,
    workload::{Computed, Spec, Throughput},
};
use gpu_market::{
    pda::find_payout_vault_address,
    state::{Job, JobState, Market, Provider, ProviderStatus},
    verification::SeedSlot,
};
use gpu_market_client::{Cluster, ix, ix::MarketKeys};
pub use monitor::{AlertRules, Alerts, Metrics, Observation};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};
use solana_sha256_hasher::hashv;
use std::{
    collections::{HashMap, HashSet},
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::sync::RwLock;

/// A job whose chunks this agent serves.
pub struct Served {
    pub computed: Computed,
}

/// How the agent behaves. Everything but the defaults exists for the demo's dishonest and flaky
/// providers, and is not reachable from the CLI.
#[derive(Clone, Debug, Default)]
pub struct Behaviour {
    /// Chunks per thousand to fake instead of computing.
    pub fake_per_mille: u16,
    /// Stop (no heartbeat, no result, endpoint down) right after claiming this many jobs.
    pub offline_after_claims: Option<u32>,
}

#[derive(Clone, Debug)]
pub struct AgentConfig {
    pub market: Pubkey,
    /// Where the endpoint listens (the URL advertised on-chain must reach it).
    pub listen: SocketAddr,
    pub poll: Duration,
    /// Claim payouts to this token account, this often (never when `None`).
    pub payouts: Option<(Pubkey, Duration)>,
    pub threads: usize,
    /// Serve a completed job's chunks at least this long after its submission (and always until
    /// its challenge window is over).
    pub retain_results: Duration,
    pub rules: AlertRules,
    pub webhook: Option<String>,
    pub behaviour: Behaviour,
}

pub struct Agent {
    cluster: Arc<Cluster>,
    keypair: Arc<Keypair>,
    keys: MarketKeys,
    provider: Pubkey,
    hardware: Hardware,
    config: AgentConfig,
    served: Arc<RwLock<HashMap<Pubkey, Arc<Served>>>>,
    /// Jobs being computed or submitted right now.
    working: Arc<Mutex<HashSet<Pubkey>>>,
    /// Jobs held that cannot be completed (deadline passed, recomputed root differs): not retried.
    given_up: Arc<Mutex<HashSet<Pubkey>>>,
    metrics: Arc<Metrics>,
    consecutive_failures: Arc<Mutex<u32>>,
    claims: u32,
    last_payout: Instant,
    rpc_down_since: Option<Instant>,
    alerts: Alerts,
    http: reqwest::Client,
    /// Open jobs this agent will not take (a spec it refuses, too much work for the time allowed).
    refused: HashSet<Pubkey>,
    throughput: Throughput,
    heartbeat_interval_secs: i64,
}

/// Cuts the endpoint when the agent stops, however it stops.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Agent {
    pub async fn new(
        cluster: Arc<Cluster>,
        keypair: Arc<Keypair>,
        hardware: Hardware,
        config: AgentConfig,
    ) -> anyhow::Result<Self> {
        let keys = cluster.market_keys(&config.market).await?;
        let provider = keys.provider(&keypair.pubkey());
        let account: Provider = cluster.require(&provider, "provider account").await.map_err(|_| {
            anyhow::anyhow!(
                "{} is not registered as a provider in market {}: run `gpu-market provider register` first",
                keypair.pubkey(),
                config.market
            )
        })?;
        hardware.check_advertised(&account.spec)?;
        Ok(Self {
            cluster,
            keypair,
            keys,
            provider,
            hardware,
            alerts: Alerts::new(config.rules.clone()),
            config,
            served: Arc::default(),
            working: Arc::default(),
            given_up: Arc::default(),
            metrics: Metrics::new(),
            consecutive_failures: Arc::default(),
            claims: 0,
            last_payout: Instant::now(),
            rpc_down_since: None,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()?,
            refused: HashSet::new(),
            throughput: tokio::task::spawn_blocking(Throughput::measure).await?,
            heartbeat_interval_secs: 60,
        })
    }

    pub fn provider(&self) -> Pubkey {
        self.provider
    }

    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// Runs until an error it cannot recover from, or until the demo's behaviour takes it offline.
    pub async fn run(mut self) -> anyhow::Result<()> {
        let listener = tokio::net::TcpListener::bind(self.config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("could not listen on {}: {e}", self.config.listen))?;
        let app = server::router(server::ServerState {
            served: self.served.clone(),
            metrics: self.metrics.clone(),
            provider: self.provider,
        });
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let _server = AbortOnDrop(server.abort_handle());
        tracing::info!(
            provider = %self.provider,
            listen = %self.config.listen,
            hardware = self.hardware.describe_source(),
            "provider agent running"
        );
        let mut interval = tokio::time::interval(self.config.poll);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            match self.tick().await {
                Ok(Continue::Yes) => self.rpc_down_since = None,
                Ok(Continue::Offline) => {
                    tracing::warn!(provider = %self.provider, "going offline (demo behaviour)");
                    return Ok(());
                }
                Err(error) => {
                    self.metrics.rpc_errors.inc();
                    self.rpc_down_since.get_or_insert_with(Instant::now);
                    tracing::warn!(provider = %self.provider, "tick failed: {error:#}");
                }
            }
            self.check_alerts().await;
        }
    }

    async fn tick(&mut self) -> anyhow::Result<Continue> {
        let clock = self.cluster.clock().await?;
        let market = self.cluster.market(&self.keys.market).await?;
        // The authority may move the treasury or the slash destination: instructions follow.
        self.keys.treasury = market.treasury;
        self.keys.slash_destination = market.slash_destination;
        self.heartbeat_interval_secs = i64::from(market.params.heartbeat_interval_secs);
        let me: Provider = self
            .cluster
            .require(&self.provider, "provider account")
            .await?;
        self.metrics
            .jobs_completed
            .set(me.counters.jobs_completed as i64);
        self.metrics.jobs_failed.set(me.counters.jobs_failed as i64);
        self.metrics.earned.set(me.counters.total_earned as i64);
        self.metrics.claimed.set(me.counters.total_claimed as i64);
        let interval = i64::from(market.params.heartbeat_interval_secs);
        let age = clock.unix_timestamp - me.last_heartbeat_at;
        self.metrics.heartbeat_age.set(age);
        if age * 2 >= interval && me.status == ProviderStatus::Active {
            self.send(
                "heartbeat",
                ix::heartbeat(&self.keys, &self.keypair.pubkey()),
            )
            .await;
        }

        let jobs = self.cluster.jobs(&self.keys.market).await?;
        // Resume and serve what this provider holds; forget what is settled.
        let mine: HashSet<Pubkey> = jobs
            .iter()
            .filter(|(_, job)| job.provider == self.provider)
            .map(|(key, _)| *key)
            .collect();
        let retain_until = |job: &Job| {
            job.submitted_at
                + i64::from(job.terms.challenge_window_secs)
                    .max(self.config.retain_results.as_secs() as i64)
        };
        for (key, job) in jobs.iter().filter(|(key, _)| mine.contains(key)) {
            let serve = match job.state {
                JobState::Running => {
                    self.start_work(*key, job, true);
                    continue;
                }
                JobState::Submitted | JobState::Disputed => {
                    self.record_seed_if_due(key, job).await;
                    true
                }
                // Results stay available to the client (`gpu-market job result`) for a while.
                JobState::Completed => clock.unix_timestamp < retain_until(job),
                _ => false,
            };
            if !serve {
                self.served.write().await.remove(key);
            } else if !self.served.read().await.contains_key(key) {
                self.start_work(*key, job, false);
            }
        }
        self.served
            .write()
            .await
            .retain(|key, _| mine.contains(key));

        if me.status == ProviderStatus::Active {
            let free = me.spec.gpu_count.saturating_sub(me.gpus_in_use);
            let mut candidates: Vec<_> = jobs
                .iter()
                .filter(|(key, job)| {
                    !self.refused.contains(key) && self.can_serve(job, &me, &market, free)
                })
                .collect();
            candidates.sort_by_key(|(_, job)| job.created_at);
            // The oldest job this machine can finish in time; the others are remembered as refused.
            let choice = candidates
                .into_iter()
                .find(|(key, job)| match self.feasible(job) {
                    Ok(()) => true,
                    Err(reason) => {
                        tracing::info!(job = %key, "not taking it: {reason:#}");
                        self.refused.insert(*key);
                        false
                    }
                });
            if let Some((key, job)) = choice {
                let claimed = self
                    .send(
                        "claim_job",
                        ix::claim_job(&self.keys, &self.keypair.pubkey(), key),
                    )
                    .await;
                if claimed {
                    self.metrics.jobs_claimed.inc();
                    self.claims += 1;
                    if self.config.behaviour.offline_after_claims == Some(self.claims) {
                        return Ok(Continue::Offline);
                    }
                    self.start_work(*key, job, true);
                }
            }
        }
        let open: HashSet<Pubkey> = jobs
            .iter()
            .filter(|(_, job)| job.state == JobState::Open)
            .map(|(key, _)| *key)
            .collect();
        self.refused.retain(|key| open.contains(key));

        if let Some((destination, every)) = self.config.payouts
            && self.last_payout.elapsed() >= every
        {
            self.last_payout = Instant::now();
            let vault = find_payout_vault_address(&self.provider).0;
            if self.cluster.token_balance(&vault).await? > 0
                && self
                    .send(
                        "claim_payout",
                        ix::claim_payout(&self.keys, &self.keypair.pubkey(), &destination),
                    )
                    .await
            {
                self.metrics.payouts.inc();
            }
        }
        Ok(Continue::Yes)
    }

    /// Records the sample seed of this provider's submitted result as soon as its slot has a hash.
    /// A seed nobody records in time fails the job as a failed verification would, so the provider
    /// does not leave it to the verifiers.
    async fn record_seed_if_due(&self, key: &Pubkey, job: &Job) {
        if job.sample_seed.is_some() {
            return;
        }
        match self.cluster.seed_slot(job).await {
            Ok(SeedSlot::Ready(..)) => {
                self.send(
                    "record_sample_seed",
                    ix::record_sample_seed(&self.keys, &self.keypair.pubkey(), key),
                )
                .await;
            }
            Ok(SeedSlot::NotReady | SeedSlot::Expired) => {}
            Err(error) => tracing::warn!(job = %key, "reading SlotHashes: {error:#}"),
        }
    }

    fn can_serve(&self, job: &Job, me: &Provider, market: &Market, free: u16) -> bool {
        job.state == JobState::Open
            && job
                .named_provider
                .is_none_or(|named| named == self.provider)
            && job.max_price_per_gpu_hour >= me.price_per_gpu_hour
            && job.requirements.gpu_count <= free
            && job.requirements.check_match(&me.spec).is_ok()
            && me.staked
                >= market
                    .params
                    .min_stake_per_gpu
                    .saturating_mul(u64::from(job.requirements.gpu_count))
    }

    /// Whether this machine can finish `job` well within its maximum duration.
    fn feasible(&self, job: &Job) -> anyhow::Result<()> {
        let spec = Spec::of_job(job)?;
        // Up to one job per GPU runs at once: count on a GPU's share of the threads.
        let share = (self.config.threads / usize::from(self.hardware.gpu_count.max(1))).max(1);
        let estimate = self.throughput.estimate_secs(&spec, share);
        // Half the allowed time: the claim, the submission and a busy machine need the rest.
        let budget = f64::from(job.max_duration_secs) / 2.0;
        anyhow::ensure!(
            estimate <= budget,
            "it would take about {estimate:.0} s here, and the job allows {} s",
            job.max_duration_secs
        );
        Ok(())
    }

    /// Computes `job` in the background, then submits its result (`submit`) or only serves it.
    fn start_work(&self, key: Pubkey, job: &Job, submit: bool) {
        if self.given_up.lock().expect("not poisoned").contains(&key)
            || !self.working.lock().expect("not poisoned").insert(key)
        {
            return;
        }
        let job = job.clone();
        let work = Work {
            cluster: self.cluster.clone(),
            keypair: self.keypair.clone(),
            keys: self.keys,
            served: self.served.clone(),
            metrics: self.metrics.clone(),
            failures: self.consecutive_failures.clone(),
            threads: self.config.threads,
            fake_per_mille: self.config.behaviour.fake_per_mille,
        };
        let (working, given_up) = (self.working.clone(), self.given_up.clone());
        tokio::spawn(async move {
            match work.run(key, &job, submit).await {
                Ok(()) => {}
                Err(WorkError::GiveUp(reason)) => {
                    work.metrics.job_failures.inc();
                    *work.failures.lock().expect("not poisoned") += 1;
                    tracing::error!(job = %key, "giving the job up: {reason}");
                    given_up.lock().expect("not poisoned").insert(key);
                }
                Err(WorkError::Retry(error)) => {
                    work.metrics.job_failures.inc();
                    *work.failures.lock().expect("not poisoned") += 1;
                    tracing::warn!(job = %key, "job failed, retrying: {error:#}");
                }
            }
            working.lock().expect("not poisoned").remove(&key);
        });
    }

    /// Sends one instruction; logs and counts a failure instead of returning it.
    async fn send(&self, what: &str, instruction: solana_sdk::instruction::Instruction) -> bool {
        match self.cluster.send(&[instruction], &self.keypair, &[]).await {
            Ok(signature) => {
                tracing::debug!(provider = %self.provider, %signature, "{what}");
                true
            }
            Err(error) => {
                if matches!(error, gpu_market_client::TxFailure::Rpc(_)) {
                    self.metrics.rpc_errors.inc();
                }
                tracing::info!(provider = %self.provider, "{what} refused: {error}");
                false
            }
        }
    }

    async fn check_alerts(&mut self) {
        let hardware = self.hardware.clone();
        let readings = tokio::task::spawn_blocking(move || hardware.readings())
            .await
            .unwrap_or_default();
        for gpu in &readings {
            if let Some(t) = gpu.temperature_c {
                self.metrics
                    .gpu_temperature
                    .get_or_create(&monitor::GpuLabel {
                        gpu: gpu.index.to_string(),
                    })
                    .set(t);
            }
        }
        let seen = Observation {
            max_gpu_temperature_c: readings.iter().filter_map(|g| g.temperature_c).max(),
            consecutive_job_failures: *self.consecutive_failures.lock().expect("not poisoned"),
            heartbeat_age_secs: Some(self.metrics.heartbeat_age.get()),
            heartbeat_interval_secs: self.heartbeat_interval_secs,
            rpc_unreachable_secs: self.rpc_down_since.map_or(0, |t| t.elapsed().as_secs()),
        };
        for change in self.alerts.evaluate(&seen) {
            self.metrics
                .alerts_firing
                .get_or_create(&monitor::AlertLabel {
                    alert: change.alert.into(),
                })
                .set(i64::from(change.firing));
            if change.firing {
                tracing::warn!(provider = %self.provider, alert = change.alert, value = change.value, threshold = change.threshold, "alert firing");
            } else {
                tracing::info!(provider = %self.provider, alert = change.alert, "alert resolved");
            }
            if let Some(url) = self.config.webhook.clone() {
                let body = serde_json::json!({
                    "provider": self.provider.to_string(),
                    "alert": change.alert,
                    "firing": change.firing,
                    "value": change.value,
                    "threshold": change.threshold,
                });
                // Off the loop: a slow webhook must not delay heartbeats.
                let http = self.http.clone();
                tokio::spawn(async move {
                    if let Err(error) = http.post(&url).json(&body).send().await {
                        tracing::warn!("the alert webhook {url} failed: {error}");
                    }
                });
            }
        }
    }
}

enum Continue {
    Yes,
    Offline,
}

/// One job's computation and submission, off the agent's loop.
struct Work {
    cluster: Arc<Cluster>,
    keypair: Arc<Keypair>,
    keys: MarketKeys,
    served: Arc<RwLock<HashMap<Pubkey, Arc<Served>>>>,
    metrics: Arc<Metrics>,
    failures: Arc<Mutex<u32>>,
    threads: usize,
    fake_per_mille: u16,
}

/// Why a job's work stopped.
enum WorkError {
    /// It cannot succeed: stop trying.
    GiveUp(String),
    /// It may on the next loop (a node error, a refused transaction).
    Retry(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for WorkError {
    fn from(error: E) -> Self {
        Self::Retry(error.into())
    }
}

impl Work {
    async fn run(&self, key: Pubkey, job: &Job, submit: bool) -> Result<(), WorkError> {
        let served = self.served.read().await.get(&key).cloned();
        let served = match served {
            // Computed before and not yet submitted (the submission failed): only submit again.
            Some(served) => served,
            None => {
                let computed = self.compute(key, job).await?;
                if !submit && computed.root() != job.result.merkle_root {
                    return Err(WorkError::GiveUp(format!(
                        "recomputing it gave root {} but the submitted result commits to {}: \
                         the workload code changed since submission, verifiers will fail it",
                        hex::encode(computed.root()),
                        hex::encode(job.result.merkle_root)
                    )));
                }
                let served = Arc::new(Served { computed });
                self.served.write().await.insert(key, served.clone());
                if !submit {
                    tracing::info!(job = %key, "serving a result computed again (after a restart)");
                }
                served
            }
        };
        if submit {
            self.submit(key, &served).await?;
        }
        Ok(())
    }

    async fn compute(&self, key: Pubkey, job: &Job) -> anyhow::Result<Computed> {
        let spec = Spec::of_job(job)?;
        let (threads, fake) = (self.threads, self.fake_per_mille);
        let started = Instant::now();
        let computed = tokio::task::spawn_blocking(move || {
            Computed::run(&spec, threads, |index| fake > 0 && faked(&key, index, fake))
        })
        .await?;
        tracing::info!(job = %key, secs = started.elapsed().as_secs_f64(), "computed");
        Ok(computed)
    }

    async fn submit(&self, key: Pubkey, served: &Served) -> Result<(), WorkError> {
        // Read back: the claim may have landed after the agent's listing, and another loop may
        // have submitted meanwhile.
        let job: Job = self.cluster.require(&key, "job").await?;
        if job.state != JobState::Running {
            return Ok(());
        }
        let now = self.cluster.clock().await?.unix_timestamp;
        if now > job.deadline {
            return Err(WorkError::GiveUp(format!(
                "its deadline passed {} s ago; it will expire",
                now - job.deadline
            )));
        }
        // Metered time: the chain's seconds since the job started (a submission in the claim's
        // own second waits for the next one), never more than the program allows.
        let mut elapsed = now - job.started_at;
        for _ in 0..4 {
            if elapsed >= 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            elapsed = self.cluster.clock().await?.unix_timestamp - job.started_at;
        }
        let computed = &served.computed;
        let result = gpu_market::ResultCommitment {
            merkle_root: computed.root(),
            chunk_count: computed.outputs.len() as u32,
            output_hash: computed.output_hash(),
            metered_secs: elapsed.clamp(0, i64::from(job.max_duration_secs)) as u32,
        };
        let signature = self
            .cluster
            .send(
                &[ix::submit_result(
                    &self.keys,
                    &self.keypair.pubkey(),
                    &key,
                    result,
                )],
                &self.keypair,
                &[],
            )
            .await?;
        self.metrics.jobs_submitted.inc();
        *self.failures.lock().expect("not poisoned") = 0;
        tracing::info!(job = %key, %signature, root = hex::encode(result.merkle_root), "result submitted");
        Ok(())
    }
}

/// Whether the dishonest demo provider fakes chunk `index` of `job` (deterministic, so a restart
/// serves the same bytes it committed to).
fn faked(job: &Pubkey, index: u32, per_mille: u16) -> bool {
    let h = hashv(&[job.as_ref(), &index.to_le_bytes()]).to_bytes();
    u16::from_le_bytes([h[0], h[1]]) % 1000 < per_mille
}
