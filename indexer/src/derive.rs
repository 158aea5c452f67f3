//! Derived tables: markets, providers, jobs, hourly utilization, daily outcomes and earnings, and
//! reputation. Each new event is applied once, inside the batch's database transaction; an event
//! already stored is never applied again, so aggregates move only when a row is new.

use crate::{
    decode::MarketEvent,
    reputation::{self, DAY, DayOutcomes, HISTORY_DAYS, HOUR, Inputs, Reputation},
};
use gpu_market::{
    events::{CompletionReason, FailureReason, SlashReason},
    state::{HardwareSpec, ProviderStatus},
};
use solana_sdk::pubkey::Pubkey;
use sqlx::{AnyConnection, Row};
use std::collections::{BTreeMap, BTreeSet};

/// A value the database cannot hold: the transaction it came from is recorded as undecodable.
#[derive(Debug)]
pub struct OutOfRange(pub String);

impl std::fmt::Display for OutOfRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OutOfRange {}

fn int(value: u64, what: &str) -> anyhow::Result<i64> {
    i64::try_from(value).map_err(|_| {
        OutOfRange(format!(
            "{what} = {value} exceeds the database's 63-bit range"
        ))
        .into()
    })
}

/// Heartbeat interval assumed for a provider whose market was not indexed (a partial backfill).
const DEFAULT_HEARTBEAT_SECS: i64 =
    gpu_market::constants::recommended::HEARTBEAT_INTERVAL_SECS as i64;
/// A gap between heartbeats up to this many intervals counts as online.
const HEARTBEAT_GRACE: i64 = 2;
/// The longest interval split into hours (jobs last at most 30 days; this bounds bad data).
const MAX_INTERVAL_SECS: i64 = 31 * DAY;

pub fn provider_status_name(status: ProviderStatus) -> &'static str {
    match status {
        ProviderStatus::Active => "active",
        ProviderStatus::Inactive => "inactive",
        ProviderStatus::Jailed => "jailed",
    }
}

fn completion_name(reason: CompletionReason) -> &'static str {
    match reason {
        CompletionReason::AcceptedByClient => "accepted_by_client",
        CompletionReason::ChallengeWindowPassed => "challenge_window_passed",
        CompletionReason::VerifierQuorum => "verifier_quorum",
        CompletionReason::AuthorityRuling => "authority_ruling",
        CompletionReason::DisputeUnanswered => "dispute_unanswered",
    }
}

fn failure_name(reason: FailureReason) -> &'static str {
    match reason {
        FailureReason::Expired => "expired",
        FailureReason::Abandoned => "abandoned",
        FailureReason::VerificationFailed => "verification_failed",
        FailureReason::AuthorityRuling => "authority_ruling",
        FailureReason::SampleSeedExpired => "sample_seed_expired",
    }
}

/// `[start, end)` split at hour boundaries: `(hour, seconds)` pairs.
pub fn split_hours(start: i64, end: i64) -> Vec<(i64, i64)> {
    let end = end.min(start.saturating_add(MAX_INTERVAL_SECS));
    let mut out = vec![];
    let mut t = start;
    while t < end {
        let hour = reputation::hour_of(t);
        let next = (hour + HOUR).min(end);
        out.push((hour, next - t));
        t = next;
    }
    out
}

/// Which utilization column an interval adds to.
#[derive(Clone, Copy)]
enum Usage {
    Busy { gpus: i64 },
    Online { gpus: i64 },
}

