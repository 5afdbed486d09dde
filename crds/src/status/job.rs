//! The derived status of restores and tasks.

use chrono::{DateTime, Utc};

use super::*;
use crate::operator::is_placeholder;
use crate::types::{MedusaRestoreJob, MedusaTask, Operation};

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
        (Operation::Sync, _, Some(_)) => finished_sync(!status.finished().is_empty(), &failed),
        (_, _, Some(_)) => {
            if !in_progress.is_empty() {
                anomalies.push(Anomaly::FinishedWithPodsInProgress {
                    pods: in_progress.clone(),
                });
            }
            if failed.is_empty() && done == 0 {
                anomalies.push(Anomaly::TaskRanOnNoPods);
            }
            finished_task(task, &failed)
        }
        (op, Some(_), None) => running_task(task, op, &in_progress),
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

/// A finished sync: failed when it reached no pod (Medusa could list nothing anywhere).
fn finished_sync(reached_a_pod: bool, failed: &[String]) -> DerivedStatus {
    if reached_a_pod {
        return DerivedStatus::new(Phase::Succeeded);
    }
    let failed_on = if failed.is_empty() {
        String::new()
    } else {
        format!(" (failed on {})", failed.join(", "))
    };
    let mut out = DerivedStatus::new(Phase::Failed).reason(format!(
        "the sync reached no pod{failed_on}: Medusa failed to list the backups on every pod (or the datacenter had none); check the medusa containers and the storage settings"
    ));
    out.pods = failed.to_vec();
    out
}

/// A finished purge or prepare_restore: failed when a pod failed.
fn finished_task(task: &MedusaTask, failed: &[String]) -> DerivedStatus {
    if failed.is_empty() {
        return DerivedStatus::new(Phase::Succeeded);
    }
    let mut out = DerivedStatus::new(Phase::Failed).reason(format!(
        "the {} failed on {} pod(s): {}",
        task.spec.operation,
        failed.len(),
        failed.join(", ")
    ));
    out.pods = failed.to_vec();
    out
}

/// A task started and not finished: what it is doing.
fn running_task(task: &MedusaTask, op: &Operation, in_progress: &[String]) -> DerivedStatus {
    let reason = match op {
        Operation::Sync => "listing the backups in storage".to_owned(),
        // The last pod is done; the next reconcile writes `finishTime` (a purge first
        // creates its follow-up sync task).
        Operation::Purge if in_progress.is_empty() => format!(
            "every pod done; creating {} and recording the finish time",
            crate::naming::purge_sync_task_name(task.metadata.name.as_deref().unwrap_or_default())
        ),
        _ if in_progress.is_empty() => "every pod done; recording the finish time".to_owned(),
        _ => format!(
            "{op} running on {} pod(s), one after another",
            in_progress.len()
        ),
    };
    let mut out = DerivedStatus::new(Phase::Running).reason(reason);
    out.pods = in_progress.to_vec();
    out
}
