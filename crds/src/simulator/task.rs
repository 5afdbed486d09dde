//! `controllers/medusa/medusatask_controller.go`, write by write.

use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{DeleteParams, ListParams};
use serde_json::json;

use super::medusa::{NodeState, Summary};
use super::{Operator, Reconcile, Reconciled, Requeue, list_or_null};
use crate::naming::purge_sync_task_name;
use crate::types::{
    MedusaBackup, MedusaBackupJob, MedusaBackupSpec, MedusaTask, MedusaTaskSpec, Operation,
};

impl Reconcile for MedusaTask {
    async fn reconcile(self, operator: &Operator) -> Reconciled {
        let task = self;
        let name = task.name_any();
        let dc = operator.datacenter(&task.spec.cassandra_datacenter).await?;
        if task.metadata.owner_references.is_none() {
            operator.set_owner(&task, &dc).await?;
            return Ok(Requeue::After(operator.timing.requeue));
        }
        let status = task.status.clone().unwrap_or_default();
        if status.finish_time.is_some() {
            return Ok(Requeue::Done);
        }
        if status.start_time.is_some() {
            if !status.in_progress().is_empty() {
                return Ok(Requeue::After(operator.timing.requeue));
            }
            if task.spec.operation == Operation::Purge {
                schedule_sync_for_purge(operator, &task).await?;
            }
            operator
                .patch_status::<MedusaTask>(&name, json!({"finishTime": operator.clock.stamp()}))
                .await?;
            return Ok(Requeue::Done);
        }
        let pods = operator.pods(&dc).await?;
        match task.spec.operation {
            Operation::Purge | Operation::PrepareRestore => {
                execute_pod_operations(operator, &task, pods).await
            }
            Operation::Sync => sync(operator, &task, &pods).await,
            Operation::Unknown(ref op) => Err(format!("unsupported operation {op}")),
        }
    }
}

/// Creates `<task>-sync`, with the purge's labels (#1336), unless it exists.
async fn schedule_sync_for_purge(operator: &Operator, task: &MedusaTask) -> Result<(), String> {
    let sync_name = purge_sync_task_name(&task.name_any());
    if operator.get_opt::<MedusaTask>(&sync_name).await?.is_some() {
        return Ok(());
    }
    let mut sync = MedusaTask::new(
        &sync_name,
        MedusaTaskSpec {
            operation: Operation::Sync,
            cassandra_datacenter: task.spec.cassandra_datacenter.clone(),
            backup_name: None,
            restore_key: None,
            extra: Default::default(),
        },
    );
    sync.metadata.namespace = task.metadata.namespace.clone();
    sync.metadata.labels = task.metadata.labels.clone();
    operator.create(&sync).await.map(|_| ())
}

/// purge and prepare_restore: `startTime` and every pod in progress, then, in the background,
/// pod after pod, a status patch each.
async fn execute_pod_operations(
    operator: &Operator,
    task: &MedusaTask,
    pods: Vec<Pod>,
) -> Reconciled {
    let name = task.name_any();
    let names: Vec<String> = pods.iter().map(ResourceExt::name_any).collect();
    operator
        .patch_status::<MedusaTask>(
            &name,
            json!({"startTime": operator.clock.stamp(), "inProgress": list_or_null(&names)}),
        )
        .await?;
    let background = operator.clone();
    let operation = task.spec.operation.clone();
    tokio::spawn(async move {
        let mut in_progress = names.clone();
        let mut finished: Vec<serde_json::Value> = Vec::new();
        let mut failed: Vec<String> = Vec::new();
        for pod in names {
            tokio::time::sleep(background.timing.pod_task).await;
            in_progress.retain(|p| *p != pod);
            if background.faults.failing_task_pods.contains(&pod) {
                failed.push(pod);
            } else if operation == Operation::Purge {
                let result = background
                    .medusa_state()
                    .purge(&pod, background.clock.now());
                finished.push(json!({"podName": pod,
                    "nbBackupsPurged": result.backups_purged, "nbObjectsPurged": result.objects_purged,
                    "totalPurgedSize": result.purged_size,
                    "totalObjectsWithinGcGrace": result.objects_within_gc_grace}));
            } else {
                finished.push(json!({"podName": pod}));
            }
            let _ = background
                .patch_status::<MedusaTask>(
                    &name,
                    json!({"inProgress": list_or_null(&in_progress),
                           "finished": list_or_null(&finished), "failed": list_or_null(&failed)}),
                )
                .await;
        }
    });
    Ok(Requeue::After(operator.timing.requeue))
}