async fn add_usage(
    db: &mut AnyConnection,
    provider: &str,
    start: i64,
    end: i64,
    usage: Usage,
) -> anyhow::Result<()> {
    for (hour, secs) in split_hours(start, end) {
        let query = match usage {
            Usage::Busy { gpus } => sqlx::query(
                "INSERT INTO utilization (provider, hour, busy_gpu_secs) VALUES ($1, $2, $3) \
                 ON CONFLICT (provider, hour) DO UPDATE \
                 SET busy_gpu_secs = utilization.busy_gpu_secs + excluded.busy_gpu_secs",
            )
            .bind(provider)
            .bind(hour)
            .bind(secs * gpus),
            Usage::Online { gpus } => sqlx::query(
                "INSERT INTO utilization (provider, hour, online_gpu_secs, online_secs) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (provider, hour) DO UPDATE \
                 SET online_gpu_secs = utilization.online_gpu_secs + excluded.online_gpu_secs, \
                     online_secs = utilization.online_secs + excluded.online_secs",
            )
            .bind(provider)
            .bind(hour)
            .bind(secs * gpus)
            .bind(secs),
        };
        query.execute(&mut *db).await?;
    }
    Ok(())
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Binds an advertised spec, price and endpoint, in the providers table's column order
/// (`gpu_model` .. `region`, `price_per_gpu_hour`, `endpoint`).
trait BindSpec<'q>: Sized {
    fn bind_spec(self, spec: &HardwareSpec, price: u64, endpoint: &'q str) -> anyhow::Result<Self>;
}

impl<'q> BindSpec<'q> for AnyQuery<'q> {
    fn bind_spec(self, spec: &HardwareSpec, price: u64, endpoint: &'q str) -> anyhow::Result<Self> {
        Ok(self
            .bind(format!("{:?}", spec.gpu_model))
            .bind(i64::from(spec.gpu_count))
            .bind(i64::from(spec.vram_gb))
            .bind(i64::from(spec.cpu_cores))
            .bind(i64::from(spec.ram_gb))
            .bind(i64::from(spec.bandwidth_up_mbps))
            .bind(i64::from(spec.bandwidth_down_mbps))
            .bind(format!("{:?}", spec.region))
            .bind(int(price, "price_per_gpu_hour")?)
            .bind(endpoint))
    }
}

/// Adds to one provider's day of outcomes and earnings.
#[derive(Default)]
struct DayDelta {
    completed: i64,
    failed: i64,
    verified_pass: i64,
    verified_fail: i64,
    no_shows: i64,
    abandons: i64,
    frauds: i64,
    slashes: i64,
    slashed: i64,
    earned: i64,
    fees: i64,
}

async fn add_provider_day(
    db: &mut AnyConnection,
    provider: &str,
    timestamp: i64,
    d: DayDelta,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO provider_days (provider, day, completed, failed, verified_pass, verified_fail, \
             no_shows, abandons, frauds, slashes, slashed, earned, fees) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (provider, day) DO UPDATE SET \
             completed = provider_days.completed + excluded.completed, \
             failed = provider_days.failed + excluded.failed, \
             verified_pass = provider_days.verified_pass + excluded.verified_pass, \
             verified_fail = provider_days.verified_fail + excluded.verified_fail, \
             no_shows = provider_days.no_shows + excluded.no_shows, \
             abandons = provider_days.abandons + excluded.abandons, \
             frauds = provider_days.frauds + excluded.frauds, \
             slashes = provider_days.slashes + excluded.slashes, \
             slashed = provider_days.slashed + excluded.slashed, \
             earned = provider_days.earned + excluded.earned, \
             fees = provider_days.fees + excluded.fees",
    )
    .bind(provider)
    .bind(timestamp.div_euclid(DAY))
    .bind(d.completed)
    .bind(d.failed)
    .bind(d.verified_pass)
    .bind(d.verified_fail)
    .bind(d.no_shows)
    .bind(d.abandons)
    .bind(d.frauds)
    .bind(d.slashes)
    .bind(d.slashed)
    .bind(d.earned)
    .bind(d.fees)
    .execute(&mut *db)
    .await?;
    Ok(())
}

#[derive(Default)]
struct ClientDelta {
    jobs_created: i64,
    escrowed: i64,
    spent: i64,
    fees: i64,
    refunded: i64,
}

async fn add_client_day(
    db: &mut AnyConnection,
    client: &Pubkey,
    timestamp: i64,
    d: ClientDelta,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO client_days (client, day, jobs_created, escrowed, spent, fees, refunded) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (client, day) DO UPDATE SET \
             jobs_created = client_days.jobs_created + excluded.jobs_created, \
             escrowed = client_days.escrowed + excluded.escrowed, \
             spent = client_days.spent + excluded.spent, \
             fees = client_days.fees + excluded.fees, \
             refunded = client_days.refunded + excluded.refunded",
    )
    .bind(client.to_string())
    .bind(timestamp.div_euclid(DAY))
    .bind(d.jobs_created)
    .bind(d.escrowed)
    .bind(d.spent)
    .bind(d.fees)
    .bind(d.refunded)
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// The running part of the address's current job: `(provider, started_at, gpu_count, state)`.
async fn current_job(
    db: &mut AnyConnection,
    job: &Pubkey,
) -> anyhow::Result<Option<(Option<String>, Option<i64>, i64, String)>> {
    let row = sqlx::query(
        "SELECT provider, started_at, gpu_count, state FROM jobs WHERE job = $1 AND current = 1",
    )
    .bind(job.to_string())
    .fetch_optional(&mut *db)
    .await?;
    row.map(|r| {
        Ok((
            r.try_get("provider")?,
            r.try_get("started_at")?,
            r.try_get("gpu_count")?,
            r.try_get("state")?,
        ))
    })
    .transpose()
}

