//! The objects of one cache, by namespace and then by name, and the writer that applies a
//! watch's events to them with kube's reflector semantics.
//!
//! kube's `reflector::Store` keys objects by an `ObjectRef` of owned strings: every lookup had
//! to build one, and a miss was looked up a second time without its namespace (for
//! cluster-scoped objects, which the webhook never watches), copying the key. Here a lookup
//! borrows its namespace and name, and listing a namespace reads only that namespace.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use kube::Resource;
use kube::runtime::watcher;

/// A map hashed by foldhash, randomly seeded per map as std's is, and several times faster
/// than std's SipHash on the short keys of names (kube's store used ahash).
type Map<V> = HashMap<String, V, foldhash::fast::RandomState>;

/// Objects by namespace, then by name.
type ByNamespace<K> = Map<Map<Arc<K>>>;

/// The objects of one kind, shared by the rules (reading) and the watch (writing).
pub struct Store<K> {
    objects: RwLock<ByNamespace<K>>,
}

impl<K> Default for Store<K> {
    fn default() -> Self {
        Self {
            objects: RwLock::new(Map::default()),
        }
    }
}

impl<K> std::fmt::Debug for Store<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("len", &self.len()).finish()
    }
}

impl<K> std::fmt::Debug for StoreWriter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreWriter")
            .field("store", &self.store)
            .field("relisting", &self.relist.is_some())
            .finish()
    }
}

impl<K> Store<K> {
    fn read(&self) -> RwLockReadGuard<'_, ByNamespace<K>> {
        self.objects.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The object with this namespace and name.
    pub fn get(&self, namespace: &str, name: &str) -> Option<Arc<K>> {
        self.read().get(namespace)?.get(name).cloned()
    }

    /// The objects of a namespace.
    pub fn in_namespace(&self, namespace: &str) -> Vec<Arc<K>> {
        self.read()
            .get(namespace)
            .map(|objects| objects.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Every object.
    pub fn all(&self) -> Vec<Arc<K>> {
        self.read()
            .values()
            .flat_map(|objects| objects.values().cloned())
            .collect()
    }

    /// The number of objects.
    pub fn len(&self) -> usize {
        self.read().values().map(Map::len).sum()
    }

    /// Whether it holds nothing (an emptied namespace is removed, so none is left empty).
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }
}

/// Applies a watch's events to a [`Store`] as kube's reflector writer does: objects applied
/// or deleted one by one, and a relist (`Init`, `InitApply`..., `InitDone`) replacing the
/// whole content at once when it is done, so that readers never see half a list.
pub struct StoreWriter<K> {
    store: Arc<Store<K>>,
    /// The objects of a relist in progress.
    relist: Option<ByNamespace<K>>,
}

impl<K: Resource> StoreWriter<K> {
    /// A writer of an empty store.
    pub fn new() -> Self {
        Self {
            store: Arc::new(Store::default()),
            relist: None,
        }
    }

    /// The store this writer feeds.
    pub fn store(&self) -> Arc<Store<K>> {
        self.store.clone()
    }

    /// Applies one event.
    pub fn apply(&mut self, event: watcher::Event<K>) {
        match event {
            watcher::Event::Apply(object) => insert(&mut self.write(), object),
            watcher::Event::Delete(object) => {
                let mut objects = self.write();
                let (namespace, name) = key(&object);
                if let Some(named) = objects.get_mut(namespace) {
                    named.remove(name);
                    if named.is_empty() {
                        objects.remove(namespace);
                    }
                }
            }
            watcher::Event::Init => self.relist = Some(Map::default()),
            watcher::Event::InitApply(object) => {
                insert(self.relist.get_or_insert_with(Map::default), object);
            }
            watcher::Event::InitDone => {
                *self.write() = self.relist.take().unwrap_or_default();
            }
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, ByNamespace<K>> {
        self.store
            .objects
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl<K: Resource> Default for StoreWriter<K> {
    fn default() -> Self {
        Self::new()
    }
}

/// An object's namespace and name (empty when absent: the API server always sets the name,
/// and the webhook watches only namespaced kinds).
fn key<K: Resource>(object: &K) -> (&str, &str) {
    let meta = object.meta();
    (
        meta.namespace.as_deref().unwrap_or(""),
        meta.name.as_deref().unwrap_or(""),
    )
}

fn insert<K: Resource>(objects: &mut ByNamespace<K>, object: K) {
    let (namespace, name) = key(&object);
    let (namespace, name) = (namespace.to_owned(), name.to_owned());
    objects
        .entry(namespace)
        .or_default()
        .insert(name, Arc::new(object));
}

#[cfg(test)]
mod tests {
    use super::*;
    use medusa_crds::MedusaBackup;

    fn names(mut objects: Vec<Arc<MedusaBackup>>) -> Vec<String> {
        objects.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        objects
            .iter()
            .filter_map(|o| o.metadata.name.clone())
            .collect()
    }

    #[test]
    fn an_applied_object_is_found_by_its_namespace_and_name_only() {
        let mut writer = StoreWriter::new();
        writer.apply(watcher::Event::Apply(
            MedusaBackup::test("b1").namespace("a"),
        ));
        let store = writer.store();
        assert!(store.get("a", "b1").is_some());
        assert!(store.get("b", "b1").is_none());
        assert!(store.get("a", "b2").is_none());
    }

    #[test]
    fn an_object_applied_again_replaces_the_one_stored() {
        let mut writer = StoreWriter::new();
        writer.apply(watcher::Event::Apply(MedusaBackup::test("b1").dc("dc1")));
        writer.apply(watcher::Event::Apply(MedusaBackup::test("b1").dc("dc2")));
        let store = writer.store();
        assert_eq!(store.len(), 1);
        assert_eq!(
            store
                .get("k8ssandra", "b1")
                .unwrap()
                .spec
                .cassandra_datacenter,
            "dc2"
        );
    }

    #[test]
    fn a_deleted_object_is_gone_and_its_empty_namespace_with_it() {
        let mut writer = StoreWriter::new();
        writer.apply(watcher::Event::Apply(
            MedusaBackup::test("b1").namespace("a"),
        ));
        writer.apply(watcher::Event::Delete(
            MedusaBackup::test("b1").namespace("a"),
        ));
        let store = writer.store();
        assert!(store.get("a", "b1").is_none());
        assert_eq!(store.len(), 0);
        assert!(store.read().is_empty());
    }

    #[test]
    fn a_namespace_lists_only_its_own_objects() {
        let mut writer = StoreWriter::new();
        for (namespace, name) in [("a", "b1"), ("a", "b2"), ("b", "b3")] {
            writer.apply(watcher::Event::Apply(
                MedusaBackup::test(name).namespace(namespace),
            ));
        }
        let store = writer.store();
        assert_eq!(names(store.in_namespace("a")), ["b1", "b2"]);
        assert!(store.in_namespace("c").is_empty());
        assert_eq!(names(store.all()), ["b1", "b2", "b3"]);
    }

    #[test]
    fn a_relist_replaces_the_content_only_once_it_is_done() {
        let mut writer = StoreWriter::new();
        writer.apply(watcher::Event::Apply(MedusaBackup::test("old")));
        writer.apply(watcher::Event::Init);
        writer.apply(watcher::Event::InitApply(MedusaBackup::test("new")));
        let store = writer.store();
        assert_eq!(names(store.all()), ["old"], "half a relist was visible");
        writer.apply(watcher::Event::InitDone);
        assert_eq!(names(store.all()), ["new"]);
    }
}
