//! Admission rules as pure functions over a read-only cluster view.
//!
//! [`validate`] and [`mutate`] take one admission request (already decoded from its
//! AdmissionReview), the [`ClusterView`] and the [`Policy`]; they return findings and JSON
//! patches. The webhook serves them; the plugin runs the very same code offline.

mod cluster;
mod configuration;
mod jobs;
mod object;
pub mod policy;
mod schedule;
mod storage;
pub mod view;

pub(crate) use object::decode;
pub use object::{MetadataText, ObjectText, unreadable};
pub use storage::{MAX_PREFIX_LEN, prefix_problem};

use std::fmt;

use json_patch::PatchOperation;

use crate::kinds::ViewKind;
use serde::Serialize;
use serde_json::Value;

pub use policy::{Action, FailureMode, LookupPolicy, Policy, PolicyError, RuleId};
pub use view::{
    ClusterView, Expect, Listed, Lists, Lookup, MemoryView, ObjectKey, SecretFacts,
    StorageLocation, storage_location,
};

/// The operation of an admission request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AdmissionOperation {
    /// CREATE.
    Create,
    /// UPDATE.
    Update,
    /// DELETE.
    Delete,
    /// CONNECT.
    Connect,
}

impl AdmissionOperation {
    /// Parses the wire string.
    pub fn from_wire(value: &str) -> Option<Self> {
        Some(match value {
            "CREATE" => Self::Create,
            "UPDATE" => Self::Update,
            "DELETE" => Self::Delete,
            "CONNECT" => Self::Connect,
            _ => return None,
        })
    }

    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "CREATE",
            Self::Update => "UPDATE",
            Self::Delete => "DELETE",
            Self::Connect => "CONNECT",
        }
    }
}

/// The kinds the rules know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum ResourceKind {
    /// `k8ssandra.io/v1alpha1` K8ssandraCluster.
    K8ssandraCluster,
    /// MedusaConfiguration.
    MedusaConfiguration,
    /// MedusaBackupJob.
    MedusaBackupJob,
    /// MedusaBackup.
    MedusaBackup,
    /// MedusaRestoreJob.
    MedusaRestoreJob,
    /// MedusaTask.
    MedusaTask,
    /// MedusaBackupSchedule.
    MedusaBackupSchedule,
}

impl ResourceKind {
    /// Every kind.
    pub const ALL: [Self; 7] = [
        Self::K8ssandraCluster,
        Self::MedusaConfiguration,
        Self::MedusaBackupJob,
        Self::MedusaBackup,
        Self::MedusaRestoreJob,
        Self::MedusaTask,
        Self::MedusaBackupSchedule,
    ];

    /// The kind from its group and kind names.
    pub fn from_group_kind(group: &str, kind: &str) -> Option<Self> {
        Some(match (group, kind) {
            ("k8ssandra.io", "K8ssandraCluster") => Self::K8ssandraCluster,
            ("medusa.k8ssandra.io", "MedusaConfiguration") => Self::MedusaConfiguration,
            ("medusa.k8ssandra.io", "MedusaBackupJob") => Self::MedusaBackupJob,
            ("medusa.k8ssandra.io", "MedusaBackup") => Self::MedusaBackup,
            ("medusa.k8ssandra.io", "MedusaRestoreJob") => Self::MedusaRestoreJob,
            ("medusa.k8ssandra.io", "MedusaTask") => Self::MedusaTask,
            ("medusa.k8ssandra.io", "MedusaBackupSchedule") => Self::MedusaBackupSchedule,
            _ => return None,
        })
    }

