//! The provider endpoint: chunk outputs with proofs for verifiers and clients, health and metrics.

use super::{Metrics, Served};
use crate::proofs::{ChunkProof, JobOutput, PAGE_BYTES, encode};
use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use solana_sdk::pubkey::Pubkey;
use std::{collections::HashMap, str::FromStr, sync::Arc};
use tokio::sync::RwLock;

#[derive(Clone)]
pub struct ServerState {
    pub served: Arc<RwLock<HashMap<Pubkey, Arc<Served>>>>,
    pub metrics: Arc<Metrics>,
    pub provider: Pubkey,
}

fn not_found(message: String) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({ "error": message })),
    )
        .into_response()
}

async fn lookup(state: &ServerState, job: &str) -> Result<(Pubkey, Arc<Served>), Response> {
    let key = Pubkey::from_str(job).map_err(|_| {
        (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({ "error": format!("{job:?} is not a job address") })),
        )
            .into_response()
    })?;
    let served = state.served.read().await.get(&key).cloned();
    served
        .map(|s| (key, s))
        .ok_or_else(|| not_found(format!("this provider serves no job {key}")))
}

async fn chunk(
    State(state): State<ServerState>,
    Path((job, index)): Path<(String, u32)>,
) -> Response {
    let (key, served) = match lookup(&state, &job).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let count = served.computed.outputs.len() as u32;
    if index >= count {
        return not_found(format!("job {key} has {count} chunks"));
    }
    state.metrics.chunk_requests.inc();
    Json(ChunkProof {
        job: key.to_string(),
        index,
        chunk_count: count,
        output: encode(&served.computed.outputs[index as usize]),
        proof: served
            .computed
            .tree
            .proof(index)
            .iter()
            .map(hex::encode)
            .collect(),
    })
    .into_response()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    from: Option<u32>,
}

async fn all_chunks(
    State(state): State<ServerState>,
    Path(job): Path<String>,
    Query(query): Query<PageQuery>,
) -> Response {
    let (key, served) = match lookup(&state, &job).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let outputs = &served.computed.outputs;
    let count = outputs.len() as u32;
    let from = query.from.unwrap_or(0);
    if from >= count {
        return not_found(format!("job {key} has {count} chunks"));
    }
    let mut page = vec![];
    let mut bytes = 0;
    let mut next = from;
    while next < count && (page.is_empty() || bytes < PAGE_BYTES) {
        let output = &outputs[next as usize];
        bytes += output.len();
        page.push(encode(output));
        next += 1;
    }
    Json(JobOutput {
        job: key.to_string(),
        chunk_count: count,
        from,
        outputs: page,
        next: (next < count).then_some(next),
    })
    .into_response()
}

async fn health(State(state): State<ServerState>) -> Response {
    let jobs = state.served.read().await.len();
    Json(serde_json::json!({ "provider": state.provider.to_string(), "jobs_served": jobs }))
        .into_response()
}

async fn metrics(State(state): State<ServerState>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

pub fn router(state: ServerState) -> Router {
    Router::new()
        .route("/v1/jobs/{job}/chunks", get(all_chunks))
        .route("/v1/jobs/{job}/chunks/{index}", get(chunk))
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .with_state(state)
}