/// Ends a running job's reservation at `end`: busy GPU-seconds for the hours it ran, GPUs freed.
async fn end_running(
    db: &mut AnyConnection,
    job: &Pubkey,
    provider: &Pubkey,
    end: i64,
) -> anyhow::Result<()> {
    let Some((_, Some(started_at), gpus, state)) = current_job(db, job).await? else {
        return Ok(());
    };
    if state != "running" {
        return Ok(());
    }
    let provider = provider.to_string();
    add_usage(db, &provider, started_at, end, Usage::Busy { gpus }).await?;
    sqlx::query(
        "UPDATE providers SET gpus_in_use = CASE WHEN gpus_in_use > $2 THEN gpus_in_use - $2 ELSE 0 END \
         WHERE provider = $1",
    )
    .bind(provider)
    .bind(gpus)
    .execute(&mut *db)
    .await?;
    Ok(())
}

async fn set_provider_status(
    db: &mut AnyConnection,
    provider: &Pubkey,
    status: &str,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE providers SET status = $2 WHERE provider = $1")
        .bind(provider.to_string())
        .bind(status)
        .execute(&mut *db)
        .await?;
    Ok(())
}

async fn set_job_state(db: &mut AnyConnection, job: &Pubkey, state: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE jobs SET state = $2 WHERE job = $1 AND current = 1")
        .bind(job.to_string())
        .bind(state)
        .execute(&mut *db)
        .await?;
    Ok(())
}

