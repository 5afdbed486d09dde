//! The parts of K8ssandraCluster (`k8ssandra.io/v1alpha1`) that Medusa needs: the whole
//! `spec.medusa` (MedusaClusterTemplate) and the datacenters. Everything else is kept verbatim in
//! `extra`, so reading a full object never fails and writing it back loses nothing.

use k8s_openapi::api::core::v1::{Probe, ResourceRequirements, SecurityContext};
use kube::CustomResource;
use serde::{Deserialize, Serialize};

use super::storage::{SecretRef, Storage};
use crate::wire::{Extra, wire_enum};

/// K8ssandraClusterSpec: the Medusa-relevant subset.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "k8ssandra.io",
    version = "v1alpha1",
    kind = "K8ssandraCluster",
    namespaced,
    status = "K8ssandraClusterStatus",
    derive = "PartialEq",
    derive = "Default",
    shortname = "k8c",
    schema = "disabled"
)]
#[serde(rename_all = "camelCase")]
pub struct K8ssandraClusterSpec {
    /// The Cassandra cluster and its datacenters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cassandra: Option<CassandraClusterTemplate>,

    /// Medusa, deployed in every Cassandra pod when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medusa: Option<MedusaClusterTemplate>,

    /// Fields this model does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// K8ssandraClusterStatus: the reconcile error the plugin reports, the rest kept verbatim.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct K8ssandraClusterStatus {
    /// The last reconcile error (printer column "Error"), e.g. a Medusa credentials mistake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,

    /// Fields this model does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `spec.cassandra`: the subset Medusa needs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CassandraClusterTemplate {
    /// Overrides the Cassandra cluster name (the K8ssandraCluster name by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,

    /// The datacenters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datacenters: Option<Vec<DatacenterTemplate>>,

    /// Fields this model does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One datacenter of a K8ssandraCluster.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatacenterTemplate {
    /// Name and namespace of the CassandraDatacenter object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<EmbeddedMeta>,

    /// The Kubernetes context of the cluster the datacenter runs in; empty for the control plane.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k8s_context: Option<String>,

    /// Overrides the Cassandra datacenter name (metadata.name by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datacenter_name: Option<String>,

    /// Number of Cassandra nodes.
    #[serde(default)]
    pub size: i32,

    /// Racks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub racks: Option<Vec<Rack>>,

    /// Whether the datacenter is stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<bool>,

    /// Fields this model does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The name and namespace of an embedded object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddedMeta {
    /// Object name.
    #[serde(default)]
    pub name: String,

    /// Object namespace; empty means the K8ssandraCluster's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,

    /// Fields this model does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A rack.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rack {
    /// The rack name.
    #[serde(default)]
    pub name: String,

    /// Fields this model does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `spec.medusa`: MedusaClusterTemplate, every field.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MedusaClusterTemplate {
    /// Points to a MedusaConfiguration in the same namespace. Only `name` may be set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medusa_configuration_ref: Option<ConfigurationRef>,

    /// The image of the Medusa containers; the operator's image registry default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_image: Option<ContainerImage>,

    /// Applied to the `medusa` and `medusa-restore` containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<SecurityContext>,

    /// CQL credentials (keys `username` and `password`); generated when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cassandra_user_secret_ref: Option<SecretRef>,

    /// Storage settings, merged over the MedusaConfiguration's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_properties: Option<Storage>,

    /// gRPC port and mTLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_properties: Option<ServiceProperties>,

    /// DEPRECATED client-to-node TLS certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificates_secret_ref: Option<SecretRef>,

    /// Client encryption stores for Medusa.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_encryption_stores: Option<EncryptionStores>,

    /// Resources of the `medusa-restore` init container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_container_resources: Option<ResourceRequirements>,

    /// Resources of the `medusa` container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_resources: Option<ResourceRequirements>,

    /// Merged over the default gRPC health probe; the handler must not change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,

    /// Merged over the default gRPC health probe; the handler must not change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,

    /// Whether the operator keeps a nightly purge schedule per datacenter (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purge_backups: Option<bool>,

    /// Fields this model does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

impl MedusaClusterTemplate {
    /// The referenced MedusaConfiguration's name, when one is referenced (an empty name is none).
    pub fn configuration_name(&self) -> Option<&str> {
        self.medusa_configuration_ref
            .as_ref()
            .and_then(|r| r.name.as_deref())
            .filter(|n| !n.is_empty())
    }

