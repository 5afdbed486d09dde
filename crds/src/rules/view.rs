//! The read-only cluster view the rules consult. The webhook backs it with reflector caches,
//! the plugin with the live API or manifest files, tests with [`MemoryView`].

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::merge::{EffectiveStorage, MergeInput, merge_storage};
use crate::types::{
    CassandraDatacenter, K8ssandraCluster, MedusaBackup, MedusaBackupJob, MedusaBackupSchedule,
    MedusaConfiguration, MedusaRestoreJob, MedusaTask,
};

/// The answer to one question about the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup<T> {
    /// Here it is.
    Found(T),
    /// It does not exist.
    Missing,
    /// This view cannot answer (the CRD is not installed, or the view has no such data): rules
    /// that need it turn their denials into warnings.
    Unavailable(String),
    /// The answer could not be obtained in time (a live lookup failed): the policy decides
    /// whether that denies or allows.
    Failed(String),
}

impl<T> Lookup<T> {
    /// The value, when found.
    pub fn found(&self) -> Option<&T> {
        match self {
            Self::Found(value) => Some(value),
            _ => None,
        }
    }

    /// Maps the found value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Lookup<U> {
        match self {
            Self::Found(value) => Lookup::Found(f(value)),
            Self::Missing => Lookup::Missing,
            Self::Unavailable(why) => Lookup::Unavailable(why),
            Self::Failed(why) => Lookup::Failed(why),
        }
    }
}

impl<T> From<Option<T>> for Lookup<T> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::Missing, Self::Found)
    }
}

/// What the rules may know about a Secret: never its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecretFacts {
    /// Whether it holds a `credentials` key; `None` when only its metadata is known.
    pub has_credentials_key: Option<bool>,
}

/// The identity of a backup location: two clusters with the same one share their backups.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StorageLocation {
    /// `storageProvider`.
    pub provider: String,
    /// `host`, lower-cased, without a trailing `/` (empty for cloud providers).
    pub host: String,
    /// `bucketName`.
    pub bucket: String,
    /// The effective prefix (the cluster's name when empty).
    pub prefix: String,
}

impl std::fmt::Display for StorageLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} bucket {:?}", self.provider, self.bucket)?;
        if !self.host.is_empty() {
            write!(f, " at {}", self.host)?;
        }
        write!(f, " with prefix {:?}", self.prefix)
    }
}

/// The effective storage location of a K8ssandraCluster, with its configuration merged in.
/// `None` without Medusa, or while its configuration is missing.
pub fn storage_location(
    cluster: &K8ssandraCluster,
    configuration: Option<&MedusaConfiguration>,
) -> Option<StorageLocation> {
    let medusa = cluster.spec.medusa.as_ref()?;
    let cluster_storage = medusa.storage();
    let configuration_storage = configuration.map(MedusaConfiguration::storage);
    if medusa.configuration_name().is_some() && configuration_storage.is_none() {
        return None;
    }
    let effective = merge_storage(MergeInput {
        cluster_name: cluster.metadata.name.as_deref().unwrap_or(""),
        cluster: &cluster_storage,
        configuration: configuration_storage.as_ref(),
        cluster_defaulted: true,
    });
    Some(StorageLocation::of(&effective))
}

impl StorageLocation {
    /// The location of merged storage. Schema defaults never touch the provider, host, bucket
    /// or prefix, so a manifest's merged storage has the same location as the stored object's.
    pub fn of(effective: &EffectiveStorage) -> Self {
        Self {
            provider: effective
                .storage
                .storage_provider
                .as_ref()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            host: effective
                .storage
                .host()
                .map(|h| h.trim_end_matches('/').to_lowercase())
                .unwrap_or_default(),
            bucket: effective.storage.bucket().unwrap_or("").to_owned(),
            prefix: effective.prefix.clone(),
        }
    }
}

