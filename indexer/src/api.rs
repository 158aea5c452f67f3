//! The query API: JSON over HTTP with axum, under `/v1`, plus `/healthz`, `/metrics` and
//! `/openapi.json`. Every input is validated before a query runs; queries are fixed SQL text with
//! bound values (the optional filters pick among fixed fragments, never text from the request).
//! Answers depend only on the indexed data, so two indexers at the same slot serve the same bytes.

use crate::{
    metrics::{self, METRICS, RouteLabels},
    store::Store,
};
use axum::{
    Json, Router,
    extract::{FromRequestParts, MatchedPath, Path, Request, State},
    http::{StatusCode, header, request::Parts},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use solana_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::pubkey::Pubkey;
use sqlx::{Row, any::AnyRow};
use std::{
    str::FromStr,
    sync::{Arc, LazyLock},
    time::Duration,
};
use tower_http::{cors::CorsLayer, limit::RequestBodyLimitLayer, timeout::TimeoutLayer};
use utoipa::{IntoParams, OpenApi, ToSchema};

/// Most rows one list request returns.
pub const MAX_LIMIT: i64 = 500;
const DEFAULT_LIMIT: i64 = 50;
/// A request that takes longer is answered 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Requests carry no body; anything larger than this is refused with 413.
const BODY_LIMIT: usize = 16 * 1024;
/// `/healthz` reports "lagging" beyond this many slots behind the node.
const HEALTHY_LAG_SLOTS: u64 = 150;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

#[derive(Clone)]
pub struct ApiState {
    pub store: Store,
    /// The node `/healthz` measures lag against (absent: lag is not reported).
    pub rpc: Option<Arc<RpcClient>>,
}

/// An error answer: a status and `{"error": message}`.
#[derive(Debug)]
pub struct ApiError(StatusCode, String);

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
}

impl ApiError {
    fn bad_request(message: impl Into<String>) -> Self {
        Self(StatusCode::BAD_REQUEST, message.into())
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self(StatusCode::NOT_FOUND, message.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(ErrorBody { error: self.1 })).into_response()
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        tracing::error!("API query failed: {error:#}");
        Self(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the index could not answer this request".into(),
        )
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        anyhow::Error::from(error).into()
    }
}

/// Query parameters, with unknown or malformed ones answered 400 in the API's error shape.
pub struct Q<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Q(q.0))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

fn parse_pubkey(text: &str, what: &str) -> Result<Pubkey, ApiError> {
    Pubkey::from_str(text)
        .map_err(|_| ApiError::bad_request(format!("{what} {text:?} is not a base-58 public key")))
}

/// Case-insensitive match against the names the program's enums use.
fn canonical(text: &str, names: &[&'static str], what: &str) -> Result<&'static str, ApiError> {
    names
        .iter()
        .find(|n| n.eq_ignore_ascii_case(text))
        .copied()
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "unknown {what} {text:?}; one of: {}",
                names.join(", ")
            ))
        })
}

/// The variant names of one of the program's fieldless enums, in discriminant order (they are
/// dense, so decoding 0, 1, 2, ... stops at the first unused one).
fn variant_names<T: anchor_lang::AnchorDeserialize + std::fmt::Debug>() -> Vec<&'static str> {
    (0u8..=u8::MAX)
        .map_while(|i| T::try_from_slice(&[i]).ok())
        .map(|v| &*format!("{v:?}").leak())
        .collect()
}

fn gpu_models() -> &'static [&'static str] {
    static NAMES: LazyLock<Vec<&'static str>> =
        LazyLock::new(variant_names::<gpu_market::state::GpuModel>);
    &NAMES
}

fn regions() -> &'static [&'static str] {
    static NAMES: LazyLock<Vec<&'static str>> =
        LazyLock::new(variant_names::<gpu_market::state::Region>);
    &NAMES
}

/// "Online": active, and heartbeating within two intervals of the newest indexed block time
/// (bound as `$now`, a placeholder). [`provider_summary`] computes the same in Rust.
macro_rules! online {
    ($now:literal) => {
        concat!(
            "status = 'active' AND last_heartbeat_at + 2 * heartbeat_interval_secs >= ",
            $now
        )
    };
}

const PROVIDER_STATUSES: &[&str] = &[
    "active", "inactive", "jailed", "closed", "online", "offline",
];
const JOB_STATES: &[&str] = &[
    "open",
    "running",
    "submitted",
    "disputed",
    "completed",
    "failed",
    "cancelled",
];

/// Latest time a query may name (year 36812): keeps arithmetic on times far from overflow.
const MAX_TIME: i64 = 1 << 40;

fn time(value: Option<i64>, what: &str) -> Result<Option<i64>, ApiError> {
    match value {
        Some(t) if !(0..=MAX_TIME).contains(&t) => Err(ApiError::bad_request(format!(
            "{what} {t} is out of range 0..={MAX_TIME} (unix seconds)"
        ))),
        other => Ok(other),
    }
}

fn limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::bad_request(format!(
            "limit {n} is out of range 1..={MAX_LIMIT}"
        ))),
    }
}

/// A value bound to a query.
#[derive(Debug, Clone)]
enum Arg {
    Int(i64),
    Text(String),
}

/// Fixed SQL fragments joined by the filters present, with their values bound in order.
struct Select {
    sql: String,
    args: Vec<Arg>,
}

impl Select {
    fn new(base: &'static str) -> Self {
        Self {
            sql: base.to_string(),
            args: vec![],
        }
    }

