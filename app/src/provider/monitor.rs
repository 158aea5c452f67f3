//! The agent's Prometheus metrics and alert rules. Alerts fire to the log and, if configured, to a
//! webhook (a JSON POST per change); `app/alerts/provider-rules.yml` has the same rules for Prometheus.

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};
use serde::Serialize;
use std::{collections::BTreeMap, sync::Mutex};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GpuLabel {
    pub gpu: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlertLabel {
    pub alert: String,
}

#[derive(Default)]
pub struct Metrics {
    pub jobs_claimed: Counter,
    pub jobs_submitted: Counter,
    pub job_failures: Counter,
    pub jobs_completed: Gauge,
    pub jobs_failed: Gauge,
    pub earned: Gauge,
    pub claimed: Gauge,
    pub payouts: Counter,
    pub chunk_requests: Counter,
    pub heartbeat_age: Gauge,
    pub rpc_errors: Counter,
    pub gpu_temperature: Family<GpuLabel, Gauge>,
    pub alerts_firing: Family<AlertLabel, Gauge>,
    registry: Mutex<Option<Registry>>,
}

impl Metrics {
    pub fn new() -> std::sync::Arc<Self> {
        let metrics = std::sync::Arc::new(Self::default());
        let mut registry = Registry::with_prefix("gpu_market_provider");
        let m = &metrics;
        registry.register(
            "jobs_claimed",
            "Jobs this agent claimed",
            m.jobs_claimed.clone(),
        );
        registry.register(
            "jobs_submitted",
            "Results this agent submitted",
            m.jobs_submitted.clone(),
        );
        registry.register(
            "job_failures",
            "Jobs this agent could not compute or submit",
            m.job_failures.clone(),
        );
        registry.register(
            "jobs_completed",
            "Completed jobs (provider account)",
            m.jobs_completed.clone(),
        );
        registry.register(
            "jobs_failed",
            "Failed jobs (provider account)",
            m.jobs_failed.clone(),
        );
        registry.register(
            "earned_base_units",
            "Payment-mint base units earned (provider account)",
            m.earned.clone(),
        );
        registry.register(
            "claimed_base_units",
            "Payment-mint base units paid out (provider account)",
            m.claimed.clone(),
        );
        registry.register(
            "payouts",
            "claim_payout transactions sent",
            m.payouts.clone(),
        );
        registry.register(
            "chunk_requests",
            "Chunk proofs served",
            m.chunk_requests.clone(),
        );
        registry.register(
            "heartbeat_age_seconds",
            "Seconds since the last on-chain heartbeat (cluster time)",
            m.heartbeat_age.clone(),
        );
        registry.register(
            "rpc_errors",
            "Failed calls to the cluster",
            m.rpc_errors.clone(),
        );
        registry.register(
            "gpu_temperature_celsius",
            "GPU temperature (nvidia-smi)",
            m.gpu_temperature.clone(),
        );
        registry.register(
            "alert_firing",
            "1 while an alert rule fires",
            m.alerts_firing.clone(),
        );
        *metrics.registry.lock().expect("not poisoned") = Some(registry);
        metrics
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Some(registry) = self.registry.lock().expect("not poisoned").as_ref() {
            encode(&mut out, registry).expect("writing to a String");
        }
        out
    }
}

/// Alert thresholds.
#[derive(Clone, Debug, Serialize)]
pub struct AlertRules {
    pub max_gpu_temperature_c: i64,
    pub max_consecutive_job_failures: u32,
    /// A heartbeat older than this (cluster seconds) is late; default twice the market's interval.
    pub heartbeat_late_secs: Option<i64>,
    pub rpc_unreachable_secs: u64,
}

impl Default for AlertRules {
    fn default() -> Self {
        Self {
            max_gpu_temperature_c: 85,
            max_consecutive_job_failures: 3,
            heartbeat_late_secs: None,
            rpc_unreachable_secs: 30,
        }
    }
}

/// What the rules look at, sampled once per tick.
#[derive(Clone, Debug, Default)]
pub struct Observation {
    pub max_gpu_temperature_c: Option<i64>,
    pub consecutive_job_failures: u32,
    pub heartbeat_age_secs: Option<i64>,
    pub heartbeat_interval_secs: i64,
    pub rpc_unreachable_secs: u64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AlertChange {
    pub alert: &'static str,
    pub firing: bool,
    pub value: i64,
    pub threshold: i64,
}

/// Alert rules with their firing state: reports changes only.
pub struct Alerts {
    rules: AlertRules,
    firing: BTreeMap<&'static str, bool>,
}

impl Alerts {
    pub fn new(rules: AlertRules) -> Self {
        Self {
            rules,
            firing: BTreeMap::new(),
        }
    }

    pub fn evaluate(&mut self, seen: &Observation) -> Vec<AlertChange> {
        let rules = &self.rules;
        let late = rules
            .heartbeat_late_secs
            .unwrap_or(2 * seen.heartbeat_interval_secs);
        let checks: [(&'static str, Option<i64>, i64); 4] = [
            (
                "gpu_temperature_high",
                seen.max_gpu_temperature_c,
                rules.max_gpu_temperature_c,
            ),
            (
                "job_failures",
                Some(i64::from(seen.consecutive_job_failures)),
                i64::from(rules.max_consecutive_job_failures) - 1,
            ),
            ("heartbeat_late", seen.heartbeat_age_secs, late),
            (
                "rpc_unreachable",
                Some(seen.rpc_unreachable_secs as i64),
                rules.rpc_unreachable_secs as i64,
            ),
        ];
        let mut changes = vec![];
        for (alert, value, threshold) in checks {
            let now = value.is_some_and(|v| v > threshold);
            let was = self.firing.insert(alert, now).unwrap_or(false);
            if now != was {
                changes.push(AlertChange {
                    alert,
                    firing: now,
                    value: value.unwrap_or(0),
                    threshold,
                });
            }
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_fire_once_when_crossed_and_resolve_once() {
        let mut alerts = Alerts::new(AlertRules::default());
        let mut seen = Observation {
            max_gpu_temperature_c: Some(70),
            heartbeat_age_secs: Some(5),
            heartbeat_interval_secs: 10,
            ..Observation::default()
        };
        assert!(alerts.evaluate(&seen).is_empty());
        seen.max_gpu_temperature_c = Some(90);
        seen.consecutive_job_failures = 3;
        seen.heartbeat_age_secs = Some(21);
        let fired = alerts.evaluate(&seen);
        let names: Vec<_> = fired.iter().map(|c| c.alert).collect();
        assert_eq!(
            names,
            ["gpu_temperature_high", "job_failures", "heartbeat_late"]
        );
        assert!(fired.iter().all(|c| c.firing));
        assert!(alerts.evaluate(&seen).is_empty(), "no repeat while firing");
        seen.max_gpu_temperature_c = Some(60);
        seen.rpc_unreachable_secs = 31;
        let changed = alerts.evaluate(&seen);
        assert_eq!(
            changed
                .iter()
                .map(|c| (c.alert, c.firing))
                .collect::<Vec<_>>(),
            [("gpu_temperature_high", false), ("rpc_unreachable", true)]
        );
    }

    #[test]
    fn metrics_render_in_the_text_format() {
        let metrics = Metrics::new();
        metrics.jobs_claimed.inc();
        metrics
            .gpu_temperature
            .get_or_create(&GpuLabel { gpu: "0".into() })
            .set(64);
        let text = metrics.render();
        assert!(
            text.contains("gpu_market_provider_jobs_claimed_total 1"),
            "{text}"
        );
        assert!(
            text.contains("gpu_market_provider_gpu_temperature_celsius{gpu=\"0\"} 64"),
            "{text}"
        );
    }
}
