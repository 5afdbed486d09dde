//! Reflector caches of everything the rules read: answers come from memory, never from an API
//! round trip on the hot path.
//!
//! Objects are slimmed before they are stored (managed fields, last-applied annotations, token
//! lists and unmodelled sections dropped), and Secrets are held as metadata only.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use k8s_openapi::api::core::v1::Secret;
use kube::Resource;
use kube::core::PartialObjectMeta;
use kube::runtime::watcher;
use medusa_crds::kinds::{Build, Family, PerKind, ViewKind, Visit, VisitMut, Watched};
use medusa_crds::rules::{ObjectKey, StorageLocation, storage_location};
use medusa_crds::{K8ssandraCluster, MedusaConfiguration};

use crate::store::{Store, StoreWriter};

/// A Secret as the webhook holds it: metadata only, never its data.
pub type SecretMeta = PartialObjectMeta<Secret>;

/// Where a cache stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheState {
    /// Listing for the first time.
    Syncing,
    /// Listed; watching.
    Ready,
    /// Not served (CRD absent, forbidden): rules that need it warn instead of deny.
    Disabled,
}

#[derive(Debug)]
struct CacheStatus {
    name: &'static str,
    state: AtomicU8,
    reason: Mutex<Option<String>>,
}

impl CacheStatus {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            state: AtomicU8::new(0),
            reason: Mutex::new(None),
        }
    }

    fn state(&self) -> CacheState {
        match self.state.load(Ordering::Acquire) {
            0 => CacheState::Syncing,
            1 => CacheState::Ready,
            _ => CacheState::Disabled,
        }
    }

    fn set(&self, state: CacheState, reason: Option<String>) {
        *self.reason.lock().unwrap_or_else(PoisonError::into_inner) = reason;
        let value = match state {
            CacheState::Syncing => 0,
            CacheState::Ready => 1,
            CacheState::Disabled => 2,
        };
        self.state.store(value, Ordering::Release);
    }

    fn reason(&self) -> Option<String> {
        self.reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Only what a Secret's rules need: its identity. Labels and annotations can be large and
/// are unused; the data is never requested.
fn slim_secret(mut secret: SecretMeta) -> SecretMeta {
    let meta = &mut secret.metadata;
    meta.managed_fields = None;
    meta.annotations = None;
    meta.labels = None;
    meta.owner_references = None;
    secret
}

/// A reflector cache of one kind.
pub struct Cache<K>
where
    K: Resource + Clone + 'static,
{
    store: Arc<Store<K>>,
    status: Arc<CacheStatus>,
}

impl<K> std::fmt::Debug for Cache<K>
where
    K: Resource + Clone + 'static,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("name", &self.status.name)
            .field("state", &self.status.state())
            .field("len", &self.store.len())
            .finish()
    }
}

/// Feeds a [`Cache`]: from a watcher in production, directly in tests.
pub struct CacheWriter<K>
where
    K: Resource + Clone + 'static,
{
    writer: StoreWriter<K>,
    status: Arc<CacheStatus>,
    generation: Option<Arc<AtomicU64>>,
    slim: fn(K) -> K,
}

impl<K> std::fmt::Debug for CacheWriter<K>
where
    K: Resource + Clone + 'static,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheWriter")
            .field("name", &self.status.name)
            .finish()
    }
}