    /// The kinds the rules read for an operation on this kind, for views that fetch before
    /// they answer.
    pub fn reads(self, operation: AdmissionOperation) -> &'static [ViewKind] {
        use AdmissionOperation::{Create, Delete, Update};
        match (self, operation) {
            (Self::K8ssandraCluster, Create | Update) => &[
                ViewKind::MedusaConfiguration,
                ViewKind::K8ssandraCluster,
                ViewKind::MedusaBackup,
            ],
            (Self::MedusaConfiguration, Delete) => &[ViewKind::K8ssandraCluster],
            (Self::MedusaBackupJob, Create) => &[
                ViewKind::CassandraDatacenter,
                ViewKind::MedusaBackup,
                ViewKind::MedusaBackupJob,
                ViewKind::MedusaBackupSchedule,
            ],
            (Self::MedusaRestoreJob, Create) => &[
                ViewKind::CassandraDatacenter,
                ViewKind::MedusaBackup,
                ViewKind::MedusaRestoreJob,
            ],
            (Self::MedusaTask, Create) => &[
                ViewKind::CassandraDatacenter,
                ViewKind::MedusaBackup,
                ViewKind::MedusaTask,
            ],
            (Self::MedusaBackupSchedule, Create | Update) => &[ViewKind::CassandraDatacenter],
            _ => &[],
        }
    }

    /// The kind name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::K8ssandraCluster => "K8ssandraCluster",
            Self::MedusaConfiguration => "MedusaConfiguration",
            Self::MedusaBackupJob => "MedusaBackupJob",
            Self::MedusaBackup => "MedusaBackup",
            Self::MedusaRestoreJob => "MedusaRestoreJob",
            Self::MedusaTask => "MedusaTask",
            Self::MedusaBackupSchedule => "MedusaBackupSchedule",
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One admission request, decoded from its AdmissionReview.
#[derive(Clone, Copy, Debug)]
pub struct AdmissionInput<'a> {
    /// The operation.
    pub operation: AdmissionOperation,
    /// The kind.
    pub kind: ResourceKind,
    /// The namespace of the object.
    pub namespace: &'a str,
    /// The name of the object (may be empty on CREATE with `generateName`).
    pub name: &'a str,
    /// The object (CREATE, UPDATE): its metadata and its spec's text, which each rule decodes
    /// into the fields it checks.
    pub object: Option<&'a ObjectText<'a>>,
    /// The previous object (UPDATE, DELETE).
    pub old_object: Option<&'a ObjectText<'a>>,
    /// Whether the objects went through the API server's schema defaulting: true for
    /// admission requests, false for manifests read from files.
    pub defaulted: bool,
}

impl<'a> AdmissionInput<'a> {
    /// `Kind namespace/name`, for messages.
    pub fn describe(&self) -> String {
        self.who().to_string()
    }

    /// `Kind namespace/name`, written only when a message is: most requests produce none.
    pub fn who(&self) -> Who<'a> {
        Who {
            kind: self.kind,
            namespace: self.namespace,
            name: self.name,
            object: self.object,
        }
    }
}

/// The object of a request, as messages name it: `Kind namespace/name`, or
/// `Kind namespace/generateName*` before the API server has named it.
#[derive(Clone, Copy, Debug)]
pub struct Who<'a> {
    kind: ResourceKind,
    namespace: &'a str,
    name: &'a str,
    object: Option<&'a ObjectText<'a>>,
}

impl fmt::Display for Who<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/", self.kind, self.namespace)?;
        if !self.name.is_empty() {
            return f.write_str(self.name);
        }
        match self.object.and_then(ObjectText::generate_name) {
            Some(prefix) => write!(f, "{prefix}*"),
            None => f.write_str("(unnamed)"),
        }
    }
}

/// How serious a finding is, after the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Refuses the request.
    Deny,
    /// Admits it with a warning.
    Warn,
}

/// One problem found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule; `None` when the object itself could not be read.
    pub rule: Option<RuleId>,
    /// Deny or warn.
    pub severity: Severity,
    /// What is wrong and what to do, naming the object.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rule {
            Some(rule) => write!(f, "[{rule}] {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The outcome of validation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Everything found, denials first.
    pub findings: Vec<Finding>,
}

impl Decision {
    /// Whether the request is admitted.
    pub fn allowed(&self) -> bool {
        !self.findings.iter().any(|f| f.severity == Severity::Deny)
    }

