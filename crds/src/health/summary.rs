//! The backup health of every datacenter, as the webhook exports it on `/metrics`: the newest
//! good backup, the last backup's verdict and duration, operations by phase, the running ones
//! with their stall verdict, and the schedules.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::operations::{OperationKind, OperationRecord, operations};
use super::stall::{Stall, StallPolicy, Stalls};
use crate::catalog::{BackupRow, backup_rows};
use crate::cron::CronSchedule;
use crate::operator::meaningful;
use crate::status::{Phase, schedule_state};
use crate::{
    CassandraDatacenter, MedusaBackup, MedusaBackupJob, MedusaBackupSchedule, MedusaRestoreJob,
    MedusaTask, OperationType,
};

/// The objects health is computed from, across namespaces.
#[derive(Clone, Debug, Default)]
pub struct HealthInput {
    /// MedusaBackupJobs.
    pub backup_jobs: Vec<MedusaBackupJob>,
    /// MedusaBackups.
    pub backups: Vec<MedusaBackup>,
    /// MedusaRestoreJobs.
    pub restores: Vec<MedusaRestoreJob>,
    /// MedusaTasks.
    pub tasks: Vec<MedusaTask>,
    /// MedusaBackupSchedules.
    pub schedules: Vec<MedusaBackupSchedule>,
    /// CassandraDatacenters (those with a medusa container count as backed-up datacenters).
    pub datacenters: Vec<CassandraDatacenter>,
}

/// The newest good backup of a datacenter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastSuccess {
    /// Its name.
    pub name: String,
    /// When it finished.
    pub finished: DateTime<Utc>,
    /// Its size in bytes (the record's humanized `totalSize`, parsed); none for synced records.
    pub size_bytes: Option<u64>,
    /// Its files; none for synced records.
    pub files: Option<i64>,
}

/// The backups of one datacenter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatacenterBackups {
    /// Namespace.
    pub namespace: String,
    /// `spec.cassandraDatacenter` (the CassandraDatacenter's name).
    pub datacenter: String,
    /// When its CassandraDatacenter was created, if it is known here.
    pub created: Option<DateTime<Utc>>,
    /// The newest backup that succeeded on all its nodes.
    pub last_success: Option<LastSuccess>,
    /// How long the newest finished backup took.
    pub last_duration: Option<Duration>,
    /// Whether the newest finished backup failed (or is incomplete).
    pub last_failed: Option<bool>,
}

/// How many operations of a kind are in a phase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperationCount {
    /// Namespace.
    pub namespace: String,
    /// Datacenter.
    pub datacenter: String,
    /// Kind.
    pub kind: OperationKind,
    /// Phase.
    pub phase: Phase,
    /// How many.
    pub count: usize,
}

/// An operation running now.
#[derive(Clone, Debug, PartialEq)]
pub struct RunningOperation {
    /// The operation.
    pub record: OperationRecord,
    /// How long it has run.
    pub running_for: Duration,
    /// Its stall verdict.
    pub stall: Option<Stall>,
}

/// A schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleHealth {
    /// Namespace.
    pub namespace: String,
    /// Its name.
    pub schedule: String,
    /// `spec.backupSpec.cassandraDatacenter`.
    pub datacenter: String,
    /// `backup` or `purge`.
    pub operation: &'static str,
    /// The next run, as the operator computes it.
    pub next_run: Option<DateTime<Utc>>,
    /// `status.lastExecution`.
    pub last_execution: Option<DateTime<Utc>>,
    /// `spec.disabled`.
    pub paused: bool,
    /// The time between its next two runs.
    pub interval: Option<Duration>,
}

/// Backup health of everything the input holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Health {
    /// Per datacenter.
    pub datacenters: Vec<DatacenterBackups>,
    /// Operations per phase (only the phases that have some).
    pub counts: Vec<OperationCount>,
    /// Operations running now.
    pub running: Vec<RunningOperation>,
    /// Schedules.
    pub schedules: Vec<ScheduleHealth>,
}

type DcKey = (String, String);