impl<K> CacheWriter<K>
where
    K: Resource + Clone + 'static,
{
    /// An empty writer, syncing, whose objects are slimmed by `slim` before they are stored;
    /// each change bumps `generation` when given.
    fn new(name: &'static str, slim: fn(K) -> K, generation: Option<Arc<AtomicU64>>) -> Self {
        Self {
            writer: StoreWriter::new(),
            status: Arc::new(CacheStatus::new(name)),
            generation,
            slim,
        }
    }

    /// The cache this writer feeds.
    fn cache(&self) -> Cache<K> {
        Cache {
            store: self.writer.store(),
            status: self.status.clone(),
        }
    }

    /// Applies one watcher event; `InitDone` makes the cache ready.
    pub fn apply(&mut self, event: watcher::Event<K>) {
        let done = matches!(event, watcher::Event::InitDone);
        let event = match event {
            watcher::Event::Apply(object) => watcher::Event::Apply((self.slim)(object)),
            watcher::Event::InitApply(object) => watcher::Event::InitApply((self.slim)(object)),
            other => other,
        };
        self.writer.apply(event);
        if done && self.status.state() != CacheState::Disabled {
            self.status.set(CacheState::Ready, None);
        }
        if let Some(generation) = &self.generation {
            generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Replaces the content with these objects and marks the cache ready (tests, benches).
    pub fn fill(&mut self, objects: impl IntoIterator<Item = K>) {
        self.apply(watcher::Event::Init);
        for object in objects {
            self.apply(watcher::Event::InitApply(object));
        }
        self.apply(watcher::Event::InitDone);
    }

    /// Marks the cache as not served, with the reason rules will report.
    pub fn disable(&self, reason: String) {
        self.status.set(CacheState::Disabled, Some(reason));
    }

    /// Marks the cache as syncing again (a CRD appeared).
    pub fn enable(&self) {
        self.status.set(CacheState::Syncing, None);
    }

    /// The cache's name.
    pub fn name(&self) -> &'static str {
        self.status.name
    }
}

impl<K> Cache<K>
where
    K: Resource + Clone + 'static,
{
    /// The cache's state.
    pub fn state(&self) -> CacheState {
        self.status.state()
    }

    /// Why the cache is disabled.
    pub fn disabled_reason(&self) -> Option<String> {
        (self.state() == CacheState::Disabled).then(|| {
            self.status
                .reason()
                .unwrap_or_else(|| format!("the {} cache is disabled", self.status.name))
        })
    }

    /// An object by namespace and name.
    pub fn get(&self, namespace: &str, name: &str) -> Option<Arc<K>> {
        self.store.get(namespace, name)
    }

    /// The objects of a namespace.
    pub fn in_namespace(&self, namespace: &str) -> Vec<Arc<K>> {
        self.store.in_namespace(namespace)
    }

    /// Every object.
    pub fn all(&self) -> Vec<Arc<K>> {
        self.store.all()
    }

    /// The number of objects.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    /// The cache's name.
    pub fn name(&self) -> &'static str {
        self.status.name
    }
}

/// Clusters by storage location, as of a cache generation.
type BuiltIndex = (
    u64,
    HashMap<StorageLocation, Vec<ObjectKey>, foldhash::fast::RandomState>,
);

/// Which clusters use which storage location, rebuilt when clusters or configurations change.
#[derive(Debug, Default)]
struct LocationIndex {
    built: Mutex<Option<BuiltIndex>>,
}

/// A cache per kind.
#[derive(Debug)]
pub struct Caching;

impl Family for Caching {
    type Of<K: Watched> = Cache<K>;
}

/// A cache writer per kind.
#[derive(Debug)]
pub struct Writing;

impl Family for Writing {
    type Of<K: Watched> = CacheWriter<K>;
}

/// Every cache the rules read.
#[derive(Debug)]
pub struct Caches {
    /// One cache per kind the rules read.
    pub objects: PerKind<Caching>,
    /// Secrets, metadata only.
    pub secrets: Cache<SecretMeta>,
    generation: Arc<AtomicU64>,
    locations: LocationIndex,
}

/// The writers of [`Caches`].
#[derive(Debug)]
pub struct Writers {
    /// One writer per kind the rules read.
    pub objects: PerKind<Writing>,
    /// Secrets, metadata only.
    pub secrets: CacheWriter<SecretMeta>,
}

/// Makes each kind's writer; clusters and configurations bump the location index's generation.
struct NewWriters(Arc<AtomicU64>);

impl Build<Writing> for NewWriters {
    fn build<K: Watched>(&mut self) -> CacheWriter<K> {
        let generation = matches!(
            K::KIND,
            ViewKind::K8ssandraCluster | ViewKind::MedusaConfiguration
        )
        .then(|| self.0.clone());
        CacheWriter::new(K::KIND.as_str(), K::slim, generation)
    }
}

/// The cache each writer feeds.
struct ReadersOf<'a>(&'a PerKind<Writing>);

