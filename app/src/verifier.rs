//! The verifier (`gpu-market verifier run`): for every submitted result it records the sample seed
//! once the seed slot has passed, derives the sampled chunks with the program's own function, fetches
//! them with their Merkle proofs from the provider's endpoint, checks the proofs against the committed
//! root, recomputes the chunks, and votes with an evidence hash. A provider that does not serve the
//! samples within the proof timeout gets a fail vote, with the reason logged.
//!
//! Each vote locks the job's verifier bond out of the verifier's stake; the agent votes only while
//! its free stake covers the bond, and closes its verdicts once their jobs settle, which frees the
//! bond again (or loses it, when a quorum decided the job the other way).
//!
//! It also cranks what anyone may crank: expiring jobs past their deadline and finalizing results
//! whose challenge window closed without a quorum.

use crate::{proofs::EndpointClient, workload::Spec};
use futures_util::{StreamExt, stream};
use gpu_market::{
    pda::find_verdict_address,
    state::{Job, JobState, Provider, Verdict, Verifier},
    verification::{Hash32, SeedSlot, sample_indices},
};
use gpu_market_client::{Cluster, TxFailure, ix, ix::MarketKeys};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};
use solana_sha256_hasher::hashv;
use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// The reason a vote gives when the provider did not serve its samples in time.
pub const UNREACHABLE: &str = "provider-unreachable";

/// Chunk requests in flight per job.
const FETCH_CONCURRENCY: usize = 8;

#[derive(Clone, Debug)]
pub struct VerifierConfig {
    pub market: Pubkey,
    pub poll: Duration,
    /// How long a provider has to serve the sampled chunks, from when the verifier first asks.
    pub proof_timeout: Duration,
    /// Also expire overdue jobs and finalize results past their challenge window.
    pub crank: bool,
}

/// What checking one result found.
#[derive(Clone, Debug)]
pub struct Check {
    pub pass: bool,
    pub evidence_hash: Hash32,
    /// Why it failed (empty on a pass).
    pub reasons: Vec<String>,
    pub sampled: usize,
}

pub struct VerifierAgent {
    cluster: Arc<Cluster>,
    keypair: Arc<Keypair>,
    /// Refreshed from the market account every loop.
    keys: Mutex<MarketKeys>,
    verifier: Pubkey,
    config: VerifierConfig,
    endpoints: EndpointClient,
    /// Results voted on: (job, submitted slot).
    voted: Arc<Mutex<HashSet<(Pubkey, u64)>>>,
    checking: Arc<Mutex<HashSet<(Pubkey, u64)>>>,
    /// Jobs created before this verifier was added are not its to judge (`VerifierAddedAfterJob`).
    first_job_serial: u64,
    first_asked: Arc<Mutex<HashMap<(Pubkey, u64), Instant>>>,
}

impl VerifierAgent {
    pub async fn new(
        cluster: Arc<Cluster>,
        keypair: Arc<Keypair>,
        config: VerifierConfig,
    ) -> anyhow::Result<Self> {
        let keys = cluster.market_keys(&config.market).await?;
        let verifier = keys.verifier(&keypair.pubkey());
        let registration = cluster
            .require::<Verifier>(&verifier, "verifier account")
            .await
            .map_err(|_| {
                anyhow::anyhow!(
                    "{} is not a verifier of market {}: the market authority adds it with `gpu-market verifier register`",
                    keypair.pubkey(),
                    config.market
                )
            })?;
        Ok(Self {
            cluster,
            keypair,
            keys: Mutex::new(keys),
            verifier,
            first_job_serial: registration.first_job_serial,
            config,
            endpoints: EndpointClient::default(),
            voted: Arc::default(),
            checking: Arc::default(),
            first_asked: Arc::default(),
        })
    }

