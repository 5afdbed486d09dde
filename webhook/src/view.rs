//! The cluster view of one admission request: caches first, live answers where the caches
//! missed. Misses are recorded, so the engine can ask the API server and evaluate again.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use medusa_crds::rules::{ClusterView, Lookup, ObjectKey, SecretFacts, StorageLocation};
use medusa_crds::{
    CassandraDatacenter, K8ssandraCluster, MedusaBackup, MedusaBackupJob, MedusaBackupSchedule,
    MedusaConfiguration, MedusaRestoreJob, MedusaTask,
};

use crate::cache::{Cache, Caches};
use crate::live::{LiveAnswer, LiveKey};

/// Caches plus the live answers obtained so far.
pub struct RequestView<'a> {
    caches: &'a Caches,
    answers: &'a HashMap<LiveKey, LiveAnswer>,
    record_misses: bool,
    misses: RefCell<Vec<LiveKey>>,
}

impl std::fmt::Debug for RequestView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestView")
            .field("answers", &self.answers.len())
            .field("misses", &self.misses.borrow().len())
            .finish()
    }
}

fn list<K>(cache: &Cache<K>, namespace: &str) -> Lookup<Vec<Arc<K>>>
where
    K: kube::Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone + Default,
{
    match cache.disabled_reason() {
        Some(reason) => Lookup::Unavailable(reason),
        None => Lookup::Found(cache.in_namespace(namespace)),
    }
}

impl<'a> RequestView<'a> {
    /// A view over the caches and the answers so far; misses are recorded when live lookups
    /// can follow.
    pub fn new(
        caches: &'a Caches,
        answers: &'a HashMap<LiveKey, LiveAnswer>,
        record_misses: bool,
    ) -> Self {
        Self {
            caches,
            answers,
            record_misses,
            misses: RefCell::new(Vec::new()),
        }
    }

    /// The keys the caches could not answer and no live answer covers.
    pub fn into_misses(self) -> Vec<LiveKey> {
        let mut misses = self.misses.into_inner();
        misses.sort();
        misses.dedup();
        misses
    }

    /// Records a miss; the key is built only when live lookups can follow.
    fn miss(&self, key: impl FnOnce() -> LiveKey) {
        if self.record_misses {
            self.misses.borrow_mut().push(key());
        }
    }

    /// The live answer for a key, if any. Most reviews have none: the key is then never built.
    fn answer(&self, key: impl FnOnce() -> LiveKey) -> Option<&'a LiveAnswer> {
        if self.answers.is_empty() {
            return None;
        }
        self.answers.get(&key())
    }

    fn single<K>(
        &self,
        cache: &Cache<K>,
        namespace: &str,
        name: &str,
        key: fn(String, String) -> LiveKey,
        pick: impl FnOnce(&LiveAnswer) -> Option<Arc<K>>,
    ) -> Lookup<Arc<K>>
    where
        K: kube::Resource + Clone + 'static,
        K::DynamicType: Eq + std::hash::Hash + Clone + Default,
    {
        let key = || key(namespace.to_owned(), name.to_owned());
        if let Some(answer) = self.answer(key) {
            return answer.lookup(pick);
        }
        if let Some(reason) = cache.disabled_reason() {
            return Lookup::Unavailable(reason);
        }
        match cache.get(namespace, name) {
            Some(found) => Lookup::Found(found),
            None => {
                self.miss(key);
                Lookup::Missing
            }
        }
    }
}

impl ClusterView for RequestView<'_> {
    fn configuration(&self, namespace: &str, name: &str) -> Lookup<Arc<MedusaConfiguration>> {
        self.single(
            &self.caches.configurations,
            namespace,
            name,
            LiveKey::Configuration,
            |a| match a {
                LiveAnswer::Configuration(c) => Some(c.clone()),
                _ => None,
            },
        )
    }

    fn clusters(&self) -> Lookup<Vec<Arc<K8ssandraCluster>>> {
        match self.caches.clusters.disabled_reason() {
            Some(reason) => Lookup::Unavailable(reason),
            None => Lookup::Found(self.caches.clusters.all()),
        }
    }

    fn clusters_at(&self, location: &StorageLocation) -> Lookup<Vec<ObjectKey>> {
        match self.caches.clusters.disabled_reason() {
            Some(reason) => Lookup::Unavailable(reason),
            None => Lookup::Found(self.caches.clusters_at(location)),
        }
    }

    fn datacenter(&self, namespace: &str, name: &str) -> Lookup<Arc<CassandraDatacenter>> {
        self.single(
            &self.caches.datacenters,
            namespace,
            name,
            LiveKey::Datacenter,
            |a| match a {
                LiveAnswer::Datacenter(d) => Some(d.clone()),
                _ => None,
            },
        )
    }

    fn datacenters(&self, namespace: &str) -> Lookup<Vec<Arc<CassandraDatacenter>>> {
        list(&self.caches.datacenters, namespace)
    }

    fn backup(&self, namespace: &str, name: &str) -> Lookup<Arc<MedusaBackup>> {
        self.single(
            &self.caches.backups,
            namespace,
            name,
            LiveKey::Backup,
            |a| match a {
                LiveAnswer::Backup(b) => Some(b.clone()),
                _ => None,
            },
        )
    }

    fn backup_if_known(&self, namespace: &str, name: &str) -> Lookup<Arc<MedusaBackup>> {
        if let Some(reason) = self.caches.backups.disabled_reason() {
            return Lookup::Unavailable(reason);
        }
        self.caches.backups.get(namespace, name).into()
    }

    fn backups(&self, namespace: &str) -> Lookup<Vec<Arc<MedusaBackup>>> {
        list(&self.caches.backups, namespace)
    }

    fn backup_jobs(&self, namespace: &str) -> Lookup<Vec<Arc<MedusaBackupJob>>> {
        list(&self.caches.backup_jobs, namespace)
    }

    fn restore_jobs(&self, namespace: &str) -> Lookup<Vec<Arc<MedusaRestoreJob>>> {
        list(&self.caches.restore_jobs, namespace)
    }

    fn tasks(&self, namespace: &str) -> Lookup<Vec<Arc<MedusaTask>>> {
        list(&self.caches.tasks, namespace)
    }

    fn schedule_if_known(&self, namespace: &str, name: &str) -> Lookup<Arc<MedusaBackupSchedule>> {
        if let Some(reason) = self.caches.schedules.disabled_reason() {
            return Lookup::Unavailable(reason);
        }
        self.caches.schedules.get(namespace, name).into()
    }

    fn secret(&self, namespace: &str, name: &str) -> Lookup<SecretFacts> {
        let key = || LiveKey::Secret(namespace.to_owned(), name.to_owned());
        if let Some(answer) = self.answer(key) {
            return answer.lookup(|a| match a {
                LiveAnswer::Secret(facts) => Some(*facts),
                _ => None,
            });
        }
        if let Some(reason) = self.caches.secrets.disabled_reason() {
            return Lookup::Unavailable(reason);
        }
        // The cache holds metadata only: the `credentials` key always needs a live GET.
        let cached = self.caches.secrets.get(namespace, name);
        self.miss(key);
        match cached {
            Some(_) => Lookup::Found(SecretFacts {
                has_credentials_key: None,
            }),
            None => Lookup::Missing,
        }
    }
}
