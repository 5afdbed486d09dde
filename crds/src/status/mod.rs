//! One derived status per resource, because the operator gives none.
//!
//! The operator signals completion only by `finishTime`, and failure differently per kind
//! (section 6 of the operator notes). These functions turn the raw fields into Pending, Running
//! (with progress), Succeeded, Failed (with the reason and the pods) or Unknown, and report the
//! anomalies the operator is known to produce, with what they mean and what to do.
//!
//! The operator writes each object in several requests, so a reader sees it between two of
//! them. Every state on the way to a success is Pending or Running with a plain reason, never a
//! verdict; a gap between two writes becomes a failure only when a grace period ([`Graces`])
//! has passed without the next one. The states, in the operator's write order:
//!
//! **MedusaBackupJob and its MedusaBackup** (`controllers/medusa/medusabackupjob_controller.go`)
//!
//! | after the operator's write | the cluster holds | derived |
//! |---|---|---|
//! | (the user creates the job) | no status | Pending: waiting for the operator to start it |
//! | `Update`: ownerReference to the CassandraDatacenter | no status | Pending (NotStarted after [`Graces::start`]: the operator retries an error it does not report) |
//! | status patch: `startTime` | `startTime`, no pod listed | Running: starting the backup on the pods |
//! | status patch: `inProgress` = every pod | pods in progress | Running: backing up on N pod(s) |
//! | status patch per check: pods leave `inProgress` for `finished` or `failed` | progress | Running: backing up on N pod(s) |
//! | (the last pod left `inProgress`) | no pod in progress, no `finishTime` | Running: every pod done; recording the finish time |
//! | status patch: `finishTime`, with `failed` non-empty | | Failed: the backup failed on N of M pod(s) (no MedusaBackup is ever written) |
//! | status patch: `finishTime`, no pod failed | no MedusaBackup yet | Running: recording the backup; Failed (FinishedWithoutBackup) after [`Graces::record`] |
//! | create MedusaBackup (the API server drops a status sent with a create) | a record without status | Running: recording the backup; Failed (BackupRecordWithoutStatus) after [`Graces::record`] |
//! | status patch of the MedusaBackup: Medusa's summary | `status.status` | SUCCESS: Succeeded; FAILED or UNKNOWN: Failed; IN_PROGRESS: Unknown (BackupInProgressAfterJobFinished, cassandra-medusa#965) |
//!
//! **MedusaRestoreJob** (`controllers/medusa/medusarestorejob_controller.go`)
//!
//! | after the operator's write | the cluster holds | derived |
//! |---|---|---|
//! | (the user creates the restore) | no status | Pending |
//! | `Update`: ownerReference (the status it set in memory is not written) | no status | Pending |
//! | `Status().Update` after failed checks: `startTime`, `restoreKey`, `finishTime`, `message` | `message` | Failed, with the operator's message |
//! | status patch: `startTime`, `restoreKey`, `restorePrepared`, `restoreMapping` | prepared | Running 1/3: stopping the datacenter |
//! | status patch: `datacenterStopped` | stopped | Running 2/3: restoring (the datacenter restarts, medusa-restore downloads) |
//! | status patch: `finishTime` | finished | Succeeded 3/3 |
//! | (a later reconcile, after an operator restart) `finishTime` rewritten | finished | Succeeded, with RestoreFinishTimeRewritten |
//!
//! A restore that has `startTime` without `restorePrepared` (never written by today's
//! operator, which writes both at once) is Running 0/3: computing the host mapping.
//!
//! **MedusaTask** (`controllers/medusa/medusatask_controller.go`)
//!
//! | after the operator's write | the cluster holds | derived |
//! |---|---|---|
//! | (the user or a schedule creates the task) | no status | Pending |
//! | `Update`: ownerReference | no status | Pending |
//! | purge, prepare_restore: status patch `startTime`, `inProgress` = every pod | pods in progress | Running: purge running on N pod(s), one after another |
//! | status patch per pod: it leaves `inProgress` for `finished` (with purge counts) or `failed` | progress | Running |
//! | (the last pod is done) | no pod in progress, no `finishTime` | Running: every pod done; recording the finish time (a purge creates `<task>-sync` first) |
//! | status patch: `finishTime` | `failed` non-empty: Failed naming the pods; else Succeeded (TaskRanOnNoPods when no pod ran it) | |
//! | sync: status patch `startTime` | started | Running: listing the backups in storage |
//! | sync: MedusaBackups created and deleted, then status patch `finishTime` with `finished` = the pod that answered | | Succeeded |
//! | sync: no pod answered; the next reconcile patches `finishTime` with `finished` empty | | Failed: the sync reached no pod |
//!
//! **MedusaBackupSchedule**: `status.lastExecution` and `status.nextSchedule` are written
//! before the job `<schedule>-<unix seconds>` is created; see [`schedule_state`] and
//! [`crate::naming::scheduled_run`] for which jobs are a schedule's runs.
//!
//! Unknown is a verdict too (see [`Phase::is_terminal`]): it is derived only where no further
//! write of the operator will change the object.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::operator::meaningful;

