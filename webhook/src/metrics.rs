//! Prometheus metrics: reviews and rule findings by kind, operation and decision; review
//! latency from 50 µs; live lookups; cache sizes; seconds until the serving certificate expires.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use medusa_crds::rules::{AdmissionOperation, ResourceKind, RuleId};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
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

fn kind_label(kind: Option<ResourceKind>) -> usize {
    kind.and_then(|kind| ResourceKind::ALL.iter().position(|k| *k == kind))
        .unwrap_or(KINDS - 1)
}

fn kind_name(index: usize) -> &'static str {
    ResourceKind::ALL
        .get(index)
        .map_or("other", |kind| kind.as_str())
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
    reviews: Arc<ReviewCounts>,
    lookups: Family<LookupLabels, Counter>,
    cache_objects: Family<CacheLabels, Gauge>,
    cache_ready: Family<CacheLabels, Gauge>,
    certificate_expiry: Gauge,
    decision_lines_dropped: Counter,
    not_after: Arc<AtomicI64>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

// === The per-review counters, sharded ===
//
// Every review bumps a review counter, its rules' counters and a latency histogram. Shared
// atomics (and the histogram's mutex in prometheus-client) would bounce their cache lines
// between the worker threads on every review; instead each thread adds to a shard of its own,
// and a scrape sums the shards.

/// Shards: a power of two, at least the number of worker threads one expects.
const SHARDS: usize = 8;
const REVIEW_SLOTS: usize = ENDPOINTS.len() * KINDS * OPERATIONS.len() * DECISIONS.len();
const RULE_SLOTS: usize = KINDS * OPERATIONS.len() * RuleId::ALL.len() * RULE_DECISIONS.len();
/// Latency buckets, with `+Inf` last.
const LATENCY_SLOTS: usize = LATENCY_BUCKETS.len() + 1;

/// One thread's counts, on cache lines of its own.
#[repr(align(128))]
struct Shard {
    reviews: Box<[AtomicU64]>,
    rules: Box<[AtomicU64]>,
    /// Per endpoint: bucket counts (not cumulative), then the count, then the sum in ns.
    latency: [[AtomicU64; LATENCY_SLOTS + 2]; 2],
}

impl Shard {
    fn new() -> Self {
        Self {
            reviews: (0..REVIEW_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            rules: (0..RULE_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            latency: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
        }
    }
}

/// The review, rule and latency counts, exposed through a collector.
struct ReviewCounts {
    shards: Box<[Shard]>,
    /// Bucket bounds in nanoseconds.
    bounds_ns: [u64; LATENCY_BUCKETS.len()],
}

impl std::fmt::Debug for ReviewCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReviewCounts").finish_non_exhaustive()
    }
}

/// This thread's shard index, handed out round-robin on first use.
fn shard_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    INDEX.with(|i| *i)
}

impl ReviewCounts {
    fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Shard::new()).collect(),
            bounds_ns: LATENCY_BUCKETS.map(|s| (s * 1e9) as u64),
        }
    }

    fn shard(&self) -> Option<&Shard> {
        self.shards.get(shard_index())
    }

    fn sum(&self, pick: impl Fn(&Shard) -> Option<&AtomicU64>) -> u64 {
        self.shards
            .iter()
            .filter_map(pick)
            .map(|a| a.load(Ordering::Relaxed))
            .fold(0u64, u64::wrapping_add)
    }

    fn observe(&self, shard: &Shard, endpoint: usize, latency: Duration) {
        let ns = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        let bucket = self
            .bounds_ns
            .iter()
            .position(|bound| ns <= *bound)
            .unwrap_or(LATENCY_BUCKETS.len());
        if let Some(slots) = shard.latency.get(endpoint) {
            slots[bucket].fetch_add(1, Ordering::Relaxed);
            slots[LATENCY_SLOTS].fetch_add(1, Ordering::Relaxed);
            slots[LATENCY_SLOTS + 1].fetch_add(ns, Ordering::Relaxed);
        }
    }
}