/// Computes the health of everything in `input` at `now`.
pub fn health(input: HealthInput, now: DateTime<Utc>, policy: StallPolicy) -> Health {
    let rows = backup_rows(input.backup_jobs, input.backups, now);
    let records = operations(&rows, &input.restores, &input.tasks, now);
    let stalls = Stalls::new(&records, policy);
    let schedules: Vec<ScheduleHealth> = input
        .schedules
        .iter()
        .map(|s| schedule_health(s, now))
        .collect();
    let mut created: BTreeMap<DcKey, Option<DateTime<Utc>>> = input
        .datacenters
        .iter()
        .filter(|dc| dc.template_has_container(crate::types::cassdc::MEDUSA_CONTAINER))
        .map(|dc| {
            (
                (
                    dc.metadata.namespace.clone().unwrap_or_default(),
                    dc.metadata.name.clone().unwrap_or_default(),
                ),
                meaningful(dc.metadata.creation_timestamp.as_ref()),
            )
        })
        .collect();
    for row in &rows {
        created
            .entry((row.namespace.clone(), row.datacenter.clone()))
            .or_default();
    }
    for schedule in schedules.iter().filter(|s| s.operation == "backup") {
        created
            .entry((schedule.namespace.clone(), schedule.datacenter.clone()))
            .or_default();
    }
    let datacenters = created
        .into_iter()
        .map(|((namespace, datacenter), created)| {
            datacenter_backups(&rows, namespace, datacenter, created)
        })
        .collect();
    Health {
        datacenters,
        counts: counts(&records),
        running: records
            .iter()
            .filter(|r| r.status.phase == Phase::Running)
            .map(|r| RunningOperation {
                running_for: r.status.started.map_or(Duration::zero(), |s| now - s),
                stall: stalls.check(r, now),
                record: r.clone(),
            })
            .collect(),
        schedules,
    }
}

fn datacenter_backups(
    rows: &[BackupRow],
    namespace: String,
    datacenter: String,
    created: Option<DateTime<Utc>>,
) -> DatacenterBackups {
    let mine = || {
        rows.iter()
            .filter(|r| r.namespace == namespace && r.datacenter == datacenter)
    };
    let last_success = mine()
        .filter(|r| r.restorable())
        .filter_map(|r| Some((r.finished()?, r)))
        .max_by(|(a, ra), (b, rb)| (a, &ra.name).cmp(&(b, &rb.name)))
        .map(|(finished, r)| LastSuccess {
            name: r.name.clone(),
            finished,
            size_bytes: r.size_bytes,
            files: r.files,
        });
    let last_finished = mine()
        .filter(|r| matches!(r.status.phase, Phase::Succeeded | Phase::Failed))
        .filter_map(|r| Some((r.finished()?, r)))
        .max_by(|(a, ra), (b, rb)| (a, &ra.name).cmp(&(b, &rb.name)))
        .map(|(_, r)| r);
    DatacenterBackups {
        last_duration: last_finished.and_then(|r| r.status.duration()),
        last_failed: last_finished.map(|r| !r.restorable()),
        namespace,
        datacenter,
        created,
        last_success,
    }
}

fn counts(records: &[OperationRecord]) -> Vec<OperationCount> {
    let mut counts: BTreeMap<(String, String, OperationKind, Phase), usize> = BTreeMap::new();
    for r in records {
        *counts
            .entry((
                r.key.namespace.clone(),
                r.datacenter.clone(),
                r.kind,
                r.status.phase,
            ))
            .or_default() += 1;
    }
    counts
        .into_iter()
        .map(
            |((namespace, datacenter, kind, phase), count)| OperationCount {
                namespace,
                datacenter,
                kind,
                phase,
                count,
            },
        )
        .collect()
}

fn schedule_health(schedule: &MedusaBackupSchedule, now: DateTime<Utc>) -> ScheduleHealth {
    let state = schedule_state(schedule, now);
    let interval = CronSchedule::parse(&schedule.spec.cron_schedule)
        .ok()
        .and_then(|cron| {
            let upcoming = cron.upcoming(now, 2);
            Some(*upcoming.get(1)? - *upcoming.first()?)
        });
    ScheduleHealth {
        namespace: schedule.metadata.namespace.clone().unwrap_or_default(),
        schedule: schedule.metadata.name.clone().unwrap_or_default(),
        datacenter: schedule.spec.backup_spec.cassandra_datacenter.clone(),
        operation: match schedule.spec.operation() {
            OperationType::Purge => "purge",
            _ => "backup",
        },
        next_run: state.next_run,
        last_execution: state.last_execution,
        paused: state.paused,
        interval,
    }
}
