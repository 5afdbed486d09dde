//! Names and labels the operator relies on, computed exactly as it does.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::types::{
    BackupType, CassandraDatacenter, K8ssandraCluster, MedusaBackupJob, MedusaBackupJobSpec,
    MedusaBackupSchedule, MedusaBackupScheduleSpec, MedusaTask, Operation, OperationType,
};

/// cass-operator's cluster label: the cleaned Cassandra cluster name.
pub const CLUSTER_LABEL: &str = "cassandra.datastax.com/cluster";
/// cass-operator's datacenter label: the cleaned CassandraDatacenter object name.
pub const DATACENTER_LABEL: &str = "cassandra.datastax.com/datacenter";
/// The label every object we create carries.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Its value.
pub const MANAGED_BY: &str = "kubectl-medusa";
/// The schedule a job was created from (set by our webhook and plugin, not by the operator).
pub const SCHEDULE_LABEL: &str = "medusa.k8ssandra.io/schedule";
/// Annotation that lets a K8ssandraCluster change its effective bucket, host or prefix while
/// backups exist.
pub const ALLOW_STORAGE_CHANGE_ANNOTATION: &str = "medusa.k8ssandra.io/allow-storage-change";

/// Labels of the purge schedule the operator maintains.
pub const CLEANED_UP_BY_LABEL: &str = "k8ssandra.io/cleaned-up-by";
/// Value of [`CLEANED_UP_BY_LABEL`].
pub const CLEANED_UP_BY: &str = "k8ssandracluster-controller";
/// The owning K8ssandraCluster's name.
pub const CLUSTER_NAME_LABEL: &str = "k8ssandra.io/cluster-name";
/// The owning K8ssandraCluster's namespace.
pub const CLUSTER_NAMESPACE_LABEL: &str = "k8ssandra.io/cluster-namespace";

/// cass-operator's `CleanLabelValue`: spaces removed, then only the runs that form valid label
/// values (`(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?`) kept and joined.
pub fn clean_label_value(value: &str) -> String {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    let inner = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    // Already a label value (the usual case): one run, kept whole.
    let bytes = value.as_bytes();
    if bytes.first().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.last().is_some_and(|b| b.is_ascii_alphanumeric())
        && value.chars().all(inner)
    {
        return value.to_owned();
    }
    let chars: Vec<char> = value.chars().filter(|c| *c != ' ').collect();
    keep_runs(&chars, alnum, inner, alnum)
}

/// The maximal runs of `inner` characters that begin with a `start` character, each cut back
/// to its last `end` character, one after the other (the regular-expression matches the
/// operator's Go code concatenates).
fn keep_runs(
    chars: &[char],
    start: impl Fn(char) -> bool,
    inner: impl Fn(char) -> bool,
    end: impl Fn(char) -> bool,
) -> String {
    let mut out = String::new();
    let mut rest = chars;
    while let Some(run) = rest
        .iter()
        .position(|c| start(*c))
        .and_then(|at| rest.get(at..))
    {
        let len = run.iter().take_while(|c| inner(**c)).count();
        // The start character is itself an end character: a run keeps at least it.
        let kept = run
            .get(..len)
            .and_then(|r| r.iter().rposition(|c| end(*c)))
            .map_or(1, |last| last + 1);
        out.extend(run.get(..kept).unwrap_or_default());
        rest = run.get(kept..).unwrap_or_default();
    }
    out
}

/// Whether a string is a DNS-1035 label (`[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63 chars).
pub fn is_dns1035_label(value: &str) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.first().is_some_and(u8::is_ascii_lowercase)
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.last().is_some_and(|b| *b != b'-')
}

/// cass-operator's `CleanupForKubernetes`: unchanged when a DNS-1035 label, else lower-cased,
/// `_` turned into `-`, and only the runs matching `[a-z]([-a-z0-9]*[a-z0-9])?` kept.
pub fn cleanup_for_kubernetes(input: &str) -> String {
    if is_dns1035_label(input) {
        return input.to_owned();
    }
    let chars: Vec<char> = input.to_lowercase().replace('_', "-").chars().collect();
    keep_runs(
        &chars,
        |c| c.is_ascii_lowercase(),
        |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
        |c| c.is_ascii_lowercase() || c.is_ascii_digit(),
    )
}

