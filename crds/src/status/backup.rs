//! The derived status of backups: a MedusaBackupJob joined with its MedusaBackup, or a
//! MedusaBackup alone.

use chrono::{DateTime, Utc};

use super::*;
use crate::operator::is_placeholder;
use crate::types::{BackupStatus, MedusaBackup, MedusaBackupJob};

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
