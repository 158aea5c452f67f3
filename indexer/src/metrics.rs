//! Prometheus metrics (the official `prometheus-client` crate), served as text on `/metrics`.

use crate::store::BatchReport;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};
use std::sync::{LazyLock, atomic::AtomicU64};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub status: u16,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

pub struct Metrics {
    pub transactions: Counter,
    pub events: Counter,
    pub undecodable: Counter,
    pub batches: Counter,
    pub sync_errors: Counter,
    pub checkpoint_slot: Gauge<u64, AtomicU64>,
    pub chain_slot: Gauge<u64, AtomicU64>,
    pub requests: Family<RouteLabels, Counter>,
    pub request_seconds: HistogramFamily,
    registry: Registry,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms to about 4 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

pub static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("gpu_market_indexer");
    let m = Metrics {
        transactions: Counter::default(),
        events: Counter::default(),
        undecodable: Counter::default(),
        batches: Counter::default(),
        sync_errors: Counter::default(),
        checkpoint_slot: Gauge::default(),
        chain_slot: Gauge::default(),
        requests: Family::default(),
        request_seconds: Family::new_with_constructor(latency_histogram),
        registry: Registry::default(),
    };
    registry.register(
        "transactions",
        "Program transactions indexed (new ones)",
        m.transactions.clone(),
    );
    registry.register("events", "Program events indexed", m.events.clone());
    registry.register(
        "undecodable",
        "Transactions recorded as undecodable",
        m.undecodable.clone(),
    );
    registry.register("batches", "Batches written", m.batches.clone());
    registry.register(
        "sync_errors",
        "Sync passes that failed and were retried",
        m.sync_errors.clone(),
    );
    registry.register(
        "checkpoint_slot",
        "Slot of the newest indexed transaction",
        m.checkpoint_slot.clone(),
    );
    registry.register(
        "chain_slot",
        "The node's slot at the indexed commitment, last seen",
        m.chain_slot.clone(),
    );
    registry.register(
        "http_requests",
        "API requests by route and status",
        m.requests.clone(),
    );
    registry.register(
        "http_request_duration_seconds",
        "API request latency by route and status",
        m.request_seconds.clone(),
    );
    Metrics { registry, ..m }
});

pub fn record_batch(report: &BatchReport) {
    let m = &*METRICS;
    m.batches.inc();
    m.transactions.inc_by(report.new_transactions as u64);
    m.events.inc_by(report.events as u64);
    m.undecodable.inc_by(report.undecodable as u64);
}

/// The Prometheus text exposition of every metric.
pub fn render() -> String {
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &METRICS.registry)
        .expect("writing to a String cannot fail");
    out
}