mod backup;
mod job;
mod state;

pub use backup::{backup_job_status, backup_status};
pub use job::{restore_status, task_status};
pub use state::{ConfigurationState, ScheduleState, configuration_state, schedule_state};

/// How long the operator may take between two writes it makes in a row before the gap counts
/// as a fault it will not repair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Graces {
    /// After a backup job's `finishTime`, for its MedusaBackup and that record's status. The
    /// operator writes `finishTime`, then asks the pods for Medusa's summary (listing every
    /// backup in storage, slow on large buckets), then creates the record, then patches its
    /// status, all in one reconcile; it never retries once `finishTime` is set.
    pub record: Duration,
    /// After creation, for the operator's first status write. Its first reconcile only adds an
    /// owner reference and requeues after 15 s; longer means it retries an error it does not
    /// report (this only adds the NotStarted anomaly: the object may still start).
    pub start: Duration,
}

impl Default for Graces {
    fn default() -> Self {
        Self {
            record: Duration::minutes(5),
            start: Duration::seconds(120),
        }
    }
}

/// The phase of a job-like resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Phase {
    /// Created, not started by the operator yet.
    Pending,
    /// In progress.
    Running,
    /// Done and successful.
    Succeeded,
    /// Done and failed.
    Failed,
    /// The status does not allow a verdict; see the anomalies.
    Unknown,
}

impl Phase {
    /// Every phase, in the order of a job's life.
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Running,
        Self::Succeeded,
        Self::Failed,
        Self::Unknown,
    ];

    /// Whether this is a verdict: Succeeded, Failed, or Unknown (which is derived only where
    /// no further write of the operator will change the object). `--wait` ends on it.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Unknown)
    }

    /// The lower-case name used by `--status` filters.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pending => "Pending",
            Self::Running => "Running",
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
            Self::Unknown => "Unknown",
        })
    }
}

/// What a progress count counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ProgressUnit {
    /// Cassandra pods.
    Pods,
    /// Nodes of a backup.
    Nodes,
    /// Stages of a restore.
    Steps,
}

impl fmt::Display for ProgressUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pods => "pods",
            Self::Nodes => "nodes",
            Self::Steps => "steps",
        })
    }
}

/// Done out of total.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Done so far.
    pub done: u32,
    /// The total.
    pub total: u32,
    /// What is counted.
    pub unit: ProgressUnit,
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} {}", self.done, self.total, self.unit)
    }
}

