//! Typed API calls with errors that name the object, the verb and the fix.

use std::fmt::Debug;

use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::context::Ctx;
use crate::error::{CallContext, Result, from_api};

/// A namespaced kind we call.
pub trait Kind:
    Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + Clone
    + DeserializeOwned
    + Serialize
    + Debug
    + Send
    + Sync
    + 'static
{
}

impl<K> Kind for K where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Serialize
        + Debug
        + Send
        + Sync
        + 'static
{
}

/// `medusabackupjobs.medusa.k8ssandra.io`.
pub fn resource_of<K: Kind>() -> String {
    let group = K::group(&());
    if group.is_empty() {
        K::plural(&()).into_owned()
    } else {
        format!("{}.{group}", K::plural(&()))
    }
}

fn call<'a, K: Kind>(verb: &'a str, namespace: &'a str, name: Option<&str>) -> CallContext<'a> {
    CallContext {
        verb,
        resource: resource_of::<K>(),
        namespace,
        object: name.map(|n| format!("{} {n:?}", K::kind(&()))),
    }
}

/// The API of a kind in a namespace.
pub async fn api<K: Kind>(ctx: &Ctx, namespace: &str) -> Result<Api<K>> {
    Ok(Api::namespaced(ctx.client().await?.clone(), namespace))
}

/// GET, failing with a not-found error that names the object.
pub async fn get<K: Kind>(ctx: &Ctx, namespace: &str, name: &str) -> Result<K> {
    api::<K>(ctx, namespace)
        .await?
        .get(name)
        .await
        .map_err(|e| from_api(e, call::<K>("get", namespace, Some(name))))
}

/// GET, `None` when it does not exist.
pub async fn get_opt<K: Kind>(ctx: &Ctx, namespace: &str, name: &str) -> Result<Option<K>> {
    api::<K>(ctx, namespace)
        .await?
        .get_opt(name)
        .await
        .map_err(|e| from_api(e, call::<K>("get", namespace, Some(name))))
}

/// The page size of lists, as kubectl's `--chunk-size`: bounded buffers on large catalogs.
pub const PAGE_SIZE: u32 = 500;

/// Where a LIST looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope<'a> {
    /// One namespace.
    Namespace(&'a str),
    /// Every namespace (`-A`).
    All,
}

impl std::fmt::Display for Scope<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Namespace(namespace) => f.write_str(namespace),
            Self::All => f.write_str("all namespaces"),
        }
    }
}

/// LIST in a scope, page by page. `managedFields` are dropped as each page arrives (as
/// `kubectl get` hides them): nothing here reads them, and they are most of a small object's
/// size.
pub async fn list<K: Kind>(ctx: &Ctx, scope: Scope<'_>, selector: Option<&str>) -> Result<Vec<K>> {
    list_slim(ctx, scope, selector, |item| item).await
}

/// [`list`], with `slim` applied to each object as its page arrives, to drop what the caller
/// does not need before the next page: memory stays bounded on large catalogs.
pub async fn list_slim<K: Kind>(
    ctx: &Ctx,
    scope: Scope<'_>,
    selector: Option<&str>,
    mut slim: impl FnMut(K) -> K,
) -> Result<Vec<K>> {
    let client = ctx.client().await?.clone();
    let api: Api<K> = match scope {
        Scope::Namespace(namespace) => Api::namespaced(client, namespace),
        Scope::All => Api::all(client),
    };
    let mut params = ListParams::default().limit(PAGE_SIZE);
    if let Some(selector) = selector {
        params = params.labels(selector);
    }
    let scope = scope.to_string();
    let mut items = Vec::new();
    loop {
        let page = api
            .list(&params)
            .await
            .map_err(|e| from_api(e, call::<K>("list", &scope, None)))?;
        items.extend(page.items.into_iter().map(|mut item| {
            item.meta_mut().managed_fields = None;
            slim(item)
        }));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(items),
        }
    }
}

/// CREATE; with `dry_run`, the API server and admission webhooks judge it without storing it.
pub async fn create<K: Kind>(ctx: &Ctx, namespace: &str, object: &K, dry_run: bool) -> Result<K> {
    let name = object.meta().name.clone();
    let params = PostParams {
        dry_run,
        field_manager: Some("kubectl-medusa".into()),
    };
    api::<K>(ctx, namespace)
        .await?
        .create(&params, object)
        .await
        .map_err(|e| from_api(e, call::<K>("create", namespace, name.as_deref())))
}

/// A JSON merge patch: changes only the fields given.
pub async fn merge_patch<K: Kind>(
    ctx: &Ctx,
    namespace: &str,
    name: &str,
    patch: &serde_json::Value,
) -> Result<K> {
    let params = PatchParams {
        field_manager: Some("kubectl-medusa".into()),
        ..PatchParams::default()
    };
    api::<K>(ctx, namespace)
        .await?
        .patch(name, &params, &Patch::Merge(patch))
        .await
        .map_err(|e| from_api(e, call::<K>("patch", namespace, Some(name))))
}

/// DELETE.
pub async fn delete<K: Kind>(ctx: &Ctx, namespace: &str, name: &str) -> Result<()> {
    api::<K>(ctx, namespace)
        .await?
        .delete(name, &DeleteParams::default())
        .await
        .map(|_| ())
        .map_err(|e| from_api(e, call::<K>("delete", namespace, Some(name))))
}
