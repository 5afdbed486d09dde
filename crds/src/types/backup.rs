//! MedusaBackup (`apis/medusa/v1alpha1/medusabackup_types.go`): the record of a completed backup.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::backup_job::BackupType;
use crate::wire::{Extra, wire_enum};

wire_enum! {
    /// `status.status`: the name of Medusa's proto enum. The CRD declares no enum for it.
    pub enum BackupStatus (open) {
        InProgress = "IN_PROGRESS",
        Success = "SUCCESS",
        Failed = "FAILED",
        StatusUnknown = "UNKNOWN",
    }
}

/// MedusaBackupSpec defines the desired state of MedusaBackup
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "medusa.k8ssandra.io",
    version = "v1alpha1",
    kind = "MedusaBackup",
    namespaced,
    status = "MedusaBackupStatus",
    derive = "PartialEq",
    derive = "Default",
    doc = "MedusaBackup is the Schema for the medusabackups API",
    printcolumn = r#"{"name":"Started","type":"date","description":"Backup start time","jsonPath":".status.startTime"}"#,
    printcolumn = r#"{"name":"Finished","type":"date","description":"Backup finish time","jsonPath":".status.finishTime"}"#,
    printcolumn = r#"{"name":"Nodes","type":"string","description":"Total number of nodes at the time of the backup","jsonPath":".status.totalNodes"}"#,
    printcolumn = r#"{"name":"Files","type":"integer","description":"Total number of files in the backup","jsonPath":".status.totalFiles"}"#,
    printcolumn = r#"{"name":"Size","type":"string","description":"Human-readable total size of the backup","jsonPath":".status.totalSize"}"#,
    printcolumn = r#"{"name":"Completed","type":"string","description":"Number of nodes that completed this backup","jsonPath":".status.finishedNodes"}"#,
    printcolumn = r#"{"name":"Status","type":"string","description":"Backup completion status","jsonPath":".status.status"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct MedusaBackupSpec {
    /// The name of the CassandraDatacenter to back up
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

/// MedusaBackupStatus defines the observed state of MedusaBackup
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MedusaBackupStatus {
    /// When the backup started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,

    /// When the backup finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_time: Option<Time>,

    /// Nodes in the datacenter at the time of the backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_nodes: Option<i32>,

    /// Nodes that completed the backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_nodes: Option<i32>,

    /// The topology at the time of the backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Vec<MedusaBackupNode>>,

    /// Files in the backup. Absent for backups imported by a sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_files: Option<i64>,

    /// Human-readable size, 1024 base, `"%.2f <unit>"`. Absent for backups imported by a sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_size: Option<String>,

    /// Medusa's status name: IN_PROGRESS, SUCCESS, FAILED or UNKNOWN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<BackupStatus>,

    /// Fields this model does not name.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// One node of a backup's topology.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MedusaBackupNode {
    /// The node's host (the pod name on Kubernetes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,

    /// The node's tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Vec<i64>>,

    /// The Cassandra datacenter name of the node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datacenter: Option<String>,

    /// The rack of the node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rack: Option<String>,

    /// Fields this model does not name.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

impl MedusaBackupStatus {
    /// The nodes of the backup's topology.
    pub fn nodes(&self) -> &[MedusaBackupNode] {
        self.nodes.as_deref().unwrap_or_default()
    }
}

/// Parses the operator's humanized size (`"127.50 KB"`, 1024 base) back into bytes.
pub fn parse_human_size(size: &str) -> Option<u64> {
    let (number, unit) = size.trim().split_once(' ')?;
    let value: f64 = number.parse().ok()?;
    let power = match unit.trim() {
        "B" => 0,
        "KB" => 1,
        "MB" => 2,
        "GB" => 3,
        "TB" => 4,
        "PB" => 5,
        _ => return None,
    };
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    let bytes = value * 1024f64.powi(power);
    // Saturating float-to-int conversion is what we want for a display-derived estimate.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Some(bytes.round() as u64)
}

/// Formats bytes the way the operator does (`humanize` in medusabackupjob_controller.go).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KB", "MB", "GB", "TB", "PB"];
    #[allow(clippy::cast_precision_loss)]
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.2} {}", UNITS.get(unit).unwrap_or(&"PB"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes_parse_with_a_1024_base() {
        assert_eq!(parse_human_size("127.50 KB"), Some(130_560));
        assert_eq!(parse_human_size("1.00 GB"), Some(1_073_741_824));
        assert_eq!(parse_human_size("12 B"), Some(12));
    }

    #[test]
    fn malformed_sizes_do_not_parse() {
        assert_eq!(parse_human_size("lots"), None);
        assert_eq!(parse_human_size("12 XB"), None);
        assert_eq!(parse_human_size("-1.00 KB"), None);
        assert_eq!(parse_human_size("NaN KB"), None);
    }

    #[test]
    fn sizes_format_like_the_operator() {
        assert_eq!(human_size(130_560), "127.50 KB");
        assert_eq!(human_size(512), "512.00 B");
        assert_eq!(human_size(1_073_741_824), "1.00 GB");
    }

    #[test]
    fn backup_status_keeps_unknown_values() {
        let status: BackupStatus = serde_json::from_str("\"PARTIAL\"").unwrap();
        assert_eq!(status, BackupStatus::Unknown("PARTIAL".into()));
        let status: BackupStatus = serde_json::from_str("\"UNKNOWN\"").unwrap();
        assert_eq!(status, BackupStatus::StatusUnknown);
    }
}