/// A known operator quirk seen in an object, with what it means.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "anomaly", rename_all = "camelCase")]
pub enum Anomaly {
    /// `finishTime` holds the zero time or 1970 while pods are still listed as running.
    #[serde(rename_all = "camelCase")]
    ZeroFinishTime {
        /// The value found.
        value: String,
        /// Pods still in progress.
        running_pods: Vec<String>,
    },
    /// `finishTime` is set while pods are still listed in progress.
    #[serde(rename_all = "camelCase")]
    FinishedWithPodsInProgress {
        /// Pods still in progress.
        pods: Vec<String>,
    },
    /// The MedusaBackup says IN_PROGRESS although its job finished on every node.
    BackupInProgressAfterJobFinished,
    /// The job finished without failures but no MedusaBackup was written within the grace.
    #[serde(rename_all = "camelCase")]
    FinishedWithoutBackup {
        /// The job's finishTime.
        finished_at: DateTime<Utc>,
        /// The job's datacenter.
        datacenter: String,
    },
    /// The MedusaBackup exists, but its status was not written within the grace.
    #[serde(rename_all = "camelCase")]
    BackupRecordWithoutStatus {
        /// The record's (and the job's) name.
        name: String,
        /// Its datacenter.
        datacenter: String,
    },
    /// The MedusaBackup says SUCCESS but not every node completed it.
    #[serde(rename_all = "camelCase")]
    IncompleteBackup {
        /// Nodes that completed.
        finished_nodes: i32,
        /// Nodes at the time of the backup.
        total_nodes: i32,
    },
    /// A MedusaBackup says IN_PROGRESS but has a finishTime.
    BackupInProgressWithFinishTime,
    /// The restore's `finishTime` changed after it was first set: the operator reprocessed it.
    #[serde(rename_all = "camelCase")]
    RestoreFinishTimeRewritten {
        /// The earlier value.
        previous: DateTime<Utc>,
        /// The value now.
        current: DateTime<Utc>,
    },
    /// `finishTime` is before `startTime`.
    FinishBeforeStart,
    /// A purge or prepare_restore finished having run on no pod at all.
    TaskRanOnNoPods,
    /// No `startTime` long after creation: the operator retries an error it does not report.
    #[serde(rename_all = "camelCase")]
    NotStarted {
        /// Time since creation, in seconds.
        waiting_seconds: i64,
    },
    /// The schedule's `concurrencyPolicy` is a value the operator does not implement.
    #[serde(rename_all = "camelCase")]
    UnsupportedConcurrencyPolicy {
        /// The value.
        policy: String,
    },
    /// The schedule's `nextSchedule` is in the past: the operator is not running it.
    #[serde(rename_all = "camelCase")]
    ScheduleOverdue {
        /// The overdue `nextSchedule`.
        next_schedule: DateTime<Utc>,
    },
    /// The schedule's cron expression does not parse: the operator makes no progress on it.
    #[serde(rename_all = "camelCase")]
    InvalidCron {
        /// The parser's message.
        error: String,
    },
    /// The schedule's cron expression parses but no date matches it: no backup ever starts.
    CronNeverRuns,
    /// MedusaConfiguration `Ready` is True while `SecretAvailable` is False.
    ReadyButSecretUnavailable,
}