    /// The denial message: every denial, one per line.
    pub fn denial_message(&self) -> Option<String> {
        let denials: Vec<String> = self
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Deny)
            .map(ToString::to_string)
            .collect();
        (!denials.is_empty()).then(|| denials.join("\n"))
    }

    /// The warnings.
    pub fn warnings(&self) -> Vec<String> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Warn)
            .map(ToString::to_string)
            .collect()
    }

    /// The rules that fired, for logs and metrics.
    pub fn rules_fired(&self) -> Vec<RuleId> {
        let mut rules: Vec<RuleId> = self.findings.iter().filter_map(|f| f.rule).collect();
        rules.sort();
        rules.dedup();
        rules
    }
}

/// The outcome of mutation.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Mutation {
    /// JSON patch operations, in order.
    pub patch: Vec<PatchOperation>,
    /// The mutations that changed the object.
    pub fired: Vec<RuleId>,
    /// What the user is told about the change.
    pub warnings: Vec<String>,
}

impl Mutation {
    /// Applies the patch to an object (as the API server will).
    pub fn apply(&self, object: &mut Value) -> Result<(), json_patch::PatchError> {
        json_patch::patch(object, &self.patch)
    }
}

/// Collects findings under the policy.
pub(crate) struct Checks<'a, V> {
    pub view: &'a V,
    pub policy: &'a Policy,
    pub findings: Vec<Finding>,
}

impl<'a, V: ClusterView> Checks<'a, V> {
    fn new(view: &'a V, policy: &'a Policy) -> Self {
        Self {
            view,
            policy,
            findings: Vec::new(),
        }
    }

    /// Whether a check runs.
    pub fn enabled(&self, rule: RuleId) -> bool {
        self.policy.action(rule) != Action::Off
    }

    /// A problem that denies under the rule's default action.
    pub fn deny(&mut self, rule: RuleId, message: String) {
        let severity = match self.policy.action(rule) {
            Action::Deny => Severity::Deny,
            Action::Warn => Severity::Warn,
            Action::Off => return,
        };
        self.findings.push(Finding {
            rule: Some(rule),
            severity,
            message,
        });
    }

    /// A problem that only ever warns.
    pub fn warn(&mut self, rule: RuleId, message: String) {
        if self.enabled(rule) {
            self.findings.push(Finding {
                rule: Some(rule),
                severity: Severity::Warn,
                message,
            });
        }
    }

    /// The found value of a lookup whose absence is a problem. Missing denies with
    /// `missing()`; an unavailable answer warns; a failed live lookup follows the policy.
    pub fn require<T>(
        &mut self,
        rule: RuleId,
        lookup: Lookup<T>,
        what: impl FnOnce() -> String,
        missing: impl FnOnce() -> String,
    ) -> Option<T> {
        match lookup {
            Lookup::Found(value) => Some(value),
            Lookup::Missing => {
                self.deny(rule, missing());
                None
            }
            Lookup::Unavailable(why) => {
                self.warn(rule, format!("could not check {}: {why}", what()));
                None
            }
            Lookup::Failed(why) => {
                self.unknown(rule, what(), why);
                None
            }
        }
    }

    /// A list lookup for a check that only reads: unavailable or failed answers warn or deny
    /// as in [`Checks::require`].
    pub fn list<T>(
        &mut self,
        rule: RuleId,
        lookup: Lookup<Vec<T>>,
        what: impl FnOnce() -> String,
    ) -> Option<Vec<T>> {
        match lookup {
            Lookup::Found(value) => Some(value),
            Lookup::Missing => Some(Vec::new()),
            Lookup::Unavailable(why) => {
                self.warn(rule, format!("could not check {}: {why}", what()));
                None
            }
            Lookup::Failed(why) => {
                self.unknown(rule, what(), why);
                None
            }
        }
    }

    fn unknown(&mut self, rule: RuleId, what: String, why: String) {
        match self.policy.lookups.on_failure {
            FailureMode::Deny => self.deny(
                rule,
                format!(
                    "could not check {what}: {why}; denied because the webhook policy fails closed (lookups.onFailure: deny); retry, or ask an administrator to check the webhook"
                ),
            ),
            FailureMode::Allow => self.warn(
                rule,
                format!("could not check {what}: {why}; admitted because the webhook policy fails open"),
            ),
        }
    }

