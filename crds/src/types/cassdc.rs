//! The parts of CassandraDatacenter (`cassandra.datastax.com/v1beta1`) that Medusa needs.
//! Everything else is kept verbatim in `extra`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use serde::{Deserialize, Serialize};

use super::cluster::Rack;
use crate::wire::Extra;

/// The CassandraDatacenter condition types Medusa's restore watches.
pub mod condition_types {
    /// The datacenter is ready.
    pub const READY: &str = "Ready";
    /// The datacenter is stopped.
    pub const STOPPED: &str = "Stopped";
    /// The datacenter's StatefulSets are being updated.
    pub const UPDATING: &str = "Updating";
}

/// `cassandraOperatorProgress` value of a settled datacenter.
pub const PROGRESS_READY: &str = "Ready";

/// The name of the Medusa sidecar container.
pub const MEDUSA_CONTAINER: &str = "medusa";
/// The name of the Medusa restore init container.
pub const MEDUSA_RESTORE_CONTAINER: &str = "medusa-restore";

/// CassandraDatacenterSpec: the Medusa-relevant subset.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "cassandra.datastax.com",
    version = "v1beta1",
    kind = "CassandraDatacenter",
    namespaced,
    status = "CassandraDatacenterStatus",
    derive = "PartialEq",
    derive = "Default",
    shortname = "cassdc",
    schema = "disabled"
)]
#[serde(rename_all = "camelCase")]
pub struct CassandraDatacenterSpec {
    /// The Cassandra cluster name.
    #[serde(default)]
    pub cluster_name: String,

    /// Desired number of Cassandra nodes.
    #[serde(default)]
    pub size: i32,

    /// Racks; none means one rack named `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub racks: Option<Vec<Rack>>,

    /// Whether the datacenter is stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<bool>,

    /// Overrides the Cassandra datacenter name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datacenter_name: Option<String>,

    /// The pod template, for its container names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_template_spec: Option<PodTemplate>,

    /// Cassandra users whose secrets a restore refreshes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<CassandraUser>>,

    /// The superuser secret; `<cleaned cluster name>-superuser` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superuser_secret_name: Option<String>,

    /// Fields this model does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A pod template, reduced to its containers' names.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodTemplate {
    /// The pod spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<PodSpec>,

    /// Fields this model does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A pod spec, reduced to its containers' names.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    /// Containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containers: Option<Vec<NamedContainer>>,

    /// Init containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_containers: Option<Vec<NamedContainer>>,

    /// Fields this model does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A container, reduced to its name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamedContainer {
    /// Container name.
    #[serde(default)]
    pub name: String,

    /// Fields this model does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A Cassandra user to bootstrap.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CassandraUser {
    /// Secret with the credentials.
    #[serde(default)]
    pub secret_name: String,
    /// Whether the user is a superuser.
    #[serde(default)]
    pub superuser: bool,
    /// Fields this model does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// CassandraDatacenterStatus: the Medusa-relevant subset.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CassandraDatacenterStatus {
    /// Conditions (Ready, Stopped, Updating, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<DatacenterCondition>>,

    /// `Ready` or `Updating`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cassandra_operator_progress: Option<String>,

    /// The datacenter name override the operator recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datacenter_name: Option<String>,

    /// Fields this model does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A datacenter condition.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatacenterCondition {
    /// Condition type.
    #[serde(rename = "type", default)]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    #[serde(default)]
    pub status: String,
    /// Reason.
    #[serde(default)]
    pub reason: String,
    /// Message.
    #[serde(default)]
    pub message: String,
    /// Last transition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,
    /// Fields this model does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

impl CassandraDatacenter {
    /// The K8ssandraCluster that owns this datacenter, from the labels the operator sets:
    /// (name, namespace).
    pub fn owner_cluster(&self) -> Option<(&str, &str)> {
        let labels = self.metadata.labels.as_ref()?;
        Some((
            labels.get(crate::naming::CLUSTER_NAME_LABEL)?.as_str(),
            labels.get(crate::naming::CLUSTER_NAMESPACE_LABEL)?.as_str(),
        ))
    }

    /// The Cassandra datacenter name: `spec.datacenterName`, else `metadata.name`.
    pub fn datacenter_name(&self) -> &str {
        self.spec
            .datacenter_name
            .as_deref()
            .filter(|n| !n.is_empty())
            .or(self.metadata.name.as_deref())
            .unwrap_or("")
    }

    /// The rack names, with cass-operator's single `default` rack when none are declared.
    pub fn rack_names(&self) -> Vec<&str> {
        match self.spec.racks.as_deref() {
            Some(racks) if !racks.is_empty() => racks.iter().map(|r| r.name.as_str()).collect(),
            _ => vec!["default"],
        }
    }

    /// The status of a condition type, if the datacenter reports it.
    pub fn condition(&self, type_: &str) -> Option<&DatacenterCondition> {
        self.status
            .as_ref()?
            .conditions
            .as_deref()?
            .iter()
            .find(|c| c.type_ == type_)
    }

    /// Whether a condition is True.
    pub fn condition_is_true(&self, type_: &str) -> bool {
        self.condition(type_).is_some_and(|c| c.status == "True")
    }

    /// Whether cass-operator reports its progress as Ready.
    pub fn progress_ready(&self) -> bool {
        self.status
            .as_ref()
            .and_then(|s| s.cassandra_operator_progress.as_deref())
            == Some(PROGRESS_READY)
    }

    /// Ready the way the Medusa restore waits for it: condition Ready and progress Ready.
    pub fn is_ready(&self) -> bool {
        self.condition_is_true(condition_types::READY) && self.progress_ready()
    }

    /// Stopped the way the Medusa restore waits for it: condition Stopped and progress Ready.
    pub fn is_stopped(&self) -> bool {
        self.condition_is_true(condition_types::STOPPED) && self.progress_ready()
    }

    /// Whether the pod template declares a container of this name.
    pub fn template_has_container(&self, name: &str) -> bool {
        self.template_containers().iter().any(|c| c.name == name)
    }

    /// Whether the pod template declares an init container of this name.
    pub fn template_has_init_container(&self, name: &str) -> bool {
        self.spec
            .pod_template_spec
            .as_ref()
            .and_then(|t| t.spec.as_ref())
            .and_then(|s| s.init_containers.as_deref())
            .unwrap_or_default()
            .iter()
            .any(|c| c.name == name)
    }

    fn template_containers(&self) -> &[NamedContainer] {
        self.spec
            .pod_template_spec
            .as_ref()
            .and_then(|t| t.spec.as_ref())
            .and_then(|s| s.containers.as_deref())
            .unwrap_or_default()
    }
}
