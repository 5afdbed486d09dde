//! `controllers/medusa/medusabackupjob_controller.go`, write by write.

use chrono::Duration as ChronoDuration;
use kube::ResourceExt;
use serde_json::json;

use super::medusa::{NodeBackup, NodeState, humanize};
use super::{Operator, Reconcile, Reconciled, Requeue, list_or_null, runs_medusa};
use k8s_openapi::api::core::v1::Pod;

use crate::types::{CassandraDatacenter, MedusaBackup, MedusaBackupJob, MedusaBackupSpec};

/// cass-operator's rack label on a pod.
const RACK_LABEL: &str = "cassandra.datastax.com/rack";

impl Reconcile for MedusaBackupJob {
    async fn reconcile(self, operator: &Operator) -> Reconciled {
        let job = self;
        let dc = operator.datacenter(&job.spec.cassandra_datacenter).await?;
        if job.metadata.owner_references.is_none() {
            operator.set_owner(&job, &dc).await?;
            return Ok(Requeue::After(operator.timing.requeue));
        }
        let pods = operator.pods(&dc).await?;
        if pods.is_empty() {
            // #1454: no pods, no status work; requeue forever.
            return Ok(Requeue::After(operator.timing.requeue));
        }
        let status = job.status.clone().unwrap_or_default();
        if !status.in_progress().is_empty() {
            return track_progress(operator, &job, &pods).await;
        }
        if status.finish_time.is_some() {
            return Ok(Requeue::Done);
        }
        if status.start_time.is_some() {
            return finish(operator, &job).await;
        }
        start(operator, &job, &dc, &pods).await
    }
}

/// Asks Medusa how each pod in progress is doing, and moves the done ones.
async fn track_progress(operator: &Operator, job: &MedusaBackupJob, pods: &[Pod]) -> Reconciled {
    let name = job.name_any();
    let status = job.status.clone().unwrap_or_default();
    let now = operator.clock.now();
    let mut progress = Vec::new();
    let mut finished = status.finished().to_vec();
    let mut failed = status.failed().to_vec();
    for pod in status.in_progress() {
        // A pod gone from the datacenter is dropped from the accounting.
        if !pods.iter().any(|p| p.name_any() == *pod) {
            continue;
        }
        match operator.medusa_state().backup_status(&name, pod, now) {
            Some(NodeState::InProgress) => progress.push(pod.clone()),
            Some(NodeState::Success) => finished.push(pod.clone()),
            // FAILED, UNKNOWN, and NotFound (the backup never started there).
            Some(NodeState::Failed) | None => failed.push(pod.clone()),
        }
    }
    if progress.len() != status.in_progress().len() {
        operator
            .patch_status::<MedusaBackupJob>(
                &name,
                json!({"inProgress": list_or_null(&progress),
                       "finished": list_or_null(&finished),
                       "failed": list_or_null(&failed)}),
            )
            .await?;
    }
    Ok(if progress.is_empty() {
        Requeue::Now
    } else {
        Requeue::After(operator.timing.requeue)
    })
}

/// Nothing in progress: finished, successfully or not. `finishTime` comes first, then, for a
/// success, the MedusaBackup record and, in a second write, its status.
async fn finish(operator: &Operator, job: &MedusaBackupJob) -> Reconciled {
    let name = job.name_any();
    let status = job.status.clone().unwrap_or_default();
    operator
        .patch_status::<MedusaBackupJob>(&name, json!({"finishTime": operator.clock.stamp()}))
        .await?;
    if !status.failed().is_empty() {
        return Ok(Requeue::Done);
    }
    let summary = if operator.faults.missing_summary {
        None
    } else {
        operator
            .medusa_state()
            .summaries(operator.clock.now(), operator.faults.summary_in_progress)
            .into_iter()
            .find(|s| s.name == name)
    };
    let Some(summary) = summary else {
        // A terminal error: "backup summary couldn't be found"; never retried, since the next
        // reconcile sees finishTime.
        return Ok(Requeue::Done);
    };
    if operator.get_opt::<MedusaBackup>(&name).await?.is_some() {
        // A record of that name exists: nothing is written, not even its status.
        return Ok(Requeue::Done);
    }
    let mut record = MedusaBackup::new(
        &name,
        MedusaBackupSpec {
            cassandra_datacenter: job.spec.cassandra_datacenter.clone(),
            backup_type: job.spec.backup_type.clone(),
            ..MedusaBackupSpec::default()
        },
    );
    record.metadata.namespace = job.metadata.namespace.clone();
    operator.create(&record).await?;
    tokio::time::sleep(
        operator.timing.record_status + operator.faults.late_record_status.unwrap_or_default(),
    )
    .await;
    if operator.faults.lost_record_status {
        return Ok(Requeue::Done);
    }
    let nodes: Vec<serde_json::Value> = summary
        .nodes
        .iter()
        .map(|n| json!({"host": n.host, "tokens": [], "datacenter": n.datacenter, "rack": n.rack}))
        .collect();
    operator
        .patch_status::<MedusaBackup>(
            &name,
            json!({
                "startTime": status.start_time,
                "finishTime": operator.clock.stamp(),
                "totalNodes": summary.total_nodes,
                "finishedNodes": summary.finished_nodes,
                "nodes": nodes,
                "totalFiles": summary.total_objects,
                "totalSize": humanize(summary.total_size),
                "status": summary.status.as_str(),
            }),
        )
        .await?;
    Ok(Requeue::Done)
}

/// Not started yet: `startTime` (with the optimistic lock), then a backup on every pod.
async fn start(
    operator: &Operator,
    job: &MedusaBackupJob,
    dc: &CassandraDatacenter,
    pods: &[Pod],
) -> Reconciled {
    let name = job.name_any();
    if !pods.iter().all(runs_medusa) {
        return Err("the backup sidecar was not found".to_owned());
    }
    // MergeFromWithOptimisticLock: the patch carries the resourceVersion read.
    operator
        .patch_status::<MedusaBackupJob>(&name, json!({"startTime": operator.clock.stamp()}))
        .await
        .map_err(|e| format!("stale object, requeued: {e}"))?;
    let now = operator.clock.now();
    let cassandra_dc = dc.datacenter_name().to_owned();
    let backup_type = job.spec.backup_type().as_str().to_owned();
    let mut in_progress = Vec::new();
    for (i, pod) in pods.iter().enumerate() {
        let host = pod.name_any();
        let stagger = operator.timing.backup / 4 * u32::try_from(i).unwrap_or(0);
        let node = NodeBackup {
            host: host.clone(),
            datacenter: cassandra_dc.clone(),
            rack: pod
                .labels()
                .get(RACK_LABEL)
                .cloned()
                .unwrap_or_else(|| "default".to_owned()),
            ends_at: now
                + ChronoDuration::from_std(operator.timing.backup + stagger).unwrap_or_default(),
            fails: operator.faults.failing_backup_pods.contains(&host),
        };
        operator
            .medusa_state()
            .start_backup(&name, &backup_type, node, now);
        in_progress.push(host);
    }
    operator
        .patch_status::<MedusaBackupJob>(&name, json!({"inProgress": in_progress}))
        .await?;
    if operator.faults.dies_mid_backup {
        return Ok(Requeue::Done);
    }
    Ok(Requeue::After(operator.timing.requeue))
}