    fn into_decision(mut self) -> Decision {
        self.findings.sort_by_key(|f| f.severity);
        Decision {
            findings: self.findings,
        }
    }
}

/// Validates one request.
pub async fn validate(
    input: &AdmissionInput<'_>,
    view: &impl ClusterView,
    policy: &Policy,
) -> Decision {
    let mut checks = Checks::new(view, policy);
    let result = match input.kind {
        // These two hold decoded Medusa sections (kilobytes) across their lookups. Boxed, so
        // that the future of every other review, which the webhook moves into a box of its
        // own for each request, stays small (1.3 KiB instead of 11 KiB; a webhook test
        // keeps it so).
        ResourceKind::K8ssandraCluster => Box::pin(cluster::validate(input, &mut checks)).await,
        ResourceKind::MedusaConfiguration => {
            Box::pin(configuration::validate(input, &mut checks)).await
        }
        ResourceKind::MedusaBackupJob => jobs::validate_backup_job(input, &mut checks).await,
        ResourceKind::MedusaRestoreJob => jobs::validate_restore_job(input, &mut checks).await,
        ResourceKind::MedusaTask => jobs::validate_task(input, &mut checks).await,
        ResourceKind::MedusaBackupSchedule => schedule::validate_schedule(input, &mut checks).await,
        ResourceKind::MedusaBackup => schedule::validate_backup(input, &mut checks),
    };
    if let Err(finding) = result {
        checks.findings.push(finding);
    }
    checks.into_decision()
}

/// Computes the mutations of one request.
pub async fn mutate(
    input: &AdmissionInput<'_>,
    view: &impl ClusterView,
    policy: &Policy,
) -> Mutation {
    let result = match (input.kind, input.operation) {
        (
            ResourceKind::K8ssandraCluster,
            AdmissionOperation::Create | AdmissionOperation::Update,
        ) if policy.mutation_enabled(RuleId::KM) => cluster::mutate(input),
        (ResourceKind::MedusaBackupJob, AdmissionOperation::Create)
            if policy.mutation_enabled(RuleId::JM) =>
        {
            jobs::mutate_labels(input, view, RuleId::JM).await
        }
        (ResourceKind::MedusaTask, AdmissionOperation::Create)
            if policy.mutation_enabled(RuleId::TM) =>
        {
            jobs::mutate_labels(input, view, RuleId::TM).await
        }
        _ => Ok(Mutation::default()),
    };
    // An object that cannot be read is left to validation, which explains why.
    result.unwrap_or_default()
}

/// Joins names for messages: `a, b and 3 more`.
pub(crate) fn name_list<S: AsRef<str>>(names: &[S], limit: usize) -> String {
    let shown: Vec<&str> = names.iter().take(limit).map(AsRef::as_ref).collect();
    let mut out = shown.join(", ");
    if names.len() > limit {
        out.push_str(&format!(" and {} more", names.len() - limit));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_lists_are_capped() {
        assert_eq!(name_list(&["a", "b"], 3), "a, b");
        assert_eq!(name_list(&["a", "b", "c", "d"], 2), "a, b and 2 more");
    }

    #[test]
    fn decisions_put_denials_first_and_join_them() {
        let decision = Decision {
            findings: vec![
                Finding {
                    rule: Some(RuleId::K2),
                    severity: Severity::Deny,
                    message: "one".into(),
                },
                Finding {
                    rule: Some(RuleId::K9),
                    severity: Severity::Warn,
                    message: "two".into(),
                },
                Finding {
                    rule: Some(RuleId::K3),
                    severity: Severity::Deny,
                    message: "three".into(),
                },
            ],
        };
        assert!(!decision.allowed());
        assert_eq!(decision.denial_message().unwrap(), "[K2] one\n[K3] three");
        assert_eq!(decision.warnings(), ["[K9] two"]);
        assert_eq!(decision.rules_fired(), [RuleId::K2, RuleId::K3, RuleId::K9]);
    }
}