/// sync: `startTime`; on the first pod that answers, create the missing MedusaBackups (create,
/// then status), delete the vanished ones and their jobs, then `finishTime` with that pod.
async fn sync(operator: &Operator, task: &MedusaTask, pods: &[Pod]) -> Reconciled {
    let name = task.name_any();
    operator
        .patch_status::<MedusaTask>(&name, json!({"startTime": operator.clock.stamp()}))
        .await?;
    let Some(pod) = pods
        .first()
        .filter(|_| !operator.faults.sync_reaches_no_pod)
    else {
        // Every pod failed (or there is none): requeue; the next reconcile finishes the task
        // with an empty `finished` list.
        return Ok(Requeue::After(operator.timing.requeue));
    };
    let remote = operator
        .medusa_state()
        .summaries(operator.clock.now(), false);
    for summary in remote.iter().filter(|s| s.status == NodeState::Success) {
        import(operator, task, summary).await?;
    }
    let local = operator
        .api::<MedusaBackup>()
        .list(&ListParams::default())
        .await
        .map_err(|e| format!("failed to list backups: {e}"))?;
    for backup in local.items {
        let vanished = !remote.iter().any(|s| s.name == backup.name_any());
        if vanished && backup.spec.cassandra_datacenter == task.spec.cassandra_datacenter {
            forget(operator, &backup.name_any()).await?;
        }
    }
    operator
        .patch_status::<MedusaTask>(
            &name,
            json!({"finishTime": operator.clock.stamp(), "finished": [{"podName": pod.name_any()}]}),
        )
        .await?;
    Ok(Requeue::Done)
}

/// A backup found in storage without its record: the record, then its status (synced
/// records have no totalFiles or totalSize).
async fn import(operator: &Operator, task: &MedusaTask, summary: &Summary) -> Result<(), String> {
    if operator
        .get_opt::<MedusaBackup>(&summary.name)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let mut record = MedusaBackup::new(
        &summary.name,
        MedusaBackupSpec {
            cassandra_datacenter: task.spec.cassandra_datacenter.clone(),
            backup_type: Some(crate::types::BackupType::from_wire(&summary.backup_type)),
            ..MedusaBackupSpec::default()
        },
    );
    record.metadata.namespace = task.metadata.namespace.clone();
    operator.create(&record).await?;
    let nodes: Vec<serde_json::Value> = summary
        .nodes
        .iter()
        .map(|n| json!({"host": n.host, "tokens": [], "datacenter": n.datacenter, "rack": n.rack}))
        .collect();
    operator
        .patch_status::<MedusaBackup>(
            &summary.name,
            json!({"startTime": super::stamp(summary.started),
                   "finishTime": summary.finished.map(super::stamp),
                   "totalNodes": summary.total_nodes, "finishedNodes": summary.finished_nodes,
                   "nodes": nodes, "status": summary.status.as_str()}),
        )
        .await?;
    Ok(())
}

/// A record whose backup vanished from storage: deleted, with its job when there is one.
async fn forget(operator: &Operator, backup_name: &str) -> Result<(), String> {
    operator.record("DELETE", "medusabackups", backup_name, false);
    operator
        .api::<MedusaBackup>()
        .delete(backup_name, &DeleteParams::default())
        .await
        .map_err(|e| format!("failed to delete backup: {e}"))?;
    operator.record("DELETE", "medusabackupjobs", backup_name, false);
    match operator
        .api::<MedusaBackupJob>()
        .delete(backup_name, &DeleteParams::default())
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(e) => Err(format!("failed to delete backup job: {e}")),
    }
}
