//! Serves the pure rules: builds the rule input from a review, runs it against the caches with
//! live lookups on misses, and turns the outcome into an AdmissionReview response, a log line
//! and metrics.

use std::sync::Arc;
use std::time::Instant;

use medusa_crds::rules::{
    self, AdmissionInput, AdmissionOperation, Policy, ResourceKind, RuleId, Severity,
};

use crate::admission::{AdmissionRequest, AdmissionResponse};
use crate::cache::Caches;
use crate::decisions::{Decision, DecisionLog};
pub use crate::labels::Endpoint;
use crate::labels::{FindingDecision, Kind, Operation, ReviewDecision};
use crate::live::Live;
use crate::metrics::{Metrics, ReviewRecord};
use crate::view::RequestView;

/// The admission engine.
#[derive(Debug)]
pub struct Engine {
    caches: Arc<Caches>,
    live: Option<Live>,
    policy: Arc<Policy>,
    metrics: Arc<Metrics>,
    decisions: DecisionLog,
}

enum Outcome {
    Validated(rules::Decision),
    Mutated(rules::Mutation),
}

impl Engine {
    /// An engine over these caches; `live` enables live lookups on cache misses.
    pub fn new(
        caches: Arc<Caches>,
        live: Option<Live>,
        policy: Arc<Policy>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            caches,
            live,
            policy,
            metrics,
            decisions: DecisionLog::tracing(),
        }
    }

    /// Logs decisions there instead of through `tracing`.
    pub fn with_decision_log(mut self, decisions: DecisionLog) -> Self {
        self.decisions = decisions;
        self
    }

    /// The caches.
    pub fn caches(&self) -> &Arc<Caches> {
        &self.caches
    }

    /// The metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Answers one request.
    pub async fn review(
        &self,
        endpoint: Endpoint,
        request: &AdmissionRequest<'_>,
    ) -> AdmissionResponse {
        let started = Instant::now();
        let kind = ResourceKind::from_group_kind(&request.kind.group, &request.kind.kind);
        let operation = AdmissionOperation::from_wire(&request.operation);
        let (response, decision, fired) = match (kind, operation) {
            (Some(kind), Some(operation)) => {
                let input = AdmissionInput {
                    operation,
                    kind,
                    namespace: &request.namespace,
                    name: &request.name,
                    object: request.object.as_ref(),
                    old_object: request.old_object.as_ref(),
                    defaulted: true,
                };
                let outcome = match &request.unreadable {
                    Some(why) => match endpoint {
                        Endpoint::Validate => Outcome::Validated(rules::unreadable(&input, why)),
                        // Left to validation, which explains why.
                        Endpoint::Mutate => Outcome::Mutated(rules::Mutation::default()),
                    },
                    None => self.evaluate(endpoint, &input).await,
                };
                respond(&request.uid, outcome)
            }
            // Not ours (a registration broader than ours): never block it.
            _ => (
                AdmissionResponse::allow(&request.uid),
                ReviewDecision::Ignored,
                Vec::new(),
            ),
        };
        let latency = started.elapsed();
        self.metrics.record(&ReviewRecord {
            endpoint,
            kind: Kind(kind),
            operation: Operation::from(operation),
            decision,
            rules: &fired,
            latency,
        });
        self.decisions.record(&Decision {
            uid: &request.uid,
            endpoint,
            kind: &request.kind.kind,
            namespace: &request.namespace,
            name: &request.name,
            operation: &request.operation,
            rules: &fired,
            decision,
            dry_run: request.dry_run.unwrap_or(false),
            user: &request.user_info.username,
            latency_us: u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
        });
        tracing::trace!(uid = %request.uid, object = ?request.object, old_object = ?request.old_object, "admission bodies");
        response
    }

    async fn evaluate(&self, endpoint: Endpoint, input: &AdmissionInput<'_>) -> Outcome {
        let view = RequestView::new(
            &self.caches,
            self.live.as_ref(),
            &self.metrics,
            self.policy.lookups.budget(),
        );
        match endpoint {
            Endpoint::Validate => {
                Outcome::Validated(rules::validate(input, &view, &self.policy).await)
            }
            Endpoint::Mutate => Outcome::Mutated(rules::mutate(input, &view, &self.policy).await),
        }
    }
}

