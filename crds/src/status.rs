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

use crate::cron::CronSchedule;
use crate::operator::{is_placeholder, meaningful};
use crate::types::configuration::condition_types;
use crate::types::{
    BackupStatus, ConcurrencyPolicy, MedusaBackup, MedusaBackupJob, MedusaBackupSchedule,
    MedusaConfiguration, MedusaRestoreJob, MedusaTask, Operation,
};

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

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn not_started(
    created: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    graces: Graces,
) -> Option<Anomaly> {
    let waiting = now - created?;
    (waiting > graces.start).then(|| Anomaly::NotStarted {
        waiting_seconds: waiting.num_seconds(),
    })
}

fn created(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Option<DateTime<Utc>> {
    meaningful(meta.creation_timestamp.as_ref())
}

fn zero_time_text(t: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>) -> String {
    t.map(|t| crate::wire::to_chrono(t).to_rfc3339())
        .unwrap_or_default()
}

// === impl backups ===

/// A MedusaBackupJob, joined with its MedusaBackup (same name) when it exists.
///
/// Succeeded only when `finishTime` is set, `failed` is empty and the MedusaBackup exists with
/// status SUCCESS; the steps between are in the module's table.
pub fn backup_job_status(
    job: &MedusaBackupJob,
    backup: Option<&MedusaBackup>,
    now: DateTime<Utc>,
    graces: Graces,
) -> DerivedStatus {
    let status = job.status.clone().unwrap_or_default();
    let started = meaningful(status.start_time.as_ref());
    let finished = meaningful(status.finish_time.as_ref());
    let in_progress = status.in_progress().to_vec();
    let failed = status.failed().to_vec();
    let done = status.finished().len() + failed.len();
    let progress = Progress {
        done: count(done),
        total: count(done + in_progress.len()),
        unit: ProgressUnit::Pods,
    };
    let mut anomalies = Vec::new();
    if is_placeholder(status.finish_time.as_ref()) && !in_progress.is_empty() {
        anomalies.push(Anomaly::ZeroFinishTime {
            value: zero_time_text(status.finish_time.as_ref()),
            running_pods: in_progress.clone(),
        });
    }
    if let (Some(s), Some(f)) = (started, finished)
        && f < s
    {
        anomalies.push(Anomaly::FinishBeforeStart);
    }

    let mut out = match (started, finished) {
        (_, Some(finished_at)) => {
            if !in_progress.is_empty() {
                anomalies.push(Anomaly::FinishedWithPodsInProgress {
                    pods: in_progress.clone(),
                });
            }
            if failed.is_empty() {
                let record = Record {
                    job: job.metadata.name.as_deref().unwrap_or_default(),
                    datacenter: &job.spec.cassandra_datacenter,
                    finished_at,
                    overdue: now - finished_at > graces.record,
                };
                record.outcome(backup, &mut anomalies)
            } else {
                let mut out = DerivedStatus::new(Phase::Failed).reason(format!(
                    "the backup failed on {} of {} pod(s): {}",
                    failed.len(),
                    progress.total,
                    failed.join(", ")
                ));
                out.pods = failed;
                out
            }
        }
        (Some(_), None) => {
            let reason = if !in_progress.is_empty() {
                format!("backing up on {} pod(s)", in_progress.len())
            } else if done == 0 {
                // Between the operator's `startTime` patch and its `inProgress` patch: it is
                // calling each pod's Medusa to start the backup.
                "starting the backup on the pods".to_owned()
            } else {
                // The last pod left `inProgress`; the next reconcile writes `finishTime`.
                "every pod done; recording the finish time".to_owned()
            };
            let mut out = DerivedStatus::new(Phase::Running).reason(reason);
            out.pods = in_progress;
            out
        }
        (None, None) => {
            anomalies.extend(not_started(created(&job.metadata), now, graces));
            DerivedStatus::new(Phase::Pending).reason("waiting for the operator to start it")
        }
    };
    if let Some(backup) = backup {
        anomalies.extend(incomplete(backup));
    }
    out.progress = (progress.total > 0).then_some(progress);
    out.started = started;
    out.finished = finished;
    out.anomalies = anomalies;
    out
}

/// What the operator does after a backup job finished on every pod without a failure: it
/// creates the MedusaBackup, then patches the record's status with Medusa's summary.
struct Record<'a> {
    job: &'a str,
    datacenter: &'a str,
    finished_at: DateTime<Utc>,
    /// Whether the record grace has passed since `finishTime`.
    overdue: bool,
}

