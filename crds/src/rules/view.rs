//! The read-only cluster view the rules consult. The webhook backs it with reflector caches,
//! the plugin with the live API or manifest files, tests with [`MemoryView`].

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;

use crate::kinds::{Build, CloneFamily, Family, PerKind, Watched};
use crate::merge::{EffectiveStorage, effective_storage};
use crate::types::{
    CassandraDatacenter, K8ssandraCluster, MedusaClusterTemplate, MedusaConfiguration,
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
    storage_location_of(
        cluster.metadata.name.as_deref().unwrap_or(""),
        cluster.spec.medusa.as_ref(),
        configuration,
    )
}

/// [`storage_location`] of the cluster named `cluster_name` with this `spec.medusa`.
pub fn storage_location_of(
    cluster_name: &str,
    medusa: Option<&MedusaClusterTemplate>,
    configuration: Option<&MedusaConfiguration>,
) -> Option<StorageLocation> {
    let medusa = medusa?;
    if medusa.configuration_name().is_some() && configuration.is_none() {
        return None;
    }
    let effective = effective_storage(cluster_name, Some(medusa), configuration, true);
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

/// An object's namespace and name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct ObjectKey {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ObjectKey {
    /// A namespace and a name.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// The namespace and name of an object (`default` when it has no namespace).
    pub fn of(object: &impl Resource) -> Self {
        let meta = object.meta();
        Self {
            namespace: meta
                .namespace
                .clone()
                .unwrap_or_else(|| "default".to_owned()),
            name: meta.name.clone().unwrap_or_default(),
        }
    }
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// What a rule expects of a lookup by name, so that a view which may lag behind the API
/// server (a cache) knows whether a miss deserves to be confirmed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// A reference that should resolve: a miss is confirmed before it is answered.
    Exists,
    /// A name that is usually free (a clash check), or a detail the rule can do without: what
    /// the view holds is the answer.
    Either,
}

/// Read-only questions the rules ask about the cluster. A view answers from memory, or asks
/// the API server within its budget: the rules await each answer where they need it.
pub trait ClusterView: Sync {
    /// An object of kind `K`.
    fn get<K: Watched>(
        &self,
        namespace: &str,
        name: &str,
        expect: Expect,
    ) -> impl Future<Output = Lookup<Arc<K>>> + Send;

    /// The objects of kind `K` in a namespace.
    fn list<K: Watched>(&self, namespace: &str)
    -> impl Future<Output = Lookup<Vec<Arc<K>>>> + Send;

    /// The objects of kind `K` in every namespace.
    fn list_all<K: Watched>(&self) -> impl Future<Output = Lookup<Vec<Arc<K>>>> + Send;

    /// The K8ssandraClusters whose effective storage location is this one.
    fn clusters_at(
        &self,
        location: &StorageLocation,
    ) -> impl Future<Output = Lookup<Vec<ObjectKey>>> + Send;

    /// What the rules may know of a Secret.
    fn secret(
        &self,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Lookup<SecretFacts>> + Send;
}

/// The objects of one kind as a view holds them, or why it cannot (the CRD is not installed,
/// listing is forbidden).
pub type Listed<K> = Result<Vec<Arc<K>>, String>;

/// [`Listed`] for every kind.
#[derive(Debug)]
pub struct Lists;

impl Family for Lists {
    type Of<K: Watched> = Listed<K>;
}

impl CloneFamily for Lists {
    fn clone_slot<K: Watched>(slot: &Listed<K>) -> Listed<K> {
        slot.clone()
    }
}

/// Every kind listed and empty.
struct Empty;

impl Build<Lists> for Empty {
    fn build<K: Watched>(&mut self) -> Listed<K> {
        Ok(Vec::new())
    }
}

/// An in-memory view: the objects it holds are all there is.
#[derive(Clone, Debug)]
pub struct MemoryView {
    /// The objects of each kind, or why a kind cannot be seen.
    pub objects: PerKind<Lists>,
    /// Secrets by namespace and name (`None`: secrets cannot be seen).
    pub secrets: Option<BTreeMap<ObjectKey, SecretFacts>>,
}

impl Default for MemoryView {
    /// No object; CassandraDatacenters and Secrets cannot be seen (manifests without
    /// cass-operator's objects).
    fn default() -> Self {
        Self::empty()
            .unavailable::<CassandraDatacenter>("the CassandraDatacenter CRD is not installed")
    }
}

fn in_namespace(meta: &ObjectMeta, namespace: &str) -> bool {
    meta.namespace.as_deref().unwrap_or("default") == namespace
}

impl MemoryView {
    /// Every kind seen and empty; Secrets cannot be seen.
    pub fn empty() -> Self {
        Self {
            objects: PerKind::build(&mut Empty),
            secrets: None,
        }
    }

