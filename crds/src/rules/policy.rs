//! The webhook's policy: per-rule actions, mutations, live lookups, local contexts.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Every rule, by identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RuleId {
    /// K8ssandraCluster: the operator's own Medusa rules.
    K1,
    /// K8ssandraCluster: the referenced MedusaConfiguration exists.
    K2,
    /// K8ssandraCluster: merged storage has a provider, a bucket, a host where needed, a port.
    K3,
    /// K8ssandraCluster: merged credentials agree.
    K4,
    /// K8ssandraCluster: the storage Secret exists with a `credentials` key per datacenter.
    K5,
    /// K8ssandraCluster: prefix format.
    K6,
    /// K8ssandraCluster: no other cluster shares the storage location.
    K7,
    /// K8ssandraCluster: no storage move while backups exist.
    K8,
    /// K8ssandraCluster: merge traps.
    K9,
    /// K8ssandraCluster mutation: empty prefix with a configuration ref becomes the name.
    KM,
    /// MedusaConfiguration: bucket, credentials and Secret.
    C1,
    /// MedusaConfiguration: a prefix is never used.
    C2,
    /// MedusaConfiguration: no deletion while referenced.
    C3,
    /// MedusaBackupJob creation checks.
    J1,
    /// MedusaBackupJob: spec is immutable.
    J2,
    /// MedusaBackupJob mutation: datacenter and schedule labels.
    JM,
    /// MedusaRestoreJob creation checks.
    R1,
    /// MedusaRestoreJob: spec is immutable.
    R2,
    /// MedusaTask creation checks.
    T1,
    /// MedusaTask mutation: datacenter and schedule labels.
    TM,
    /// MedusaBackupSchedule: the cron parses.
    S1,
    /// MedusaBackupSchedule: concurrencyPolicy is Allow or Forbid.
    S2,
    /// MedusaBackupSchedule: the datacenter exists.
    S3,
    /// MedusaBackup deletion: the data stays.
    B1,
}

impl RuleId {
    /// Every rule.
    pub const ALL: [Self; 24] = [
        Self::K1,
        Self::K2,
        Self::K3,
        Self::K4,
        Self::K5,
        Self::K6,
        Self::K7,
        Self::K8,
        Self::K9,
        Self::KM,
        Self::C1,
        Self::C2,
        Self::C3,
        Self::J1,
        Self::J2,
        Self::JM,
        Self::R1,
        Self::R2,
        Self::T1,
        Self::TM,
        Self::S1,
        Self::S2,
        Self::S3,
        Self::B1,
    ];

    /// The identifier as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::K1 => "K1",
            Self::K2 => "K2",
            Self::K3 => "K3",
            Self::K4 => "K4",
            Self::K5 => "K5",
            Self::K6 => "K6",
            Self::K7 => "K7",
            Self::K8 => "K8",
            Self::K9 => "K9",
            Self::KM => "KM",
            Self::C1 => "C1",
            Self::C2 => "C2",
            Self::C3 => "C3",
            Self::J1 => "J1",
            Self::J2 => "J2",
            Self::JM => "JM",
            Self::R1 => "R1",
            Self::R2 => "R2",
            Self::T1 => "T1",
            Self::TM => "TM",
            Self::S1 => "S1",
            Self::S2 => "S2",
            Self::S3 => "S3",
            Self::B1 => "B1",
        }
    }

    /// Whether the rule is a mutation (on or off) rather than a check.
    pub fn is_mutation(self) -> bool {
        matches!(self, Self::KM | Self::JM | Self::TM)
    }

    /// The default action of a check.
    pub fn default_action(self) -> Action {
        match self {
            Self::K9 | Self::C2 | Self::S3 | Self::B1 => Action::Warn,
            _ => Action::Deny,
        }
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RuleId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown rule {s:?}"))
    }
}

/// What a check does when it finds a problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Refuse the request.
    Deny,
    /// Admit it with a warning.
    Warn,
    /// Do not check.
    Off,
}

/// What a live lookup that fails (timeout, API error) means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureMode {
    /// Fail closed: the check denies.
    Deny,
    /// Fail open: the check warns.
    #[default]
    Allow,
}

