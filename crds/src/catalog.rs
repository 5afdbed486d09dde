//! Backups as users think of them: a MedusaBackupJob joined with its MedusaBackup record (same
//! name), or a record alone (imported by a sync).

use std::collections::BTreeMap;

use crate::backup::parse_human_size;
use crate::naming::scheduled_run;
use crate::operator::meaningful;
use crate::rules::ObjectKey;
use crate::status::task_status;
use crate::status::{DerivedStatus, Graces, Phase, backup_job_status, backup_status};
use crate::{
    MedusaBackup, MedusaBackupJob, MedusaBackupSchedule, MedusaTask, Operation, OperationType,
};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Where a backup came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Origin {
    /// A MedusaBackupJob of this cluster.
    Job,
    /// Imported by a sync (no job here: taken by another cluster, or its job was deleted).
    Sync,
}

/// One backup.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupRow {
    /// Namespace.
    pub namespace: String,
    /// Name (the job's, the record's and the backup's in storage).
    pub name: String,
    /// The datacenter.
    pub datacenter: String,
    /// differential or full.
    pub backup_type: String,
    /// Where it came from.
    pub origin: Origin,
    /// The derived status.
    pub status: DerivedStatus,
    /// Bytes, parsed from the record's human size.
    pub size_bytes: Option<u64>,
    /// The record's human size.
    pub size: Option<String>,
    /// Files.
    pub files: Option<i64>,
    /// Nodes completed and total.
    pub nodes: Option<(i32, i32)>,
    /// The job.
    #[serde(skip)]
    pub job: Option<MedusaBackupJob>,
    /// The record.
    #[serde(skip)]
    pub backup: Option<MedusaBackup>,
}

impl BackupRow {
    /// When it started (job or record).
    pub fn started(&self) -> Option<DateTime<Utc>> {
        self.status.started
    }

    /// When it finished.
    pub fn finished(&self) -> Option<DateTime<Utc>> {
        self.status.finished
    }

    /// Whether it can be restored from: succeeded with every node.
    pub fn restorable(&self) -> bool {
        self.status.phase == Phase::Succeeded
            && self.nodes.is_none_or(|(done, total)| done == total)
    }
}

