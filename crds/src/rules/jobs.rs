//! MedusaBackupJob (J1, J2, JM), MedusaRestoreJob (R1, R2) and MedusaTask (T1, TM) rules.

use std::borrow::Cow;
use std::sync::Arc;

use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, PatchOperation};
use serde::Deserialize;
use serde_json::Value;

use super::{
    AdmissionInput, AdmissionOperation, Checks, ClusterView, Expect, Finding, Lookup, Mutation,
    ObjectText, RuleId, Who, decode, name_list,
};
use crate::naming::{
    SCHEDULE_LABEL, datacenter_label_pairs, parse_scheduled_job_name, scheduled_run_second,
};
use crate::operator::still_running;
use crate::restore::{RestoreCheck, restore_preflight};
use crate::types::cassdc::MEDUSA_CONTAINER;
use crate::types::{
    CassandraDatacenter, MedusaBackup, MedusaBackupJob, MedusaBackupSchedule, MedusaRestoreJob,
    MedusaTask, Operation,
};

// === What the rules read ===
//
// The rules decode from the spec's text only the fields they check, with the model's own field
// types, so an object is unreadable for the same reasons as before, while its metadata
// (managedFields alone can be most of a request) and status were skipped when the request was
// read (see `ObjectText`).

/// A MedusaBackupJob's or MedusaTask's datacenter.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DatacenterSpec<'a> {
    #[serde(borrow)]
    cassandra_datacenter: Cow<'a, str>,
}

/// What T1 reads of a MedusaTask.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskSpec<'a> {
    operation: Operation,
    #[serde(borrow)]
    cassandra_datacenter: Cow<'a, str>,
    #[serde(default, borrow)]
    backup_name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    restore_key: Option<Cow<'a, str>>,
}

/// What R1 reads of a MedusaRestoreJob.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RestoreSpec<'a> {
    #[serde(borrow)]
    backup: Cow<'a, str>,
    #[serde(borrow)]
    cassandra_datacenter: Cow<'a, str>,
}

/// The datacenters of a namespace, for the message of a miss.
async fn existing_datacenters(view: &impl ClusterView, namespace: &str) -> String {
    match view.list::<CassandraDatacenter>(namespace).await {
        Lookup::Found(list) => {
            let names: Vec<String> = list
                .iter()
                .filter_map(|d| d.metadata.name.clone())
                .collect();
            if names.is_empty() {
                format!(
                    "there is none in namespace {namespace}: create the object in the datacenter's namespace"
                )
            } else {
                format!(
                    "datacenters in namespace {namespace}: {}",
                    name_list(&names, 8)
                )
            }
        }
        _ => "the datacenters of the namespace cannot be listed".to_owned(),
    }
}

/// Requires the datacenter, listing the ones that exist when it does not.
async fn require_datacenter<V: ClusterView>(
    rule: RuleId,
    who: Who<'_>,
    namespace: &str,
    dc: &str,
    checks: &mut Checks<'_, V>,
) -> Option<Arc<CassandraDatacenter>> {
    let lookup = checks
        .view
        .get::<CassandraDatacenter>(namespace, dc, Expect::Exists)
        .await;
    // Listing the datacenters that do exist is only worth it for the message of a miss.
    let existing = match lookup {
        Lookup::Missing => existing_datacenters(checks.view, namespace).await,
        _ => String::new(),
    };
    checks.require(
        rule,
        lookup,
        || format!("that CassandraDatacenter {dc:?} exists"),
        || format!(
            "{who}: CassandraDatacenter {dc:?} not found in namespace {namespace} ({existing}); the operator would retry forever and leave the status empty; set spec.cassandraDatacenter to the CassandraDatacenter's metadata.name"
        ),
    )
}

/// Denies when the object exists (a name clash); lookup problems follow the policy.
fn forbid_existing<T, V: ClusterView>(
    rule: RuleId,
    lookup: Lookup<T>,
    checks: &mut Checks<'_, V>,
    what: impl FnOnce() -> String,
    message: impl FnOnce() -> String,
) {
    match lookup {
        Lookup::Found(_) => checks.deny(rule, message()),
        Lookup::Missing => {}
        other => {
            let _ = checks.require(rule, other.map(|_| ()), what, String::new);
        }
    }
}

fn spec_is_immutable<V: ClusterView>(
    rule: RuleId,
    input: &AdmissionInput<'_>,
    checks: &mut Checks<'_, V>,
    fix: &str,
) {
    let spec = |object: Option<&ObjectText<'_>>| {
        object
            .and_then(|o| o.spec)
            .and_then(|spec| serde_json::from_str::<Value>(spec.get()).ok())
    };
    if input.operation == AdmissionOperation::Update && spec(input.object) != spec(input.old_object)
    {
        checks.deny(
            rule,
            format!(
                "{}: spec cannot change after creation: the operator does not act on edits and may re-run the operation inconsistently; {fix}",
                input.describe()
            ),
        );
    }
}