impl Collector for ReviewCounts {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut family = encoder.encode_descriptor(
            "reviews",
            "Admission reviews answered",
            None,
            MetricType::Counter,
        )?;
        for slot in 0..REVIEW_SLOTS {
            let count = self.sum(|s| s.reviews.get(slot));
            if count == 0 {
                continue;
            }
            let decision = slot % DECISIONS.len();
            let operation = (slot / DECISIONS.len()) % OPERATIONS.len();
            let kind = (slot / (DECISIONS.len() * OPERATIONS.len())) % KINDS;
            let endpoint = slot / (DECISIONS.len() * OPERATIONS.len() * KINDS);
            let labels = ReviewLabels {
                endpoint: ENDPOINTS[endpoint],
                kind: kind_name(kind),
                operation: OPERATIONS[operation],
                decision: DECISIONS[decision],
            };
            ConstCounter::new(count).encode(family.encode_family(&labels)?)?;
        }
        let mut family = encoder.encode_descriptor(
            "rule_findings",
            "Rule findings, by rule and decision",
            None,
            MetricType::Counter,
        )?;
        for slot in 0..RULE_SLOTS {
            let count = self.sum(|s| s.rules.get(slot));
            if count == 0 {
                continue;
            }
            let decision = slot % RULE_DECISIONS.len();
            let rule = (slot / RULE_DECISIONS.len()) % RuleId::ALL.len();
            let operation = (slot / (RULE_DECISIONS.len() * RuleId::ALL.len())) % OPERATIONS.len();
            let kind = slot / (RULE_DECISIONS.len() * RuleId::ALL.len() * OPERATIONS.len());
            let labels = RuleLabels {
                kind: kind_name(kind),
                operation: OPERATIONS[operation],
                rule: RuleId::ALL[rule].as_str(),
                decision: RULE_DECISIONS[decision],
            };
            ConstCounter::new(count).encode(family.encode_family(&labels)?)?;
        }
        let mut family = encoder.encode_descriptor(
            "review_duration_seconds",
            "Time to answer a review",
            None,
            MetricType::Histogram,
        )?;
        for (endpoint, name) in ENDPOINTS.iter().enumerate() {
            let slot = |i: usize| self.sum(|s| s.latency.get(endpoint).and_then(|l| l.get(i)));
            let buckets: Vec<(f64, u64)> = LATENCY_BUCKETS
                .iter()
                .copied()
                .chain([f64::INFINITY])
                .enumerate()
                .map(|(i, bound)| (bound, slot(i)))
                .collect();
            let count = slot(LATENCY_SLOTS);
            let sum = slot(LATENCY_SLOTS + 1) as f64 / 1e9;
            family
                .encode_family(&EndpointLabels { endpoint: name })?
                .encode_histogram::<NoLabelSet>(sum, count, &buckets, None)?;
        }
        Ok(())
    }
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
        let reviews = Arc::new(ReviewCounts::new());
        registry.register_collector(Box::new(reviews.clone()));
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
        let decision_lines_dropped = Counter::default();
        registry.register(
            "decision_log_lines_dropped",
            "Decision log lines dropped because the log's writer could not keep up",
            decision_lines_dropped.clone(),
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
            lookups,
            cache_objects,
            cache_ready,
            certificate_expiry,
            decision_lines_dropped,
            not_after: Arc::new(AtomicI64::new(0)),
        }
    }

    /// The counter of decision log lines dropped (see [`crate::decisions::DecisionLog`]).
    pub fn decision_lines_dropped(&self) -> Counter {
        self.decision_lines_dropped.clone()
    }

    /// Where the TLS layer records the serving certificate's expiry (Unix seconds).
    pub fn not_after(&self) -> Arc<AtomicI64> {
        self.not_after.clone()
    }

    /// Records one review.
    pub fn record(&self, record: &ReviewRecord<'_>) {
        let Some(shard) = self.reviews.shard() else {
            return;
        };
        let endpoint = record.endpoint.min(ENDPOINTS.len() - 1);
        let kind = kind_label(record.kind);
        let operation = operation_label(record.operation);
        let decision = record.decision.min(DECISIONS.len() - 1);
        let slot =
            ((endpoint * KINDS + kind) * OPERATIONS.len() + operation) * DECISIONS.len() + decision;
        if let Some(counter) = shard.reviews.get(slot) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        for (rule, rule_decision) in record.rules {
            let rule_index = RuleId::ALL.iter().position(|r| r == rule).unwrap_or(0);
            let rule_decision = (*rule_decision).min(RULE_DECISIONS.len() - 1);
            let slot = ((kind * OPERATIONS.len() + operation) * RuleId::ALL.len() + rule_index)
                * RULE_DECISIONS.len()
                + rule_decision;
            if let Some(counter) = shard.rules.get(slot) {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.reviews.observe(shard, endpoint, record.latency);
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

    fn denied_job(latency: Duration) -> ReviewRecord<'static> {
        ReviewRecord {
            endpoint: 0,
            kind: Some(ResourceKind::MedusaBackupJob),
            operation: Some(AdmissionOperation::Create),
            decision: 1,
            rules: &[(RuleId::J1, 0)],
            latency,
        }
    }

    #[test]
    fn counts_from_every_thread_are_summed() {
        let metrics = Arc::new(Metrics::new());
        let (caches, _) = Caches::new();
        let threads: Vec<_> = (0..12)
            .map(|_| {
                let metrics = metrics.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        metrics.record(&denied_job(Duration::from_micros(70)));
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let text = metrics.encode(&caches);
        assert!(text.contains(r#"medusa_webhook_reviews_total{endpoint="validate",kind="MedusaBackupJob",operation="CREATE",decision="denied"} 12000"#), "{text}");
        assert!(text.contains(r#"medusa_webhook_rule_findings_total{kind="MedusaBackupJob",operation="CREATE",rule="J1",decision="deny"} 12000"#), "{text}");
        assert!(
            text.contains(
                r#"medusa_webhook_review_duration_seconds_count{endpoint="validate"} 12000"#
            ),
            "{text}"
        );
    }

    #[test]
    fn the_latency_histogram_is_cumulative_with_its_sum_in_seconds() {
        let metrics = Metrics::new();
        let (caches, _) = Caches::new();
        metrics.record(&denied_job(Duration::from_micros(40)));
        metrics.record(&denied_job(Duration::from_millis(3)));
        metrics.record(&denied_job(Duration::from_secs(9)));
        let text = metrics.encode(&caches);
        for line in [
            r#"medusa_webhook_review_duration_seconds_bucket{le="0.00005",endpoint="validate"} 1"#,
            r#"medusa_webhook_review_duration_seconds_bucket{le="0.005",endpoint="validate"} 2"#,
            r#"medusa_webhook_review_duration_seconds_bucket{le="5.0",endpoint="validate"} 2"#,
            r#"medusa_webhook_review_duration_seconds_bucket{le="+Inf",endpoint="validate"} 3"#,
            r#"medusa_webhook_review_duration_seconds_count{endpoint="validate"} 3"#,
            r#"medusa_webhook_review_duration_seconds_sum{endpoint="validate"} 9.00304"#,
            r#"medusa_webhook_review_duration_seconds_count{endpoint="mutate"} 0"#,
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }

    #[test]
    fn a_review_without_findings_counts_no_rule() {
        let metrics = Metrics::new();
        let (caches, _) = Caches::new();
        metrics.record(&ReviewRecord {
            rules: &[],
            decision: 0,
            ..denied_job(Duration::from_micros(70))
        });
        let text = metrics.encode(&caches);
        assert!(text.contains(r#"decision="allowed"} 1"#), "{text}");
        assert!(
            !text.contains("medusa_webhook_rule_findings_total{"),
            "{text}"
        );
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