    /// Adds an object (its kind becomes seen).
    pub fn with<K: Watched>(mut self, object: K) -> Self {
        self.add(Arc::new(object));
        self
    }

    /// Adds an object (its kind becomes seen).
    pub fn add<K: Watched>(&mut self, object: Arc<K>) {
        let slot = self.objects.of_mut::<K>();
        match slot {
            Ok(list) => list.push(object),
            Err(_) => *slot = Ok(vec![object]),
        }
    }

    /// Replaces the objects of one kind.
    pub fn replace<K: Watched>(mut self, objects: Vec<Arc<K>>) -> Self {
        self.set::<K>(Ok(objects));
        self
    }

    /// Marks a kind as one this view cannot see, and why.
    pub fn unavailable<K: Watched>(mut self, reason: impl Into<String>) -> Self {
        self.set::<K>(Err(reason.into()));
        self
    }

    /// Sets what the view holds of one kind.
    pub fn set<K: Watched>(&mut self, listed: Listed<K>) {
        *self.objects.of_mut::<K>() = listed;
    }

    /// Adds a Secret, with or without a `credentials` key.
    pub fn with_secret(mut self, namespace: &str, name: &str, has_credentials_key: bool) -> Self {
        self.secrets.get_or_insert_with(BTreeMap::new).insert(
            ObjectKey::new(namespace, name),
            SecretFacts {
                has_credentials_key: Some(has_credentials_key),
            },
        );
        self
    }

    /// An object, found in what the view holds.
    pub fn find<K: Watched>(&self, namespace: &str, name: &str) -> Lookup<Arc<K>> {
        match self.objects.of::<K>() {
            Ok(list) => list
                .iter()
                .find(|o| {
                    in_namespace(o.meta(), namespace) && o.meta().name.as_deref() == Some(name)
                })
                .cloned()
                .into(),
            Err(reason) => Lookup::Unavailable(reason.clone()),
        }
    }

    /// The objects of a namespace, from what the view holds.
    pub fn in_namespace<K: Watched>(&self, namespace: &str) -> Lookup<Vec<Arc<K>>> {
        match self.objects.of::<K>() {
            Ok(list) => Lookup::Found(
                list.iter()
                    .filter(|o| in_namespace(o.meta(), namespace))
                    .cloned()
                    .collect(),
            ),
            Err(reason) => Lookup::Unavailable(reason.clone()),
        }
    }

    /// The clusters at a storage location, each with its configuration merged in.
    pub fn clusters_located_at(&self, location: &StorageLocation) -> Lookup<Vec<ObjectKey>> {
        let clusters = match self.objects.of::<K8ssandraCluster>() {
            Ok(clusters) => clusters,
            Err(reason) => return Lookup::Unavailable(reason.clone()),
        };
        let found = clusters
            .iter()
            .filter(|cluster| {
                let namespace = cluster.namespace_or_default();
                let configuration = cluster
                    .spec
                    .medusa
                    .as_ref()
                    .and_then(|m| m.configuration_name())
                    .and_then(|name| {
                        self.find::<MedusaConfiguration>(namespace, name)
                            .found()
                            .cloned()
                    });
                storage_location(cluster, configuration.as_deref()).as_ref() == Some(location)
            })
            .map(|cluster| ObjectKey::of(cluster.as_ref()))
            .collect();
        Lookup::Found(found)
    }

    /// What the view knows of a Secret.
    pub fn secret_facts(&self, namespace: &str, name: &str) -> Lookup<SecretFacts> {
        match &self.secrets {
            Some(secrets) => secrets
                .get(&ObjectKey::new(namespace, name))
                .copied()
                .into(),
            None => Lookup::Unavailable("Secrets cannot be seen from here".into()),
        }
    }
}

impl ClusterView for MemoryView {
    async fn get<K: Watched>(&self, namespace: &str, name: &str, _: Expect) -> Lookup<Arc<K>> {
        self.find(namespace, name)
    }

    async fn list<K: Watched>(&self, namespace: &str) -> Lookup<Vec<Arc<K>>> {
        self.in_namespace(namespace)
    }

    async fn list_all<K: Watched>(&self) -> Lookup<Vec<Arc<K>>> {
        match self.objects.of::<K>() {
            Ok(list) => Lookup::Found(list.clone()),
            Err(reason) => Lookup::Unavailable(reason.clone()),
        }
    }

    async fn clusters_at(&self, location: &StorageLocation) -> Lookup<Vec<ObjectKey>> {
        self.clusters_located_at(location)
    }

    async fn secret(&self, namespace: &str, name: &str) -> Lookup<SecretFacts> {
        self.secret_facts(namespace, name)
    }
}
