//! `controllers/medusa/medusabackupschedule_controller.go`, write by write.

use kube::ResourceExt;
use kube::api::ListParams;

use super::{Operator, Reconcile, Reconciled, Requeue};
use crate::cron::CronSchedule;
use crate::naming::{datacenter_labels, forbid_blockers, scheduled_job_name};
use crate::operator::meaningful;
use crate::types::{
    CassandraDatacenter, ConcurrencyPolicy, MedusaBackupJob, MedusaBackupSchedule,
    MedusaBackupScheduleStatus, MedusaTask, MedusaTaskSpec, Operation, OperationType,
};
use crate::wire::to_time;

impl Reconcile for MedusaBackupSchedule {
    async fn reconcile(self, operator: &Operator) -> Reconciled {
        let mut schedule = self;
        let cron = CronSchedule::parse(&schedule.spec.cron_schedule).map_err(|e| e.0)?;
        let dc = operator
            .datacenter(&schedule.spec.backup_spec.cassandra_datacenter)
            .await?;
        if schedule.metadata.owner_references.is_none() {
            // The schedule sets its owner and goes on in the same pass.
            schedule = operator.set_owner(&schedule, &dc).await?;
        }
        let now = operator.clock.now();
        let status = schedule.status.clone().unwrap_or_default();
        let last = meaningful(status.last_execution.as_ref());
        let mut previous = last
            .or_else(|| meaningful(schedule.metadata.creation_timestamp.as_ref()))
            .unwrap_or(now);
        let mut next = cron.next_after(previous).unwrap_or(now);
        let due = next < now;
        if due {
            // Only exactly Forbid is acted on ("" is Forbid in memory).
            let forbid = matches!(
                schedule.spec.effective_concurrency_policy(),
                ConcurrencyPolicy::Forbid
            );
            if forbid && blocked(operator, &schedule, &dc).await? {
                // Postponed, not skipped: nothing changes.
                return Ok(Requeue::After(std::time::Duration::from_secs(60)));
            }
            next = cron.next_after(now).unwrap_or(now);
            previous = now;
        }
        let written_next = meaningful(status.next_schedule.as_ref());
        if last.is_none_or(|l| l < previous) || written_next.is_none_or(|n| n < next) {
            // Status().Update, even for a disabled schedule.
            schedule.status = Some(MedusaBackupScheduleStatus {
                last_execution: Some(to_time(previous)),
                next_schedule: Some(to_time(next)),
                ..status
            });
            schedule = operator.replace_status(&schedule).await?;
        }
        if due && !schedule.spec.is_disabled() {
            // The status was written first: a failed create loses this run.
            start_run(operator, &schedule, &dc).await?;
        }
        let wait = (next - operator.clock.now())
            .to_std()
            .unwrap_or_default()
            .max(operator.timing.poll);
        Ok(Requeue::After(wait))
    }
}

/// Whether a Forbid schedule's run waits: a job (or purge task) of its datacenter is active.
async fn blocked(
    operator: &Operator,
    schedule: &MedusaBackupSchedule,
    dc: &CassandraDatacenter,
) -> Result<bool, String> {
    let jobs = operator
        .api::<MedusaBackupJob>()
        .list(&ListParams::default())
        .await
        .map_err(|e| e.to_string())?
        .items;
    let tasks = operator
        .api::<MedusaTask>()
        .list(&ListParams::default())
        .await
        .map_err(|e| e.to_string())?
        .items;
    Ok(!forbid_blockers(schedule, dc, &jobs, &tasks).is_empty())
}

/// Creates the run: a MedusaBackupJob, or a purge MedusaTask, with the datacenter's labels.
async fn start_run(
    operator: &Operator,
    schedule: &MedusaBackupSchedule,
    dc: &CassandraDatacenter,
) -> Result<(), String> {
    let name = scheduled_job_name(&schedule.name_any(), operator.clock.now());
    let labels = Some(datacenter_labels(dc));
    let namespace = schedule.metadata.namespace.clone();
    match schedule.spec.operation() {
        OperationType::Purge => {
            let mut task = MedusaTask::new(
                &name,
                MedusaTaskSpec {
                    operation: Operation::Purge,
                    cassandra_datacenter: schedule.spec.backup_spec.cassandra_datacenter.clone(),
                    backup_name: None,
                    restore_key: None,
                    extra: Default::default(),
                },
            );
            task.metadata.namespace = namespace;
            task.metadata.labels = labels;
            operator.create(&task).await.map(|_| ())
        }
        _ => {
            let mut job = MedusaBackupJob::new(&name, schedule.spec.backup_spec.clone());
            job.metadata.namespace = namespace;
            job.metadata.labels = labels;
            operator.create(&job).await.map(|_| ())
        }
    }
}