impl Build<Caching> for ReadersOf<'_> {
    fn build<K: Watched>(&mut self) -> Cache<K> {
        self.0.of::<K>().cache()
    }
}

/// Fills each cache with nothing.
struct FillEmpty;

impl VisitMut<Writing> for FillEmpty {
    fn visit<K: Watched>(&mut self, writer: &mut CacheWriter<K>) {
        writer.fill([]);
    }
}

/// Name, state and size of each cache.
struct Summary(Vec<(&'static str, CacheState, usize)>);

impl Visit<Caching> for Summary {
    fn visit<K: Watched>(&mut self, cache: &Cache<K>) {
        self.0.push((cache.name(), cache.state(), cache.len()));
    }
}

impl Writers {
    /// Marks every cache ready and empty (tests start from here).
    pub fn ready_empty(&mut self) {
        self.objects.visit_mut(&mut FillEmpty);
        self.secrets.fill([]);
    }

    /// The writer of kind `K`.
    pub fn of<K: Watched>(&mut self) -> &mut CacheWriter<K> {
        self.objects.of_mut::<K>()
    }
}

impl Caches {
    /// Empty caches, syncing, and their writers.
    pub fn new() -> (Arc<Self>, Writers) {
        let generation = Arc::new(AtomicU64::new(0));
        let writers = Writers {
            objects: PerKind::build(&mut NewWriters(generation.clone())),
            secrets: CacheWriter::new("Secret", slim_secret, None),
        };
        let caches = Self {
            objects: PerKind::build(&mut ReadersOf(&writers.objects)),
            secrets: writers.secrets.cache(),
            generation,
            locations: LocationIndex::default(),
        };
        (Arc::new(caches), writers)
    }

    /// The cache of kind `K`.
    pub fn of<K: Watched>(&self) -> &Cache<K> {
        self.objects.of::<K>()
    }

    /// Name, state and size of every cache.
    pub fn summary(&self) -> Vec<(&'static str, CacheState, usize)> {
        let mut summary = Summary(Vec::new());
        self.objects.visit(&mut summary);
        summary.0.push((
            self.secrets.name(),
            self.secrets.state(),
            self.secrets.len(),
        ));
        summary.0
    }

    /// The caches still syncing; ready when empty.
    pub fn pending(&self) -> Vec<&'static str> {
        self.summary()
            .into_iter()
            .filter(|(_, state, _)| *state == CacheState::Syncing)
            .map(|(name, _, _)| name)
            .collect()
    }

    /// The clusters at a storage location, from an index rebuilt after any change to
    /// clusters or configurations.
    pub fn clusters_at(&self, location: &StorageLocation) -> Vec<ObjectKey> {
        let current = self.generation.load(Ordering::Acquire);
        let mut built = self
            .locations
            .built
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let stale = built
            .as_ref()
            .is_none_or(|(generation, _)| *generation != current);
        if stale {
            let mut index: HashMap<StorageLocation, Vec<ObjectKey>, foldhash::fast::RandomState> =
                HashMap::default();
            for cluster in self.of::<K8ssandraCluster>().all() {
                let namespace = cluster.namespace_or_default();
                let configuration = cluster
                    .spec
                    .medusa
                    .as_ref()
                    .and_then(|m| m.configuration_name())
                    .and_then(|name| self.of::<MedusaConfiguration>().get(namespace, name));
                if let Some(location) = storage_location(&cluster, configuration.as_deref()) {
                    index
                        .entry(location)
                        .or_default()
                        .push(ObjectKey::of(cluster.as_ref()));
                }
            }
            *built = Some((current, index));
        }
        built
            .as_ref()
            .and_then(|(_, index)| index.get(location).cloned())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use medusa_crds::{CassandraDatacenter, MedusaBackup, Storage};

    #[test]
    fn caches_start_syncing_and_become_ready_on_init_done() {
        let (caches, mut writers) = Caches::new();
        assert_eq!(caches.pending().len(), 9);
        writers.ready_empty();
        assert!(caches.pending().is_empty());
    }

    #[test]
    fn a_disabled_cache_does_not_block_readiness_and_says_why() {
        let (caches, mut writers) = Caches::new();
        writers
            .of::<CassandraDatacenter>()
            .disable("the CassandraDatacenter CRD is not installed".into());
        writers.ready_empty();
        assert!(caches.pending().is_empty());
        assert_eq!(
            caches
                .of::<CassandraDatacenter>()
                .disabled_reason()
                .unwrap(),
            "the CassandraDatacenter CRD is not installed"
        );
    }

    #[test]
    fn objects_are_found_by_namespace_and_name() {
        let (caches, mut writers) = Caches::new();
        writers.of::<MedusaBackup>().fill([
            MedusaBackup::test("b1"),
            MedusaBackup::test("b2").namespace("other"),
        ]);
        assert!(caches.of::<MedusaBackup>().get("k8ssandra", "b1").is_some());
        assert!(caches.of::<MedusaBackup>().get("k8ssandra", "b2").is_none());
        assert_eq!(caches.of::<MedusaBackup>().in_namespace("other").len(), 1);
    }

    #[test]
    fn lookups_in_a_row_each_find_their_own_object() {
        // Each lookup borrows its own key: it finds its own object, whatever the one before.
        let (caches, mut writers) = Caches::new();
        writers.of::<MedusaBackup>().fill([
            MedusaBackup::test("a-rather-long-backup-name").namespace("a-long-namespace"),
            MedusaBackup::test("b").namespace("ns"),
        ]);
        let name_of = |namespace: &str, name: &str| {
            caches
                .of::<MedusaBackup>()
                .get(namespace, name)
                .and_then(|b| b.metadata.name.clone())
        };
        for _ in 0..2 {
            assert_eq!(
                name_of("a-long-namespace", "a-rather-long-backup-name").as_deref(),
                Some("a-rather-long-backup-name")
            );
            assert_eq!(name_of("ns", "b").as_deref(), Some("b"));
            assert_eq!(name_of("ns", "a-rather-long-backup-name"), None);
            assert_eq!(name_of("a-long-namespace", "b"), None);
        }
    }

    #[test]
    fn backups_are_stored_without_tokens() {
        let (caches, mut writers) = Caches::new();
        writers
            .of::<MedusaBackup>()
            .fill([MedusaBackup::test("b1")]);
        let stored = caches.of::<MedusaBackup>().get("k8ssandra", "b1").unwrap();
        assert!(
            stored
                .status
                .as_ref()
                .unwrap()
                .nodes()
                .iter()
                .all(|n| n.tokens.is_none())
        );
    }

    #[test]
    fn secrets_keep_only_their_identity() {
        let (caches, mut writers) = Caches::new();
        let mut secret: PartialObjectMeta<Secret> = PartialObjectMeta {
            types: None,
            metadata: ObjectMeta {
                name: Some("key".into()),
                namespace: Some("k8ssandra".into()),
                annotations: Some(
                    [(
                        "kubectl.kubernetes.io/last-applied-configuration".to_owned(),
                        "{...}".to_owned(),
                    )]
                    .into(),
                ),
                ..ObjectMeta::default()
            },
            _phantom: std::marker::PhantomData,
        };
        secret.metadata.labels = Some([("a".to_owned(), "b".to_owned())].into());
        writers.secrets.fill([secret]);
        let stored = caches.secrets.get("k8ssandra", "key").unwrap();
        assert!(stored.metadata.annotations.is_none() && stored.metadata.labels.is_none());
    }

    #[test]
    fn the_location_index_follows_changes() {
        let (caches, mut writers) = Caches::new();
        writers
            .of::<K8ssandraCluster>()
            .fill([K8ssandraCluster::test("a")]);
        let location = storage_location(&K8ssandraCluster::test("a"), None).unwrap();
        assert_eq!(caches.clusters_at(&location).len(), 1);
        writers
            .of::<K8ssandraCluster>()
            .apply(watcher::Event::Apply(
                K8ssandraCluster::test("b").with_storage(Storage::test().with_prefix("a")),
            ));
        assert_eq!(caches.clusters_at(&location).len(), 2);
        writers
            .of::<K8ssandraCluster>()
            .apply(watcher::Event::Delete(K8ssandraCluster::test("a")));
        assert_eq!(caches.clusters_at(&location).len(), 1);
    }
}