/// Applies one new event at chain position `seq`. Returns the provider whose reputation it may
/// change, if any.
pub async fn apply(
    db: &mut AnyConnection,
    seq: i64,
    event: &MarketEvent,
) -> anyhow::Result<Option<Pubkey>> {
    use MarketEvent as E;
    let touched = match event {
        E::MarketInitialized(e) => {
            sqlx::query(
                "INSERT INTO markets (market, seq, authority, payment_mint, stake_mint, fee_bps, \
                     heartbeat_interval_secs, verifier_quorum, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (market) DO NOTHING",
            )
            .bind(e.market.to_string())
            .bind(seq)
            .bind(e.authority.to_string())
            .bind(e.payment_mint.to_string())
            .bind(e.stake_mint.to_string())
            .bind(i64::from(e.params.fee_bps))
            .bind(i64::from(e.params.heartbeat_interval_secs))
            .bind(i64::from(e.params.verifier_quorum))
            .bind(e.timestamp)
            .execute(&mut *db)
            .await?;
            None
        }
        E::MarketUpdated(e) => {
            // Uptime from here on is measured against the new interval.
            sqlx::query("UPDATE providers SET heartbeat_interval_secs = $2 WHERE market = $1")
                .bind(e.market.to_string())
                .bind(i64::from(e.params.heartbeat_interval_secs))
                .execute(&mut *db)
                .await?;
            sqlx::query(
                "UPDATE markets SET authority = $2, fee_bps = $3, heartbeat_interval_secs = $4, \
                     verifier_quorum = $5 WHERE market = $1",
            )
            .bind(e.market.to_string())
            .bind(e.authority.to_string())
            .bind(i64::from(e.params.fee_bps))
            .bind(i64::from(e.params.heartbeat_interval_secs))
            .bind(i64::from(e.params.verifier_quorum))
            .execute(&mut *db)
            .await?;
            None
        }
        E::MarketPauseChanged(e) => {
            sqlx::query("UPDATE markets SET paused = $2 WHERE market = $1")
                .bind(e.market.to_string())
                .bind(i64::from(e.paused))
                .execute(&mut *db)
                .await?;
            None
        }
        E::VerifierAdded(e) => {
            set_verifiers(db, &e.market, e.verifier_count).await?;
            None
        }
        E::VerifierRemoved(e) => {
            set_verifiers(db, &e.market, e.verifier_count).await?;
            None
        }
        E::ProviderRegistered(e) => {
            let interval: Option<i64> =
                sqlx::query("SELECT heartbeat_interval_secs FROM markets WHERE market = $1")
                    .bind(e.market.to_string())
                    .fetch_optional(&mut *db)
                    .await?
                    .map(|r| r.try_get("heartbeat_interval_secs"))
                    .transpose()?;
            // A provider account closed and opened again keeps its first position and its
            // history; its on-chain counters start again, and so do these.
            sqlx::query(
                "INSERT INTO providers (provider, seq, market, authority, gpu_model, gpu_count, \
                     vram_gb, cpu_cores, ram_gb, bandwidth_up_mbps, bandwidth_down_mbps, region, \
                     price_per_gpu_hour, endpoint, status, heartbeat_interval_secs, registered_at, \
                     last_heartbeat_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'active', $15, \
                     $16, $16) \
                 ON CONFLICT (provider) DO UPDATE SET authority = excluded.authority, \
                     gpu_model = excluded.gpu_model, gpu_count = excluded.gpu_count, \
                     vram_gb = excluded.vram_gb, cpu_cores = excluded.cpu_cores, \
                     ram_gb = excluded.ram_gb, bandwidth_up_mbps = excluded.bandwidth_up_mbps, \
                     bandwidth_down_mbps = excluded.bandwidth_down_mbps, region = excluded.region, \
                     price_per_gpu_hour = excluded.price_per_gpu_hour, endpoint = excluded.endpoint, \
                     status = 'active', registered_at = excluded.registered_at, \
                     last_heartbeat_at = excluded.last_heartbeat_at, \
                     heartbeat_interval_secs = excluded.heartbeat_interval_secs, gpus_in_use = 0, staked = 0, \
                     unbonding = 0, jobs_completed = 0, jobs_failed = 0, total_earned = 0, \
                     total_claimed = 0, total_slashed = 0",
            )
            .bind(e.provider.to_string())
            .bind(seq)
            .bind(e.market.to_string())
            .bind(e.authority.to_string())
            .bind_spec(&e.spec, e.price_per_gpu_hour, &e.endpoint)?
            .bind(interval.unwrap_or(DEFAULT_HEARTBEAT_SECS))
            .bind(e.timestamp)
            .execute(&mut *db)
            .await?;
            Some(e.provider)
        }
        E::ProviderUpdated(e) => {
            sqlx::query(
                "UPDATE providers SET gpu_model = $2, gpu_count = $3, vram_gb = $4, cpu_cores = $5, \
                     ram_gb = $6, bandwidth_up_mbps = $7, bandwidth_down_mbps = $8, region = $9, \
                     price_per_gpu_hour = $10, endpoint = $11, status = $12 WHERE provider = $1",
            )
            .bind(e.provider.to_string())
            .bind_spec(&e.spec, e.price_per_gpu_hour, &e.endpoint)?
            .bind(provider_status_name(e.status))
            .execute(&mut *db)
            .await?;
            Some(e.provider)
        }
        E::ProviderHeartbeat(e) => {
            let provider = e.provider.to_string();
            let row = sqlx::query(
                "SELECT gpu_count, heartbeat_interval_secs FROM providers WHERE provider = $1",
            )
            .bind(&provider)
            .fetch_optional(&mut *db)
            .await?;
            if let Some(row) = row {
                let gpus: i64 = row.try_get("gpu_count")?;
                let interval: i64 = row.try_get("heartbeat_interval_secs")?;
                let gap = e.timestamp - e.previous_heartbeat_at;
                // Covered by heartbeats: the provider kept its rhythm. A longer gap was an outage.
                if gap > 0 && gap <= HEARTBEAT_GRACE * interval {
                    add_usage(
                        db,
                        &provider,
                        e.previous_heartbeat_at,
                        e.timestamp,
                        Usage::Online { gpus },
                    )
                    .await?;
                }
            }
            sqlx::query(
                "UPDATE providers SET last_heartbeat_at = $2, gpus_in_use = $3 WHERE provider = $1",
            )
            .bind(&provider)
            .bind(e.timestamp)
            .bind(i64::from(e.gpus_in_use))
            .execute(&mut *db)
            .await?;
            Some(e.provider)
        }
        E::ProviderClosed(e) => {
            set_provider_status(db, &e.provider, "closed").await?;
            Some(e.provider)
        }
        E::Staked(e) => {
            sqlx::query("UPDATE providers SET staked = $2 WHERE provider = $1")
                .bind(e.provider.to_string())
                .bind(int(e.staked, "staked")?)
                .execute(&mut *db)
                .await?;
            None
        }
        E::UnstakeRequested(e) => {
            sqlx::query("UPDATE providers SET staked = $2, unbonding = $3 WHERE provider = $1")
                .bind(e.provider.to_string())
                .bind(int(e.staked, "staked")?)
                .bind(int(e.unbonding, "unbonding")?)
                .execute(&mut *db)
                .await?;
            None
        }
        E::UnstakeCancelled(e) => {
            unbond(db, &e.provider, e.staked, e.amount).await?;
            None
        }
        E::UnstakeWithdrawn(e) => {
            unbond(db, &e.provider, e.staked, e.amount).await?;
            None
        }
        E::JobCreated(e) => {
            let job = e.job.to_string();
            sqlx::query("UPDATE jobs SET current = 0 WHERE job = $1")
                .bind(&job)
                .execute(&mut *db)
                .await?;
            sqlx::query(
                "INSERT INTO jobs (seq, job, current, market, client, nonce, named_provider, \
                     workload, gpu_count, min_vram_gb, max_price_per_gpu_hour, max_duration_secs, \
                     deposit, state, created_at) \
                 VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'open', $13)",
            )
            .bind(seq)
            .bind(&job)
            .bind(e.market.to_string())
            .bind(e.client.to_string())
            .bind(e.nonce.to_string())
            .bind(e.named_provider.map(|p| p.to_string()))
            .bind(format!("{:?}", e.workload_kind).to_lowercase())
            .bind(i64::from(e.requirements.gpu_count))
            .bind(i64::from(e.requirements.min_vram_gb))
            .bind(int(e.max_price_per_gpu_hour, "max_price_per_gpu_hour")?)
            .bind(i64::from(e.max_duration_secs))
            .bind(int(e.deposit, "deposit")?)
            .bind(e.timestamp)
            .execute(&mut *db)
            .await?;
            let delta = ClientDelta {
                jobs_created: 1,
                escrowed: int(e.deposit, "deposit")?,
                ..ClientDelta::default()
            };
            add_client_day(db, &e.client, e.timestamp, delta).await?;
            None
        }
        E::JobCancelled(e) => {
            sqlx::query(
                "UPDATE jobs SET state = 'cancelled', outcome = 'cancelled', ended_at = $2, \
                     refund = $3 WHERE job = $1 AND current = 1",
            )
            .bind(e.job.to_string())
            .bind(e.timestamp)
            .bind(int(e.refund, "refund")?)
            .execute(&mut *db)
            .await?;
            let delta = ClientDelta {
                refunded: int(e.refund, "refund")?,
                ..ClientDelta::default()
            };
            add_client_day(db, &e.client, e.timestamp, delta).await?;
            None
        }
        E::BidPlaced(_) | E::BidWithdrawn(_) | E::SampleSeedRecorded(_) => None,
        // Counted as slashed when the slash happened; this only moves the tokens.
        E::PendingSlashPaid(_) => None,
        E::VerdictSubmitted(_) | E::VerdictClosed(_) | E::DisputeResolved(_) => None,
        // Verifier stake lives in the events table; no derived table reads it yet.
        E::VerifierStaked(_)
        | E::VerifierStakeWithdrawn(_)
        | E::VerifierClosed(_)
        | E::VerifierPendingSlashPaid(_) => None,
        E::JobStarted(e) => {
            sqlx::query(
                "UPDATE jobs SET provider = $2, state = 'running', price_per_gpu_hour = $3, \
                     started_at = $4, deadline = $5 WHERE job = $1 AND current = 1",
            )
            .bind(e.job.to_string())
            .bind(e.provider.to_string())
            .bind(int(e.price_per_gpu_hour, "price_per_gpu_hour")?)
            .bind(e.timestamp)
            .bind(e.deadline)
            .execute(&mut *db)
            .await?;
            sqlx::query("UPDATE providers SET gpus_in_use = $2 WHERE provider = $1")
                .bind(e.provider.to_string())
                .bind(i64::from(e.provider_gpus_in_use))
                .execute(&mut *db)
                .await?;
            None
        }
        E::ResultSubmitted(e) => {
            end_running(db, &e.job, &e.provider, e.timestamp).await?;
            sqlx::query(
                "UPDATE jobs SET state = 'submitted', submitted_at = $2, challenge_ends_at = $3, \
                     metered_secs = $4 WHERE job = $1 AND current = 1",
            )
            .bind(e.job.to_string())
            .bind(e.timestamp)
            .bind(e.challenge_ends_at)
            .bind(i64::from(e.result.metered_secs))
            .execute(&mut *db)
            .await?;
            None
        }
        E::JobDisputed(e) => {
            set_job_state(db, &e.job, "disputed").await?;
            None
        }
        E::JobCompleted(e) => {
            let s = &e.settlement;
            let (share, fee, refund) = (
                int(s.provider_share, "provider_share")?,
                int(s.fee, "fee")?,
                int(s.refund, "refund")?,
            );
            sqlx::query(
                "UPDATE jobs SET state = 'completed', outcome = $2, ended_at = $3, billed_secs = $4, \
                     provider_share = $5, fee = $6, refund = $7 WHERE job = $1 AND current = 1",
            )
            .bind(e.job.to_string())
            .bind(completion_name(e.reason))
            .bind(e.timestamp)
            .bind(i64::from(e.billed_secs))
            .bind(share)
            .bind(fee)
            .bind(refund)
            .execute(&mut *db)
            .await?;
            sqlx::query(
                "UPDATE providers SET jobs_completed = $2, total_earned = $3 WHERE provider = $1",
            )
            .bind(e.provider.to_string())
            .bind(int(e.provider_jobs_completed, "provider_jobs_completed")?)
            .bind(int(e.provider_total_earned, "provider_total_earned")?)
            .execute(&mut *db)
            .await?;
            let day = DayDelta {
                completed: 1,
                verified_pass: i64::from(e.reason == CompletionReason::VerifierQuorum),
                earned: share,
                fees: fee,
                ..DayDelta::default()
            };
            add_provider_day(db, &e.provider.to_string(), e.timestamp, day).await?;
            let client = ClientDelta {
                spent: share + fee,
                fees: fee,
                refunded: refund,
                ..ClientDelta::default()
            };
            add_client_day(db, &e.client, e.timestamp, client).await?;
            Some(e.provider)
        }
        E::JobFailed(e) => {
            end_running(db, &e.job, &e.provider, e.timestamp).await?;
            let refund = int(e.refund, "refund")?;
            sqlx::query(
                "UPDATE jobs SET state = 'failed', outcome = $2, ended_at = $3, refund = $4 \
                 WHERE job = $1 AND current = 1",
            )
            .bind(e.job.to_string())
            .bind(failure_name(e.reason))
            .bind(e.timestamp)
            .bind(refund)
            .execute(&mut *db)
            .await?;
            sqlx::query("UPDATE providers SET jobs_failed = $2 WHERE provider = $1")
                .bind(e.provider.to_string())
                .bind(int(e.provider_jobs_failed, "provider_jobs_failed")?)
                .execute(&mut *db)
                .await?;
            let day = DayDelta {
                failed: 1,
                no_shows: i64::from(e.reason == FailureReason::Expired),
                abandons: i64::from(e.reason == FailureReason::Abandoned),
                // An unverifiable result (its seed never recorded) counts as a failed one.
                verified_fail: i64::from(matches!(
                    e.reason,
                    FailureReason::VerificationFailed | FailureReason::SampleSeedExpired
                )),
                ..DayDelta::default()
            };
            add_provider_day(db, &e.provider.to_string(), e.timestamp, day).await?;
            let client = ClientDelta {
                refunded: refund,
                ..ClientDelta::default()
            };
            add_client_day(db, &e.client, e.timestamp, client).await?;
            Some(e.provider)
        }
        E::JobClosed(e) => {
            sqlx::query("UPDATE jobs SET closed = 1 WHERE job = $1 AND current = 1")
                .bind(e.job.to_string())
                .execute(&mut *db)
                .await?;
            None
        }
        E::PayoutClaimed(e) => {
            sqlx::query("UPDATE providers SET total_claimed = $2 WHERE provider = $1")
                .bind(e.provider.to_string())
                .bind(int(e.provider_total_claimed, "provider_total_claimed")?)
                .execute(&mut *db)
                .await?;
            None
        }
        E::ProviderSlashed(e) => {
            sqlx::query(
                "UPDATE providers SET staked = $2, unbonding = $3, total_slashed = $4, \
                     status = CASE WHEN $5 = 1 THEN 'jailed' ELSE status END WHERE provider = $1",
            )
            .bind(e.provider.to_string())
            .bind(int(e.staked_after, "staked_after")?)
            .bind(int(e.unbonding_after, "unbonding_after")?)
            .bind(int(e.provider_total_slashed, "provider_total_slashed")?)
            .bind(i64::from(e.jailed))
            .execute(&mut *db)
            .await?;
            // A provider with nothing staked is jailed for fraud without a slash (amount 0), and
            // the program does not count that as a slash either.
            let day = DayDelta {
                slashes: i64::from(e.amount > 0),
                frauds: i64::from(e.reason == SlashReason::Fraud),
                slashed: int(e.amount, "amount")?,
                ..DayDelta::default()
            };
            add_provider_day(db, &e.provider.to_string(), e.timestamp, day).await?;
            Some(e.provider)
        }
        E::ProviderReinstated(e) => {
            set_provider_status(db, &e.provider, "active").await?;
            Some(e.provider)
        }
    };
    Ok(touched)
}

