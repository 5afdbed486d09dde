//! MedusaBackupSchedule (`apis/medusa/v1alpha1/medusaschedule_types.go`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::backup_job::MedusaBackupJobSpec;
use crate::wire::{Extra, wire_enum};

wire_enum! {
    /// `concurrencyPolicy` (`batchv1.ConcurrencyPolicy`). The CRD has no enum; the operator acts
    /// only on `Forbid` (the default when empty) and implements no `Replace`.
    pub enum ConcurrencyPolicy (open) {
        Allow = "Allow",
        Forbid = "Forbid",
        Replace = "Replace",
    }
}

wire_enum! {
    /// `operationType`.
    pub enum OperationType (closed) {
        Backup = "backup",
        Purge = "purge",
    }
}

/// MedusaBackupScheduleSpec defines the desired state of MedusaBackupSchedule
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "medusa.k8ssandra.io",
    version = "v1alpha1",
    kind = "MedusaBackupSchedule",
    namespaced,
    status = "MedusaBackupScheduleStatus",
    derive = "PartialEq",
    derive = "Default",
    doc = "MedusaBackupSchedule is the Schema for the medusabackupschedules API",
    printcolumn = r#"{"name":"Datacenter","type":"string","description":"Datacenter which the task targets","jsonPath":".spec.backupSpec.cassandraDatacenter"}"#,
    printcolumn = r#"{"name":"ScheduledExecution","type":"date","description":"Next scheduled execution time","jsonPath":".status.nextSchedule"}"#,
    printcolumn = r#"{"name":"LastExecution","type":"date","description":"Previous execution time","jsonPath":".status.lastExecution"}"#,
    printcolumn = r#"{"name":"OperationType","type":"string","description":"Type of scheduled operation","jsonPath":".spec.operationType"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct MedusaBackupScheduleSpec {
    /// CronSchedule is a cronjob format schedule for backups. Overrides any easier methods of
    /// defining the schedule
    #[schemars(length(min = 1))]
    pub cron_schedule: String,

    /// Disabled if set ensures this job is not scheduling anything
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,

    /// BackupSpec defines the MedusaBackup to be created for this job
    pub backup_spec: MedusaBackupJobSpec,

    /// Specifics if this backup task can be run concurrently with other active backup tasks.
    /// Valid values are: "Allow" and "Forbid" (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency_policy: Option<ConcurrencyPolicy>,

    /// Specifies the type of operation to be performed
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "backup"))]
    pub operation_type: Option<OperationType>,

    /// Fields this model does not name.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// MedusaBackupScheduleStatus defines the observed state of MedusaBackupSchedule
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MedusaBackupScheduleStatus {
    /// NextSchedule indicates when the next backup is going to be done
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_schedule: Option<Time>,

    /// LastExecution tells when the backup was last time taken. If empty, the backup has never
    /// been taken
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_execution: Option<Time>,

    /// Fields this model does not name.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

impl MedusaBackupScheduleSpec {
    /// The operation, with the schema default applied.
    pub fn operation(&self) -> OperationType {
        self.operation_type.clone().unwrap_or(OperationType::Backup)
    }

    /// The policy the operator acts on: empty means `Forbid`.
    pub fn effective_concurrency_policy(&self) -> ConcurrencyPolicy {
        match &self.concurrency_policy {
            None => ConcurrencyPolicy::Forbid,
            Some(ConcurrencyPolicy::Unknown(s)) if s.is_empty() => ConcurrencyPolicy::Forbid,
            Some(policy) => policy.clone(),
        }
    }

    /// Whether the schedule is paused.
    pub fn is_disabled(&self) -> bool {
        self.disabled.unwrap_or(false)
    }
}