impl Record<'_> {
    fn outcome(
        &self,
        backup: Option<&MedusaBackup>,
        anomalies: &mut Vec<Anomaly>,
    ) -> DerivedStatus {
        const RECORDING: &str = "recording the backup";
        let Some(backup) = backup else {
            if !self.overdue {
                return DerivedStatus::new(Phase::Running).reason(RECORDING);
            }
            anomalies.push(Anomaly::FinishedWithoutBackup {
                finished_at: self.finished_at,
                datacenter: self.datacenter.to_owned(),
            });
            return DerivedStatus::new(Phase::Failed)
                .reason("every pod finished but the operator wrote no MedusaBackup record");
        };
        match backup.status.as_ref().and_then(|s| s.status.as_ref()) {
            Some(BackupStatus::Success) => DerivedStatus::new(Phase::Succeeded),
            Some(BackupStatus::InProgress) => {
                anomalies.push(Anomaly::BackupInProgressAfterJobFinished);
                DerivedStatus::new(Phase::Unknown)
                    .reason("every pod finished but Medusa's summary says IN_PROGRESS")
            }
            Some(BackupStatus::Failed | BackupStatus::StatusUnknown) => {
                let said = backup
                    .status
                    .as_ref()
                    .and_then(|s| s.status.as_ref())
                    .map_or("", BackupStatus::as_str);
                DerivedStatus::new(Phase::Failed)
                    .reason(format!("every pod finished but Medusa's summary says {said}"))
            }
            Some(BackupStatus::Unknown(other)) => DerivedStatus::new(Phase::Unknown).reason(
                format!("every pod finished but Medusa's summary says {other:?}, a status this plugin does not know"),
            ),
            None if !self.overdue => DerivedStatus::new(Phase::Running).reason(RECORDING),
            None => {
                anomalies.push(Anomaly::BackupRecordWithoutStatus {
                    name: self.job.to_owned(),
                    datacenter: self.datacenter.to_owned(),
                });
                DerivedStatus::new(Phase::Failed)
                    .reason("every pod finished but the operator never wrote the MedusaBackup's status")
            }
        }
    }
}

fn incomplete(backup: &MedusaBackup) -> Option<Anomaly> {
    let status = backup.status.as_ref()?;
    let (finished_nodes, total_nodes) = (status.finished_nodes?, status.total_nodes?);
    (status.status == Some(BackupStatus::Success)
        && total_nodes > 0
        && finished_nodes != total_nodes)
        .then_some(Anomaly::IncompleteBackup {
            finished_nodes,
            total_nodes,
        })
}

/// A MedusaBackup on its own (also those imported by a sync, which have no job).
///
/// The operator writes a record's status right after creating it and never again, so a record
/// still without status after the record grace is a failed recording, and one that says
/// IN_PROGRESS with a `finishTime` will stay so.
pub fn backup_status(backup: &MedusaBackup, now: DateTime<Utc>, graces: Graces) -> DerivedStatus {
    let status = backup.status.clone().unwrap_or_default();
    let started = meaningful(status.start_time.as_ref());
    let finished = meaningful(status.finish_time.as_ref());
    let progress = match (status.finished_nodes, status.total_nodes) {
        (Some(done), Some(total)) if total > 0 => Some(Progress {
            done: u32::try_from(done).unwrap_or(0),
            total: u32::try_from(total).unwrap_or(0),
            unit: ProgressUnit::Nodes,
        }),
        _ => None,
    };
    let mut anomalies = Vec::new();
    let mut out = match status.status.as_ref() {
        Some(BackupStatus::Success) => DerivedStatus::new(Phase::Succeeded),
        Some(BackupStatus::InProgress) if finished.is_some() => {
            anomalies.push(Anomaly::BackupInProgressWithFinishTime);
            DerivedStatus::new(Phase::Unknown)
                .reason("Medusa's summary said IN_PROGRESS when the record was written")
        }
        Some(BackupStatus::InProgress) => {
            DerivedStatus::new(Phase::Running).reason("Medusa reports the backup in progress")
        }
        Some(BackupStatus::Failed | BackupStatus::StatusUnknown) => {
            DerivedStatus::new(Phase::Failed).reason(format!(
                "Medusa reports the backup {}",
                status.status.as_ref().map_or("", BackupStatus::as_str)
            ))
        }
        Some(BackupStatus::Unknown(other)) => DerivedStatus::new(Phase::Unknown).reason(format!(
            "Medusa reports the backup status {other:?}, a status this plugin does not know"
        )),
        None => {
            let overdue = created(&backup.metadata).is_none_or(|c| now - c > graces.record);
            if overdue {
                anomalies.push(Anomaly::BackupRecordWithoutStatus {
                    name: backup.metadata.name.clone().unwrap_or_default(),
                    datacenter: backup.spec.cassandra_datacenter.clone(),
                });
                DerivedStatus::new(Phase::Failed)
                    .reason("the operator never wrote this MedusaBackup's status")
            } else {
                DerivedStatus::new(Phase::Running).reason("recording the backup")
            }
        }
    };
    if let (Some(s), Some(f)) = (started, finished)
        && f < s
    {
        anomalies.push(Anomaly::FinishBeforeStart);
    }
    anomalies.extend(incomplete(backup));
    out.progress = progress;
    out.started = started;
    out.finished = finished;
    out.anomalies = anomalies;
    out
}

