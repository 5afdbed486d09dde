//! Prometheus metrics: reviews and rule findings by kind, operation and decision; review
//! latency from 50 µs; live lookups; cache sizes; seconds until the serving certificate expires.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use medusa_crds::rules::{AdmissionOperation, ResourceKind, RuleId};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::cache::{CacheState, Caches};

/// Review latency buckets, in seconds, from 50 µs.
pub const LATENCY_BUCKETS: [f64; 16] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReviewLabels {
    endpoint: &'static str,
    kind: &'static str,
    operation: &'static str,
    decision: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabels {
    kind: &'static str,
    operation: &'static str,
    rule: &'static str,
    decision: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LookupLabels {
    kind: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    cache: &'static str,
}

/// Label values, in a fixed order: counters are looked up by index on the request path, without
/// hashing or locking, and created on first use.
const ENDPOINTS: [&str; 2] = ["validate", "mutate"];
const OPERATIONS: [&str; 5] = ["CREATE", "UPDATE", "DELETE", "CONNECT", "other"];
/// Review decisions.
pub const DECISIONS: [&str; 6] = ["allowed", "denied", "warned", "patched", "ignored", "error"];
/// Rule decisions.
pub const RULE_DECISIONS: [&str; 3] = ["deny", "warn", "patch"];
const KINDS: usize = ResourceKind::ALL.len() + 1;

fn kind_label(kind: Option<ResourceKind>) -> (usize, &'static str) {
    match kind {
        Some(kind) => (
            ResourceKind::ALL
                .iter()
                .position(|k| *k == kind)
                .unwrap_or(KINDS - 1),
            kind.as_str(),
        ),
        None => (KINDS - 1, "other"),
    }
}

fn operation_label(operation: Option<AdmissionOperation>) -> usize {
    match operation {
        Some(AdmissionOperation::Create) => 0,
        Some(AdmissionOperation::Update) => 1,
        Some(AdmissionOperation::Delete) => 2,
        Some(AdmissionOperation::Connect) => 3,
        None => 4,
    }
}

/// The webhook's metrics.
pub struct Metrics {
    registry: Registry,
    reviews: Family<ReviewLabels, Counter>,
    rules: Family<RuleLabels, Counter>,
    review_handles: Box<[OnceLock<Counter>]>,
    rule_handles: Box<[OnceLock<Counter>]>,
    latency_handles: [Histogram; 2],
    lookups: Family<LookupLabels, Counter>,
    cache_objects: Family<CacheLabels, Gauge>,
    cache_ready: Family<CacheLabels, Gauge>,
    certificate_expiry: Gauge,
    not_after: Arc<AtomicI64>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// One review's outcome, for the metrics.
#[derive(Debug)]
pub struct ReviewRecord<'a> {
    /// 0 for `validate`, 1 for `mutate`.
    pub endpoint: usize,
    /// The kind, when one we serve.
    pub kind: Option<ResourceKind>,
    /// The operation, when a known one.
    pub operation: Option<AdmissionOperation>,
    /// An index into [`DECISIONS`].
    pub decision: usize,
    /// Rules that fired, with an index into [`RULE_DECISIONS`].
    pub rules: &'a [(RuleId, usize)],
    /// Time spent.
    pub latency: Duration,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("medusa_webhook");
        let reviews = Family::<ReviewLabels, Counter>::default();
        registry.register("reviews", "Admission reviews answered", reviews.clone());
        let rules = Family::<RuleLabels, Counter>::default();
        registry.register(
            "rule_findings",
            "Rule findings, by rule and decision",
            rules.clone(),
        );
        let latency = Family::<EndpointLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register(
            "review_duration_seconds",
            "Time to answer a review",
            latency.clone(),
        );
        let latency_handles =
            ENDPOINTS.map(|endpoint| latency.get_or_create(&EndpointLabels { endpoint }).clone());
        let lookups = Family::<LookupLabels, Counter>::default();
        registry.register(
            "live_lookups",
            "Live GETs made on cache misses",
            lookups.clone(),
        );
        let cache_objects = Family::<CacheLabels, Gauge>::default();
        registry.register(
            "cache_objects",
            "Objects held per cache",
            cache_objects.clone(),
        );
        let cache_ready = Family::<CacheLabels, Gauge>::default();
        registry.register(
            "cache_ready",
            "1 when a cache is synced, 0 while syncing, -1 when disabled",
            cache_ready.clone(),
        );
        let certificate_expiry = Gauge::default();
        registry.register(
            "certificate_expiry_seconds",
            "Seconds until the serving certificate expires",
            certificate_expiry.clone(),
        );
        Self {
            registry,
            reviews,
            rules,
            review_handles: (0..ENDPOINTS.len() * KINDS * OPERATIONS.len() * DECISIONS.len())
                .map(|_| OnceLock::new())
                .collect(),
            rule_handles: (0..KINDS * OPERATIONS.len() * RuleId::ALL.len() * RULE_DECISIONS.len())
                .map(|_| OnceLock::new())
                .collect(),
            latency_handles,
            lookups,
            cache_objects,
            cache_ready,
            certificate_expiry,
            not_after: Arc::new(AtomicI64::new(0)),
        }
    }

    /// Where the TLS layer records the serving certificate's expiry (Unix seconds).
    pub fn not_after(&self) -> Arc<AtomicI64> {
        self.not_after.clone()
    }

    /// Records one review.
    pub fn record(&self, record: &ReviewRecord<'_>) {
        let endpoint = record.endpoint.min(ENDPOINTS.len() - 1);
        let (kind, kind_name) = kind_label(record.kind);
        let operation = operation_label(record.operation);
        let decision = record.decision.min(DECISIONS.len() - 1);
        let slot =
            ((endpoint * KINDS + kind) * OPERATIONS.len() + operation) * DECISIONS.len() + decision;
        if let Some(handle) = self.review_handles.get(slot) {
            handle
                .get_or_init(|| {
                    self.reviews
                        .get_or_create(&ReviewLabels {
                            endpoint: ENDPOINTS[endpoint],
                            kind: kind_name,
                            operation: OPERATIONS[operation],
                            decision: DECISIONS[decision],
                        })
                        .clone()
                })
                .inc();
        }
        for (rule, rule_decision) in record.rules {
            let rule_index = RuleId::ALL.iter().position(|r| r == rule).unwrap_or(0);
            let rule_decision = (*rule_decision).min(RULE_DECISIONS.len() - 1);
            let slot = ((kind * OPERATIONS.len() + operation) * RuleId::ALL.len() + rule_index)
                * RULE_DECISIONS.len()
                + rule_decision;
            if let Some(handle) = self.rule_handles.get(slot) {
                handle
                    .get_or_init(|| {
                        self.rules
                            .get_or_create(&RuleLabels {
                                kind: kind_name,
                                operation: OPERATIONS[operation],
                                rule: rule.as_str(),
                                decision: RULE_DECISIONS[rule_decision],
                            })
                            .clone()
                    })
                    .inc();
            }
        }
        self.latency_handles[endpoint].observe(record.latency.as_secs_f64());
    }

    /// Records one live lookup.
    pub fn lookup(&self, kind: &'static str, outcome: &'static str) {
        self.lookups
            .get_or_create(&LookupLabels { kind, outcome })
            .inc();
    }

    /// The text exposition, with gauges refreshed from the caches and the certificate.
    pub fn encode(&self, caches: &Caches) -> String {
        for (cache, state, len) in caches.summary() {
            self.cache_objects
                .get_or_create(&CacheLabels { cache })
                .set(i64::try_from(len).unwrap_or(i64::MAX));
            self.cache_ready
                .get_or_create(&CacheLabels { cache })
                .set(match state {
                    CacheState::Ready => 1,
                    CacheState::Syncing => 0,
                    CacheState::Disabled => -1,
                });
        }
        let not_after = self.not_after.load(Ordering::Acquire);
        if not_after != 0 {
            self.certificate_expiry
                .set(not_after - chrono::Utc::now().timestamp());
        }
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reviews_rules_and_latency_are_exposed() {
        let metrics = Metrics::new();
        let (caches, _) = Caches::new();
        metrics.record(&ReviewRecord {
            endpoint: 0,
            kind: Some(ResourceKind::MedusaBackupJob),
            operation: Some(AdmissionOperation::Create),
            decision: 1,
            rules: &[(RuleId::J1, 0)],
            latency: Duration::from_micros(70),
        });
        let text = metrics.encode(&caches);
        assert!(text.contains(r#"medusa_webhook_reviews_total{endpoint="validate",kind="MedusaBackupJob",operation="CREATE",decision="denied"} 1"#), "{text}");
        assert!(text.contains(r#"medusa_webhook_rule_findings_total{kind="MedusaBackupJob",operation="CREATE",rule="J1",decision="deny"} 1"#));
        assert!(text.contains(r#"medusa_webhook_review_duration_seconds_bucket{le="0.00005",endpoint="validate"} 0"#), "{text}");
        assert!(text.contains(
            r#"medusa_webhook_review_duration_seconds_bucket{le="0.0001",endpoint="validate"} 1"#
        ));
        assert!(text.contains(r#"medusa_webhook_cache_objects{cache="Secret"} 0"#));
        assert!(text.contains(r#"medusa_webhook_cache_ready{cache="MedusaBackup"} 0"#));
    }

    #[test]
    fn certificate_expiry_counts_down_from_not_after() {
        let metrics = Metrics::new();
        let (caches, _) = Caches::new();
        metrics
            .not_after()
            .store(chrono::Utc::now().timestamp() + 3600, Ordering::Release);
        let text = metrics.encode(&caches);
        let line = text
            .lines()
            .find(|l| l.starts_with("medusa_webhook_certificate_expiry_seconds "))
            .unwrap();
        let seconds: i64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        assert!((3590..=3600).contains(&seconds), "{line}");
    }
}
