//! What is checked before creating anything: the operator leaves status empty forever when the
//! datacenter, its pods or its medusa container are missing, and the webhook's rules (the same
//! code) are run locally so a denial comes before anything is sent.

use k8s_openapi::api::core::v1::Pod;
use medusa_crds::merge::EffectiveStorage;
use medusa_crds::operator::datacenter_selector;
use medusa_crds::rules::{
    self, AdmissionInput, AdmissionOperation, ObjectText, Policy, ResourceKind, Severity,
};
use medusa_crds::types::cassdc::MEDUSA_CONTAINER;
use medusa_crds::*;

use crate::api::{self, Kind, Scope};
use crate::context::Ctx;
use crate::error::{CliError, Result};
use crate::snapshot::Snapshot;

/// The datacenter, or a not-found error listing the ones that exist.
pub async fn datacenter(ctx: &Ctx, namespace: &str, name: &str) -> Result<CassandraDatacenter> {
    if let Some(dc) = api::get_opt::<CassandraDatacenter>(ctx, namespace, name).await? {
        return Ok(dc);
    }
    let existing: Vec<String> =
        api::list::<CassandraDatacenter>(ctx, Scope::Namespace(namespace), None)
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
    let selector = datacenter_selector(dc);
    let pods = match api::list::<Pod>(ctx, Scope::Namespace(namespace), Some(&selector)).await {
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

/// What the rules read before an object of `kind` is created in `namespace`.
pub async fn namespace_view(ctx: &Ctx, namespace: &str, kind: ResourceKind) -> Result<Snapshot> {
    Snapshot::fetch(
        ctx,
        Scope::Namespace(namespace),
        kind.reads(AdmissionOperation::Create),
        None,
    )
    .await
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

/// Runs the webhook's rules on an object about to be created: a denial stops here (exit 3),
/// warnings are printed.
pub async fn run_rules<K: Kind>(ctx: &Ctx, object: &K, view: &Snapshot) -> Result<()> {
    let Some(kind) = ResourceKind::from_group_kind(&K::group(&()), &K::kind(&())) else {
        return Ok(());
    };
    let raw = serde_json::value::to_raw_value(object)
        .map_err(|e| CliError::Failed(format!("cannot encode the object: {e}")))?;
    let text = ObjectText::parse(raw.get())
        .map_err(|e| CliError::Failed(format!("cannot read the encoded object: {e}")))?;
    let namespace = object.meta().namespace.clone().unwrap_or_default();
    let name = object.meta().name.clone().unwrap_or_default();
    let decision = rules::validate(
        &AdmissionInput {
            operation: AdmissionOperation::Create,
            kind,
            namespace: &namespace,
            name: &name,
            object: Some(&text),
            old_object: None,
            defaulted: false,
        },
        view,
        &Policy::default(),
    )
    .await;
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
