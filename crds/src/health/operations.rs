//! The operations of a namespace as one list: backup jobs, restores and tasks, each with its
//! datacenter and its derived status.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::catalog::{BackupRow, Origin};
use crate::rules::ObjectKey;
use crate::status::{DerivedStatus, Graces, restore_status, task_status};
use crate::{MedusaRestoreJob, MedusaTask, Operation};

/// What an operation does, as the metrics label it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    /// A MedusaBackupJob.
    Backup,
    /// A MedusaRestoreJob.
    Restore,
    /// A MedusaTask `sync`.
    Sync,
    /// A MedusaTask `purge`.
    Purge,
    /// A MedusaTask `prepare_restore`.
    PrepareRestore,
}

impl OperationKind {
    /// Every kind, in the order of the metrics.
    pub const ALL: [Self; 5] = [
        Self::Backup,
        Self::Restore,
        Self::Sync,
        Self::Purge,
        Self::PrepareRestore,
    ];

    /// The label value (`backup`, `restore`, `sync`, `purge`, `prepare_restore`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Backup => "backup",
            Self::Restore => "restore",
            Self::Sync => "sync",
            Self::Purge => "purge",
            Self::PrepareRestore => "prepare_restore",
        }
    }

    /// The plural a sentence uses ("backups", "prepare_restore tasks").
    pub fn plural(self) -> &'static str {
        match self {
            Self::Backup => "backups",
            Self::Restore => "restores",
            Self::Sync => "syncs",
            Self::Purge => "purges",
            Self::PrepareRestore => "prepare_restore tasks",
        }
    }

    /// The kind of a task's operation; none for an operation this version does not know.
    pub fn of_task(operation: &Operation) -> Option<Self> {
        match operation {
            Operation::Sync => Some(Self::Sync),
            Operation::Purge => Some(Self::Purge),
            Operation::PrepareRestore => Some(Self::PrepareRestore),
            Operation::Unknown(_) => None,
        }
    }
}

/// One operation and its derived status.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationRecord {
    /// Namespace and name of the job or task.
    pub key: ObjectKey,
    /// `spec.cassandraDatacenter`.
    pub datacenter: String,
    /// What it does.
    pub kind: OperationKind,
    /// Its derived status.
    pub status: DerivedStatus,
}

/// The operations among these objects: backup jobs (a record imported by a sync is a backup,
/// not an operation of this cluster), restores and tasks.
pub fn operations(
    backups: &[BackupRow],
    restores: &[MedusaRestoreJob],
    tasks: &[MedusaTask],
    now: DateTime<Utc>,
) -> Vec<OperationRecord> {
    let jobs = backups
        .iter()
        .filter(|row| row.origin == Origin::Job)
        .map(|row| OperationRecord {
            key: ObjectKey::new(row.namespace.clone(), row.name.clone()),
            datacenter: row.datacenter.clone(),
            kind: OperationKind::Backup,
            status: row.status.clone(),
        });
    let restores = restores.iter().map(|job| OperationRecord {
        key: ObjectKey::of(job),
        datacenter: job.spec.cassandra_datacenter.clone(),
        kind: OperationKind::Restore,
        status: restore_status(job, None, now, Graces::default()),
    });
    let tasks = tasks.iter().filter_map(|task| {
        Some(OperationRecord {
            key: ObjectKey::of(task),
            datacenter: task.spec.cassandra_datacenter.clone(),
            kind: OperationKind::of_task(&task.spec.operation)?,
            status: task_status(task, now, Graces::default()),
        })
    });
    jobs.chain(restores).chain(tasks).collect()
}