fn key(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> ObjectKey {
    ObjectKey::new(
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

/// Joins jobs and records by namespace and name.
pub fn backup_rows(
    jobs: Vec<MedusaBackupJob>,
    backups: Vec<MedusaBackup>,
    now: DateTime<Utc>,
) -> Vec<BackupRow> {
    let mut records: BTreeMap<ObjectKey, MedusaBackup> =
        backups.into_iter().map(|b| (key(&b.metadata), b)).collect();
    let mut rows = Vec::new();
    for job in jobs {
        let k = key(&job.metadata);
        let backup = records.remove(&k);
        let status = backup_job_status(&job, backup.as_ref(), now, Graces::default());
        rows.push(row(k, Origin::Job, status, Some(job), backup));
    }
    for (k, backup) in records {
        let status = backup_status(&backup, now, Graces::default());
        rows.push(row(k, Origin::Sync, status, None, Some(backup)));
    }
    rows
}

fn row(
    ObjectKey { namespace, name }: ObjectKey,
    origin: Origin,
    status: DerivedStatus,
    job: Option<MedusaBackupJob>,
    backup: Option<MedusaBackup>,
) -> BackupRow {
    let record = backup.as_ref().and_then(|b| b.status.as_ref());
    let datacenter = job
        .as_ref()
        .map(|j| j.spec.cassandra_datacenter.clone())
        .or_else(|| backup.as_ref().map(|b| b.spec.cassandra_datacenter.clone()))
        .unwrap_or_default();
    let backup_type = job
        .as_ref()
        .map(|j| j.spec.backup_type())
        .or_else(|| backup.as_ref().and_then(|b| b.spec.backup_type.clone()))
        .unwrap_or_default()
        .to_string();
    BackupRow {
        namespace,
        name,
        datacenter,
        backup_type,
        origin,
        size: record.and_then(|s| s.total_size.clone()),
        size_bytes: record
            .and_then(|s| s.total_size.as_deref())
            .and_then(parse_human_size),
        files: record.and_then(|s| s.total_files),
        nodes: record.and_then(|s| Some((s.finished_nodes?, s.total_nodes?))),
        status,
        job,
        backup,
    }
}

/// The newest restorable backup of a datacenter (by finish time, then start time).
pub fn latest<'a>(rows: &'a [BackupRow], dc: &str) -> Option<&'a BackupRow> {
    rows.iter()
        .filter(|r| r.datacenter == dc && r.restorable())
        .max_by_key(|r| (r.finished().or(r.started()), r.name.clone()))
}

/// When a record's backup started, for sorting records without a job.
pub fn record_started(backup: &MedusaBackup) -> Option<DateTime<Utc>> {
    meaningful(backup.status.as_ref().and_then(|s| s.start_time.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::instant;

    fn now() -> DateTime<Utc> {
        instant("2024-05-01T12:00:00Z")
    }

    #[test]
    fn jobs_and_records_join_by_name() {
        let jobs = vec![
            MedusaBackupJob::test("a")
                .started("2024-05-01T10:00:00Z")
                .finished_at("2024-05-01T10:05:00Z")
                .finished_pods(&["p"]),
            MedusaBackupJob::test("running")
                .started("2024-05-01T11:59:00Z")
                .in_progress(&["p"]),
        ];
        let backups = vec![
            MedusaBackup::test("a"),
            MedusaBackup::test("imported").synced(),
        ];
        let rows = backup_rows(jobs, backups, now());
        let by_name: BTreeMap<&str, &BackupRow> =
            rows.iter().map(|r| (r.name.as_str(), r)).collect();
        assert_eq!(by_name["a"].origin, Origin::Job);
        assert_eq!(by_name["a"].status.phase, Phase::Succeeded);
        assert_eq!(by_name["a"].size_bytes, Some(130_560));
        assert_eq!(by_name["running"].status.phase, Phase::Running);
        assert_eq!(by_name["imported"].origin, Origin::Sync);
        assert_eq!(by_name["imported"].size, None);
    }

    #[test]
    fn latest_is_the_newest_restorable_backup_of_the_datacenter() {
        let backups = vec![
            MedusaBackup::test("old").times("2024-04-01T00:00:00Z", Some("2024-04-01T00:05:00Z")),
            MedusaBackup::test("new").times("2024-04-30T00:00:00Z", Some("2024-04-30T00:05:00Z")),
            MedusaBackup::test("newer-incomplete")
                .times("2024-05-01T00:00:00Z", Some("2024-05-01T00:05:00Z"))
                .nodes(2, 3),
            MedusaBackup::test("other-dc")
                .dc("dc2")
                .times("2024-05-01T01:00:00Z", Some("2024-05-01T01:05:00Z")),
        ];
        let rows = backup_rows(Vec::new(), backups, now());
        assert_eq!(latest(&rows, "dc1").unwrap().name, "new");
        assert!(latest(&rows, "dc9").is_none());
    }
}

/// A run of a schedule (see [`scheduled_run`]: a backup made by hand under a name of that
/// shape is not one).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleRun {
    /// The job's or task's name.
    pub name: String,
    /// When it ran, in Unix seconds.
    pub unix: i64,
    /// Its derived status.
    pub status: DerivedStatus,
}

/// The runs of one schedule among these backups (a backup schedule's) or tasks (a purge
/// schedule's), newest first.
pub fn schedule_runs(
    schedule: &MedusaBackupSchedule,
    backups: &[BackupRow],
    tasks: &[MedusaTask],
    now: DateTime<Utc>,
) -> Vec<ScheduleRun> {
    let mut runs: Vec<ScheduleRun> = match schedule.spec.operation() {
        OperationType::Purge => tasks
            .iter()
            .filter(|t| t.spec.operation == Operation::Purge)
            .filter_map(|task| {
                Some(ScheduleRun {
                    unix: scheduled_run(&task.metadata, schedule)?,
                    name: task.metadata.name.clone().unwrap_or_default(),
                    status: task_status(task, now, Graces::default()),
                })
            })
            .collect(),
        _ => backups
            .iter()
            .filter_map(|row| {
                Some(ScheduleRun {
                    unix: scheduled_run(&row.job.as_ref()?.metadata, schedule)?,
                    name: row.name.clone(),
                    status: row.status.clone(),
                })
            })
            .collect(),
    };
    runs.sort_by_key(|r| std::cmp::Reverse(r.unix));
    runs
}