// === impl MedusaBackupJob ===

pub(super) async fn validate_backup_job<V: ClusterView>(
    input: &AdmissionInput<'_>,
    checks: &mut Checks<'_, V>,
) -> Result<(), Finding> {
    match input.operation {
        AdmissionOperation::Update => {
            spec_is_immutable(
                RuleId::J2,
                input,
                checks,
                "delete it and create a new MedusaBackupJob (kubectl medusa backup create)",
            );
            Ok(())
        }
        AdmissionOperation::Create if checks.enabled(RuleId::J1) => {
            let spec: DatacenterSpec = input.spec()?;
            let who = input.who();
            let dc_name = spec.cassandra_datacenter.as_ref();
            let dc = require_datacenter(RuleId::J1, who, input.namespace, dc_name, checks).await;
            if !input.name.is_empty() {
                let lookup = checks
                    .view
                    .get::<MedusaBackup>(input.namespace, input.name, Expect::Either)
                    .await;
                forbid_existing(
                    RuleId::J1,
                    lookup,
                    checks,
                    || format!("whether MedusaBackup {:?} already exists", input.name),
                    || {
                        format!(
                            "{who}: MedusaBackup {:?} already exists in namespace {}: the job would run and finish, but the operator never overwrites a record, so this backup would have none; choose another name",
                            input.name, input.namespace
                        )
                    },
                );
            }
            if let Some(dc) = dc
                && !dc.template_has_container(MEDUSA_CONTAINER)
            {
                checks.warn(
                    RuleId::J1,
                    format!(
                        "{who}: CassandraDatacenter {dc_name:?} has no medusa container in its pod template: Medusa may not be enabled (spec.medusa of its K8ssandraCluster), and the operator would fail with \"the backup sidecar was not found\""
                    ),
                );
            }
            let lookup = checks.view.list::<MedusaBackupJob>(input.namespace).await;
            if let Lookup::Found(jobs) = lookup {
                let running: Vec<String> = jobs
                    .iter()
                    .filter(|j| j.spec.cassandra_datacenter == dc_name)
                    .filter(|j| j.metadata.name.as_deref() != Some(input.name))
                    .filter(|j| {
                        still_running(j.status.as_ref().and_then(|s| s.finish_time.as_ref()))
                    })
                    .filter_map(|j| j.metadata.name.clone())
                    .collect();
                if !running.is_empty() {
                    checks.warn(
                        RuleId::J1,
                        format!(
                            "{who}: another backup of datacenter {dc_name:?} has not finished ({}): both run at once on every node, which doubles the load",
                            name_list(&running, 3)
                        ),
                    );
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

// === impl MedusaRestoreJob ===

fn restore_hint(check: RestoreCheck) -> &'static str {
    match check {
        RestoreCheck::BackupFinished => "wait for the backup to finish, or restore another one",
        RestoreCheck::BackupComplete => "not every node completed this backup; restore another one",
        RestoreCheck::NodeCount => {
            "restore into a datacenter of the same size as the backup's, or scale the datacenter first"
        }
        RestoreCheck::DatacenterName => {
            "the operator cannot restore into a datacenter with another Cassandra name"
        }
        RestoreCheck::RackCount | RestoreCheck::RackNames => {
            "the target datacenter needs the backup's racks"
        }
    }
}

pub(super) async fn validate_restore_job<V: ClusterView>(
    input: &AdmissionInput<'_>,
    checks: &mut Checks<'_, V>,
) -> Result<(), Finding> {
    match input.operation {
        AdmissionOperation::Update => {
            spec_is_immutable(
                RuleId::R2,
                input,
                checks,
                "create a new MedusaRestoreJob (kubectl medusa restore create)",
            );
            Ok(())
        }
        AdmissionOperation::Create if checks.enabled(RuleId::R1) => {
            let spec: RestoreSpec = input.spec()?;
            let who = input.who();
            let ns = input.namespace;
            let dc_name = spec.cassandra_datacenter.as_ref();
            let backup_name = spec.backup.as_ref();
            let lookup = checks
                .view
                .get::<MedusaBackup>(ns, backup_name, Expect::Exists)
                .await;
            let backup = checks.require(
                RuleId::R1,
                lookup,
                || format!("that MedusaBackup {backup_name:?} exists"),
                || format!(
                    "{who}: MedusaBackup {backup_name:?} not found in namespace {ns}: the operator would retry forever and leave the status empty; list the backups (kubectl medusa backup list), or import those of another cluster with a sync (kubectl medusa sync --dc {dc_name})"
                ),
            );
            let dc = require_datacenter(RuleId::R1, who, ns, dc_name, checks).await;
            if let (Some(backup), Some(dc)) = (backup, dc) {
                let preflight = restore_preflight(&backup, &dc);
                if let Some(failure) = preflight.first_failure() {
                    checks.deny(
                        RuleId::R1,
                        format!(
                            "{who}: {}: {}; {} (the operator would stop here only after the restore started)",
                            failure.check.operator_message(),
                            failure.detail,
                            restore_hint(failure.check)
                        ),
                    );
                }
            }
            let lookup = checks.view.list::<MedusaRestoreJob>(ns).await;
            if let Some(restores) = checks.list(RuleId::R1, lookup, || {
                format!("other restores of datacenter {dc_name:?}")
            }) {
                let running: Vec<String> = restores
                    .iter()
                    .filter(|r| r.spec.cassandra_datacenter == dc_name)
                    .filter(|r| r.metadata.name.as_deref() != Some(input.name))
                    .filter(|r| {
                        still_running(r.status.as_ref().and_then(|s| s.finish_time.as_ref()))
                    })
                    .filter_map(|r| r.metadata.name.clone())
                    .collect();
                if !running.is_empty() {
                    checks.deny(
                        RuleId::R1,
                        format!(
                            "{who}: restore {} of datacenter {dc_name:?} has not finished: two restores would stop and reconfigure the datacenter against each other; wait for it (kubectl medusa restore watch {}) or delete it first",
                            name_list(&running, 3),
                            running.first().map_or("", String::as_str)
                        ),
                    );
                }
            }
            checks.warn(
                RuleId::R1,
                format!(
                    "{who}: the restore stops datacenter {dc_name:?}: every Cassandra pod goes down until the data of backup {backup_name:?} is restored and the pods restart"
                ),
            );
            Ok(())
        }
        _ => Ok(()),
    }
}

// === impl MedusaTask ===

pub(super) async fn validate_task<V: ClusterView>(
    input: &AdmissionInput<'_>,
    checks: &mut Checks<'_, V>,
) -> Result<(), Finding> {
    if input.operation != AdmissionOperation::Create || !checks.enabled(RuleId::T1) {
        return Ok(());
    }
    let task: TaskSpec = input.spec()?;
    let who = input.who();
    let ns = input.namespace;
    let dc_name = task.cassandra_datacenter.as_ref();
    require_datacenter(RuleId::T1, who, ns, dc_name, checks).await;
    if task.operation == Operation::PrepareRestore {
        match task.backup_name.as_deref().filter(|b| !b.is_empty()) {
            None => checks.deny(
                RuleId::T1,
                format!("{who}: a prepare_restore task needs spec.backupName: set it to the MedusaBackup to prepare"),
            ),
            Some(backup) => {
                let lookup = checks
                    .view
                    .get::<MedusaBackup>(ns, backup, Expect::Exists)
                    .await;
                let _ = checks.require(
                    RuleId::T1,
                    lookup,
                    || format!("that MedusaBackup {backup:?} exists"),
                    || format!(
                        "{who}: MedusaBackup {backup:?} not found in namespace {ns}; list the backups (kubectl medusa backup list) or run a sync first"
                    ),
                );
            }
        }
        if task.restore_key.as_deref().is_none_or(str::is_empty) {
            checks.deny(
                RuleId::T1,
                format!("{who}: a prepare_restore task needs spec.restoreKey: set it to the key of the restore to prepare (any unique string, such as a UUID)"),
            );
        }
    }
    if let Lookup::Found(tasks) = checks.view.list::<MedusaTask>(ns).await {
        let running: Vec<String> = tasks
            .iter()
            .filter(|t| {
                t.spec.cassandra_datacenter == dc_name && t.spec.operation == task.operation
            })
            .filter(|t| t.metadata.name.as_deref() != Some(input.name))
            .filter(|t| still_running(t.status.as_ref().and_then(|s| s.finish_time.as_ref())))
            .filter_map(|t| t.metadata.name.clone())
            .collect();
        if !running.is_empty() {
            checks.warn(
                RuleId::T1,
                format!(
                    "{who}: a {} of datacenter {dc_name:?} is still running ({}): both will run",
                    task.operation,
                    name_list(&running, 3)
                ),
            );
        }
    }
    Ok(())
}

// === impl JM and TM ===

/// The labels a job or task should carry: the datacenter's, and its schedule's.
async fn wanted_labels(
    name: Option<&str>,
    namespace: &str,
    dc: &str,
    view: &impl ClusterView,
) -> Vec<(&'static str, String)> {
    // In key order, as the patch lists them: the datacenter's, then the schedule's.
    let mut wanted = Vec::with_capacity(3);
    if let Lookup::Found(dc) = view
        .get::<CassandraDatacenter>(namespace, dc, Expect::Exists)
        .await
    {
        wanted.extend(datacenter_label_pairs(&dc));
    }
    let Some((name, schedule_name)) =
        name.and_then(|name| Some((name, parse_scheduled_job_name(name)?.0)))
    else {
        return wanted;
    };
    // A schedule exists long before the jobs it starts, and most jobs are not its runs: what
    // the view holds is enough (a live lookup would cost every `<dc>-<timestamp>` job one).
    if let Lookup::Found(schedule) = view
        .get::<MedusaBackupSchedule>(namespace, schedule_name, Expect::Either)
        .await
        && scheduled_run_second(name, &schedule).is_some()
    {
        wanted.push((SCHEDULE_LABEL, schedule_name.to_owned()));
    }
    wanted
}

/// The keys of a labels map, borrowed from the request (a label that is set is kept whatever
/// its value; the values are still read as strings, as the API server has them).
struct LabelKeys<'a>(Vec<Cow<'a, str>>);

/// A label key or value, borrowed unless it holds escapes.
#[derive(Deserialize)]
struct LabelText<'a>(#[serde(borrow)] Cow<'a, str>);

impl LabelKeys<'_> {
    fn contains(&self, key: &str) -> bool {
        self.0.iter().any(|k| k == key)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for LabelKeys<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Keys<'a>(std::marker::PhantomData<&'a ()>);

        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Keys<'a> {
            type Value = LabelKeys<'a>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of labels")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut keys = Vec::with_capacity(map.size_hint().unwrap_or(4));
                while let Some((LabelText(key), LabelText(_))) = map.next_entry()? {
                    keys.push(key);
                }
                Ok(LabelKeys(keys))
            }
        }

        deserializer.deserialize_map(Keys(std::marker::PhantomData))
    }
}