/// The labels cass-operator's `GetDatacenterLabels` gives a datacenter, in key order; the
/// operator's schedule concurrency policy counts only jobs that carry them.
pub fn datacenter_label_pairs(dc: &CassandraDatacenter) -> [(&'static str, String); 2] {
    [
        (CLUSTER_LABEL, clean_label_value(&dc.spec.cluster_name)),
        (
            DATACENTER_LABEL,
            clean_label_value(dc.metadata.name.as_deref().unwrap_or("")),
        ),
    ]
}

/// [`datacenter_label_pairs`], as a labels map.
pub fn datacenter_labels(dc: &CassandraDatacenter) -> BTreeMap<String, String> {
    datacenter_label_pairs(dc)
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
}

/// Whether labels include the datacenter's labels with the same values.
pub fn carries_labels(
    labels: Option<&BTreeMap<String, String>>,
    wanted: &BTreeMap<String, String>,
) -> bool {
    labels.is_some_and(|labels| wanted.iter().all(|(k, v)| labels.get(k) == Some(v)))
}

/// The name the operator gives a scheduled job: `<schedule>-<unix seconds>`.
pub fn scheduled_job_name(schedule: &str, at: DateTime<Utc>) -> String {
    format!("{schedule}-{}", at.timestamp())
}

/// Splits a `<schedule>-<digits>` name into the schedule's name and the Unix seconds.
pub fn parse_scheduled_job_name(name: &str) -> Option<(&str, i64)> {
    let (schedule, digits) = name.rsplit_once('-')?;
    if schedule.is_empty() || digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((schedule, digits.parse().ok()?))
}

/// The Unix second of the run of `schedule` that a job or task named `name` is, from its name
/// alone: the operator names a scheduled run `<schedule>-<unix seconds>` of the moment it
/// creates it (`controllers/medusa/medusabackupschedule_controller.go`) and gives it only the
/// datacenter labels and no owner. A name of that shape with a time before the schedule's
/// `creationTimestamp` was given by hand (a backup `nightly-1` made before `schedule create
/// nightly`), so it is not a run.
pub fn scheduled_run_second(name: &str, schedule: &MedusaBackupSchedule) -> Option<i64> {
    let (prefix, unix) = parse_scheduled_job_name(name)?;
    let created = schedule
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|t| t.0.as_second());
    (Some(prefix) == schedule.metadata.name.as_deref() && created.is_none_or(|c| unix >= c))
        .then_some(unix)
}

/// When the job or task with this metadata ran as a run of `schedule`, or `None` when it is
/// not one of its runs: in the schedule's namespace, and named as its run
/// ([`scheduled_run_second`]) or labelled with it ([`SCHEDULE_LABEL`], set by `kubectl medusa
/// schedule run` and by medusa-webhook on runs it recognises; then its creation time).
pub fn scheduled_run(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    schedule: &MedusaBackupSchedule,
) -> Option<i64> {
    if meta.namespace != schedule.metadata.namespace {
        return None;
    }
    if let Some(unix) = meta
        .name
        .as_deref()
        .and_then(|name| scheduled_run_second(name, schedule))
    {
        return Some(unix);
    }
    let labelled = meta
        .labels
        .as_ref()
        .and_then(|l| l.get(SCHEDULE_LABEL))
        .is_some_and(|s| Some(s) == schedule.metadata.name.as_ref());
    if labelled {
        meta.creation_timestamp.as_ref().map(|t| t.0.as_second())
    } else {
        None
    }
}

/// The name of the follow-up sync the operator creates when a purge task completes.
pub fn purge_sync_task_name(purge_task: &str) -> String {
    format!("{purge_task}-sync")
}

/// Our default backup name: `<dc>-<YYYYMMDDHHMMSS>` in UTC.
pub fn default_backup_name(dc: &str, at: DateTime<Utc>) -> String {
    format!("{dc}-{}", at.format("%Y%m%d%H%M%S"))
}

