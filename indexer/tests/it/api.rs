//! End to end: jobs run on localnet; `gpu-market-indexer` indexes them as a user starts it, once into
//! SQLite and once into PostgreSQL. The API's figures are checked against the on-chain accounts,
//! and the two databases' answers are compared byte for byte.

use crate::common::{
    IndexerProcess, fresh_databases, get_json, get_text, last_program_slot, story,
};
use gpu_market::state::{Job, JobState, Market, Provider};
use gpu_market_tests::{Chain, RpcChain};
use serde_json::Value;

fn provider_in<'a>(page: &'a Value, key: &str) -> &'a Value {
    page["providers"]
        .as_array()
        .expect("providers")
        .iter()
        .find(|p| p["pubkey"] == key)
        .unwrap_or_else(|| panic!("{key} listed"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_agrees_with_the_chain_and_across_databases() {
    let mut chain = RpcChain::start_localnet().await;
    let s = story(&mut chain).await;
    let last_slot = last_program_slot(&chain).await;

    let mut indexers = vec![];
    for (kind, url) in fresh_databases("api").await {
        indexers.push((kind, IndexerProcess::start(&chain, &url, &[])));
    }
    for (kind, indexer) in &indexers {
        indexer
            .wait_for_slot(last_slot)
            .await
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
    }
    let (_, sqlite) = &indexers[0];
    let (_, postgres) = &indexers[1];

    // Byte for byte the same answers from SQLite and PostgreSQL.
    let reliable = s.reliable.provider.to_string();
    let silent = s.silent.provider.to_string();
    let paths = [
        "/v1/providers".to_string(),
        "/v1/providers?sort=price&limit=1".into(),
        "/v1/providers?status=jailed".into(),
        format!("/v1/providers/{reliable}"),
        format!("/v1/providers/{silent}"),
        format!("/v1/providers/{reliable}/utilization?bucket=hour"),
        format!("/v1/providers/{reliable}/utilization?bucket=day"),
        "/v1/jobs".into(),
        "/v1/jobs?state=completed".into(),
        format!("/v1/jobs/{}", s.paid_job.job),
        format!("/v1/jobs/{}", s.expired_job.job),
        "/v1/network".into(),
    ];
    for path in &paths {
        let (a_status, a) = get_text(&sqlite.api_url, path).await;
        let (b_status, b) = get_text(&postgres.api_url, path).await;
        assert_eq!(a_status, 200, "{path}: {a}");
        assert_eq!(
            (a_status, &a),
            (b_status, &b),
            "{path}: SQLite and PostgreSQL differ"
        );
    }

    let api = &sqlite.api_url;
    // Providers: the figures of their accounts.
    for (key, fixture) in [(&reliable, &s.reliable), (&silent, &s.silent)] {
        let account: Provider = chain.anchor_account(&fixture.provider).await;
        let page = get_json(api, &format!("/v1/providers/{key}")).await;
        assert_eq!(page["staked"], account.staked, "{key}");
        assert_eq!(page["unbonding"], account.unbonding, "{key}");
        assert_eq!(
            page["jobs_completed"], account.counters.jobs_completed,
            "{key}"
        );
        assert_eq!(page["jobs_failed"], account.counters.jobs_failed, "{key}");
        assert_eq!(page["total_earned"], account.counters.total_earned, "{key}");
        assert_eq!(
            page["total_claimed"], account.counters.total_claimed,
            "{key}"
        );
        assert_eq!(
            page["total_slashed"], account.counters.total_slashed,
            "{key}"
        );
        assert_eq!(page["gpus_in_use"], account.gpus_in_use, "{key}");
        assert_eq!(
            page["last_heartbeat_at"], account.last_heartbeat_at,
            "{key}"
        );
        assert_eq!(
            page["price_per_gpu_hour"], account.price_per_gpu_hour,
            "{key}"
        );
    }
    let reliable_page = get_json(api, &format!("/v1/providers/{reliable}")).await;
    let silent_page = get_json(api, &format!("/v1/providers/{silent}")).await;
    assert_eq!(reliable_page["jobs_completed"], 2);
    assert_eq!(silent_page["jobs_failed"], 1);
    assert_eq!(silent_page["reputation"]["no_shows"], 1);
    assert_eq!(silent_page["reputation"]["slashes"], 1);
    assert_eq!(silent_page["reputation"]["completion_bps"], 0);
    assert_eq!(reliable_page["reputation"]["failed_milli"], 0);
    assert!(
        reliable_page["score"].as_f64() > silent_page["score"].as_f64(),
        "the reliable provider ranks above the silent one"
    );
    let ranked = get_json(api, "/v1/providers").await;
    assert_eq!(ranked["providers"][0]["pubkey"], reliable.as_str());
    // Busy time: the two jobs the reliable provider ran (600 s and 1,200 s, 2 GPUs each).
    let busy: i64 = reliable_page["utilization"]
        .as_array()
        .expect("series")
        .iter()
        .map(|p| p["busy_gpu_secs"].as_i64().expect("busy"))
        .sum::<i64>()
        + get_json(
            api,
            &format!("/v1/providers/{reliable}/utilization?bucket=day"),
        )
        .await["points"]
            .as_array()
            .expect("series")
            .iter()
            .map(|p| p["busy_gpu_secs"].as_i64().expect("busy"))
            .sum::<i64>();
    assert!(busy >= 2 * 1_800, "busy GPU-seconds {busy}");

    // Jobs: the state and settlement of each job account.
    for (keys, state) in [
        (&s.paid_job, JobState::Completed),
        (&s.window_job, JobState::Completed),
        (&s.expired_job, JobState::Failed),
        (&s.cancelled_job, JobState::Cancelled),
    ] {
        let account: Job = chain.anchor_account(&keys.job).await;
        assert_eq!(account.state, state);
        let page = get_json(api, &format!("/v1/jobs/{}", keys.job)).await;
        assert_eq!(page["state"], format!("{state:?}").to_lowercase());
        assert_eq!(page["deposit"], account.deposit);
        if state == JobState::Completed {
            let settlement = account.settlement;
            assert_eq!(page["provider_share"], settlement.provider_share);
            assert_eq!(page["fee"], settlement.fee);
            assert_eq!(page["refund"], settlement.refund);
        }
        let kinds: Vec<&str> = page["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["kind"].as_str().expect("kind"))
            .collect();
        assert_eq!(kinds[0], "JobCreated", "{kinds:?}");
        assert!(
            page["events"][0]["signature"]
                .as_str()
                .is_some_and(|s| s.len() > 80)
        );
    }
    let expired = get_json(api, &format!("/v1/jobs/{}", s.expired_job.job)).await;
    assert_eq!(expired["outcome"], "expired");
    let kinds: Vec<&str> = expired["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(
        kinds,
        ["JobCreated", "JobStarted", "JobFailed", "ProviderSlashed"]
    );

    // Network: the market account's totals.
    let market: Market = chain.anchor_account(&s.market.market).await;
    let network = get_json(api, "/v1/network").await;
    assert_eq!(network["volume"], market.counters.total_volume);
    assert_eq!(network["fees"], market.counters.total_fees);
    assert_eq!(network["slashed"], market.counters.total_slashed);
    assert_eq!(network["providers"], 2);
    assert_eq!(network["markets"], 1);

    // Pages through a cursor: the same providers as one page, in the same order.
    let mut paged = vec![];
    let mut path = "/v1/providers?limit=1".to_string();
    loop {
        let page = get_json(api, &path).await;
        paged.extend(page["providers"].as_array().expect("providers").clone());
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/providers?limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(&paged, ranked["providers"].as_array().expect("providers"));
    assert_eq!(provider_in(&ranked, &silent)["status"], "active");

    // Bad input: 400 with a message, and unknown things 404.
    for (path, status, needle) in [
        ("/v1/providers?sort=cheapest", 400, "unknown sort"),
        ("/v1/providers?limit=501", 400, "out of range"),
        ("/v1/providers?gpu_model=Rtx9999", 400, "unknown gpu_model"),
        ("/v1/providers?colour=red", 400, "unknown field"),
        ("/v1/providers?min_score=120", 400, "min_score"),
        ("/v1/providers?cursor=abc", 400, "cursor"),
        (
            "/v1/providers?sort=price&cursor=score.1.2",
            400,
            "belongs to sort=score",
        ),
        (
            "/v1/jobs?from=-9223372036854775808&to=1",
            400,
            "out of range",
        ),
        ("/v1/providers/not-a-key", 400, "not a base-58 public key"),
        ("/v1/jobs?client=zzz", 400, "not a base-58 public key"),
        ("/v1/jobs?from=10&to=5", 400, "must be before"),
        (
            "/v1/providers/11111111111111111111111111111111/utilization?bucket=week",
            404,
            "no provider",
        ),
        ("/v1/jobs/11111111111111111111111111111111", 404, "no job"),
        ("/v2/anything", 404, "no such endpoint"),
    ] {
        let (got, body) = get_text(api, path).await;
        assert_eq!(got, status, "{path}: {body}");
        let body: Value = serde_json::from_str(&body).expect("a JSON error");
        assert!(
            body["error"].as_str().is_some_and(|e| e.contains(needle)),
            "{path}: {body}"
        );
    }
    let (status, body) = get_text(
        api,
        &format!("/v1/providers/{reliable}/utilization?bucket=week"),
    )
    .await;
    assert_eq!(status, 400, "{body}");

    // Operations: health with lag, Prometheus text, the OpenAPI document.
    let health = get_json(api, "/healthz").await;
    assert_eq!(health["status"], "ok");
    assert!(health["lag_slots"].as_u64().is_some());
    let (_, metrics) = get_text(api, "/metrics").await;
    assert!(
        metrics.contains("gpu_market_indexer_events_total"),
        "{metrics}"
    );
    assert!(
        metrics.contains("gpu_market_indexer_http_requests_total"),
        "{metrics}"
    );
    let openapi = get_json(api, "/openapi.json").await;
    for path in [
        "/v1/providers",
        "/v1/providers/{pubkey}",
        "/v1/jobs/{pubkey}",
        "/v1/network",
    ] {
        assert!(openapi["paths"][path].is_object(), "{path} documented");
    }
}
