//! MedusaBackupJob (`apis/medusa/v1alpha1/medusabackupjob_types.go`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::wire::{Extra, wire_enum};

wire_enum! {
    /// `backupType`. `full` maps to Medusa's FULL mode; anything else to DIFFERENTIAL.
    #[derive(Default)]
    pub enum BackupType (closed) {
        #[default]
        Differential = "differential",
        Full = "full",
    }
}

/// MedusaBackupJobSpec defines the desired state of MedusaBackupJob
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "medusa.k8ssandra.io",
    version = "v1alpha1",
    kind = "MedusaBackupJob",
    namespaced,
    status = "MedusaBackupJobStatus",
    derive = "PartialEq",
    derive = "Default",
    doc = "MedusaBackupJob is the Schema for the medusabackupjobs API",
    printcolumn = r#"{"name":"Started","type":"date","description":"Backup start time","jsonPath":".status.startTime"}"#,
    printcolumn = r#"{"name":"Finished","type":"date","description":"Backup finish time","jsonPath":".status.finishTime"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct MedusaBackupJobSpec {
    /// The name of the CassandraDatacenter to back up
    #[schemars(length(min = 1))]
    pub cassandra_datacenter: String,

    /// The type of the backup: "full" or "differential"
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "differential"))]
    pub backup_type: Option<BackupType>,

    /// Fields this model does not name.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// MedusaBackupJobStatus defines the observed state of MedusaBackupJob
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MedusaBackupJobStatus {
    /// Set when the per-pod backups are launched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,

    /// Set when nothing is in progress any more, whether the backup succeeded or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_time: Option<Time>,

    /// Pods still running their backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_progress: Option<Vec<String>>,

    /// Pods whose backup reached SUCCESS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<Vec<String>>,

    /// Pods whose backup is FAILED, UNKNOWN or not found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<Vec<String>>,

    /// Fields this model does not name.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

impl MedusaBackupJobStatus {
    /// Pods still running.
    pub fn in_progress(&self) -> &[String] {
        self.in_progress.as_deref().unwrap_or_default()
    }

    /// Pods that succeeded.
    pub fn finished(&self) -> &[String] {
        self.finished.as_deref().unwrap_or_default()
    }

    /// Pods that failed.
    pub fn failed(&self) -> &[String] {
        self.failed.as_deref().unwrap_or_default()
    }
}

impl MedusaBackupJobSpec {
    /// The backup type, with the schema default applied.
    pub fn backup_type(&self) -> BackupType {
        self.backup_type.clone().unwrap_or_default()
    }
}