/// Live lookups on cache misses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LookupPolicy {
    /// Total time one review may spend on live GETs, in milliseconds.
    #[serde(default = "default_budget_ms")]
    pub budget_ms: u64,
    /// What a failed lookup means.
    #[serde(default)]
    pub on_failure: FailureMode,
}

fn default_budget_ms() -> u64 {
    300
}

impl Default for LookupPolicy {
    fn default() -> Self {
        Self {
            budget_ms: default_budget_ms(),
            on_failure: FailureMode::default(),
        }
    }
}

impl LookupPolicy {
    /// The budget as a duration.
    pub fn budget(&self) -> Duration {
        Duration::from_millis(self.budget_ms)
    }
}

/// The policy file, as written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    rules: BTreeMap<String, Action>,
    #[serde(default)]
    mutations: BTreeMap<String, bool>,
    #[serde(default)]
    lookups: LookupPolicy,
    #[serde(default)]
    local_contexts: Vec<String>,
}

/// The policy in force.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    actions: BTreeMap<RuleId, Action>,
    mutations: BTreeMap<RuleId, bool>,
    /// Live lookups.
    pub lookups: LookupPolicy,
    /// Kubernetes contexts that are this API server: datacenters there are checked like local
    /// ones. Datacenters without a `k8sContext` are always local.
    pub local_contexts: Vec<String>,
}

/// A policy file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid policy: {0}")]
pub struct PolicyError(pub String);

impl Policy {
    /// Parses a policy file (YAML). Errors name the line and the reason.
    pub fn from_yaml(text: &str) -> Result<Self, PolicyError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let file: PolicyFile =
            serde_saphyr::from_str(text).map_err(|e| PolicyError(e.to_string()))?;
        let mut policy = Self {
            lookups: file.lookups,
            local_contexts: file.local_contexts,
            ..Self::default()
        };
        for (rule, action) in file.rules {
            let id = rule_at(text, &rule)?;
            if id.is_mutation() {
                return Err(PolicyError(format!(
                    "{}rule {id} is a mutation: turn it on or off under `mutations:`, not `rules:`",
                    line_of(text, &rule)
                )));
            }
            policy.actions.insert(id, action);
        }
        for (rule, on) in file.mutations {
            let id = rule_at(text, &rule)?;
            if !id.is_mutation() {
                return Err(PolicyError(format!(
                    "{}rule {id} is a check: set it to deny, warn or off under `rules:`",
                    line_of(text, &rule)
                )));
            }
            policy.mutations.insert(id, on);
        }
        if policy.lookups.budget_ms > 10_000 {
            return Err(PolicyError(format!(
                "{}lookups.budgetMs {} is above 10000: the API server gives a webhook at most 30 s and ours is registered with 5 s",
                line_of(text, "budgetMs"),
                policy.lookups.budget_ms
            )));
        }
        Ok(policy)
    }

    /// The action of a check.
    pub fn action(&self, rule: RuleId) -> Action {
        self.actions
            .get(&rule)
            .copied()
            .unwrap_or_else(|| rule.default_action())
    }

    /// Sets the action of a check.
    pub fn with_action(mut self, rule: RuleId, action: Action) -> Self {
        self.actions.insert(rule, action);
        self
    }

    /// Whether a mutation is on (all are on by default).
    pub fn mutation_enabled(&self, rule: RuleId) -> bool {
        self.mutations.get(&rule).copied().unwrap_or(true)
    }

    /// Turns a mutation on or off.
    pub fn with_mutation(mut self, rule: RuleId, on: bool) -> Self {
        self.mutations.insert(rule, on);
        self
    }

    /// Whether a datacenter's context is served by this API server.
    pub fn is_local_context(&self, context: Option<&str>) -> bool {
        context.is_none_or(|c| self.local_contexts.iter().any(|l| l == c))
    }

    /// The default policy as YAML, as shipped in the ConfigMap.
    pub fn default_yaml() -> String {
        let mut out = String::from(
            "# medusa-webhook policy. Each check can be deny, warn or off; mutations on or off.\nrules:\n",
        );
        for rule in RuleId::ALL.into_iter().filter(|r| !r.is_mutation()) {
            let action = match rule.default_action() {
                Action::Deny => "deny",
                Action::Warn => "warn",
                Action::Off => "off",
            };
            out.push_str(&format!("  {rule}: {action}\n"));
        }
        out.push_str("mutations:\n  KM: true\n  JM: true\n  TM: true\n");
        out.push_str("lookups:\n  # Live GETs on a cache miss, per review.\n  budgetMs: 300\n  # What a failed live lookup means: deny or allow.\n  onFailure: allow\n");
        out.push_str("# Contexts (k8sContext of K8ssandraCluster datacenters) served by this API server.\nlocalContexts: []\n");
        out
    }
}

