//! What is checked before creating anything: the operator leaves status empty forever when the
//! datacenter, its pods or its medusa container are missing, and the webhook's rules (the same
//! code) are run locally so a denial comes before anything is sent.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Pod, Secret};
use medusa_crds::merge::EffectiveStorage;
use medusa_crds::naming::datacenter_labels;
use medusa_crds::rules::{
    self, AdmissionInput, AdmissionOperation, MemoryView, Policy, ResourceKind, Severity,
};
use medusa_crds::types::cassdc::MEDUSA_CONTAINER;
use medusa_crds::*;

use crate::api::{self, Kind};
use crate::context::Ctx;
use crate::error::{CliError, Result};

/// The datacenter, or a not-found error listing the ones that exist.
pub async fn datacenter(ctx: &Ctx, namespace: &str, name: &str) -> Result<CassandraDatacenter> {
    if let Some(dc) = api::get_opt::<CassandraDatacenter>(ctx, namespace, name).await? {
        return Ok(dc);
    }
    let existing: Vec<String> = api::list::<CassandraDatacenter>(ctx, namespace, false, None)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter_map(|d| d.metadata.name)
        .collect();
    let hint = if existing.is_empty() {
        format!(
            "there is no CassandraDatacenter in namespace {namespace}; use -n with the datacenter's namespace"
        )
    } else {
        format!(
            "datacenters in namespace {namespace}: {}",
            existing.join(", ")
        )
    };
    Err(CliError::NotFound(format!(
        "CassandraDatacenter {name:?} not found in namespace {namespace} ({hint})"
    )))
}