    pub async fn run(self) -> anyhow::Result<()> {
        let this = Arc::new(self);
        tracing::info!(verifier = %this.verifier, "verifier running");
        let mut interval = tokio::time::interval(this.config.poll);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(error) = this.clone().tick().await {
                tracing::warn!(verifier = %this.verifier, "tick failed: {error:#}");
            }
        }
    }

    async fn tick(self: Arc<Self>) -> anyhow::Result<()> {
        let clock = self.cluster.clock().await?;
        let market = self.cluster.market(&self.config.market).await?;
        // The authority may move the treasury or the slash destination: instructions follow.
        let keys = MarketKeys {
            treasury: market.treasury,
            slash_destination: market.slash_destination,
            ..*self.keys.lock().expect("not poisoned")
        };
        *self.keys.lock().expect("not poisoned") = keys;
        let jobs = self.cluster.jobs(&keys.market).await?;
        let me = self.keypair.pubkey();
        self.close_settled_verdicts(&keys, &jobs).await?;
        let registration: Verifier = self
            .cluster
            .require(&self.verifier, "verifier account")
            .await?;
        // Stake a new vote may lock: what is free now, less what votes being prepared will lock.
        let mut free_stake = registration.free_stake()?;
        let mut short_of_stake = 0;
        let my_provider = keys.provider(&me);
        // Forget results that are no longer under review.
        let reviewing: HashSet<(Pubkey, u64)> = jobs
            .iter()
            .filter(|(_, j)| matches!(j.state, JobState::Submitted | JobState::Disputed))
            .map(|(k, j)| (*k, j.submitted_slot))
            .collect();
        self.voted
            .lock()
            .expect("not poisoned")
            .retain(|id| reviewing.contains(id));
        self.first_asked
            .lock()
            .expect("not poisoned")
            .retain(|id, _| reviewing.contains(id));
        for (key, job) in jobs {
            // A job's slashes go where its terms say (the market's destination when it was created).
            let keys = MarketKeys {
                slash_destination: job.terms.slash_destination,
                ..keys
            };
            match job.state {
                JobState::Submitted | JobState::Disputed => {
                    if job.sample_seed.is_none() {
                        self.settle_seed(&keys, key, &job, me).await?;
                        continue;
                    }
                    let window_over = job.state == JobState::Submitted
                        && clock.unix_timestamp >= job.challenge_window_ends()?;
                    if window_over {
                        if self.config.crank {
                            self.crank(
                                "finalize_job",
                                ix::finalize_job(&keys, &key, &job.provider),
                            )
                            .await;
                        }
                        continue;
                    }
                    // Undecided by verifiers and the authority for twice the dispute timeout: the
                    // result stands by default.
                    let dispute_unanswered = job.state == JobState::Disputed
                        && clock.unix_timestamp >= job.dispute_default_opens()?;
                    if dispute_unanswered {
                        if self.config.crank {
                            self.crank(
                                "settle_dispute",
                                ix::settle_dispute(&keys, &key, &job.provider),
                            )
                            .await;
                        }
                        continue;
                    }
                    let id = (key, job.submitted_slot);
                    // A party to the job may not vote on it, nor a verifier added after it.
                    if job.client == me
                        || job.provider == my_provider
                        || job.serial < self.first_job_serial
                        || self.voted.lock().expect("not poisoned").contains(&id)
                        || self.checking.lock().expect("not poisoned").contains(&id)
                    {
                        continue;
                    }
                    if self.already_voted(&key, &job).await? {
                        self.voted.lock().expect("not poisoned").insert(id);
                        continue;
                    }
                    if registration.removed_at != 0 {
                        continue;
                    }
                    let bond = job.terms.verifier_bond;
                    if free_stake < bond {
                        short_of_stake += 1;
                        continue;
                    }
                    free_stake -= bond;
                    self.checking.lock().expect("not poisoned").insert(id);
                    let this = self.clone();
                    // The job's own terms: a market update does not change a live job's sample.
                    let sample_count = job.terms.sample_count;
                    tokio::spawn(async move {
                        if let Err(error) = this.check_and_vote(key, &job, sample_count).await {
                            tracing::warn!(job = %key, "verification not finished: {error:#}");
                        }
                        this.checking.lock().expect("not poisoned").remove(&id);
                    });
                }
                JobState::Running if self.config.crank && clock.unix_timestamp > job.deadline => {
                    self.crank(
                        "expire_job",
                        ix::expire_job(&keys, &me, &key, &job.provider),
                    )
                    .await;
                }
                _ => {}
            }
        }
        if registration.removed_at != 0 {
            tracing::warn!(verifier = %self.verifier, "removed from the market: votes no more; `gpu-market verifier close` once its verdicts are closed");
        } else if short_of_stake > 0 {
            tracing::warn!(
                verifier = %self.verifier,
                jobs = short_of_stake,
                free_stake = registration.free_stake()?,
                "not voting: free stake is below the verifier bond (`gpu-market verifier stake`)"
            );
        }
        Ok(())
    }

    /// Closes this verifier's verdicts on settled jobs, which frees (or, after a vote against a
    /// quorum's decision, forfeits) their bonds and returns their rent.
    async fn close_settled_verdicts(
        &self,
        keys: &MarketKeys,
        jobs: &[(Pubkey, Job)],
    ) -> anyhow::Result<()> {
        let settled: HashMap<Pubkey, &Job> = jobs
            .iter()
            .filter(|(_, job)| job.state.is_settled())
            .map(|(key, job)| (*key, job))
            .collect();
        let me = self.keypair.pubkey();
        for (_, verdict) in self.cluster.verdicts_of(&self.verifier).await? {
            if let Some(job) = settled.get(&verdict.job) {
                let close = ix::close_verdict_to(
                    keys,
                    &me,
                    &me,
                    &verdict.job,
                    &job.terms.slash_destination,
                );
                self.crank("close_verdict", close).await;
            }
        }
        Ok(())
    }

    /// A job under review without its sample seed: records the seed once its slot has a hash (no
    /// vote and no settlement can happen before), or, if nobody recorded it in time, cranks
    /// `expire_sample_seed`, which fails the job as unverifiable.
    async fn settle_seed(
        &self,
        keys: &MarketKeys,
        key: Pubkey,
        job: &Job,
        me: Pubkey,
    ) -> anyhow::Result<()> {
        match self.cluster.seed_slot(job).await? {
            SeedSlot::NotReady => {}
            SeedSlot::Ready(..) => {
                self.crank(
                    "record_sample_seed",
                    ix::record_sample_seed(keys, &me, &key),
                )
                .await;
            }
            SeedSlot::Expired if self.config.crank => {
                self.crank(
                    "expire_sample_seed",
                    ix::expire_sample_seed(keys, &me, &key, &job.provider),
                )
                .await;
            }
            SeedSlot::Expired => {}
        }
        Ok(())
    }

    async fn already_voted(&self, job_key: &Pubkey, job: &Job) -> anyhow::Result<bool> {
        let verdict = find_verdict_address(job_key, &self.verifier).0;
        Ok(self
            .cluster
            .anchor_account::<Verdict>(&verdict)
            .await?
            .is_some_and(|v| v.submitted_slot == job.submitted_slot))
    }

    async fn check_and_vote(
        &self,
        key: Pubkey,
        job: &Job,
        sample_count: u16,
    ) -> anyhow::Result<()> {
        let id = (key, job.submitted_slot);
        let first = *self
            .first_asked
            .lock()
            .expect("not poisoned")
            .entry(id)
            .or_insert_with(Instant::now);
        let provider: Provider = self
            .cluster
            .require(&job.provider, "provider account")
            .await?;
        let check = loop {
            let check = check_result(&self.endpoints, &key, job, &provider, sample_count).await;
            match check {
                Ok(check) => break check,
                Err(unreachable) if first.elapsed() >= self.config.proof_timeout => {
                    break Check {
                        pass: false,
                        // A fixed reason, so that others who also got no answer hash the same.
                        evidence_hash: evidence(
                            &key,
                            job.submitted_slot,
                            &[],
                            &[UNREACHABLE.to_owned()],
                        ),
                        reasons: vec![format!(
                            "{UNREACHABLE}: no answer within {} s ({unreachable:#})",
                            self.config.proof_timeout.as_secs()
                        )],
                        sampled: 0,
                    };
                }
                Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
            }
        };
        let keys = MarketKeys {
            slash_destination: job.terms.slash_destination,
            ..*self.keys.lock().expect("not poisoned")
        };
        let vote = ix::submit_verdict(
            &keys,
            &self.keypair.pubkey(),
            &key,
            &job.provider,
            check.pass,
            check.evidence_hash,
        );
        match self.cluster.send(&[vote], &self.keypair, &[]).await {
            Ok(signature) => {
                self.voted.lock().expect("not poisoned").insert(id);
                if check.pass {
                    tracing::info!(job = %key, %signature, sampled = check.sampled, "voted pass");
                } else {
                    tracing::warn!(job = %key, %signature, reasons = ?check.reasons, "voted fail");
                }
                Ok(())
            }
            Err(TxFailure::Program { name, .. })
                if matches!(
                    name.as_str(),
                    "AlreadyVoted"
                        | "InvalidJobState"
                        | "ChallengeWindowClosed"
                        | "VerifierIsParty"
                        | "VerifierAddedAfterJob"
                ) =>
            {
                self.voted.lock().expect("not poisoned").insert(id);
                Ok(())
            }
            // Votes in flight from an earlier round locked the stake meanwhile: tried again later.
            Err(TxFailure::Program { name, .. }) if name == "InsufficientVerifierStake" => {
                tracing::warn!(job = %key, "not voted: free stake below the verifier bond");
                Ok(())
            }
            Err(error) => Err(error.into()),
        }
    }

    async fn crank(&self, what: &str, instruction: solana_sdk::instruction::Instruction) {
        match self.cluster.send(&[instruction], &self.keypair, &[]).await {
            Ok(signature) => tracing::info!(%signature, "{what}"),
            Err(error) => tracing::debug!("{what} refused: {error}"),
        }
    }
}