// === impl restores ===

/// A MedusaRestoreJob. `previous_finish` is an earlier observation of its `finishTime` (a
/// watch sees it change); a different current value means the operator reprocessed it.
pub fn restore_status(
    job: &MedusaRestoreJob,
    previous_finish: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    graces: Graces,
) -> DerivedStatus {
    let status = job.status.clone().unwrap_or_default();
    let started = meaningful(status.start_time.as_ref());
    let finished = meaningful(status.finish_time.as_ref());
    let prepared = status.restore_prepared.unwrap_or(false);
    let stopped = meaningful(status.datacenter_stopped.as_ref()).is_some();
    let mut anomalies = Vec::new();
    if let (Some(s), Some(f)) = (started, finished)
        && f < s
    {
        anomalies.push(Anomaly::FinishBeforeStart);
    }
    if let (Some(previous), Some(current)) = (previous_finish, finished)
        && previous != current
    {
        anomalies.push(Anomaly::RestoreFinishTimeRewritten { previous, current });
    }
    let steps = count(
        [prepared, stopped, finished.is_some()]
            .iter()
            .filter(|b| **b)
            .count(),
    );
    let mut out = if let Some(message) = status.message() {
        DerivedStatus::new(Phase::Failed).reason(message)
    } else if finished.is_some() {
        DerivedStatus::new(Phase::Succeeded)
    } else if started.is_some() {
        DerivedStatus::new(Phase::Running).reason(if !prepared {
            "computing the host mapping"
        } else if !stopped {
            "stopping the datacenter"
        } else {
            "restoring: the datacenter restarts and medusa-restore downloads the data"
        })
    } else {
        anomalies.extend(not_started(created(&job.metadata), now, graces));
        DerivedStatus::new(Phase::Pending).reason("waiting for the operator to start it")
    };
    if started.is_some() || finished.is_some() {
        out.progress = Some(Progress {
            done: steps,
            total: 3,
            unit: ProgressUnit::Steps,
        });
    }
    out.started = started;
    out.finished = finished;
    out.anomalies = anomalies;
    out
}

// === impl tasks ===

/// A MedusaTask, by operation: a sync fails when it finished with an empty `finished` list;
/// purge and prepare_restore fail when `failed` is non-empty.
pub fn task_status(task: &MedusaTask, now: DateTime<Utc>, graces: Graces) -> DerivedStatus {
    let status = task.status.clone().unwrap_or_default();
    let started = meaningful(status.start_time.as_ref());
    let finished = meaningful(status.finish_time.as_ref());
    let in_progress = status.in_progress().to_vec();
    let failed = status.failed().to_vec();
    let done = status.finished().len() + failed.len();
    let mut anomalies = Vec::new();
    if is_placeholder(status.finish_time.as_ref()) && !in_progress.is_empty() {
        anomalies.push(Anomaly::ZeroFinishTime {
            value: zero_time_text(status.finish_time.as_ref()),
            running_pods: in_progress.clone(),
        });
    }
    if let (Some(s), Some(f)) = (started, finished)
        && f < s
    {
        anomalies.push(Anomaly::FinishBeforeStart);
    }
    let mut out = match (&task.spec.operation, started, finished) {
        (Operation::Unknown(op), _, _) => DerivedStatus::new(Phase::Unknown)
            .reason(format!("operation {op:?} is not one the operator runs")),
        (Operation::Sync, _, Some(_)) => {
            if status.finished().is_empty() {
                let failed_on = if failed.is_empty() {
                    String::new()
                } else {
                    format!(" (failed on {})", failed.join(", "))
                };
                let mut out = DerivedStatus::new(Phase::Failed).reason(format!(
                    "the sync reached no pod{failed_on}: Medusa failed to list the backups on every pod (or the datacenter had none); check the medusa containers and the storage settings"
                ));
                out.pods = failed.clone();
                out
            } else {
                DerivedStatus::new(Phase::Succeeded)
            }
        }
        (_, _, Some(_)) => {
            if !in_progress.is_empty() {
                anomalies.push(Anomaly::FinishedWithPodsInProgress {
                    pods: in_progress.clone(),
                });
            }
            if !failed.is_empty() {
                let mut out = DerivedStatus::new(Phase::Failed).reason(format!(
                    "the {} failed on {} pod(s): {}",
                    task.spec.operation,
                    failed.len(),
                    failed.join(", ")
                ));
                out.pods = failed.clone();
                out
            } else {
                if done == 0 {
                    anomalies.push(Anomaly::TaskRanOnNoPods);
                }
                DerivedStatus::new(Phase::Succeeded)
            }
        }
        (op, Some(_), None) => {
            let reason = match op {
                Operation::Sync => "listing the backups in storage".to_owned(),
                // The last pod is done; the next reconcile writes `finishTime` (a purge first
                // creates its follow-up sync task).
                Operation::Purge if in_progress.is_empty() => format!(
                    "every pod done; creating {} and recording the finish time",
                    crate::naming::purge_sync_task_name(
                        task.metadata.name.as_deref().unwrap_or_default()
                    )
                ),
                _ if in_progress.is_empty() => {
                    "every pod done; recording the finish time".to_owned()
                }
                _ => format!(
                    "{op} running on {} pod(s), one after another",
                    in_progress.len()
                ),
            };
            let mut out = DerivedStatus::new(Phase::Running).reason(reason);
            out.pods = in_progress.clone();
            out
        }
        (_, None, None) => {
            anomalies.extend(not_started(created(&task.metadata), now, graces));
            DerivedStatus::new(Phase::Pending).reason("waiting for the operator to start it")
        }
    };
    if task.spec.operation != Operation::Sync && done + in_progress.len() > 0 {
        out.progress = Some(Progress {
            done: count(done),
            total: count(done + in_progress.len()),
            unit: ProgressUnit::Pods,
        });
    }
    out.started = started;
    out.finished = finished;
    out.anomalies = anomalies;
    out
}

