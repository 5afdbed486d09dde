//! MedusaRestoreJob (`apis/medusa/v1alpha1/medusarestorejob_types.go`).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::wire::Extra;

/// MedusaRestoreJobSpec defines the desired state of MedusaRestoreJob
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "medusa.k8ssandra.io",
    version = "v1alpha1",
    kind = "MedusaRestoreJob",
    namespaced,
    status = "MedusaRestoreJobStatus",
    derive = "PartialEq",
    derive = "Default",
    doc = "MedusaRestoreJob is the Schema for the medusarestorejobs API",
    printcolumn = r#"{"name":"Started","type":"date","description":"Restore start time","jsonPath":".status.startTime"}"#,
    printcolumn = r#"{"name":"Finished","type":"date","description":"Restore finish time","jsonPath":".status.finishTime"}"#,
    printcolumn = r#"{"name":"Error","type":"string","description":"Error message","jsonPath":".status.message"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct MedusaRestoreJobSpec {
    /// The name of the MedusaBackup to restore.
    pub backup: String,

    /// Name of the Cassandra datacenter to perform the restore on.
    pub cassandra_datacenter: String,

    /// Fields this model does not name.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// MedusaRestoreJobStatus defines the observed state of MedusaRestoreJob
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["restoreKey"]))]
pub struct MedusaRestoreJobStatus {
    /// A unique key that identifies the restore operation.
    #[serde(default)]
    #[schemars(extend("x-medusa-no-default" = true))]
    pub restore_key: String,

    /// True once the host mapping has been computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_prepared: Option<bool>,

    /// Mapping between source and target nodes for a restore
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_mapping: Option<RestoreMapping>,

    /// When the restore started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,

    /// When the restore finished. The operator may rewrite it on a later reconcile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_time: Option<Time>,

    /// When the datacenter was found stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datacenter_stopped: Option<Time>,

    /// Declared but never written by the operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_progress: Option<Vec<String>>,

    /// Declared but never written by the operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<Vec<String>>,

    /// Declared but never written by the operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<Vec<String>>,

    /// Message gives the reason why restore operation failed
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,

    /// Fields this model does not name.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// Mapping between source and target nodes for a restore. The keys are snake_case on the wire.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RestoreMapping {
    /// Whether the restore is in-place or not
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_place: Option<bool>,

    /// Mapping between source and target nodes for a restore
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_map: Option<BTreeMap<String, RestoreHostMapping>>,

    /// Fields this model does not name.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// The source nodes restored onto one target pod.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["seed", "source"]))]
pub struct RestoreHostMapping {
    /// Source hosts.
    #[serde(default)]
    #[schemars(extend("x-medusa-no-default" = true))]
    pub source: Vec<String>,

    /// Whether the target is a seed.
    #[serde(default)]
    #[schemars(extend("x-medusa-no-default" = true))]
    pub seed: bool,

    /// Fields this model does not name.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

impl MedusaRestoreJobStatus {
    /// The failure message, when the operator wrote a non-empty one.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref().filter(|m| !m.is_empty())
    }
}