/// Checks a submitted result's sampled chunks. `Err` means the provider could not be reached (the
/// caller retries until its timeout); a wrong answer is an `Ok` with `pass: false`.
pub async fn check_result(
    endpoints: &EndpointClient,
    key: &Pubkey,
    job: &Job,
    provider: &Provider,
    sample_count: u16,
) -> anyhow::Result<Check> {
    let seed = job
        .sample_seed
        .ok_or_else(|| anyhow::anyhow!("the sample seed is not recorded yet"))?;
    let fail = |reason: String| Check {
        pass: false,
        evidence_hash: evidence(key, job.submitted_slot, &[], std::slice::from_ref(&reason)),
        reasons: vec![reason],
        sampled: 0,
    };
    // The spec is on chain (inline): one that does not resolve is the same for every verifier.
    let spec = match Spec::of_job(job) {
        Ok(spec) => spec,
        Err(error) => return Ok(fail(format!("the workload spec is unusable: {error:#}"))),
    };
    let count = job.result.chunk_count;
    if spec.chunk_count() != count {
        return Ok(fail(format!(
            "the result commits to {count} chunks but the spec has {}",
            spec.chunk_count()
        )));
    }
    let indices = sample_indices(&seed, count, sample_count);
    let served: Vec<_> = stream::iter(indices.iter().copied())
        .map(|index| async move { endpoints.chunk(&provider.endpoint, key, index).await })
        .buffered(FETCH_CONCURRENCY)
        .collect()
        .await;
    let served = served.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    let root = job.result.merkle_root;
    let (indices_c, spec_c) = (indices.clone(), spec.clone());
    let outcome = tokio::task::spawn_blocking(move || {
        let prepared = spec_c.prepare();
        let mut reasons = vec![];
        let mut digests = vec![];
        for (index, proof) in indices_c.iter().zip(&served) {
            match proof.verified_output(&root, count) {
                Ok(output) => {
                    let expected = prepared.chunk(*index);
                    digests.push(hashv(&[&index.to_le_bytes(), &output]).to_bytes());
                    if output != expected {
                        reasons.push(format!("chunk {index} differs from its recomputation"));
                    }
                }
                Err(error) => {
                    digests.push([0; 32]);
                    reasons.push(error.to_string());
                }
            }
        }
        (reasons, digests)
    })
    .await?;
    let (reasons, digests) = outcome;
    Ok(Check {
        pass: reasons.is_empty(),
        evidence_hash: evidence(key, job.submitted_slot, &digests, &reasons),
        reasons,
        sampled: indices.len(),
    })
}

/// The evidence hash a vote carries: the job, the result's slot, each sampled chunk's index and
/// served bytes, and the reasons for a fail. Anyone holding the same answers recomputes it.
pub fn evidence(
    job: &Pubkey,
    submitted_slot: u64,
    digests: &[Hash32],
    reasons: &[String],
) -> Hash32 {
    let slot = submitted_slot.to_le_bytes();
    let mut parts: Vec<&[u8]> = vec![b"gpu-market/evidence/v1", job.as_ref(), &slot];
    parts.extend(digests.iter().map(|d| d.as_slice()));
    parts.extend(reasons.iter().map(|r| r.as_bytes()));
    hashv(&parts).to_bytes()
}