/// The name of the purge schedule the operator maintains for a datacenter:
/// `<SanitizedName>-<DatacenterName>-medusa-purge`.
pub fn purge_schedule_name(cluster: &K8ssandraCluster, cassandra_dc_name: &str) -> String {
    format!(
        "{}-{cassandra_dc_name}-medusa-purge",
        cleanup_for_kubernetes(&cluster.cass_cluster_name())
    )
}

/// The purge schedule the operator reconciles for one datacenter of a cluster (when
/// `purgeBackups` is nil or true), as it creates it.
///
/// It passes the Cassandra datacenter name where its controller expects the object name: with
/// a `datacenterName` override, this schedule cannot find its datacenter.
pub fn operator_purge_schedule(
    cluster: &K8ssandraCluster,
    dc_object_name: &str,
) -> Option<MedusaBackupSchedule> {
    let dc = cluster.datacenter(dc_object_name)?;
    let cassandra_name = dc.cassandra_name();
    let namespace = dc.namespace_in(cluster.namespace_or_default()).to_owned();
    let mut schedule = MedusaBackupSchedule::new(
        &purge_schedule_name(cluster, cassandra_name),
        MedusaBackupScheduleSpec {
            cron_schedule: "0 0 * * *".into(),
            backup_spec: MedusaBackupJobSpec {
                cassandra_datacenter: cassandra_name.to_owned(),
                backup_type: Some(BackupType::Differential),
                ..MedusaBackupJobSpec::default()
            },
            operation_type: Some(OperationType::Purge),
            ..MedusaBackupScheduleSpec::default()
        },
    );
    schedule.metadata.namespace = Some(namespace);
    schedule.metadata.labels = Some(BTreeMap::from([
        (CLEANED_UP_BY_LABEL.to_owned(), CLEANED_UP_BY.to_owned()),
        (
            CLUSTER_NAME_LABEL.to_owned(),
            cluster.metadata.name.clone().unwrap_or_default(),
        ),
        (
            CLUSTER_NAMESPACE_LABEL.to_owned(),
            cluster.namespace_or_default().to_owned(),
        ),
    ]));
    Some(schedule)
}