async fn set_verifiers(db: &mut AnyConnection, market: &Pubkey, count: u32) -> anyhow::Result<()> {
    sqlx::query("UPDATE markets SET verifiers = $2 WHERE market = $1")
        .bind(market.to_string())
        .bind(i64::from(count))
        .execute(&mut *db)
        .await?;
    Ok(())
}

/// `amount` left the unbonding balance (withdrawn, or moved back to staked).
async fn unbond(
    db: &mut AnyConnection,
    provider: &Pubkey,
    staked: u64,
    amount: u64,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE providers SET staked = $2, \
             unbonding = CASE WHEN unbonding > $3 THEN unbonding - $3 ELSE 0 END \
         WHERE provider = $1",
    )
    .bind(provider.to_string())
    .bind(int(staked, "staked")?)
    .bind(int(amount, "amount")?)
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// Which providers to score again.
pub enum Rescore<'a> {
    /// The reference hour moved: every provider.
    All,
    /// Only these (new outcomes, heartbeats, registrations).
    Some(&'a BTreeSet<Pubkey>),
}

/// Recomputes reputation against the reference hour `as_of`, writing `reputation` and the score
/// the provider list sorts on.
pub async fn rescore(db: &mut AnyConnection, as_of: i64, which: Rescore<'_>) -> anyhow::Result<()> {
    let since_day = as_of.div_euclid(DAY) - HISTORY_DAYS;
    let (w7, w30) = (as_of - 7 * DAY, as_of - 30 * DAY);
    let mut inputs: BTreeMap<String, Inputs> = BTreeMap::new();
    let registered = |row: &sqlx::any::AnyRow| -> anyhow::Result<(String, Inputs)> {
        Ok((
            row.try_get("provider")?,
            Inputs {
                as_of,
                registered_at: row.try_get("registered_at")?,
                ..Inputs::default()
            },
        ))
    };
    let day_of = |row: &sqlx::any::AnyRow| -> anyhow::Result<(String, DayOutcomes)> {
        Ok((
            row.try_get("provider")?,
            DayOutcomes {
                day: row.try_get("day")?,
                completed: row.try_get("completed")?,
                failed: row.try_get("failed")?,
                verified_pass: row.try_get("verified_pass")?,
                verified_fail: row.try_get("verified_fail")?,
                no_shows: row.try_get("no_shows")?,
                abandons: row.try_get("abandons")?,
                frauds: row.try_get("frauds")?,
                slashes: row.try_get("slashes")?,
            },
        ))
    };
    const DAYS: &str = "SELECT provider, day, completed, failed, verified_pass, verified_fail, \
         no_shows, abandons, frauds, slashes FROM provider_days";
    // Online seconds in the complete hours of the window (reputation::uptime_window): from the
    // window's start or the provider's first whole hour, whichever is later, to `as_of`.
    const ONLINE: &str = "SELECT u.provider AS provider, \
         CAST(COALESCE(SUM(u.online_secs), 0) AS BIGINT) AS online \
         FROM utilization u JOIN providers p ON p.provider = u.provider \
         WHERE u.hour >= p.registered_at AND";
    match which {
        Rescore::All => {
            for row in sqlx::query("SELECT provider, registered_at FROM providers")
                .fetch_all(&mut *db)
                .await?
            {
                let (provider, input) = registered(&row)?;
                inputs.insert(provider, input);
            }
            for row in sqlx::query(sqlx::AssertSqlSafe(format!(
                "{DAYS} WHERE day >= $1 ORDER BY provider, day"
            )))
            .bind(since_day)
            .fetch_all(&mut *db)
            .await?
            {
                let (provider, day) = day_of(&row)?;
                if let Some(input) = inputs.get_mut(&provider) {
                    input.days.push(day);
                }
            }
            for (start, is_7d) in [(w7, true), (w30, false)] {
                for row in sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{ONLINE} u.hour >= $1 AND u.hour < $2 GROUP BY u.provider"
                )))
                .bind(start)
                .bind(as_of)
                .fetch_all(&mut *db)
                .await?
                {
                    let provider: String = row.try_get("provider")?;
                    let online: i64 = row.try_get("online")?;
                    if let Some(input) = inputs.get_mut(&provider) {
                        if is_7d {
                            input.online_7d = online;
                        } else {
                            input.online_30d = online;
                        }
                    }
                }
            }
        }
        Rescore::Some(providers) => {
            for provider in providers {
                let key = provider.to_string();
                let Some(row) = sqlx::query(
                    "SELECT provider, registered_at FROM providers WHERE provider = $1",
                )
                .bind(&key)
                .fetch_optional(&mut *db)
                .await?
                else {
                    continue;
                };
                let (_, mut input) = registered(&row)?;
                for row in sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{DAYS} WHERE provider = $1 AND day >= $2 ORDER BY day"
                )))
                .bind(&key)
                .bind(since_day)
                .fetch_all(&mut *db)
                .await?
                {
                    input.days.push(day_of(&row)?.1);
                }
                for (start, is_7d) in [(w7, true), (w30, false)] {
                    let online: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "{ONLINE} u.provider = $1 AND u.hour >= $2 AND u.hour < $3 GROUP BY u.provider"
                    )))
                    .bind(&key)
                    .bind(start)
                    .bind(as_of)
                    .fetch_optional(&mut *db)
                    .await?
                    .map(|r| r.try_get("online"))
                    .transpose()?
                    .unwrap_or(0);
                    if is_7d {
                        input.online_7d = online;
                    } else {
                        input.online_30d = online;
                    }
                }
                inputs.insert(key, input);
            }
        }
    }
    for (provider, input) in &inputs {
        write_reputation(db, provider, &reputation::compute(input)).await?;
    }
    Ok(())
}