    /// Adds `AND <fragment>`; each `?` in the fragment becomes the next bound argument.
    fn and(&mut self, fragment: &'static str, args: impl IntoIterator<Item = Arg>) -> &mut Self {
        self.sql.push_str(" AND");
        self.tail(fragment, args)
    }

    /// Adds ` <fragment>` (ORDER BY, LIMIT); `?` as in [`Self::and`].
    fn tail(&mut self, fragment: &'static str, args: impl IntoIterator<Item = Arg>) -> &mut Self {
        self.sql.push(' ');
        let mut args = args.into_iter();
        for piece in fragment.split_inclusive('?') {
            match piece.strip_suffix('?') {
                Some(text) => {
                    self.args
                        .push(args.next().expect("an argument per placeholder"));
                    self.sql.push_str(text);
                    self.sql.push_str(&format!("${}", self.args.len()));
                }
                None => self.sql.push_str(piece),
            }
        }
        self
    }

    async fn fetch_all(&self, store: &Store) -> Result<Vec<AnyRow>, ApiError> {
        // The text is assembled from this module's fixed fragments only; values are bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(self.sql.clone()));
        for arg in &self.args {
            query = match arg {
                Arg::Int(v) => query.bind(*v),
                Arg::Text(v) => query.bind(v.clone()),
            };
        }
        Ok(query.fetch_all(store.pool()).await?)
    }
}

/// Reads a column, turning a decode failure into a 500.
macro_rules! col {
    ($row:expr, $name:expr) => {
        $row.try_get($name).map_err(ApiError::from)?
    };
}

/// The newest indexed block time: the clock answers are computed against.
async fn now(store: &Store) -> Result<i64, ApiError> {
    Ok(store.block_time().await?.unwrap_or(0))
}

// ---------------------------------------------------------------------------------------------
// Providers

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProvidersQuery {
    /// A GPU model as the program names it (`Rtx4090`, `H100`, …), any case.
    pub gpu_model: Option<String>,
    /// Minimum memory per GPU, GB.
    pub min_vram_gb: Option<i64>,
    /// A region as the program names it (`Europe`, `NorthAmerica`, …), any case.
    pub region: Option<String>,
    /// Minimum reputation score, 0 to 100.
    pub min_score: Option<f64>,
    /// Highest price per GPU-hour, payment-mint base units.
    pub max_price: Option<i64>,
    /// `active`, `inactive`, `jailed`, `closed`, or `online` / `offline` (active and heartbeating
    /// within two intervals of the newest indexed block time, or not).
    pub status: Option<String>,
    /// `score` (highest first, the default), `price` (lowest first), `vram` (most first) or
    /// `newest`.
    pub sort: Option<String>,
    /// 1 to 500 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page, with the same sort.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ProviderSummary {
    pub pubkey: String,
    pub market: String,
    pub authority: String,
    pub gpu_model: String,
    pub gpu_count: i64,
    pub vram_gb: i64,
    pub cpu_cores: i64,
    pub ram_gb: i64,
    pub bandwidth_up_mbps: i64,
    pub bandwidth_down_mbps: i64,
    pub region: String,
    /// Payment-mint base units per GPU-hour.
    pub price_per_gpu_hour: i64,
    pub endpoint: String,
    pub status: String,
    /// Active and heartbeating within two intervals of the newest indexed block time.
    pub online: bool,
    pub gpus_in_use: i64,
    /// Stake-mint base units.
    pub staked: i64,
    /// Reputation, 0 to 100 (two decimals; components on the provider's page).
    pub score: f64,
    pub jobs_completed: i64,
    pub jobs_failed: i64,
    pub registered_at: i64,
    pub last_heartbeat_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ProviderPage {
    pub providers: Vec<ProviderSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

const PROVIDER_COLUMNS: &str = "SELECT provider, seq, market, authority, gpu_model, gpu_count, \
     vram_gb, cpu_cores, ram_gb, bandwidth_up_mbps, bandwidth_down_mbps, region, \
     price_per_gpu_hour, endpoint, status, heartbeat_interval_secs, last_heartbeat_at, gpus_in_use, \
     staked, unbonding, score, jobs_completed, jobs_failed, total_earned, total_claimed, \
     total_slashed, registered_at FROM providers WHERE 1 = 1";

fn score_of(bps: i64) -> f64 {
    bps as f64 / 100.0
}

fn provider_summary(row: &AnyRow, now: i64) -> Result<ProviderSummary, ApiError> {
    let status: String = col!(row, "status");
    let last: i64 = col!(row, "last_heartbeat_at");
    let interval: i64 = col!(row, "heartbeat_interval_secs");
    Ok(ProviderSummary {
        pubkey: col!(row, "provider"),
        market: col!(row, "market"),
        authority: col!(row, "authority"),
        gpu_model: col!(row, "gpu_model"),
        gpu_count: col!(row, "gpu_count"),
        vram_gb: col!(row, "vram_gb"),
        cpu_cores: col!(row, "cpu_cores"),
        ram_gb: col!(row, "ram_gb"),
        bandwidth_up_mbps: col!(row, "bandwidth_up_mbps"),
        bandwidth_down_mbps: col!(row, "bandwidth_down_mbps"),
        region: col!(row, "region"),
        price_per_gpu_hour: col!(row, "price_per_gpu_hour"),
        endpoint: col!(row, "endpoint"),
        online: status == "active" && last + 2 * interval >= now,
        status,
        gpus_in_use: col!(row, "gpus_in_use"),
        staked: col!(row, "staked"),
        score: score_of(col!(row, "score")),
        jobs_completed: col!(row, "jobs_completed"),
        jobs_failed: col!(row, "jobs_failed"),
        registered_at: col!(row, "registered_at"),
        last_heartbeat_at: last,
    })
}

/// Sort orders: `(ORDER BY, the cursor's condition, the sort column)`. The chain position `seq`
/// breaks ties, so a cursor is exact.
fn provider_sort(sort: &str) -> Result<(&'static str, &'static str, &'static str), ApiError> {
    Ok(match sort {
        "score" => (
            "ORDER BY score DESC, seq ASC",
            "(score < ? OR (score = ? AND seq > ?))",
            "score",
        ),
        "price" => (
            "ORDER BY price_per_gpu_hour ASC, seq ASC",
            "(price_per_gpu_hour > ? OR (price_per_gpu_hour = ? AND seq > ?))",
            "price_per_gpu_hour",
        ),
        "vram" => (
            "ORDER BY vram_gb DESC, seq ASC",
            "(vram_gb < ? OR (vram_gb = ? AND seq > ?))",
            "vram_gb",
        ),
        "newest" => ("ORDER BY seq DESC", "seq < ?", "seq"),
        other => {
            return Err(ApiError::bad_request(format!(
                "unknown sort {other:?}; one of: score, price, vram, newest"
            )));
        }
    })
}

/// A provider-list cursor: `<sort>.<value>.<seq>`, refused under another sort.
fn parse_cursor(cursor: &str, sort: &str) -> Result<(i64, i64), ApiError> {
    let mut parts = cursor.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(s), Some(v), Some(q), None) if s == sort => v.parse().ok().zip(q.parse().ok()),
        (Some(s), Some(_), Some(_), None) => {
            return Err(ApiError::bad_request(format!(
                "cursor {cursor:?} belongs to sort={s}, not sort={sort}"
            )));
        }
        _ => None,
    }
    .ok_or_else(|| ApiError::bad_request(format!("cursor {cursor:?} is not one this API gave")))
}