// === impl schedules ===

/// The state of a MedusaBackupSchedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleState {
    /// `spec.disabled`.
    pub paused: bool,
    /// `status.lastExecution`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_execution: Option<DateTime<Utc>>,
    /// The next run, as the operator computes it: the cron's next time after the last
    /// execution (or the creation), or after now when that is already past.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_run: Option<DateTime<Utc>>,
    /// Known quirks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub anomalies: Vec<Anomaly>,
}

/// How late `nextSchedule` may be before the schedule counts as overdue: the operator requeues
/// postponed runs after a minute.
pub const SCHEDULE_OVERDUE_GRACE: Duration = Duration::seconds(180);

/// The state of a schedule at `now`.
pub fn schedule_state(schedule: &MedusaBackupSchedule, now: DateTime<Utc>) -> ScheduleState {
    let status = schedule.status.clone().unwrap_or_default();
    let last_execution = meaningful(status.last_execution.as_ref());
    let paused = schedule.spec.is_disabled();
    let mut anomalies = Vec::new();
    let next_run = match CronSchedule::parse(&schedule.spec.cron_schedule) {
        Ok(cron) => {
            let previous = last_execution.or_else(|| created(&schedule.metadata));
            let due = previous.and_then(|p| cron.next_after(p));
            match due {
                Some(due) if due > now => Some(due),
                _ => cron.next_after(now),
            }
        }
        Err(e) => {
            anomalies.push(Anomaly::InvalidCron { error: e.0 });
            None
        }
    };
    let unsupported = match &schedule.spec.concurrency_policy {
        Some(ConcurrencyPolicy::Replace) => Some("Replace".to_owned()),
        Some(ConcurrencyPolicy::Unknown(policy)) if !policy.is_empty() => Some(policy.clone()),
        _ => None,
    };
    if let Some(policy) = unsupported {
        anomalies.push(Anomaly::UnsupportedConcurrencyPolicy { policy });
    }
    if let Some(next_schedule) = meaningful(status.next_schedule.as_ref())
        && now - next_schedule > SCHEDULE_OVERDUE_GRACE
    {
        anomalies.push(Anomaly::ScheduleOverdue { next_schedule });
    }
    ScheduleState {
        paused,
        last_execution,
        next_run,
        anomalies,
    }
}

// === impl configurations ===

/// The state of a MedusaConfiguration from its conditions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigurationState {
    /// `Ready`, when reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    /// `SecretAvailable`, when reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_available: Option<bool>,
    /// The GET error the operator recorded when the Secret was not found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_message: Option<String>,
    /// Known quirks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub anomalies: Vec<Anomaly>,
}

/// The state of a MedusaConfiguration.
pub fn configuration_state(configuration: &MedusaConfiguration) -> ConfigurationState {
    let status = configuration.status.clone().unwrap_or_default();
    let ready = status
        .condition(condition_types::READY)
        .map(|c| c.is_true());
    let secret = status.condition(condition_types::SECRET_AVAILABLE);
    let secret_available = secret.map(|c| c.is_true());
    let secret_message = secret
        .filter(|c| !c.is_true() && c.message != c.type_)
        .map(|c| c.message.clone());
    let mut anomalies = Vec::new();
    if ready == Some(true) && secret_available == Some(false) {
        anomalies.push(Anomaly::ReadyButSecretUnavailable);
    }
    ConfigurationState {
        ready,
        secret_available,
        secret_message,
        anomalies,
    }
}