/// The datacenter's pods must run a `medusa` container; without them, the operator retries
/// forever with an empty status.
pub async fn medusa_pods(ctx: &Ctx, namespace: &str, dc: &CassandraDatacenter) -> Result<()> {
    let name = dc.metadata.name.clone().unwrap_or_default();
    let selector = datacenter_labels(dc)
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let pods = match api::list::<Pod>(ctx, namespace, false, Some(&selector)).await {
        Ok(pods) => pods,
        Err(CliError::Forbidden { .. }) => {
            ctx.err.line(format!(
                "warning: cannot list the pods of datacenter {name} (forbidden): their medusa containers are not checked"
            ))?;
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    if pods.is_empty() {
        return Err(CliError::Failed(format!(
            "datacenter {name} has no pods (stopped or not started): the operator would wait forever; start it first"
        )));
    }
    let without: Vec<String> = pods
        .iter()
        .filter(|p| {
            !p.spec
                .as_ref()
                .is_some_and(|s| s.containers.iter().any(|c| c.name == MEDUSA_CONTAINER))
        })
        .filter_map(|p| p.metadata.name.clone())
        .collect();
    if !without.is_empty() {
        return Err(CliError::Failed(format!(
            "Medusa is not enabled on datacenter {name}: pods {} have no medusa container; add spec.medusa to its K8ssandraCluster",
            without.join(", ")
        )));
    }
    Ok(())
}

fn arcs<T>(items: Vec<T>) -> Vec<Arc<T>> {
    items.into_iter().map(Arc::new).collect()
}

/// The objects of a kind in the namespace, or none when they cannot be listed: the rules
/// then see less, as the webhook does with a cache it may not fill.
async fn readable<K: Kind>(ctx: &Ctx, namespace: &str) -> Vec<Arc<K>> {
    arcs(
        api::list(ctx, namespace, false, None)
            .await
            .unwrap_or_default(),
    )
}

/// A view of one namespace for the rules, fetched from the cluster. Lists the plugin may not
/// read are reported as unavailable, so the rules warn instead of deny.
pub async fn namespace_view(ctx: &Ctx, namespace: &str, kind: ResourceKind) -> Result<MemoryView> {
    let mut view = MemoryView {
        secrets: None,
        ..MemoryView::default()
    };
    view.datacenters = api::list::<CassandraDatacenter>(ctx, namespace, false, None)
        .await
        .ok()
        .map(arcs::<CassandraDatacenter>);
    match kind {
        ResourceKind::MedusaBackupJob => {
            view.backups = readable(ctx, namespace).await;
            view.backup_jobs = readable(ctx, namespace).await;
            view.schedules = readable(ctx, namespace).await;
        }
        ResourceKind::MedusaRestoreJob => {
            view.backups = readable(ctx, namespace).await;
            view.restore_jobs = readable(ctx, namespace).await;
        }
        ResourceKind::MedusaTask => {
            view.backups = readable(ctx, namespace).await;
            view.tasks = readable(ctx, namespace).await;
        }
        _ => {}
    }
    Ok(view)
}

/// A datacenter's K8ssandraCluster and the storage the operator renders for it.
#[derive(Debug)]
pub struct OwnerStorage {
    /// The cluster's namespace.
    pub namespace: String,
    /// The cluster.
    pub cluster: K8ssandraCluster,
    /// Its MedusaConfiguration, when it references one that can be read.
    pub configuration: Option<MedusaConfiguration>,
    /// The merged storage; `None` when the cluster has no `spec.medusa`.
    pub effective: Option<EffectiveStorage>,
}

/// The K8ssandraCluster owning `dc` (from the operator's labels) with its configuration and
/// merged storage. `None` when the datacenter has no owner or it cannot be read: callers show
/// what they can without it.
pub async fn owner_storage(ctx: &Ctx, dc: &CassandraDatacenter) -> Option<OwnerStorage> {
    let (name, namespace) = dc.owner_cluster()?;
    let cluster = api::get_opt::<K8ssandraCluster>(ctx, namespace, name)
        .await
        .ok()
        .flatten()?;
    let configuration = match cluster
        .spec
        .medusa
        .as_ref()
        .and_then(|m| m.configuration_name())
    {
        Some(config) => api::get_opt::<MedusaConfiguration>(ctx, namespace, config)
            .await
            .ok()
            .flatten(),
        None => None,
    };
    let effective = cluster
        .spec
        .medusa
        .is_some()
        .then(|| cluster.effective_storage(configuration.as_ref(), true));
    Some(OwnerStorage {
        namespace: namespace.to_owned(),
        cluster,
        configuration,
        effective,
    })
}

/// Adds what the rules may know of a Secret: whether it exists and has a `credentials` key.
/// The data is dropped at once.
pub async fn add_secret(ctx: &Ctx, view: MemoryView, namespace: &str, name: &str) -> MemoryView {
    match api::get_opt::<Secret>(ctx, namespace, name).await {
        Ok(Some(secret)) => {
            let has_key = secret
                .data
                .as_ref()
                .is_some_and(|d| d.contains_key("credentials"));
            drop(secret);
            view.with_secret(namespace, name, has_key)
        }
        Ok(None) => MemoryView {
            secrets: Some(view.secrets.clone().unwrap_or_default()),
            ..view
        },
        Err(_) => view,
    }
}

/// Runs the webhook's rules on an object about to be created: a denial stops here (exit 3),
/// warnings are printed.
pub fn run_rules<K: Kind>(ctx: &Ctx, object: &K, view: &MemoryView) -> Result<()> {
    let Some(kind) = ResourceKind::from_group_kind(&K::group(&()), &K::kind(&())) else {
        return Ok(());
    };
    let raw = serde_json::value::to_raw_value(object)
        .map_err(|e| CliError::Failed(format!("cannot encode the object: {e}")))?;
    let namespace = object.meta().namespace.clone().unwrap_or_default();
    let name = object.meta().name.clone().unwrap_or_default();
    let decision = rules::validate(
        &AdmissionInput {
            operation: AdmissionOperation::Create,
            kind,
            namespace: &namespace,
            name: &name,
            object: Some(&raw),
            old_object: None,
            defaulted: false,
        },
        view,
        &Policy::default(),
    );
    for finding in decision
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warn)
    {
        ctx.err.line(format!("warning: {finding}"))?;
    }
    match decision.denial_message() {
        Some(message) => Err(CliError::Usage(message)),
        None => Ok(()),
    }
}