pub(super) async fn mutate_labels(
    input: &AdmissionInput<'_>,
    view: &impl ClusterView,
    rule: RuleId,
) -> Result<Mutation, Finding> {
    // A MedusaBackupJob and a MedusaTask both name their datacenter in spec.cassandraDatacenter.
    let object = input.required(input.object, "object")?;
    let spec: DatacenterSpec = input.spec()?;
    let labels: Option<LabelKeys<'_>> = match object.metadata.labels {
        Some(text) => decode(input, text, "labels of the object")?,
        None => None,
    };
    let missing: Vec<(&'static str, String)> = wanted_labels(
        object.metadata.name.as_deref(),
        input.namespace,
        &spec.cassandra_datacenter,
        view,
    )
    .await
    .into_iter()
    .filter(|(k, _)| labels.as_ref().is_none_or(|labels| !labels.contains(k)))
    .collect();
    if missing.is_empty() {
        return Ok(Mutation::default());
    }
    let patch = if labels.is_none() {
        vec![PatchOperation::Add(AddOperation {
            path: PointerBuf::from_tokens(["metadata", "labels"]),
            value: Value::Object(
                missing
                    .into_iter()
                    .map(|(key, value)| (key.to_owned(), Value::String(value)))
                    .collect(),
            ),
        })]
    } else {
        missing
            .into_iter()
            .map(|(key, value)| {
                PatchOperation::Add(AddOperation {
                    path: PointerBuf::from_tokens(["metadata", "labels", key]),
                    value: Value::String(value),
                })
            })
            .collect()
    };
    Ok(Mutation {
        patch,
        fired: vec![rule],
        warnings: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_keys_are_read_borrowed_and_escaped_ones_unescaped() {
        let keys: LabelKeys<'_> =
            serde_json::from_str(r#"{"team":"data","a\/b":"c","empty":""}"#).unwrap();
        assert!(keys.contains("team") && keys.contains("a/b") && keys.contains("empty"));
        assert!(!keys.contains("a\\/b") && !keys.contains("data"));
        assert!(matches!(keys.0[0], Cow::Borrowed("team")));
    }

    #[test]
    fn labels_with_a_value_that_is_not_a_string_cannot_be_read() {
        assert!(serde_json::from_str::<LabelKeys<'_>>(r#"{"team":5}"#).is_err());
        assert!(serde_json::from_str::<LabelKeys<'_>>(r#"["team"]"#).is_err());
    }
}
