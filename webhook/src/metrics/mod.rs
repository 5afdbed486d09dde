//! Prometheus metrics: reviews and rule findings by kind, operation and decision; review
//! latency from 50 µs; live lookups; cache sizes; seconds until the serving certificate expires.

mod health;
mod sharded;

pub use health::{HealthCollector, metric_names as health_metric_names};

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use medusa_crds::health::StallPolicy;
use medusa_crds::rules::RuleId;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::cache::{CacheState, Caches};
use crate::labels::{
    Endpoint, FindingDecision, Kind, LookupOutcome, Operation, ReviewDecision, Rule,
};
use sharded::{Counters, Histograms, indexed_labels};

/// Review latency buckets, in seconds, from 50 µs.
pub const LATENCY_BUCKETS: [f64; 16] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0,
];

indexed_labels!(
    /// The labels of a review.
    ReviewLabels {
        endpoint: Endpoint,
        kind: Kind,
        operation: Operation,
        decision: ReviewDecision,
    }
);

indexed_labels!(
    /// The labels of one rule's finding.
    RuleLabels {
        kind: Kind,
        operation: Operation,
        rule: Rule,
        decision: FindingDecision,
    }
);

indexed_labels!(
    /// The labels of a review's latency.
    EndpointLabels { endpoint: Endpoint }
);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LookupLabels {
    kind: &'static str,
    outcome: LookupOutcome,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    cache: &'static str,
}

/// The webhook's metrics.
pub struct Metrics {
    registry: Registry,
    reviews: Arc<Counters<ReviewLabels>>,
    findings: Arc<Counters<RuleLabels>>,
    latency: Arc<Histograms<EndpointLabels>>,
    lookups: Family<LookupLabels, Counter>,
    cache_objects: Family<CacheLabels, Gauge>,
    cache_ready: Family<CacheLabels, Gauge>,
    certificate_expiry: Gauge,
    decision_lines_dropped: Counter,
    connections_refused: Counter,
    reviews_shed: Counter,
    not_after: Arc<AtomicI64>,
    health: Arc<HealthCollector>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// One review's outcome, for the metrics.
#[derive(Debug)]
pub struct ReviewRecord<'a> {
    /// The endpoint that answered.
    pub endpoint: Endpoint,
    /// The kind.
    pub kind: Kind,
    /// The operation.
    pub operation: Operation,
    /// How it ended.
    pub decision: ReviewDecision,
    /// The rules that fired, with what each did.
    pub rules: &'a [(RuleId, FindingDecision)],
    /// Time spent.
    pub latency: Duration,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric, with the default stall policy.
    pub fn new() -> Self {
        Self::with_stall_policy(StallPolicy::default())
    }

    /// Registers every metric: the webhook's own under `medusa_webhook_`, backup health under
    /// `medusa_`, with running operations judged stalled by `policy`.
    pub fn with_stall_policy(policy: StallPolicy) -> Self {
        let mut root = Registry::default();
        let health = Arc::new(HealthCollector::new(policy));
        root.register_collector(Box::new(health.clone()));
        let registry = root.sub_registry_with_prefix("medusa_webhook");
        let reviews = Arc::new(Counters::new("reviews", "Admission reviews answered"));
        registry.register_collector(Box::new(reviews.clone()));
        let findings = Arc::new(Counters::new(
            "rule_findings",
            "Rule findings, by rule and decision",
        ));
        registry.register_collector(Box::new(findings.clone()));
        let latency = Arc::new(Histograms::new(
            "review_duration_seconds",
            "Time to answer a review",
            &LATENCY_BUCKETS,
        ));
        registry.register_collector(Box::new(latency.clone()));
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
        let connections_refused = Counter::default();
        registry.register(
            "connections_refused",
            "Connections closed at once because --max-connections were open",
            connections_refused.clone(),
        );
        let reviews_shed = Counter::default();
        registry.register(
            "reviews_shed",
            "Reviews answered 503 because --max-in-flight reviews were in flight past the queue timeout",
            reviews_shed.clone(),
        );
        let certificate_expiry = Gauge::default();
        registry.register(
            "certificate_expiry_seconds",
            "Seconds until the serving certificate expires",
            certificate_expiry.clone(),
        );
        Self {
            registry: root,
            reviews,
            findings,
            latency,
            lookups,
            cache_objects,
            cache_ready,
            certificate_expiry,
            decision_lines_dropped,
            connections_refused,
            reviews_shed,
            not_after: Arc::new(AtomicI64::new(0)),
            health,
        }
    }

    /// The counter of decision log lines dropped (see [`crate::decisions::DecisionLog`]).
    pub fn decision_lines_dropped(&self) -> Counter {
        self.decision_lines_dropped.clone()
    }

    /// Counts a connection refused past `--max-connections`.
    pub fn connection_refused(&self) {
        self.connections_refused.inc();
    }

    /// Counts a review shed past `--max-in-flight`.
    pub fn review_shed(&self) {
        self.reviews_shed.inc();
    }

    /// Where the TLS layer records the serving certificate's expiry (Unix seconds).
    pub fn not_after(&self) -> Arc<AtomicI64> {
        self.not_after.clone()
    }

    /// Records one review.
    pub fn record(&self, record: &ReviewRecord<'_>) {
        self.reviews.inc(&ReviewLabels {
            endpoint: record.endpoint,
            kind: record.kind,
            operation: record.operation,
            decision: record.decision,
        });
        for (rule, decision) in record.rules {
            self.findings.inc(&RuleLabels {
                kind: record.kind,
                operation: record.operation,
                rule: Rule(*rule),
                decision: *decision,
            });
        }
        self.latency.observe(
            &EndpointLabels {
                endpoint: record.endpoint,
            },
            record.latency,
        );
    }

    /// Records one live lookup of `kind`.
    pub fn lookup(&self, kind: &'static str, outcome: LookupOutcome) {
        self.lookups
            .get_or_create(&LookupLabels { kind, outcome })
            .inc();
    }

    /// The text exposition, with gauges refreshed from the caches and the certificate.
    pub fn encode(&self, caches: &Caches) -> String {
        self.encode_at(caches, chrono::Utc::now())
    }

    /// [`Metrics::encode`], with backup health computed at `now`.
    pub fn encode_at(&self, caches: &Caches, now: chrono::DateTime<chrono::Utc>) -> String {
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
        self.health.refresh(caches, now);
        let not_after = self.not_after.load(Ordering::Acquire);
        if not_after != 0 {
            self.certificate_expiry.set(not_after - now.timestamp());
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
    use medusa_crds::rules::ResourceKind;

    #[test]
    fn reviews_rules_and_latency_are_exposed() {
        let metrics = Metrics::new();
        let (caches, _) = Caches::new();
        metrics.record(&denied_job(Duration::from_micros(70)));
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
            endpoint: Endpoint::Validate,
            kind: Kind(Some(ResourceKind::MedusaBackupJob)),
            operation: Operation::Create,
            decision: ReviewDecision::Denied,
            rules: &[(RuleId::J1, FindingDecision::Deny)],
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
            decision: ReviewDecision::Allowed,
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
