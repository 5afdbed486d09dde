//! A scope of the cluster as one command reads it: the lists of the kinds it needs, fetched at
//! once, serving the rules as their [`ClusterView`] (the checks before a create, `validate
//! --cluster-view live`) and the tables (`status`, `backup list`).
//!
//! A list the user may not read, or whose CRD is not installed, does not fail the snapshot: the
//! rules see that kind as unavailable and warn instead of deny, as the webhook does with a
//! cache it cannot fill; a command that needs the list for a table gets the error itself.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::{BoxFuture, FutureExt, try_join_all};
use k8s_openapi::api::core::v1::Secret;
use medusa_crds::kinds::{Each, ViewKind, Watched, each_kind};
use medusa_crds::operator::secret_has_credentials;
use medusa_crds::rules::{
    ClusterView, Expect, Lookup, MemoryView, ObjectKey, SecretFacts, StorageLocation,
};

use crate::api::{self, Scope};
use crate::context::Ctx;
use crate::error::{CliError, Result};

/// The lists of some kinds in one scope.
#[derive(Debug)]
pub struct Snapshot {
    view: MemoryView,
    fetched: Vec<ViewKind>,
    /// Lists that could not be read, kept for the commands that show them.
    errors: BTreeMap<ViewKind, CliError>,
}

/// Puts one fetched list in its place.
type Store = Box<dyn FnOnce(&mut Snapshot) + Send>;

struct Fetches<'a> {
    ctx: &'a Ctx,
    scope: Scope<'a>,
    selector: Option<&'a str>,
    kinds: &'a [ViewKind],
    fetches: Vec<BoxFuture<'a, Result<Store>>>,
}

impl Each for Fetches<'_> {
    fn each<K: Watched>(&mut self) {
        if !self.kinds.contains(&K::KIND) {
            return;
        }
        let (ctx, scope, selector) = (self.ctx, self.scope, self.selector);
        self.fetches.push(
            async move {
                let listed = api::list_slim::<K>(ctx, scope, selector, K::slim).await;
                let store: Store = match listed {
                    Ok(items) => Box::new(move |snapshot: &mut Snapshot| {
                        snapshot
                            .view
                            .set::<K>(Ok(items.into_iter().map(Arc::new).collect()));
                    }),
                    Err(e) if e.is_unavailable() => Box::new(move |snapshot: &mut Snapshot| {
                        let reason = if e.is_crds_missing() {
                            format!("the {} CRD is not installed", K::KIND)
                        } else {
                            e.to_string()
                        };
                        snapshot.view.set::<K>(Err(reason));
                        snapshot.errors.insert(K::KIND, e);
                    }),
                    Err(e) => return Err(e),
                };
                Ok(store)
            }
            .boxed(),
        );
    }
}

impl Snapshot {
    /// Lists `kinds` in `scope` (with a label selector, when given), all at once.
    pub async fn fetch(
        ctx: &Ctx,
        scope: Scope<'_>,
        kinds: &[ViewKind],
        selector: Option<&str>,
    ) -> Result<Self> {
        let mut fetches = Fetches {
            ctx,
            scope,
            selector,
            kinds,
            fetches: Vec::new(),
        };
        each_kind(&mut fetches);
        let stores = try_join_all(fetches.fetches).await?;
        let mut snapshot = Self {
            view: MemoryView::empty(),
            fetched: kinds.to_vec(),
            errors: BTreeMap::new(),
        };
        for store in stores {
            store(&mut snapshot);
        }
        Ok(snapshot)
    }

    /// Adds what the rules may know of a Secret: whether it exists and has a `credentials`
    /// key. Its data is dropped at once; a Secret the user may not read stays unknown.
    pub async fn fetch_secret(mut self, ctx: &Ctx, namespace: &str, name: &str) -> Self {
        match api::get_opt::<Secret>(ctx, namespace, name).await {
            Ok(Some(secret)) => {
                let has_key = secret_has_credentials(&secret);
                drop(secret);
                self.view = self.view.with_secret(namespace, name, has_key);
            }
            // Known not to exist: the view sees Secrets, and not this one.
            Ok(None) => {
                self.view.secrets.get_or_insert_with(BTreeMap::new);
            }
            Err(_) => {}
        }
        self
    }

    /// Adds a Secret about to be created with the object, with or without a `credentials` key.
    pub fn with_secret(mut self, namespace: &str, name: &str, has_credentials_key: bool) -> Self {
        self.view = self.view.with_secret(namespace, name, has_credentials_key);
        self
    }

    /// The view the rules read.
    pub fn view(&self) -> &MemoryView {
        &self.view
    }

    /// The objects of kind `K`, taken out of the snapshot; the error of their list when it
    /// could not be read.
    pub fn take<K: Watched>(&mut self) -> Result<Vec<K>> {
        if let Some(error) = self.errors.remove(&K::KIND) {
            return Err(error);
        }
        if !self.fetched.contains(&K::KIND) {
            return Err(CliError::Failed(format!(
                "the {} list was not fetched for this command: please report this defect",
                K::KIND
            )));
        }
        let taken = match self.view.objects.of_mut::<K>() {
            Ok(list) => std::mem::take(list),
            Err(_) => Vec::new(),
        };
        Ok(taken
            .into_iter()
            .map(|object| Arc::try_unwrap(object).unwrap_or_else(|shared| (*shared).clone()))
            .collect())
    }
}

impl ClusterView for Snapshot {
    async fn get<K: Watched>(&self, namespace: &str, name: &str, _: Expect) -> Lookup<Arc<K>> {
        self.view.find(namespace, name)
    }

    async fn list<K: Watched>(&self, namespace: &str) -> Lookup<Vec<Arc<K>>> {
        self.view.in_namespace(namespace)
    }

    async fn list_all<K: Watched>(&self) -> Lookup<Vec<Arc<K>>> {
        self.view.list_all().await
    }

    async fn clusters_at(&self, location: &StorageLocation) -> Lookup<Vec<ObjectKey>> {
        self.view.clusters_located_at(location)
    }

    async fn secret(&self, namespace: &str, name: &str) -> Lookup<SecretFacts> {
        self.view.secret_facts(namespace, name)
    }
}