/// A K8ssandraCluster's namespace and name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Read-only questions the rules ask about the cluster.
pub trait ClusterView {
    /// A MedusaConfiguration.
    fn configuration(&self, namespace: &str, name: &str) -> Lookup<Arc<MedusaConfiguration>>;
    /// Every K8ssandraCluster, in every namespace.
    fn clusters(&self) -> Lookup<Vec<Arc<K8ssandraCluster>>>;
    /// The K8ssandraClusters whose effective storage location is this one.
    fn clusters_at(&self, location: &StorageLocation) -> Lookup<Vec<ObjectKey>>;
    /// A CassandraDatacenter.
    fn datacenter(&self, namespace: &str, name: &str) -> Lookup<Arc<CassandraDatacenter>>;
    /// The CassandraDatacenters of a namespace.
    fn datacenters(&self, namespace: &str) -> Lookup<Vec<Arc<CassandraDatacenter>>>;
    /// A MedusaBackup.
    fn backup(&self, namespace: &str, name: &str) -> Lookup<Arc<MedusaBackup>>;
    /// A MedusaBackup whose absence is the expected answer (a name clash check): views may
    /// answer from what they hold without confirming a miss.
    fn backup_if_known(&self, namespace: &str, name: &str) -> Lookup<Arc<MedusaBackup>> {
        self.backup(namespace, name)
    }
    /// The MedusaBackups of a namespace.
    fn backups(&self, namespace: &str) -> Lookup<Vec<Arc<MedusaBackup>>>;
    /// The MedusaBackupJobs of a namespace.
    fn backup_jobs(&self, namespace: &str) -> Lookup<Vec<Arc<MedusaBackupJob>>>;
    /// The MedusaRestoreJobs of a namespace.
    fn restore_jobs(&self, namespace: &str) -> Lookup<Vec<Arc<MedusaRestoreJob>>>;
    /// The MedusaTasks of a namespace.
    fn tasks(&self, namespace: &str) -> Lookup<Vec<Arc<MedusaTask>>>;
    /// A MedusaBackupSchedule, from what the view holds: a schedule exists long before the jobs
    /// it starts, so a miss is never worth a live lookup (every job named `<dc>-<timestamp>`
    /// would otherwise cost one).
    fn schedule_if_known(&self, namespace: &str, name: &str) -> Lookup<Arc<MedusaBackupSchedule>>;
    /// A Secret's facts.
    fn secret(&self, namespace: &str, name: &str) -> Lookup<SecretFacts>;
}

/// An in-memory view: the objects it holds are all there is.
#[derive(Clone, Debug, Default)]
pub struct MemoryView {
    /// MedusaConfigurations.
    pub configurations: Vec<Arc<MedusaConfiguration>>,
    /// K8ssandraClusters.
    pub clusters: Vec<Arc<K8ssandraCluster>>,
    /// CassandraDatacenters (`None`: the CRD is not installed).
    pub datacenters: Option<Vec<Arc<CassandraDatacenter>>>,
    /// MedusaBackups.
    pub backups: Vec<Arc<MedusaBackup>>,
    /// MedusaBackupJobs.
    pub backup_jobs: Vec<Arc<MedusaBackupJob>>,
    /// MedusaRestoreJobs.
    pub restore_jobs: Vec<Arc<MedusaRestoreJob>>,
    /// MedusaTasks.
    pub tasks: Vec<Arc<MedusaTask>>,
    /// MedusaBackupSchedules.
    pub schedules: Vec<Arc<MedusaBackupSchedule>>,
    /// Secrets by namespace and name (`None`: secrets cannot be seen).
    pub secrets: Option<BTreeMap<(String, String), SecretFacts>>,
}

fn key_matches(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    namespace: &str,
    name: &str,
) -> bool {
    meta.namespace.as_deref().unwrap_or("default") == namespace
        && meta.name.as_deref() == Some(name)
}

fn in_namespace(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    namespace: &str,
) -> bool {
    meta.namespace.as_deref().unwrap_or("default") == namespace
}