/// The response, how the review ended and the rules fired, with what each did.
fn respond(
    uid: &str,
    outcome: Outcome,
) -> (
    AdmissionResponse,
    ReviewDecision,
    Vec<(RuleId, FindingDecision)>,
) {
    match outcome {
        Outcome::Validated(decision) => {
            let fired = decision
                .findings
                .iter()
                .filter_map(|f| {
                    f.rule.map(|r| {
                        (
                            r,
                            match f.severity {
                                Severity::Deny => FindingDecision::Deny,
                                Severity::Warn => FindingDecision::Warn,
                            },
                        )
                    })
                })
                .collect();
            let warnings = decision.warnings();
            match decision.denial_message() {
                Some(message) => (
                    AdmissionResponse::deny(uid, message).with_warnings(warnings),
                    ReviewDecision::Denied,
                    fired,
                ),
                None if warnings.is_empty() => (
                    AdmissionResponse::allow(uid),
                    ReviewDecision::Allowed,
                    fired,
                ),
                None => (
                    AdmissionResponse::allow(uid).with_warnings(warnings),
                    ReviewDecision::Warned,
                    fired,
                ),
            }
        }
        Outcome::Mutated(mutation) => {
            let fired = mutation
                .fired
                .iter()
                .map(|r| (*r, FindingDecision::Patch))
                .collect();
            let decision = if mutation.patch.is_empty() {
                ReviewDecision::Allowed
            } else {
                ReviewDecision::Patched
            };
            let response = AdmissionResponse::allow(uid)
                .with_warnings(mutation.warnings)
                .with_patch(&mutation.patch);
            (response, decision, fired)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Mutex;

    use medusa_crds::MedusaBackupJob;

    use super::*;
    use crate::admission::parse_review;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The server boxes each review's future, and the bench found 11 KiB of it being copied
    /// for every review when a K8ssandraCluster's decoded Medusa sections and a live GET's
    /// request lived inline in it.
    #[test]
    fn the_future_of_a_review_stays_small() {
        let (caches, _writers) = Caches::new();
        let engine = Engine::new(
            caches,
            None,
            Arc::new(Policy::default()),
            Arc::new(Metrics::new()),
        );
        let body = br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE"}}"#;
        for endpoint in [Endpoint::Validate, Endpoint::Mutate] {
            let answer = crate::server::answer(&engine, endpoint, body);
            assert!(
                size_of_val(&answer) <= 2048,
                "the {endpoint:?} answer future is {} bytes; box what makes it large",
                size_of_val(&answer)
            );
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn one_structured_line_per_decision_without_bodies() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);

        let (caches, mut writers) = Caches::new();
        writers.ready_empty();
        let engine = Engine::new(
            caches,
            None,
            Arc::new(Policy::default()),
            Arc::new(Metrics::new()),
        );
        let job = MedusaBackupJob::test("nightly").dc("dc-with-a-secret-marker");
        let review = serde_json::json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {
                "uid": "u-log", "operation": "CREATE", "namespace": "k8ssandra", "name": "nightly",
                "kind": {"group": "medusa.k8ssandra.io", "version": "v1alpha1", "kind": "MedusaBackupJob"},
                "object": serde_json::to_value(&job).unwrap()
            }
        });
        let body = serde_json::to_vec(&review).unwrap();
        let review = parse_review(&body).unwrap();
        engine.review(Endpoint::Validate, &review.request).await;

        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{text}");
        let line: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(line["uid"], "u-log");
        assert_eq!(line["kind"], "MedusaBackupJob");
        assert_eq!(line["object"], "k8ssandra/nightly");
        assert_eq!(line["operation"], "CREATE");
        assert_eq!(line["rules"], "J1");
        assert_eq!(line["decision"], "denied");
        assert!(line["latency_us"].is_u64());
        assert!(
            !text.contains("secret-marker"),
            "an object body leaked into the log: {text}"
        );
    }
}
