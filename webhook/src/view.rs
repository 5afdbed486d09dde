//! The cluster view of one admission request: the caches first; where they miss an object a
//! rule expects to exist, a live GET, awaited inline within the review's lookup budget.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use medusa_crds::kinds::Watched;
use medusa_crds::rules::{ClusterView, Expect, Lookup, ObjectKey, SecretFacts, StorageLocation};

use crate::cache::{Cache, Caches};
use crate::labels::LookupOutcome;
use crate::live::Live;
use crate::metrics::Metrics;

/// Caches plus live lookups for one review.
pub struct RequestView<'a> {
    caches: &'a Caches,
    live: Option<&'a Live>,
    metrics: &'a Metrics,
    budget: Duration,
    /// The budget runs from the first live lookup: most reviews never need one.
    deadline: OnceLock<Instant>,
}

impl std::fmt::Debug for RequestView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestView")
            .field("live", &self.live.is_some())
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

fn listed<K, T>(cache: &Cache<K>, list: impl FnOnce(&Cache<K>) -> T) -> Lookup<T>
where
    K: Watched,
{
    match cache.disabled_reason() {
        Some(reason) => Lookup::Unavailable(reason),
        None => Lookup::Found(list(cache)),
    }
}

impl<'a> RequestView<'a> {
    /// A view over the caches; with `live`, misses of expected objects are asked of the API
    /// server within `budget` for the whole review.
    pub fn new(
        caches: &'a Caches,
        live: Option<&'a Live>,
        metrics: &'a Metrics,
        budget: Duration,
    ) -> Self {
        Self {
            caches,
            live,
            metrics,
            budget,
            deadline: OnceLock::new(),
        }
    }

    /// One live lookup, within what is left of the review's budget, counted in the metrics.
    async fn ask<T>(
        &self,
        kind: &'static str,
        lookup: impl Future<Output = Result<Option<T>, String>>,
    ) -> Lookup<T> {
        let deadline = *self.deadline.get_or_init(|| Instant::now() + self.budget);
        let remaining = deadline.saturating_duration_since(Instant::now());
        let answer = if remaining.is_zero() {
            Lookup::Failed("the live lookup budget of this review is spent".into())
        } else {
            match tokio::time::timeout(remaining, lookup).await {
                Ok(Ok(found)) => found.into(),
                Ok(Err(why)) => Lookup::Failed(why),
                Err(_) => Lookup::Failed(format!(
                    "the live lookup of {kind} did not answer within the {} ms budget",
                    self.budget.as_millis()
                )),
            }
        };
        let outcome = match &answer {
            Lookup::Found(_) => LookupOutcome::Found,
            Lookup::Missing => LookupOutcome::Missing,
            Lookup::Unavailable(_) | Lookup::Failed(_) => LookupOutcome::Failed,
        };
        self.metrics.lookup(kind, outcome);
        answer
    }
}

impl ClusterView for RequestView<'_> {
    async fn get<K: Watched>(&self, namespace: &str, name: &str, expect: Expect) -> Lookup<Arc<K>> {
        let cache = self.caches.of::<K>();
        if let Some(reason) = cache.disabled_reason() {
            return Lookup::Unavailable(reason);
        }
        if let Some(found) = cache.get(namespace, name) {
            return Lookup::Found(found);
        }
        match (expect, self.live) {
            // The cache may not have seen an object created a moment ago: ask.
            (Expect::Exists, Some(live)) => {
                self.ask(K::KIND.as_str(), live.get::<K>(namespace, name))
                    .await
            }
            _ => Lookup::Missing,
        }
    }

    async fn list<K: Watched>(&self, namespace: &str) -> Lookup<Vec<Arc<K>>> {
        listed(self.caches.of::<K>(), |cache| cache.in_namespace(namespace))
    }

    async fn list_all<K: Watched>(&self) -> Lookup<Vec<Arc<K>>> {
        listed(self.caches.of::<K>(), Cache::all)
    }

    async fn clusters_at(&self, location: &StorageLocation) -> Lookup<Vec<ObjectKey>> {
        listed(self.caches.of::<medusa_crds::K8ssandraCluster>(), |_| {
            self.caches.clusters_at(location)
        })
    }

    async fn secret(&self, namespace: &str, name: &str) -> Lookup<SecretFacts> {
        if let Some(reason) = self.caches.secrets.disabled_reason() {
            return Lookup::Unavailable(reason);
        }
        match self.live {
            // The cache holds metadata only: the `credentials` key always needs a live GET.
            Some(live) => self.ask("Secret", live.secret(namespace, name)).await,
            None => self
                .caches
                .secrets
                .get(namespace, name)
                .map(|_| SecretFacts {
                    has_credentials_key: None,
                })
                .into(),
        }
    }
}