macro_rules! find_in {
    ($list:expr, $namespace:expr, $name:expr) => {
        $list
            .iter()
            .find(|o| key_matches(&o.metadata, $namespace, $name))
            .cloned()
            .into()
    };
}

macro_rules! all_in {
    ($list:expr, $namespace:expr) => {
        Lookup::Found(
            $list
                .iter()
                .filter(|o| in_namespace(&o.metadata, $namespace))
                .cloned()
                .collect(),
        )
    };
}

impl MemoryView {
    /// Adds a Secret, with or without a `credentials` key.
    pub fn with_secret(mut self, namespace: &str, name: &str, has_credentials_key: bool) -> Self {
        self.secrets.get_or_insert_with(BTreeMap::new).insert(
            (namespace.to_owned(), name.to_owned()),
            SecretFacts {
                has_credentials_key: Some(has_credentials_key),
            },
        );
        self
    }
}

impl ClusterView for MemoryView {
    fn configuration(&self, namespace: &str, name: &str) -> Lookup<Arc<MedusaConfiguration>> {
        find_in!(self.configurations, namespace, name)
    }

    fn clusters(&self) -> Lookup<Vec<Arc<K8ssandraCluster>>> {
        Lookup::Found(self.clusters.clone())
    }

    fn clusters_at(&self, location: &StorageLocation) -> Lookup<Vec<ObjectKey>> {
        let found = self
            .clusters
            .iter()
            .filter(|cluster| {
                let namespace = cluster.namespace_or_default();
                let configuration = cluster
                    .spec
                    .medusa
                    .as_ref()
                    .and_then(|m| m.configuration_name())
                    .and_then(|name| self.configuration(namespace, name).found().cloned());
                storage_location(cluster, configuration.as_deref()).as_ref() == Some(location)
            })
            .map(|cluster| ObjectKey {
                namespace: cluster.namespace_or_default().to_owned(),
                name: cluster.metadata.name.clone().unwrap_or_default(),
            })
            .collect();
        Lookup::Found(found)
    }

    fn datacenter(&self, namespace: &str, name: &str) -> Lookup<Arc<CassandraDatacenter>> {
        match &self.datacenters {
            Some(list) => find_in!(list, namespace, name),
            None => Lookup::Unavailable("the CassandraDatacenter CRD is not installed".into()),
        }
    }

    fn datacenters(&self, namespace: &str) -> Lookup<Vec<Arc<CassandraDatacenter>>> {
        match &self.datacenters {
            Some(list) => all_in!(list, namespace),
            None => Lookup::Unavailable("the CassandraDatacenter CRD is not installed".into()),
        }
    }

    fn backup(&self, namespace: &str, name: &str) -> Lookup<Arc<MedusaBackup>> {
        find_in!(self.backups, namespace, name)
    }

    fn backups(&self, namespace: &str) -> Lookup<Vec<Arc<MedusaBackup>>> {
        all_in!(self.backups, namespace)
    }

    fn backup_jobs(&self, namespace: &str) -> Lookup<Vec<Arc<MedusaBackupJob>>> {
        all_in!(self.backup_jobs, namespace)
    }

    fn restore_jobs(&self, namespace: &str) -> Lookup<Vec<Arc<MedusaRestoreJob>>> {
        all_in!(self.restore_jobs, namespace)
    }

    fn tasks(&self, namespace: &str) -> Lookup<Vec<Arc<MedusaTask>>> {
        all_in!(self.tasks, namespace)
    }

    fn schedule_if_known(&self, namespace: &str, name: &str) -> Lookup<Arc<MedusaBackupSchedule>> {
        find_in!(self.schedules, namespace, name)
    }

    fn secret(&self, namespace: &str, name: &str) -> Lookup<SecretFacts> {
        match &self.secrets {
            Some(secrets) => secrets
                .get(&(namespace.to_owned(), name.to_owned()))
                .copied()
                .into(),
            None => Lookup::Unavailable("Secrets cannot be seen from here".into()),
        }
    }
}
