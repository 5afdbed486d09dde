//! MedusaConfiguration (`apis/medusa/v1alpha1/medusaconfiguration_types.go`).

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::condition::Condition;
use super::storage::Storage;
use crate::wire::Extra;

/// The condition types the MedusaConfiguration controller writes.
pub mod condition_types {
    /// The storage Secret was found. Its message is the GET error when False.
    pub const SECRET_AVAILABLE: &str = "SecretAvailable";
    /// Set True once the Secret (if any) was found. Never set back to False.
    pub const READY: &str = "Ready";
}

/// The label the operator still puts on a configuration's storage Secret. Nothing reads it.
pub const STORAGE_SECRET_IDENTIFIER_LABEL: &str = "k8ssandra.io/medusa-storage-secret";

/// MedusaConfigurationSpec defines the desired state of MedusaConfiguration
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "medusa.k8ssandra.io",
    version = "v1alpha1",
    kind = "MedusaConfiguration",
    namespaced,
    status = "MedusaConfigurationStatus",
    derive = "PartialEq",
    derive = "Default",
    doc = "MedusaConfiguration is the Schema for the medusaconfigurations API"
)]
#[serde(rename_all = "camelCase")]
pub struct MedusaConfigurationSpec {
    /// StorageProperties defines the storage backend settings to use for the backups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_properties: Option<Storage>,

    /// Fields this model does not name.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// MedusaConfigurationStatus defines the observed state of MedusaConfiguration
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MedusaConfigurationStatus {
    /// Conditions `SecretAvailable` and `Ready`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Option<Vec<Condition>>,

    /// Fields this model does not name.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

impl MedusaConfigurationStatus {
    /// The condition of a type.
    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        self.conditions
            .as_deref()?
            .iter()
            .find(|c| c.type_ == type_)
    }
}

impl MedusaConfigurationSpec {
    /// The storage properties, empty when absent.
    pub fn storage(&self) -> Storage {
        self.storage_properties.clone().unwrap_or_default()
    }
}

impl MedusaConfiguration {
    /// The storage properties, empty when absent.
    pub fn storage(&self) -> Storage {
        self.spec.storage()
    }
}
