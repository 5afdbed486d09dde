//! MedusaTask (`apis/medusa/v1alpha1/medusatask_types.go`): sync, purge and prepare_restore.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::wire::{Extra, GoInt, wire_enum};

wire_enum! {
    /// `operation`.
    pub enum Operation (closed) {
        Sync = "sync",
        Purge = "purge",
        PrepareRestore = "prepare_restore",
    }
}

/// MedusaTaskSpec defines the desired state of MedusaTask
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "medusa.k8ssandra.io",
    version = "v1alpha1",
    kind = "MedusaTask",
    namespaced,
    status = "MedusaTaskStatus",
    derive = "PartialEq",
    doc = "MedusaTask is the Schema for the MedusaTasks API",
    printcolumn = r#"{"name":"Datacenter","type":"string","description":"Datacenter which the task targets","jsonPath":".spec.cassandraDatacenter"}"#,
    printcolumn = r#"{"name":"Operation","type":"string","description":"Type of operation","jsonPath":".spec.operation"}"#,
    printcolumn = r#"{"name":"Start","type":"date","description":"Start time","jsonPath":".status.startTime"}"#,
    printcolumn = r#"{"name":"Finish","type":"date","description":"Finish time","jsonPath":".status.finishTime"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct MedusaTaskSpec {
    /// Requested operation to perform.
    pub operation: Operation,

    /// The name of the CassandraDatacenter to run the task on
    pub cassandra_datacenter: String,

    /// Name of the backup. Will be necessary for operations such as verify or status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_name: Option<String>,

    /// Restore key to use for the prepare_restore operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_key: Option<String>,

    /// Fields this model does not name.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// MedusaTaskStatus defines the observed state of MedusaTask
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MedusaTaskStatus {
    /// When the task started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,

    /// When the task finished, whether it succeeded or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_time: Option<Time>,

    /// Pods still running the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_progress: Option<Vec<String>>,

    /// One result per pod that completed (for a sync: the one pod that answered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<Vec<TaskResult>>,

    /// Pods on which the task failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<Vec<String>>,

    /// Fields this model does not name.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// The result of a task on one pod.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskResult {
    /// Name of the pod that ran the task. Always populated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_name: Option<String>,

    /// Number of backups that were purged. Only populated for purge tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<GoInt>")]
    pub nb_backups_purged: Option<i64>,

    /// Number of objects/files that were purged. Only populated for purge tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<GoInt>")]
    pub nb_objects_purged: Option<i64>,

    /// Total size of purged files. Only populated for purge tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<GoInt>")]
    pub total_purged_size: Option<i64>,

    /// Number of objects that couldn't be deleted due to Medusa GC grace. Only populated for
    /// purge tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<GoInt>")]
    pub total_objects_within_gc_grace: Option<i64>,

    /// Fields this model does not name.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

impl MedusaTaskStatus {
    /// Pods still running.
    pub fn in_progress(&self) -> &[String] {
        self.in_progress.as_deref().unwrap_or_default()
    }

    /// Per-pod results.
    pub fn finished(&self) -> &[TaskResult] {
        self.finished.as_deref().unwrap_or_default()
    }

    /// Pods that failed.
    pub fn failed(&self) -> &[String] {
        self.failed.as_deref().unwrap_or_default()
    }

    /// The purge statistics of every pod, summed.
    pub fn purge_totals(&self) -> PurgeTotals {
        self.finished()
            .iter()
            .fold(PurgeTotals::default(), |mut sum, result| {
                sum.backups_purged += result.nb_backups_purged.unwrap_or(0);
                sum.objects_purged += result.nb_objects_purged.unwrap_or(0);
                sum.purged_bytes += result.total_purged_size.unwrap_or(0);
                sum.objects_within_gc_grace += result.total_objects_within_gc_grace.unwrap_or(0);
                sum
            })
    }
}

/// Purge statistics summed over pods.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PurgeTotals {
    /// Backups purged (each pod purges its own files of a backup, so this counts per pod).
    pub backups_purged: i64,
    /// Objects deleted.
    pub objects_purged: i64,
    /// Bytes deleted.
    pub purged_bytes: i64,
    /// Objects kept because they are within Medusa's GC grace period.
    pub objects_within_gc_grace: i64,
}