fn rule_at(text: &str, rule: &str) -> Result<RuleId, PolicyError> {
    rule.parse::<RuleId>().map_err(|e| {
        PolicyError(format!(
            "{}{e}; known rules: {}",
            line_of(text, rule),
            RuleId::ALL.map(RuleId::as_str).join(", ")
        ))
    })
}

/// `line N: ` for the first line mentioning `needle` as a key.
fn line_of(text: &str, needle: &str) -> String {
    text.lines()
        .position(|line| line.trim_start().starts_with(&format!("{needle}:")))
        .map(|i| format!("line {}: ", i + 1))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_policy_uses_the_defaults() {
        let policy = Policy::from_yaml("").unwrap();
        assert_eq!(policy.action(RuleId::K2), Action::Deny);
        assert_eq!(policy.action(RuleId::K9), Action::Warn);
        assert!(policy.mutation_enabled(RuleId::KM));
        assert_eq!(policy.lookups.on_failure, FailureMode::Allow);
    }

    #[test]
    fn rules_mutations_lookups_and_contexts_are_read() {
        let policy = Policy::from_yaml(
            "rules:\n  K7: warn\n  S3: off\nmutations:\n  KM: false\nlookups:\n  budgetMs: 50\n  onFailure: deny\nlocalContexts: [kind-east]\n",
        )
        .unwrap();
        assert_eq!(policy.action(RuleId::K7), Action::Warn);
        assert_eq!(policy.action(RuleId::S3), Action::Off);
        assert!(!policy.mutation_enabled(RuleId::KM));
        assert_eq!(policy.lookups.budget(), Duration::from_millis(50));
        assert_eq!(policy.lookups.on_failure, FailureMode::Deny);
        assert!(policy.is_local_context(Some("kind-east")));
        assert!(policy.is_local_context(None));
        assert!(!policy.is_local_context(Some("kind-west")));
    }

    #[test]
    fn an_unknown_rule_names_its_line() {
        let err = Policy::from_yaml("rules:\n  K1: deny\n  K99: warn\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid policy: line 3: unknown rule \"K99\""),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_action_is_refused_with_its_position() {
        let err = Policy::from_yaml("rules:\n  K1: maybe\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let err = Policy::from_yaml("rulez:\n  K1: deny\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("rulez"), "{err}");
    }

    #[test]
    fn a_mutation_under_rules_is_refused() {
        let err = Policy::from_yaml("rules:\n  KM: off\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2: rule KM is a mutation"), "{err}");
    }

    #[test]
    fn a_check_under_mutations_is_refused() {
        let err = Policy::from_yaml("mutations:\n  K1: true\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("rule K1 is a check"), "{err}");
    }

    #[test]
    fn an_excessive_budget_is_refused() {
        let err = Policy::from_yaml("lookups:\n  budgetMs: 60000\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2: lookups.budgetMs 60000"), "{err}");
    }

    #[test]
    fn the_default_yaml_parses_to_the_default_policy() {
        assert_eq!(Policy::from_yaml(&Policy::default_yaml()).unwrap(), {
            let mut p = Policy::default();
            for rule in RuleId::ALL {
                if rule.is_mutation() {
                    p = p.with_mutation(rule, true);
                } else {
                    p = p.with_action(rule, rule.default_action());
                }
            }
            p
        });
    }
}