/// The jobs a `Forbid` schedule counts as active, exactly as the operator counts them: same
/// namespace, carrying the datacenter labels, and an empty `finishTime`; for a purge schedule,
/// purge MedusaTasks instead of MedusaBackupJobs. A non-empty result postpones the run.
pub fn forbid_blockers(
    schedule: &MedusaBackupSchedule,
    dc: &CassandraDatacenter,
    jobs: &[MedusaBackupJob],
    tasks: &[MedusaTask],
) -> Vec<String> {
    let labels = datacenter_labels(dc);
    let namespace = schedule.metadata.namespace.as_deref();
    match schedule.spec.operation() {
        OperationType::Purge => tasks
            .iter()
            .filter(|t| t.metadata.namespace.as_deref() == namespace)
            .filter(|t| t.spec.operation == Operation::Purge)
            .filter(|t| carries_labels(t.metadata.labels.as_ref(), &labels))
            .filter(|t| {
                crate::operator::still_running(
                    t.status.as_ref().and_then(|s| s.finish_time.as_ref()),
                )
            })
            .filter_map(|t| t.metadata.name.clone())
            .collect(),
        _ => jobs
            .iter()
            .filter(|j| j.metadata.namespace.as_deref() == namespace)
            .filter(|j| carries_labels(j.metadata.labels.as_ref(), &labels))
            .filter(|j| {
                crate::operator::still_running(
                    j.status.as_ref().and_then(|s| s.finish_time.as_ref()),
                )
            })
            .filter_map(|j| j.metadata.name.clone())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::instant;

    #[test]
    fn clean_label_value_keeps_valid_label_runs() {
        assert_eq!(clean_label_value("demo"), "demo");
        assert_eq!(clean_label_value("Test Cluster"), "TestCluster");
        assert_eq!(clean_label_value("my_cluster!"), "my_cluster");
        assert_eq!(clean_label_value("-abc-"), "abc");
        assert_eq!(clean_label_value("a!b"), "ab");
        assert_eq!(clean_label_value("a.b-c_d"), "a.b-c_d");
        assert_eq!(clean_label_value("a"), "a");
        assert_eq!(clean_label_value(""), "");
        assert_eq!(clean_label_value("dc-é1"), "dc1");
        assert_eq!(clean_label_value("a..b"), "a..b");
        assert_eq!(clean_label_value("été"), "t");
        assert_eq!(clean_label_value(""), "");
    }

    #[test]
    fn cleanup_for_kubernetes_keeps_valid_names() {
        assert_eq!(cleanup_for_kubernetes("demo"), "demo");
        assert_eq!(cleanup_for_kubernetes("demo-1"), "demo-1");
    }

    #[test]
    fn cleanup_for_kubernetes_repairs_invalid_names() {
        assert_eq!(cleanup_for_kubernetes("Test_Cluster"), "test-cluster");
        assert_eq!(cleanup_for_kubernetes("Test Cluster"), "testcluster");
        assert_eq!(cleanup_for_kubernetes("1abc"), "abc");
        assert_eq!(cleanup_for_kubernetes("abc-"), "abc");
    }

    #[test]
    fn datacenter_labels_use_the_cleaned_cluster_name_and_object_name() {
        let dc = CassandraDatacenter::test("dc1").cluster("Test Cluster");
        let labels = datacenter_labels(&dc);
        assert_eq!(labels[CLUSTER_LABEL], "TestCluster");
        assert_eq!(labels[DATACENTER_LABEL], "dc1");
    }

    #[test]
    fn datacenter_label_ignores_the_cassandra_name_override() {
        let dc = CassandraDatacenter::test("dc1").with_datacenter_name("DC One");
        assert_eq!(datacenter_labels(&dc)[DATACENTER_LABEL], "dc1");
    }

    #[test]
    fn scheduled_job_names_are_schedule_and_unix_seconds() {
        let name = scheduled_job_name("medusa-backup-schedule", instant("2022-07-24T01:30:00Z"));
        assert_eq!(name, "medusa-backup-schedule-1658626200");
        assert_eq!(
            parse_scheduled_job_name(&name),
            Some(("medusa-backup-schedule", 1_658_626_200))
        );
    }

    fn nightly_created_at(at: &str) -> MedusaBackupSchedule {
        MedusaBackupSchedule::test("nightly").created(at)
    }

    #[test]
    fn a_job_named_after_the_schedule_with_a_time_after_its_creation_is_a_run() {
        let schedule = nightly_created_at("2024-05-01T00:00:00Z");
        let job = MedusaBackupJob::test("nightly-1714527000");
        assert_eq!(scheduled_run(&job.metadata, &schedule), Some(1_714_527_000));
    }

    #[test]
    fn a_job_named_like_a_run_before_the_schedule_existed_was_made_by_hand() {
        let schedule = nightly_created_at("2024-05-01T00:00:00Z");
        let job = MedusaBackupJob::test("nightly-1");
        assert_eq!(scheduled_run(&job.metadata, &schedule), None);
        assert_eq!(scheduled_run_second("nightly-1", &schedule), None);
    }

    #[test]
    fn a_run_at_the_second_of_the_schedules_creation_counts() {
        let schedule = nightly_created_at("2024-05-01T00:00:00Z");
        assert_eq!(
            scheduled_run_second("nightly-1714521600", &schedule),
            Some(1_714_521_600)
        );
    }

    #[test]
    fn a_job_of_another_schedule_or_namespace_is_not_a_run() {
        let schedule = nightly_created_at("2024-05-01T00:00:00Z");
        let other = MedusaBackupJob::test("weekly-1714527000");
        assert_eq!(scheduled_run(&other.metadata, &schedule), None);
        let elsewhere = MedusaBackupJob::test("nightly-1714527000").namespace("other");
        assert_eq!(scheduled_run(&elsewhere.metadata, &schedule), None);
    }

    #[test]
    fn a_job_labelled_with_the_schedule_is_a_run_at_its_creation() {
        let schedule = nightly_created_at("2024-05-01T00:00:00Z");
        let job = MedusaBackupJob::test("adhoc")
            .label(SCHEDULE_LABEL, "nightly")
            .created("2024-05-01T12:00:00Z");
        assert_eq!(scheduled_run(&job.metadata, &schedule), Some(1_714_564_800));
    }

    #[test]
    fn names_without_a_numeric_suffix_are_not_scheduled_names() {
        assert_eq!(parse_scheduled_job_name("nightly"), None);
        assert_eq!(parse_scheduled_job_name("dc1-backup"), None);
        assert_eq!(parse_scheduled_job_name("-123"), None);
        assert_eq!(parse_scheduled_job_name("a-12x"), None);
    }

    #[test]
    fn purge_follow_up_sync_is_named_after_the_task() {
        assert_eq!(
            purge_sync_task_name("nightly-1658626200"),
            "nightly-1658626200-sync"
        );
    }

    #[test]
    fn default_backup_names_use_utc_timestamps() {
        assert_eq!(
            default_backup_name("dc1", instant("2024-05-01T10:02:03Z")),
            "dc1-20240501100203"
        );
    }

    #[test]
    fn purge_schedule_uses_the_sanitized_cluster_and_cassandra_dc_names() {
        let cluster = K8ssandraCluster::test("demo")
            .cassandra_cluster_name("Demo_Cluster")
            .add_datacenter("dc2", Some("east"), None, 3);
        let schedule = operator_purge_schedule(&cluster, "dc2").unwrap();
        assert_eq!(
            schedule.metadata.name.as_deref(),
            Some("demo-cluster-dc2-medusa-purge")
        );
        assert_eq!(schedule.metadata.namespace.as_deref(), Some("east"));
        assert_eq!(schedule.spec.cron_schedule, "0 0 * * *");
        assert_eq!(schedule.spec.operation(), OperationType::Purge);
        let labels = schedule.metadata.labels.unwrap();
        assert_eq!(labels[CLEANED_UP_BY_LABEL], "k8ssandracluster-controller");
        assert_eq!(labels[CLUSTER_NAME_LABEL], "demo");
        assert_eq!(labels[CLUSTER_NAMESPACE_LABEL], "k8ssandra");
    }

    #[test]
    fn purge_schedule_of_an_unknown_datacenter_is_none() {
        assert!(operator_purge_schedule(&K8ssandraCluster::test("demo"), "dc9").is_none());
    }

    fn labelled(job: MedusaBackupJob) -> MedusaBackupJob {
        job.label(CLUSTER_LABEL, "demo")
            .label(DATACENTER_LABEL, "dc1")
    }

    #[test]
    fn forbid_counts_unfinished_labelled_jobs() {
        let schedule = MedusaBackupSchedule::test("nightly");
        let dc = CassandraDatacenter::test("dc1");
        let jobs = [
            labelled(MedusaBackupJob::test("running").started("2024-05-01T10:00:00Z")),
            labelled(MedusaBackupJob::test("done").finished_at("2024-05-01T10:05:00Z")),
            MedusaBackupJob::test("unlabelled"),
        ];
        assert_eq!(forbid_blockers(&schedule, &dc, &jobs, &[]), ["running"]);
    }

    #[test]
    fn forbid_counts_a_1970_finish_time_as_finished_like_go() {
        let schedule = MedusaBackupSchedule::test("nightly");
        let dc = CassandraDatacenter::test("dc1");
        let jobs = [labelled(
            MedusaBackupJob::test("epoch").finished_at("1970-01-01T00:00:00Z"),
        )];
        assert!(forbid_blockers(&schedule, &dc, &jobs, &[]).is_empty());
        let zero = labelled(MedusaBackupJob::test("zero")).finished_at("0001-01-01T00:00:00Z");
        assert_eq!(forbid_blockers(&schedule, &dc, &[zero], &[]), ["zero"]);
    }

    #[test]
    fn forbid_on_a_purge_schedule_counts_purge_tasks_only() {
        let schedule = MedusaBackupSchedule::test("purge").purge();
        let dc = CassandraDatacenter::test("dc1");
        let tasks = [
            MedusaTask::test("p", Operation::Purge)
                .label(CLUSTER_LABEL, "demo")
                .label(DATACENTER_LABEL, "dc1"),
            MedusaTask::test("s", Operation::Sync)
                .label(CLUSTER_LABEL, "demo")
                .label(DATACENTER_LABEL, "dc1"),
        ];
        let jobs = [labelled(MedusaBackupJob::test("running"))];
        assert_eq!(forbid_blockers(&schedule, &dc, &jobs, &tasks), ["p"]);
    }
}
