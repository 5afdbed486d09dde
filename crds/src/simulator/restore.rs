//! `controllers/medusa/medusarestorejob_controller.go`, write by write.

use std::collections::BTreeMap;

use kube::ResourceExt;
use serde_json::{Value, json};

use super::{Operator, Reconcile, Reconciled, Requeue};
use crate::operator::meaningful;
use crate::restore::restore_preflight;
use crate::types::cassdc::MEDUSA_RESTORE_CONTAINER;
use crate::types::{
    CassandraDatacenter, MedusaBackup, MedusaRestoreJob, MedusaRestoreJobStatus,
    RestoreHostMapping, RestoreMapping,
};
use crate::wire::to_time;

/// A restore key as the operator makes one (`uuid.New()`): a version-4 UUID, here from an
/// FNV hash of the job's uid and the time.
fn restore_key(job: &MedusaRestoreJob, operator: &Operator) -> String {
    let seed = format!(
        "{}{}",
        job.metadata.uid.clone().unwrap_or_default(),
        operator
            .clock
            .now()
            .timestamp_nanos_opt()
            .unwrap_or_default()
    );
    let mut hash: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for byte in seed.bytes() {
        hash ^= u128::from(byte);
        hash = hash.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (hash >> 96) & 0xffff_ffff,
        (hash >> 80) & 0xffff,
        (hash >> 68) & 0xfff,
        (hash >> 56) & 0xfff,
        hash & 0xffff_ffff_ffff
    )
}

/// The host map: each target pod restores the backup's node of the same rack and position
/// (racks and nodes in alphabetical order, as `pkg/medusa/hostmap.go` pairs them).
fn host_map(backup: &MedusaBackup, pods: &[String]) -> RestoreMapping {
    let mut sources: Vec<String> = backup
        .status
        .as_ref()
        .and_then(|s| s.nodes.as_ref())
        .map(|nodes| nodes.iter().filter_map(|n| n.host.clone()).collect())
        .unwrap_or_default();
    sources.sort();
    let map: BTreeMap<String, RestoreHostMapping> = pods
        .iter()
        .zip(sources.iter())
        .map(|(target, source)| {
            (
                target.clone(),
                RestoreHostMapping {
                    source: vec![source.clone()],
                    seed: false,
                    ..RestoreHostMapping::default()
                },
            )
        })
        .collect();
    let in_place = map.iter().all(|(t, m)| m.source.first() == Some(t));
    RestoreMapping {
        in_place: Some(in_place),
        host_map: Some(map),
        ..RestoreMapping::default()
    }
}

/// The datacenter's pod template with the restore's variables on its medusa-restore init
/// container, or `None` when it has no such container.
fn template_with_restore_env(
    dc: &CassandraDatacenter,
    backup: &str,
    mapping: &str,
    key: &str,
) -> Option<Value> {
    let mut template = serde_json::to_value(dc.spec.pod_template_spec.as_ref()?).ok()?;
    let init = template
        .pointer_mut("/spec/initContainers")?
        .as_array_mut()?
        .iter_mut()
        .find(|c| c["name"] == MEDUSA_RESTORE_CONTAINER)?;
    init["env"] = json!([
        {"name": "BACKUP_NAME", "value": backup},
        {"name": "RESTORE_MAPPING", "value": mapping},
        {"name": "RESTORE_KEY", "value": key},
    ]);
    Some(template)
}

impl Reconcile for MedusaRestoreJob {
    async fn reconcile(self, operator: &Operator) -> Reconciled {
        let mut job = self;
        let name = job.name_any();
        let backup = operator
            .get_opt::<MedusaBackup>(&job.spec.backup)
            .await?
            .ok_or_else(|| {
                format!(
                    "medusabackups.medusa.k8ssandra.io \"{}\" not found",
                    job.spec.backup
                )
            })?;
        let dc = operator.datacenter(&job.spec.cassandra_datacenter).await?;
        let now = operator.clock.now();
        let mut status = job.status.clone().unwrap_or_default();
        if meaningful(status.start_time.as_ref()).is_none() {
            status.start_time = Some(to_time(now));
            if status.restore_key.is_empty() {
                status.restore_key = restore_key(&job, operator);
            }
            status.restore_prepared = Some(false);
        }
        if job.metadata.owner_references.is_none() {
            // The status set above is not written: an Update does not carry it.
            operator.set_owner(&job, &dc).await?;
            return Ok(Requeue::After(operator.timing.requeue));
        }
        let preflight = restore_preflight(&backup, &dc);
        if let Some(failure) = preflight.first_failure() {
            status.finish_time = Some(to_time(now));
            status.message = Some(failure.check.operator_message().to_owned());
            job.status = Some(status);
            operator.replace_status(&job).await?;
            return Ok(Requeue::Done);
        }
        if status.restore_prepared != Some(true) {
            let pods: Vec<String> = operator
                .pods(&dc)
                .await?
                .iter()
                .map(ResourceExt::name_any)
                .collect();
            let mapping = host_map(&backup, &pods);
            operator
                .patch_status::<MedusaRestoreJob>(
                    &name,
                    json!({"startTime": status.start_time, "restoreKey": status.restore_key,
                           "restorePrepared": true, "restoreMapping": mapping}),
                )
                .await?;
            return Ok(Requeue::After(operator.timing.requeue));
        }
        restore(operator, &job, &dc, &status).await
    }
}

/// Prepared: stop the datacenter, give it the restore's init container, start it again and
/// wait until it is ready.
async fn restore(
    operator: &Operator,
    job: &MedusaRestoreJob,
    dc: &CassandraDatacenter,
    status: &MedusaRestoreJobStatus,
) -> Reconciled {
    let name = job.name_any();
    let now = operator.clock.now();
    let stopped_at = match meaningful(status.datacenter_stopped.as_ref()) {
        Some(at) => at,
        None if dc.is_stopped() => now,
        None => {
            if dc.spec.stopped != Some(true) {
                operator.set_datacenter_stopped(dc, true).await?;
            }
            return Ok(Requeue::After(operator.timing.requeue));
        }
    };
    let mapping = serde_json::to_string(&status.restore_mapping).unwrap_or_default();
    let template = template_with_restore_env(dc, &job.spec.backup, &mapping, &status.restore_key)
        .ok_or("restore initContainer (medusa-restore) not found")?;
    if status.datacenter_stopped.is_none() {
        operator
            .patch_datacenter(dc, json!({"spec": {"podTemplateSpec": template}}))
            .await?;
        operator
            .patch_status::<MedusaRestoreJob>(
                &name,
                json!({"datacenterStopped": super::stamp(stopped_at)}),
            )
            .await?;
        return Ok(Requeue::After(operator.timing.requeue));
    }
    // The StatefulSets roll the new template; medusa-restore downloads at pod start.
    if now - stopped_at < chrono::Duration::from_std(operator.timing.restore).unwrap_or_default() {
        return Ok(Requeue::After(operator.timing.requeue));
    }
    if dc.spec.stopped == Some(true) {
        operator.set_datacenter_stopped(dc, false).await?;
        return Ok(Requeue::After(operator.timing.requeue));
    }
    if !dc.is_ready() {
        return Ok(Requeue::After(operator.timing.requeue));
    }
    operator
        .patch_status::<MedusaRestoreJob>(&name, json!({"finishTime": operator.clock.stamp()}))
        .await?;
    Ok(Requeue::Done)
}