#[utoipa::path(get, path = "/v1/providers", params(ProvidersQuery),
    responses((status = 200, body = ProviderPage), (status = 400, body = ErrorBody)))]
pub async fn list_providers(
    State(state): State<ApiState>,
    Q(q): Q<ProvidersQuery>,
) -> Result<Json<ProviderPage>, ApiError> {
    let limit = limit(q.limit)?;
    let sort = q.sort.as_deref().unwrap_or("score");
    let (order, after, sort_column) = provider_sort(sort)?;
    let now = now(&state.store).await?;
    let mut select = Select::new(PROVIDER_COLUMNS);
    if let Some(model) = &q.gpu_model {
        let model = canonical(model, gpu_models(), "gpu_model")?;
        select.and("gpu_model = ?", [Arg::Text(model.into())]);
    }
    if let Some(vram) = q.min_vram_gb {
        select.and("vram_gb >= ?", [Arg::Int(vram)]);
    }
    if let Some(region) = &q.region {
        let region = canonical(region, regions(), "region")?;
        select.and("region = ?", [Arg::Text(region.into())]);
    }
    if let Some(score) = q.min_score {
        if !(0.0..=100.0).contains(&score) {
            return Err(ApiError::bad_request(format!(
                "min_score {score} is out of range 0..=100"
            )));
        }
        select.and("score >= ?", [Arg::Int((score * 100.0).ceil() as i64)]);
    }
    if let Some(price) = q.max_price {
        select.and("price_per_gpu_hour <= ?", [Arg::Int(price)]);
    }
    if let Some(status) = &q.status {
        match canonical(status, PROVIDER_STATUSES, "status")? {
            "online" => select.and(online!("?"), [Arg::Int(now)]),
            "offline" => select.and(concat!("NOT (", online!("?"), ")"), [Arg::Int(now)]),
            stored => select.and("status = ?", [Arg::Text(stored.into())]),
        };
    }
    if let Some(cursor) = &q.cursor {
        let (value, seq) = parse_cursor(cursor, sort)?;
        let args = if sort_column == "seq" {
            vec![Arg::Int(seq)]
        } else {
            vec![Arg::Int(value), Arg::Int(value), Arg::Int(seq)]
        };
        select.and(after, args);
    }
    select
        .tail(order, [])
        .tail("LIMIT ?", [Arg::Int(limit + 1)]);
    let rows = select.fetch_all(&state.store).await?;
    let more = rows.len() as i64 > limit;
    let rows = &rows[..rows.len().min(limit as usize)];
    let next_cursor = match rows.last() {
        Some(row) if more => {
            let value: i64 = col!(row, sort_column);
            let seq: i64 = col!(row, "seq");
            Some(format!("{sort}.{value}.{seq}"))
        }
        _ => None,
    };
    let providers = rows
        .iter()
        .map(|row| provider_summary(row, now))
        .collect::<Result<_, _>>()?;
    Ok(Json(ProviderPage {
        providers,
        next_cursor,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ReputationComponents {
    /// The block time (hour) the score is computed against.
    pub as_of: i64,
    pub score: f64,
    /// Decayed completed and failed jobs (thousandths).
    pub completed_milli: i64,
    pub failed_milli: i64,
    /// Wilson lower bound of the completion rate, basis points; absent before the first settled job.
    pub completion_bps: Option<i64>,
    pub verified_pass_milli: i64,
    pub verified_fail_milli: i64,
    /// (pass + 1) / (pass + fail + 2), basis points.
    pub verification_bps: i64,
    /// Heartbeat-covered share of the complete hours of the last 7 and 30 days since registration.
    pub uptime_7d_bps: Option<i64>,
    pub uptime_30d_bps: Option<i64>,
    pub tenure_days: i64,
    pub no_shows: i64,
    pub abandons: i64,
    pub frauds: i64,
    pub slashes: i64,
    /// The factor frauds and slashes apply, basis points.
    pub penalty_bps: i64,
}

#[derive(Serialize, ToSchema)]
pub struct EarningsDay {
    /// Start of the UTC day, unix seconds.
    pub day: i64,
    pub completed: i64,
    pub failed: i64,
    /// Payment-mint base units earned (provider share) and fees taken from those jobs.
    pub earned: i64,
    pub fees: i64,
    /// Stake-mint base units slashed.
    pub slashed: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ProviderDetail {
    #[serde(flatten)]
    pub summary: ProviderSummary,
    pub unbonding: i64,
    pub total_earned: i64,
    pub total_claimed: i64,
    pub total_slashed: i64,
    pub reputation: Option<ReputationComponents>,
    /// The last 24 hours, hourly.
    pub utilization: Vec<UtilizationPoint>,
    /// The 10 newest jobs.
    pub recent_jobs: Vec<JobSummary>,
    /// The last 30 days with activity.
    pub earnings: Vec<EarningsDay>,
}

async fn provider_row(state: &ApiState, pubkey: &str) -> Result<AnyRow, ApiError> {
    let key = parse_pubkey(pubkey, "provider")?;
    let mut select = Select::new(PROVIDER_COLUMNS);
    select.and("provider = ?", [Arg::Text(key.to_string())]);
    select
        .fetch_all(&state.store)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found(format!("no provider {key} is indexed")))
}

#[utoipa::path(get, path = "/v1/providers/{pubkey}",
    params(("pubkey" = String, Path, description = "The provider account")),
    responses((status = 200, body = ProviderDetail), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get_provider(
    State(state): State<ApiState>,
    Path(pubkey): Path<String>,
) -> Result<Json<ProviderDetail>, ApiError> {
    let row = provider_row(&state, &pubkey).await?;
    let now = now(&state.store).await?;
    let summary = provider_summary(&row, now)?;
    let reputation = sqlx::query(
        "SELECT as_of, score, completed_milli, failed_milli, completion_bps, verified_pass_milli, \
             verified_fail_milli, verification_bps, uptime_7d_bps, uptime_30d_bps, tenure_days, \
             no_shows, abandons, frauds, slashes, penalty_bps FROM reputation WHERE provider = $1",
    )
    .bind(&summary.pubkey)
    .fetch_optional(state.store.pool())
    .await?
    .map(|r| -> Result<_, ApiError> {
        Ok(ReputationComponents {
            as_of: col!(r, "as_of"),
            score: score_of(col!(r, "score")),
            completed_milli: col!(r, "completed_milli"),
            failed_milli: col!(r, "failed_milli"),
            completion_bps: col!(r, "completion_bps"),
            verified_pass_milli: col!(r, "verified_pass_milli"),
            verified_fail_milli: col!(r, "verified_fail_milli"),
            verification_bps: col!(r, "verification_bps"),
            uptime_7d_bps: col!(r, "uptime_7d_bps"),
            uptime_30d_bps: col!(r, "uptime_30d_bps"),
            tenure_days: col!(r, "tenure_days"),
            no_shows: col!(r, "no_shows"),
            abandons: col!(r, "abandons"),
            frauds: col!(r, "frauds"),
            slashes: col!(r, "slashes"),
            penalty_bps: col!(r, "penalty_bps"),
        })
    })
    .transpose()?;
    let to = now - now.rem_euclid(HOUR) + HOUR;
    let utilization = utilization_series(&state.store, &summary.pubkey, to - DAY, to, HOUR).await?;
    let mut jobs = Select::new(JOB_COLUMNS);
    jobs.and("provider = ?", [Arg::Text(summary.pubkey.clone())])
        .tail("ORDER BY seq DESC LIMIT 10", []);
    let recent_jobs = jobs
        .fetch_all(&state.store)
        .await?
        .iter()
        .map(job_summary)
        .collect::<Result<_, _>>()?;
    let earnings = sqlx::query(
        "SELECT day, completed, failed, earned, fees, slashed FROM provider_days \
         WHERE provider = $1 AND day >= $2 ORDER BY day DESC",
    )
    .bind(&summary.pubkey)
    .bind(now.div_euclid(DAY) - 30)
    .fetch_all(state.store.pool())
    .await?
    .iter()
    .map(|r| -> Result<_, ApiError> {
        let day: i64 = col!(r, "day");
        Ok(EarningsDay {
            day: day * DAY,
            completed: col!(r, "completed"),
            failed: col!(r, "failed"),
            earned: col!(r, "earned"),
            fees: col!(r, "fees"),
            slashed: col!(r, "slashed"),
        })
    })
    .collect::<Result<_, _>>()?;
    Ok(Json(ProviderDetail {
        unbonding: col!(row, "unbonding"),
        total_earned: col!(row, "total_earned"),
        total_claimed: col!(row, "total_claimed"),
        total_slashed: col!(row, "total_slashed"),
        summary,
        reputation,
        utilization,
        recent_jobs,
        earnings,
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UtilizationQuery {
    /// Start, unix seconds (default: one day, or 30 days for daily buckets, before `to`).
    pub from: Option<i64>,
    /// End, unix seconds (default: the end of the newest indexed block time's hour).
    pub to: Option<i64>,
    /// `hour` (default; at most 31 days) or `day` (at most 366 days).
    pub bucket: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UtilizationPoint {
    /// Bucket start, unix seconds.
    pub start: i64,
    /// GPU-seconds reserved by running jobs.
    pub busy_gpu_secs: i64,
    /// GPU-seconds covered by heartbeats.
    pub online_gpu_secs: i64,
    pub online_secs: i64,
    /// busy / online, basis points (absent when never online).
    pub utilization_bps: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct UtilizationSeries {
    pub provider: String,
    pub from: i64,
    pub to: i64,
    pub bucket: String,
    /// Buckets with activity, oldest first.
    pub points: Vec<UtilizationPoint>,
}

async fn utilization_series(
    store: &Store,
    provider: &str,
    from: i64,
    to: i64,
    bucket: i64,
) -> Result<Vec<UtilizationPoint>, ApiError> {
    let rows = sqlx::query(
        "SELECT (hour / $4) * $4 AS start, CAST(SUM(busy_gpu_secs) AS BIGINT) AS busy, \
             CAST(SUM(online_gpu_secs) AS BIGINT) AS online_gpu, \
             CAST(SUM(online_secs) AS BIGINT) AS online \
         FROM utilization WHERE provider = $1 AND hour >= $2 AND hour < $3 \
         GROUP BY (hour / $4) * $4 ORDER BY start",
    )
    .bind(provider)
    .bind(from)
    .bind(to)
    .bind(bucket)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let busy: i64 = col!(r, "busy");
            let online_gpu: i64 = col!(r, "online_gpu");
            Ok(UtilizationPoint {
                start: col!(r, "start"),
                busy_gpu_secs: busy,
                online_gpu_secs: online_gpu,
                online_secs: col!(r, "online"),
                utilization_bps: (online_gpu > 0).then(|| busy * 10_000 / online_gpu),
            })
        })
        .collect()
}

#[utoipa::path(get, path = "/v1/providers/{pubkey}/utilization",
    params(("pubkey" = String, Path, description = "The provider account"), UtilizationQuery),
    responses((status = 200, body = UtilizationSeries), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn provider_utilization(
    State(state): State<ApiState>,
    Path(pubkey): Path<String>,
    Q(q): Q<UtilizationQuery>,
) -> Result<Json<UtilizationSeries>, ApiError> {
    let row = provider_row(&state, &pubkey).await?;
    let provider: String = col!(row, "provider");
    let (bucket, name, max_span, default_span) = match q.bucket.as_deref().unwrap_or("hour") {
        "hour" => (HOUR, "hour", 31 * DAY, DAY),
        "day" => (DAY, "day", 366 * DAY, 30 * DAY),
        other => {
            return Err(ApiError::bad_request(format!(
                "unknown bucket {other:?}; one of: hour, day"
            )));
        }
    };
    let now = now(&state.store).await?;
    let to = time(q.to, "to")?.unwrap_or(now - now.rem_euclid(HOUR) + HOUR);
    let from = time(q.from, "from")?.unwrap_or((to - default_span).max(0));
    if from >= to {
        return Err(ApiError::bad_request(format!(
            "from ({from}) must be before to ({to})"
        )));
    }
    if to - from > max_span {
        return Err(ApiError::bad_request(format!(
            "from..to spans {} s; {name} buckets allow at most {max_span} s",
            to - from
        )));
    }
    let points = utilization_series(&state.store, &provider, from, to, bucket).await?;
    Ok(Json(UtilizationSeries {
        provider,
        from,
        to,
        bucket: name.into(),
        points,
    }))
}

// ---------------------------------------------------------------------------------------------
// Jobs

const JOB_COLUMNS: &str = "SELECT seq, job, market, client, nonce, named_provider, provider, \
     workload, gpu_count, min_vram_gb, max_price_per_gpu_hour, max_duration_secs, deposit, state, \
     outcome, price_per_gpu_hour, created_at, started_at, deadline, submitted_at, \
     challenge_ends_at, ended_at, metered_secs, billed_secs, provider_share, fee, refund, closed \
     FROM jobs WHERE 1 = 1";

#[derive(Serialize, ToSchema)]
pub struct JobSummary {
    pub pubkey: String,
    /// Chain position of the job's creation (an address is reused when a nonce is).
    pub seq: i64,
    pub market: String,
    pub client: String,
    /// The client's u64 nonce, in decimal.
    pub nonce: String,
    pub named_provider: Option<String>,
    pub provider: Option<String>,
    pub workload: String,
    pub gpu_count: i64,
    pub min_vram_gb: i64,
    pub max_price_per_gpu_hour: i64,
    pub max_duration_secs: i64,
    /// Payment-mint base units escrowed.
    pub deposit: i64,
    pub state: String,
    /// Why it completed or failed.
    pub outcome: Option<String>,
    pub price_per_gpu_hour: Option<i64>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub deadline: Option<i64>,
    pub submitted_at: Option<i64>,
    pub challenge_ends_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub metered_secs: Option<i64>,
    pub billed_secs: Option<i64>,
    pub provider_share: Option<i64>,
    pub fee: Option<i64>,
    pub refund: Option<i64>,
    /// The job account is closed (its rent returned).
    pub closed: bool,
}

fn job_summary(row: &AnyRow) -> Result<JobSummary, ApiError> {
    let closed: i64 = col!(row, "closed");
    Ok(JobSummary {
        pubkey: col!(row, "job"),
        seq: col!(row, "seq"),
        market: col!(row, "market"),
        client: col!(row, "client"),
        nonce: col!(row, "nonce"),
        named_provider: col!(row, "named_provider"),
        provider: col!(row, "provider"),
        workload: col!(row, "workload"),
        gpu_count: col!(row, "gpu_count"),
        min_vram_gb: col!(row, "min_vram_gb"),
        max_price_per_gpu_hour: col!(row, "max_price_per_gpu_hour"),
        max_duration_secs: col!(row, "max_duration_secs"),
        deposit: col!(row, "deposit"),
        state: col!(row, "state"),
        outcome: col!(row, "outcome"),
        price_per_gpu_hour: col!(row, "price_per_gpu_hour"),
        created_at: col!(row, "created_at"),
        started_at: col!(row, "started_at"),
        deadline: col!(row, "deadline"),
        submitted_at: col!(row, "submitted_at"),
        challenge_ends_at: col!(row, "challenge_ends_at"),
        ended_at: col!(row, "ended_at"),
        metered_secs: col!(row, "metered_secs"),
        billed_secs: col!(row, "billed_secs"),
        provider_share: col!(row, "provider_share"),
        fee: col!(row, "fee"),
        refund: col!(row, "refund"),
        closed: closed != 0,
    })
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// `open`, `running`, `submitted`, `disputed`, `completed`, `failed` or `cancelled`.
    pub state: Option<String>,
    pub client: Option<String>,
    pub provider: Option<String>,
    /// Created at or after, unix seconds.
    pub from: Option<i64>,
    /// Created before, unix seconds.
    pub to: Option<i64>,
    /// 1 to 500 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct JobPage {
    /// Newest first.
    pub jobs: Vec<JobSummary>,
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/jobs", params(JobsQuery),
    responses((status = 200, body = JobPage), (status = 400, body = ErrorBody)))]
pub async fn list_jobs(
    State(state): State<ApiState>,
    Q(q): Q<JobsQuery>,
) -> Result<Json<JobPage>, ApiError> {
    let limit = limit(q.limit)?;
    let mut select = Select::new(JOB_COLUMNS);
    if let Some(s) = &q.state {
        let s = canonical(s, JOB_STATES, "state")?;
        select.and("state = ?", [Arg::Text(s.into())]);
    }
    if let Some(client) = &q.client {
        let client = parse_pubkey(client, "client")?;
        select.and("client = ?", [Arg::Text(client.to_string())]);
    }
    if let Some(provider) = &q.provider {
        let provider = parse_pubkey(provider, "provider")?;
        select.and("provider = ?", [Arg::Text(provider.to_string())]);
    }
    let (from, to) = (time(q.from, "from")?, time(q.to, "to")?);
    if let (Some(from), Some(to)) = (from, to)
        && from >= to
    {
        return Err(ApiError::bad_request(format!(
            "from ({from}) must be before to ({to})"
        )));
    }
    if let Some(from) = from {
        select.and("created_at >= ?", [Arg::Int(from)]);
    }
    if let Some(to) = to {
        select.and("created_at < ?", [Arg::Int(to)]);
    }
    if let Some(cursor) = &q.cursor {
        let seq = cursor.parse::<i64>().map_err(|_| {
            ApiError::bad_request(format!("cursor {cursor:?} is not one this API gave"))
        })?;
        select.and("seq < ?", [Arg::Int(seq)]);
    }
    select.tail("ORDER BY seq DESC LIMIT ?", [Arg::Int(limit + 1)]);
    let rows = select.fetch_all(&state.store).await?;
    let more = rows.len() as i64 > limit;
    let jobs: Vec<JobSummary> = rows
        .iter()
        .take(limit as usize)
        .map(job_summary)
        .collect::<Result<_, _>>()?;
    let next_cursor = jobs.last().filter(|_| more).map(|job| job.seq.to_string());
    Ok(Json(JobPage { jobs, next_cursor }))
}

#[derive(Serialize, ToSchema)]
pub struct JobEvent {
    pub kind: String,
    pub signature: String,
    pub slot: i64,
    pub block_time: Option<i64>,
    /// Chain position: slot, transaction within the slot, event within the transaction.
    pub seq: i64,
    /// The event as emitted (discriminator and Borsh fields), base64; decode with the IDL.
    pub data: String,
}

#[derive(Serialize, ToSchema)]
pub struct JobDetail {
    #[serde(flatten)]
    pub job: JobSummary,
    /// Every event of this job, in chain order, with its transaction.
    pub events: Vec<JobEvent>,
}

#[utoipa::path(get, path = "/v1/jobs/{pubkey}",
    params(("pubkey" = String, Path, description = "The job account")),
    responses((status = 200, body = JobDetail), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get_job(
    State(state): State<ApiState>,
    Path(pubkey): Path<String>,
) -> Result<Json<JobDetail>, ApiError> {
    let key = parse_pubkey(&pubkey, "job")?;
    let mut select = Select::new(JOB_COLUMNS);
    select
        .and("job = ?", [Arg::Text(key.to_string())])
        .tail("ORDER BY seq DESC LIMIT 1", []);
    let row = select
        .fetch_all(&state.store)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found(format!("no job {key} is indexed")))?;
    let job = job_summary(&row)?;
    // This incarnation's events: from its creation up to the address's next creation, if any.
    let events = sqlx::query(
        "SELECT kind, signature, slot, block_time, seq, data FROM events \
         WHERE job = $1 AND seq >= $2 ORDER BY seq",
    )
    .bind(&job.pubkey)
    .bind(job.seq)
    .fetch_all(state.store.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(JobEvent {
            kind: col!(r, "kind"),
            signature: col!(r, "signature"),
            slot: col!(r, "slot"),
            block_time: col!(r, "block_time"),
            seq: col!(r, "seq"),
            data: col!(r, "data"),
        })
    })
    .collect::<Result<_, ApiError>>()?;
    Ok(Json(JobDetail { job, events }))
}

// ---------------------------------------------------------------------------------------------
// Network

#[derive(Serialize, ToSchema)]
pub struct ModelFigures {
    pub gpu_model: String,
    pub providers: i64,
    pub gpus: i64,
    pub gpus_online: i64,
    pub gpus_busy: i64,
    /// The last 24 hours: GPU-seconds busy and online, and busy / online in basis points.
    pub busy_gpu_secs_24h: i64,
    pub online_gpu_secs_24h: i64,
    pub utilization_bps_24h: Option<i64>,
    /// Mean advertised price per GPU-hour of active providers (base units, rounded down).
    pub advertised_price: Option<i64>,
    /// GPU-weighted mean locked price of jobs started in the last 7 days (base units, rounded down).
    pub price_index_7d: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct JobStateCount {
    pub state: String,
    pub jobs: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Network {
    /// The newest indexed slot and block time: the figures are as of then.
    pub slot: Option<i64>,
    pub block_time: Option<i64>,
    pub markets: i64,
    pub providers: i64,
    pub providers_online: i64,
    pub gpus_online: i64,
    pub gpus_busy: i64,
    pub jobs: Vec<JobStateCount>,
    /// Payment-mint base units: job cost settled (provider share + fee, as the market account
    /// counts it), fees, and refunds to clients.
    pub volume: i64,
    pub fees: i64,
    pub refunds: i64,
    /// Stake-mint base units slashed.
    pub slashed: i64,
    pub by_gpu_model: Vec<ModelFigures>,
}

async fn scalar(store: &Store, sql: &'static str, args: &[i64]) -> Result<i64, ApiError> {
    let mut query = sqlx::query(sql);
    for arg in args {
        query = query.bind(*arg);
    }
    let row = query.fetch_one(store.pool()).await?;
    let value: Option<i64> = col!(row, "n");
    Ok(value.unwrap_or(0))
}

#[utoipa::path(get, path = "/v1/network", responses((status = 200, body = Network)))]
pub async fn network(State(state): State<ApiState>) -> Result<Json<Network>, ApiError> {
    let store = &state.store;
    let now = now(store).await?;
    let slot = store.checkpoint().await?.map(|c| c.slot as i64);
    let block_time = store.block_time().await?;
    let providers_online = scalar(
        store,
        concat!("SELECT COUNT(*) AS n FROM providers WHERE ", online!("$1")),
        &[now],
    )
    .await?;
    let gpus_online = scalar(
        store,
        concat!(
            "SELECT CAST(SUM(gpu_count) AS BIGINT) AS n FROM providers WHERE ",
            online!("$1")
        ),
        &[now],
    )
    .await?;
    let gpus_busy = scalar(
        store,
        "SELECT CAST(SUM(gpus_in_use) AS BIGINT) AS n FROM providers WHERE status <> 'closed'",
        &[],
    )
    .await?;
    // Sorted here, not in SQL: text order differs between databases.
    let mut jobs: Vec<JobStateCount> =
        sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
            .fetch_all(store.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(JobStateCount {
                    state: col!(r, "state"),
                    jobs: col!(r, "n"),
                })
            })
            .collect::<Result<_, ApiError>>()?;
    jobs.sort_by(|a, b| a.state.cmp(&b.state));
    let totals = sqlx::query(
        "SELECT CAST(SUM(provider_share + fee) AS BIGINT) AS volume, CAST(SUM(fee) AS BIGINT) AS fees, \
             CAST(SUM(refund) AS BIGINT) AS refunds FROM jobs",
    )
    .fetch_one(store.pool())
    .await?;
    let (volume, fees, refunds): (Option<i64>, Option<i64>, Option<i64>) = (
        col!(totals, "volume"),
        col!(totals, "fees"),
        col!(totals, "refunds"),
    );
    let model_rows = sqlx::query(concat!(
        "SELECT gpu_model, COUNT(*) AS providers, CAST(SUM(gpu_count) AS BIGINT) AS gpus, \
             CAST(SUM(CASE WHEN ",
        online!("$1"),
        " THEN gpu_count ELSE 0 END) AS BIGINT) AS gpus_online, \
             CAST(SUM(CASE WHEN status <> 'closed' THEN gpus_in_use ELSE 0 END) AS BIGINT) AS gpus_busy, \
             CAST(SUM(CASE WHEN status = 'active' THEN price_per_gpu_hour ELSE 0 END) AS BIGINT) AS price_sum, \
             CAST(SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END) AS BIGINT) AS active \
         FROM providers GROUP BY gpu_model"
    ))
    .bind(now)
    .fetch_all(store.pool())
    .await?;
    let hour_now = now - now.rem_euclid(HOUR);
    let usage_rows = sqlx::query(
        "SELECT p.gpu_model AS gpu_model, CAST(SUM(u.busy_gpu_secs) AS BIGINT) AS busy, \
             CAST(SUM(u.online_gpu_secs) AS BIGINT) AS online \
         FROM utilization u JOIN providers p ON p.provider = u.provider \
         WHERE u.hour >= $1 AND u.hour < $2 GROUP BY p.gpu_model",
    )
    .bind(hour_now + HOUR - DAY)
    .bind(hour_now + HOUR)
    .fetch_all(store.pool())
    .await?;
    let price_rows = sqlx::query(
        "SELECT p.gpu_model AS gpu_model, \
             CAST(SUM(j.price_per_gpu_hour * j.gpu_count) AS BIGINT) AS weighted, \
             CAST(SUM(j.gpu_count) AS BIGINT) AS gpus \
         FROM jobs j JOIN providers p ON p.provider = j.provider \
         WHERE j.started_at >= $1 GROUP BY p.gpu_model",
    )
    .bind(now - 7 * DAY)
    .fetch_all(store.pool())
    .await?;
    let mut by_gpu_model = vec![];
    for r in &model_rows {
        let model: String = col!(r, "gpu_model");
        let active: i64 = col!(r, "active");
        let price_sum: i64 = col!(r, "price_sum");
        let (mut busy, mut online) = (0, 0);
        for u in &usage_rows {
            let m: String = col!(u, "gpu_model");
            if m == model {
                let b: Option<i64> = col!(u, "busy");
                let o: Option<i64> = col!(u, "online");
                (busy, online) = (b.unwrap_or(0), o.unwrap_or(0));
            }
        }
        let mut price_index = None;
        for p in &price_rows {
            let m: String = col!(p, "gpu_model");
            if m == model {
                let weighted: Option<i64> = col!(p, "weighted");
                let gpus: Option<i64> = col!(p, "gpus");
                if let (Some(w), Some(g)) = (weighted, gpus.filter(|g| *g > 0)) {
                    price_index = Some(w / g);
                }
            }
        }
        by_gpu_model.push(ModelFigures {
            providers: col!(r, "providers"),
            gpus: col!(r, "gpus"),
            gpus_online: col!(r, "gpus_online"),
            gpus_busy: col!(r, "gpus_busy"),
            busy_gpu_secs_24h: busy,
            online_gpu_secs_24h: online,
            utilization_bps_24h: (online > 0).then(|| busy * 10_000 / online),
            advertised_price: (active > 0).then(|| price_sum / active),
            price_index_7d: price_index,
            gpu_model: model,
        });
    }
    by_gpu_model.sort_by(|a, b| a.gpu_model.cmp(&b.gpu_model));
    Ok(Json(Network {
        slot,
        block_time,
        markets: scalar(store, "SELECT COUNT(*) AS n FROM markets", &[]).await?,
        providers: scalar(store, "SELECT COUNT(*) AS n FROM providers", &[]).await?,
        providers_online,
        gpus_online,
        gpus_busy,
        jobs,
        volume: volume.unwrap_or(0),
        fees: fees.unwrap_or(0),
        refunds: refunds.unwrap_or(0),
        slashed: scalar(
            store,
            "SELECT CAST(SUM(slashed) AS BIGINT) AS n FROM provider_days",
            &[],
        )
        .await?,
        by_gpu_model,
    }))
}

// ---------------------------------------------------------------------------------------------
// Operations

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, `lagging` (more than 150 slots behind) or `unreachable` (the node did not answer).
    pub status: String,
    pub checkpoint_slot: Option<u64>,
    pub chain_slot: Option<u64>,
    pub lag_slots: Option<u64>,
    pub block_time: Option<i64>,
}

#[utoipa::path(get, path = "/healthz",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn healthz(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let checkpoint_slot = state.store.checkpoint().await?.map(|c| c.slot);
    let block_time = state.store.block_time().await?;
    let chain_slot = match &state.rpc {
        Some(rpc) => match tokio::time::timeout(Duration::from_secs(3), rpc.get_slot()).await {
            Ok(Ok(slot)) => Some(slot),
            _ => {
                let health = Health {
                    status: "unreachable".into(),
                    checkpoint_slot,
                    chain_slot: None,
                    lag_slots: None,
                    block_time,
                };
                return Ok((StatusCode::SERVICE_UNAVAILABLE, Json(health)).into_response());
            }
        },
        None => None,
    };
    if let Some(slot) = chain_slot {
        METRICS.chain_slot.set(slot);
    }
    let lag_slots = chain_slot.map(|c| c.saturating_sub(checkpoint_slot.unwrap_or(0)));
    let lagging = lag_slots.is_some_and(|lag| lag > HEALTHY_LAG_SLOTS);
    let health = Health {
        status: if lagging { "lagging" } else { "ok" }.into(),
        checkpoint_slot,
        chain_slot,
        lag_slots,
        block_time,
    };
    let status = if lagging {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    Ok((status, Json(health)).into_response())
}

#[utoipa::path(get, path = "/metrics",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
pub async fn metrics_text(State(state): State<ApiState>) -> Response {
    if let Ok(Some(checkpoint)) = state.store.checkpoint().await {
        METRICS.checkpoint_slot.set(checkpoint.slot);
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics::render(),
    )
        .into_response()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "gpu-market indexer API",
        description = "Providers, jobs, utilization and reputation, as indexed from the chain."
    ),
    paths(
        list_providers,
        get_provider,
        provider_utilization,
        list_jobs,
        get_job,
        network,
        healthz,
        metrics_text
    )
)]
pub struct ApiDoc;

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

async fn fallback() -> ApiError {
    ApiError::not_found("no such endpoint; see /openapi.json")
}

/// Counts and times every request by route and status.
async fn observe(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let labels = RouteLabels {
        route,
        status: response.status().as_u16(),
    };
    METRICS.requests.get_or_create(&labels).inc();
    METRICS
        .request_seconds
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/providers", get(list_providers))
        .route("/v1/providers/{pubkey}", get(get_provider))
        .route(
            "/v1/providers/{pubkey}/utilization",
            get(provider_utilization),
        )
        .route("/v1/jobs", get(list_jobs))
        .route("/v1/jobs/{pubkey}", get(get_job))
        .route("/v1/network", get(network))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .route("/openapi.json", get(openapi))
        .fallback(fallback)
        .layer(middleware::from_fn(observe))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(CorsLayer::permissive())
        .with_state(state)
}

/// Serves the API on `listener` until the future is dropped.
pub async fn serve(listener: tokio::net::TcpListener, state: ApiState) -> anyhow::Result<()> {
    axum::serve(listener, router(state)).await?;
    Ok(())
}