async fn write_reputation(
    db: &mut AnyConnection,
    provider: &str,
    r: &Reputation,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO reputation (provider, as_of, score, completed_milli, failed_milli, \
             completion_bps, verified_pass_milli, verified_fail_milli, verification_bps, \
             uptime_7d_bps, uptime_30d_bps, tenure_days, no_shows, abandons, frauds, slashes, \
             penalty_bps) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         ON CONFLICT (provider) DO UPDATE SET as_of = excluded.as_of, score = excluded.score, \
             completed_milli = excluded.completed_milli, failed_milli = excluded.failed_milli, \
             completion_bps = excluded.completion_bps, \
             verified_pass_milli = excluded.verified_pass_milli, \
             verified_fail_milli = excluded.verified_fail_milli, \
             verification_bps = excluded.verification_bps, uptime_7d_bps = excluded.uptime_7d_bps, \
             uptime_30d_bps = excluded.uptime_30d_bps, tenure_days = excluded.tenure_days, \
             no_shows = excluded.no_shows, abandons = excluded.abandons, frauds = excluded.frauds, \
             slashes = excluded.slashes, penalty_bps = excluded.penalty_bps",
    )
    .bind(provider)
    .bind(r.as_of)
    .bind(r.score_bps)
    .bind(r.completed_milli)
    .bind(r.failed_milli)
    .bind(r.completion_bps)
    .bind(r.verified_pass_milli)
    .bind(r.verified_fail_milli)
    .bind(r.verification_bps)
    .bind(r.uptime_7d_bps)
    .bind(r.uptime_30d_bps)
    .bind(r.tenure_days)
    .bind(r.no_shows)
    .bind(r.abandons)
    .bind(r.frauds)
    .bind(r.slashes)
    .bind(r.penalty_bps)
    .execute(&mut *db)
    .await?;
    sqlx::query("UPDATE providers SET score = $2 WHERE provider = $1")
        .bind(provider)
        .bind(r.score_bps)
        .execute(&mut *db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_split_at_hour_boundaries() {
        assert_eq!(
            split_hours(3_000, 8_000),
            vec![(0, 600), (3_600, 3_600), (7_200, 800)]
        );
        assert_eq!(split_hours(3_600, 3_600), vec![]);
        assert_eq!(split_hours(10, 5), vec![]);
        assert_eq!(
            split_hours(0, i64::MAX).len() as i64,
            MAX_INTERVAL_SECS / HOUR
        );
    }
}