impl Anomaly {
    /// A short stable code for tables and JSON.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ZeroFinishTime { .. } => "ZeroFinishTime",
            Self::FinishedWithPodsInProgress { .. } => "FinishedWithPodsInProgress",
            Self::BackupInProgressAfterJobFinished => "BackupInProgressAfterJobFinished",
            Self::FinishedWithoutBackup { .. } => "FinishedWithoutBackup",
            Self::BackupRecordWithoutStatus { .. } => "BackupRecordWithoutStatus",
            Self::IncompleteBackup { .. } => "IncompleteBackup",
            Self::BackupInProgressWithFinishTime => "BackupInProgressWithFinishTime",
            Self::RestoreFinishTimeRewritten { .. } => "RestoreFinishTimeRewritten",
            Self::FinishBeforeStart => "FinishBeforeStart",
            Self::TaskRanOnNoPods => "TaskRanOnNoPods",
            Self::NotStarted { .. } => "NotStarted",
            Self::UnsupportedConcurrencyPolicy { .. } => "UnsupportedConcurrencyPolicy",
            Self::ScheduleOverdue { .. } => "ScheduleOverdue",
            Self::InvalidCron { .. } => "InvalidCron",
            Self::CronNeverRuns => "CronNeverRuns",
            Self::ReadyButSecretUnavailable => "ReadyButSecretUnavailable",
        }
    }
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroFinishTime { value, running_pods } => write!(
                f,
                "finishTime is {value} (a zero time) while {} pod(s) still run ({}): the job is not finished; ignore finishTime until the pods complete",
                running_pods.len(),
                running_pods.join(", ")
            ),
            Self::FinishedWithPodsInProgress { pods } => write!(
                f,
                "finishTime is set but {} pod(s) are still listed in progress ({}): the status was edited or written out of order; treat the result with care",
                pods.len(),
                pods.join(", ")
            ),
            Self::BackupInProgressAfterJobFinished => f.write_str(
                "Medusa's summary says IN_PROGRESS although every pod finished the backup (cassandra-medusa#965: a leftover node record outside the backup's token map), and nothing updates a MedusaBackup once written; when its finishedNodes equals totalNodes the data is complete and the operator restores from it; to correct the record, upgrade Medusa to a release with the fix, delete the record (the data stays in storage) and run kubectl medusa sync",
            ),
            Self::FinishedWithoutBackup {
                finished_at,
                datacenter,
            } => write!(
                f,
                "the job finished at {} on every pod without a failure, but the operator wrote no MedusaBackup record: it could not get Medusa's summary of the backup from a pod (operator log: \"Failed to get backup summary\") or could not create the record, and it does not retry once finishTime is set; if the backup reached storage, kubectl medusa sync --dc {datacenter} imports it, otherwise back up again",
                finished_at.to_rfc3339()
            ),
            Self::BackupRecordWithoutStatus { name, datacenter } => write!(
                f,
                "the operator created the MedusaBackup {name:?} but never wrote its status (its status patch failed) and it never updates an existing record: delete the record (kubectl medusa backup delete {name}; the data stays in storage), then kubectl medusa sync --dc {datacenter} imports it again with its status"
            ),
            Self::IncompleteBackup {
                finished_nodes,
                total_nodes,
            } => write!(
                f,
                "only {finished_nodes} of {total_nodes} nodes completed this backup: a restore from it is refused (\"target backup has not completed successfully\")"
            ),
            Self::BackupInProgressWithFinishTime => f.write_str(
                "the MedusaBackup says IN_PROGRESS but has a finishTime: Medusa's summary said IN_PROGRESS when the operator wrote it (cassandra-medusa#965), and nothing updates a record once written; when finishedNodes equals totalNodes the data is complete; to correct the record, upgrade Medusa to a release with the fix, delete the record (the data stays in storage) and run kubectl medusa sync",
            ),
            Self::RestoreFinishTimeRewritten { previous, current } => write!(
                f,
                "finishTime moved from {} to {}: the operator reprocessed a finished restore (it does after a restart or a spec edit) and may have stopped the datacenter again",
                previous.to_rfc3339(),
                current.to_rfc3339()
            ),
            Self::FinishBeforeStart => f.write_str(
                "finishTime is before startTime: the status was rewritten; do not trust the timings",
            ),
            Self::TaskRanOnNoPods => f.write_str(
                "the task finished without running on any pod (the datacenter had no pods): nothing was done",
            ),
            Self::NotStarted { waiting_seconds } => write!(
                f,
                "not started {}s after creation: the operator keeps retrying an error it does not report (missing CassandraDatacenter, MedusaBackup or pods, or no medusa container); check them, or the operator logs",
                waiting_seconds
            ),
            Self::UnsupportedConcurrencyPolicy { policy } => write!(
                f,
                "concurrencyPolicy {policy:?} is not implemented by the operator, which then allows concurrent runs; use Allow or Forbid"
            ),
            Self::ScheduleOverdue { next_schedule } => write!(
                f,
                "nextSchedule {} is in the past: the operator is not running this schedule (missing datacenter, or a Forbid schedule blocked by an unfinished job)",
                next_schedule.to_rfc3339()
            ),
            Self::InvalidCron { error } => write!(
                f,
                "the cron expression does not parse ({error}): the operator makes no progress on this schedule"
            ),
            Self::CronNeverRuns => write!(
                f,
                "the cron expression {}; correct spec.cronSchedule",
                crate::cron::CronSchedule::NEVER_RUNS
            ),
            Self::ReadyButSecretUnavailable => f.write_str(
                "Ready is True but SecretAvailable is False: the operator never sets Ready back to False; the storage Secret is missing",
            ),
        }
    }
}

/// The derived status of a job-like resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DerivedStatus {
    /// The phase.
    pub phase: Phase,
    /// Progress while running (and the final count once done).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<Progress>,
    /// Why it failed, or what it is doing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The pods that failed (Failed) or are still working (Running).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pods: Vec<String>,
    /// When it started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started: Option<DateTime<Utc>>,
    /// When it finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished: Option<DateTime<Utc>>,
    /// Known quirks seen in the object.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub anomalies: Vec<Anomaly>,
}

impl DerivedStatus {
    fn new(phase: Phase) -> Self {
        Self {
            phase,
            progress: None,
            reason: None,
            pods: Vec::new(),
            started: None,
            finished: None,
            anomalies: Vec::new(),
        }
    }

    fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// The duration, when started and finished.
    pub fn duration(&self) -> Option<Duration> {
        Some(self.finished? - self.started?)
    }
}

pub(super) fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub(super) fn not_started(
    created: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    graces: Graces,
) -> Option<Anomaly> {
    let waiting = now - created?;
    (waiting > graces.start).then(|| Anomaly::NotStarted {
        waiting_seconds: waiting.num_seconds(),
    })
}

pub(super) fn created(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Option<DateTime<Utc>> {
    meaningful(meta.creation_timestamp.as_ref())
}

pub(super) fn zero_time_text(
    t: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>,
) -> String {
    t.map(|t| crate::wire::to_chrono(t).to_rfc3339())
        .unwrap_or_default()
}