    /// The cluster's storage properties, empty when absent.
    pub fn storage(&self) -> Storage {
        self.storage_properties.clone().unwrap_or_default()
    }

    /// Whether the operator maintains the nightly purge schedule.
    pub fn purges_backups(&self) -> bool {
        self.purge_backups.unwrap_or(true)
    }
}

/// `corev1.ObjectReference`, as `medusaConfigurationRef` uses it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigurationRef {
    /// API version of the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// A field path inside the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_path: Option<String>,
    /// Kind of the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name of the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace of the referent; must stay empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Resource version of the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// UID of the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Fields this model does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ConfigurationRef {
    /// A reference by name only, the one form the operator accepts.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            ..Self::default()
        }
    }
}

wire_enum! {
    /// An image pull policy.
    pub enum PullPolicy (closed) {
        Always = "Always",
        IfNotPresent = "IfNotPresent",
        Never = "Never",
    }
}

/// `images.Image`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerImage {
    /// Registry host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    /// Repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Image name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Tag (schema default `latest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Pull policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_policy: Option<PullPolicy>,
    /// Pull secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_secret_ref: Option<SecretRef>,
    /// Fields this model does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `serviceProperties`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceProperties {
    /// Medusa gRPC port (50051 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_port: Option<i64>,
    /// gRPC mTLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<ServiceEncryption>,
    /// Fields this model does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `serviceProperties.encryption`: both names are required when present.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceEncryption {
    /// The Secret the operator dials Medusa with.
    #[serde(default)]
    pub client_secret_name: String,
    /// The Secret mounted into Medusa for its server certificate.
    #[serde(default)]
    pub server_secret_name: String,
    /// Fields this model does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `encryption.Stores`, reused by Medusa with different meanings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionStores {
    /// Its key becomes medusa.ini's `certfile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keystore_secret_ref: Option<SecretKeyRef>,
    /// Unused by Medusa.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keystore_password_secret_ref: Option<SecretKeyRef>,
    /// Its key becomes medusa.ini's `usercert`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truststore_secret_ref: Option<SecretKeyRef>,
    /// Its key becomes medusa.ini's `userkey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truststore_password_secret_ref: Option<SecretKeyRef>,
    /// Fields this model does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A Secret name and key.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// Secret name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Key in the Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Fields this model does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

impl K8ssandraCluster {
    /// The Cassandra cluster name: the override, else the object's name (`CassClusterName`).
    pub fn cass_cluster_name(&self) -> String {
        self.spec
            .cassandra
            .as_ref()
            .and_then(|c| c.cluster_name.as_deref())
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| self.metadata.name.clone().unwrap_or_default())
    }

    /// The datacenters, empty when none are declared.
    pub fn datacenters(&self) -> &[DatacenterTemplate] {
        self.spec
            .cassandra
            .as_ref()
            .and_then(|c| c.datacenters.as_deref())
            .unwrap_or_default()
    }

    /// The namespace of the K8ssandraCluster object.
    pub fn namespace_or_default(&self) -> &str {
        self.metadata.namespace.as_deref().unwrap_or("default")
    }

    /// The datacenter with this CassandraDatacenter object name.
    pub fn datacenter(&self, name: &str) -> Option<&DatacenterTemplate> {
        self.datacenters()
            .iter()
            .find(|dc| dc.object_name() == name)
    }
}

impl DatacenterTemplate {
    /// The CassandraDatacenter object's name.
    pub fn object_name(&self) -> &str {
        self.metadata
            .as_ref()
            .map(|m| m.name.as_str())
            .unwrap_or("")
    }

    /// The Cassandra datacenter name: the override, else the object name (`CassDcName`).
    pub fn cassandra_name(&self) -> &str {
        self.datacenter_name
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| self.object_name())
    }

    /// The namespace the CassandraDatacenter lives in: its own, else the cluster's.
    pub fn namespace_in<'a>(&'a self, cluster_namespace: &'a str) -> &'a str {
        self.metadata
            .as_ref()
            .and_then(|m| m.namespace.as_deref())
            .filter(|n| !n.is_empty())
            .unwrap_or(cluster_namespace)
    }

    /// The Kubernetes context, when the datacenter runs in another cluster.
    pub fn context(&self) -> Option<&str> {
        self.k8s_context.as_deref().filter(|c| !c.is_empty())
    }
}
