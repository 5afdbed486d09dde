//! The K rules on the merged storage of a K8ssandraCluster: K3 to K9.

use std::collections::BTreeMap;

use super::cluster::ClusterText;
use super::view::{StorageLocation, storage_location_of};
use super::{AdmissionInput, Checks, ClusterView, Finding, RuleId, Who, name_list};
use crate::merge::{EffectiveStorage, FieldSource, effective_storage};
use crate::naming::ALLOW_STORAGE_CHANGE_ANNOTATION;
use crate::types::{
    DatacenterTemplate, MedusaBackup, MedusaClusterTemplate, MedusaConfiguration, StorageProvider,
};

/// The maximum prefix length we accept.
pub const MAX_PREFIX_LEN: usize = 256;

/// A K8ssandraCluster under review, with its `spec.medusa` and its configuration.
pub(super) struct ClusterReview<'a> {
    pub input: &'a AdmissionInput<'a>,
    pub cluster: &'a ClusterText<'a>,
    pub medusa: &'a MedusaClusterTemplate,
    pub configuration: Option<&'a MedusaConfiguration>,
}

impl ClusterReview<'_> {
    /// The storage the operator would render.
    pub fn effective(&self) -> EffectiveStorage {
        effective_storage(
            self.cluster.name(),
            Some(self.medusa),
            self.configuration,
            self.input.defaulted,
        )
    }
}

/// K3 to K7 and K9, on the merged storage.
pub(super) async fn storage_rules<V: ClusterView>(
    review: &ClusterReview<'_>,
    effective: &EffectiveStorage,
    checks: &mut Checks<'_, V>,
) -> Result<(), Finding> {
    let input = review.input;
    let who = input.who();
    let configuration_name = review.medusa.configuration_name();
    merged_storage_rules(who, effective, configuration_name, checks);
    credentials_rules(who, effective, configuration_name, checks);
    if effective.storage.secret_name().is_some() && checks.enabled(RuleId::K5) {
        let datacenters = review.cluster.datacenters(input, "spec.cassandra")?;
        secret_rules(who, &datacenters, input.namespace, effective, checks).await;
    }
    prefix_rules(who, effective, checks);
    let location = StorageLocation::of(effective);
    shared_location_rules(who, &location, input, checks).await;
    for trap in &effective.traps {
        checks.warn(RuleId::K9, format!("{who}: {trap}"));
    }
    Ok(())
}

fn where_to_set(field: &str, configuration: Option<&str>) -> String {
    match configuration {
        Some(name) => format!(
            "set {field} in MedusaConfiguration {name:?} or in spec.medusa.storageProperties"
        ),
        None => format!("set spec.medusa.storageProperties.{field}"),
    }
}

/// K3: the merged storage is usable.
fn merged_storage_rules<V: ClusterView>(
    who: Who<'_>,
    effective: &EffectiveStorage,
    configuration: Option<&str>,
    checks: &mut Checks<'_, V>,
) {
    if !checks.enabled(RuleId::K3) {
        return;
    }
    let storage = &effective.storage;
    let merged = if configuration.is_some() {
        "the merged storage (MedusaConfiguration and K8ssandraCluster)"
    } else {
        "the storage"
    };
    match &storage.storage_provider {
        None => checks.deny(
            RuleId::K3,
            format!(
                "{who}: {merged} has no storageProvider, so medusa.ini gets an empty storage_provider and Medusa cannot start; {}",
                where_to_set("storageProvider", configuration)
            ),
        ),
        Some(StorageProvider::Unknown(value)) => checks.deny(
            RuleId::K3,
            format!(
                "{who}: storageProvider {value:?} is not one the operator accepts; use one of {}",
                StorageProvider::KNOWN.join(", ")
            ),
        ),
        Some(provider) => {
            if provider.needs_host() && storage.host().is_none() {
                checks.deny(
                    RuleId::K3,
                    format!(
                        "{who}: storageProvider {provider} needs the endpoint's host, and {merged} has none; {}",
                        where_to_set("host", configuration)
                    ),
                );
            }
        }
    }
    if storage.bucket().is_none() {
        checks.deny(
            RuleId::K3,
            format!(
                "{who}: {merged} has no bucketName, so Medusa has nowhere to write; {}",
                where_to_set("bucketName", configuration)
            ),
        );
    }
    if let Some(port) = storage.port
        && port != 0
        && !(1..=65535).contains(&port)
    {
        checks.deny(
            RuleId::K3,
            format!("{who}: storage port {port} is not a TCP port; use 1 to 65535, or leave port unset for the provider's default"),
        );
    }
}

/// K4: the merged credentials agree, with the operator's texts.
fn credentials_rules<V: ClusterView>(
    who: Who<'_>,
    effective: &EffectiveStorage,
    configuration: Option<&str>,
    checks: &mut Checks<'_, V>,
) {
    let storage = &effective.storage;
    match (storage.secret_name(), storage.is_role_based()) {
        (None, false) => checks.deny(
            RuleId::K4,
            format!(
                "{who}: must specify either a storge secret or use role-based credentials: set spec.medusa.storageProperties.storageSecretRef.name to a Secret holding a `credentials` key, or credentialsType: role-based to use the pods' cloud identity (IRSA, workload identity)"
            ),
        ),
        (Some(secret), true) => {
            let from_configuration = effective.source("storageSecretRef.name")
                == FieldSource::Configuration;
            let hint = match configuration {
                Some(name) if from_configuration => format!(
                    "the Secret {secret:?} comes from MedusaConfiguration {name:?}, and an empty storageSecretRef.name in the K8ssandraCluster cannot remove it (the operator's merge ignores empty values; the documented IRSA example falls into exactly this). Reference a MedusaConfiguration without storageSecretRef, or remove it from {name:?}, or drop credentialsType: role-based"
                ),
                _ => "remove storageSecretRef to use the pods' cloud identity, or remove credentialsType: role-based to use the Secret".to_owned(),
            };
            checks.deny(
                RuleId::K4,
                format!(
                    "{who}: cannot specify both a storage secret and role-based credentials: {secret}; {hint}"
                ),
            );
        }
        _ => {}
    }
}

/// K5: the storage Secret exists, with a `credentials` key, in every datacenter namespace
/// this API server serves.
async fn secret_rules<V: ClusterView>(
    who: Who<'_>,
    datacenters: &[DatacenterTemplate],
    cluster_namespace: &str,
    effective: &EffectiveStorage,
    checks: &mut Checks<'_, V>,
) {
    let Some(secret) = effective.storage.secret_name() else {
        return;
    };
    let mut local: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut remote: Vec<String> = Vec::new();
    for dc in datacenters {
        if checks.policy.is_local_context(dc.context()) {
            local
                .entry(dc.namespace_in(cluster_namespace))
                .or_default()
                .push(dc.object_name());
        } else {
            remote.push(format!(
                "{} (context {}, namespace {})",
                dc.object_name(),
                dc.context().unwrap_or(""),
                dc.namespace_in(cluster_namespace)
            ));
        }
    }
    for (namespace, datacenters) in local {
        let dcs = name_list(&datacenters, 5);
        let lookup = checks.view.secret(namespace, secret).await;
        let facts = checks.require(
            RuleId::K5,
            lookup,
            || format!("Secret {secret:?} in namespace {namespace}"),
            || format!(
                "{who}: storage Secret {secret:?} not found in namespace {namespace} (datacenter {dcs}): Medusa mounts it from each datacenter's namespace (the operator does not copy it), so the Cassandra pods would wait for it forever; create it there with a `credentials` key"
            ),
        );
        let Some(facts) = facts else {
            continue;
        };
        match facts.has_credentials_key {
            Some(true) => {}
            Some(false) => checks.deny(
                RuleId::K5,
                format!(
                    "{who}: storage Secret {secret:?} in namespace {namespace} has no `credentials` key: Medusa reads its credentials file from /etc/medusa-secrets/credentials; store the provider's credentials file under the key `credentials`"
                ),
            ),
            None => checks.warn(
                RuleId::K5,
                format!("{who}: could not read the keys of storage Secret {secret:?} in namespace {namespace}; make sure it has a `credentials` key"),
            ),
        }
    }
    if !remote.is_empty() {
        checks.warn(
            RuleId::K5,
            format!(
                "{who}: datacenters {} run in other Kubernetes clusters, where storage Secret {secret:?} cannot be checked from here; make sure it exists there with a `credentials` key",
                name_list(&remote, 5)
            ),
        );
    }
}

/// Why a prefix is not a safe folder name, if it is not.
pub fn prefix_problem(prefix: &str) -> Option<String> {
    if prefix.chars().count() > MAX_PREFIX_LEN {
        return Some(format!("is longer than {MAX_PREFIX_LEN} characters"));
    }
    if prefix.starts_with('/') || prefix.ends_with('/') {
        return Some("starts or ends with /".into());
    }
    if prefix.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("contains white space or control characters".into());
    }
    if prefix.split('/').any(str::is_empty) {
        return Some("has an empty path segment (//)".into());
    }
    if prefix.split('/').any(|s| s == "..") {
        return Some("has a `..` path segment".into());
    }
    None
}

/// K6: the prefix is a safe folder name.
fn prefix_rules<V: ClusterView>(
    who: Who<'_>,
    effective: &EffectiveStorage,
    checks: &mut Checks<'_, V>,
) {
    if let Some(prefix) = effective.storage.prefix()
        && let Some(problem) = prefix_problem(prefix)
    {
        checks.deny(
            RuleId::K6,
            format!(
                "{who}: storage prefix {prefix:?} {problem}; Medusa uses it as the top folder of this cluster's backups, so use a plain path such as \"demo\" or \"team-a/demo\""
            ),
        );
    }
}

/// K7: no other cluster uses the same location.
async fn shared_location_rules<V: ClusterView>(
    who: Who<'_>,
    location: &StorageLocation,
    input: &AdmissionInput<'_>,
    checks: &mut Checks<'_, V>,
) {
    if !checks.enabled(RuleId::K7) {
        return;
    }
    if location.bucket.is_empty() || location.provider.is_empty() {
        return;
    }
    let lookup = checks.view.clusters_at(location).await;
    let Some(owners) = checks.list(RuleId::K7, lookup, || {
        "which other K8ssandraClusters use the same bucket and prefix".to_owned()
    }) else {
        return;
    };
    let others: Vec<String> = owners
        .iter()
        .filter(|key| !(key.namespace == input.namespace && key.name == input.name))
        .map(ToString::to_string)
        .collect();
    if !others.is_empty() {
        checks.deny(
            RuleId::K7,
            format!(
                "{who}: K8ssandraCluster {} already uses {location}: with a shared prefix, each cluster's sync imports the other's backups and each purge deletes them; give this cluster its own spec.medusa.storageProperties.prefix",
                name_list(&others, 3)
            ),
        );
    }
}

/// The cluster before an update, for K8.
pub(super) struct StorageMove<'a, 'b> {
    pub cluster: &'a ClusterText<'b>,
    pub medusa: Option<&'a MedusaClusterTemplate>,
    pub configuration: Option<&'a MedusaConfiguration>,
}

/// K8: no move of the backup location while backups exist.
pub(super) async fn storage_move_rules<V: ClusterView>(
    who: Who<'_>,
    before: StorageMove<'_, '_>,
    after: &StorageLocation,
    input: &AdmissionInput<'_>,
    checks: &mut Checks<'_, V>,
) -> Result<(), Finding> {
    let Some(location) =
        storage_location_of(before.cluster.name(), before.medusa, before.configuration)
    else {
        return Ok(());
    };
    if (&location.bucket, &location.host, &location.prefix)
        == (&after.bucket, &after.host, &after.prefix)
    {
        return Ok(());
    }
    let mut backups: Vec<String> = Vec::new();
    for dc in before.cluster.datacenters(input, "old spec.cassandra")? {
        if !checks.policy.is_local_context(dc.context()) {
            continue;
        }
        let namespace = dc.namespace_in(input.namespace);
        let lookup = checks.view.list::<MedusaBackup>(namespace).await;
        let Some(list) = checks.list(RuleId::K8, lookup, || {
            format!(
                "the MedusaBackups of datacenter {} in namespace {namespace}",
                dc.object_name()
            )
        }) else {
            continue;
        };
        backups.extend(
            list.iter()
                .filter(|b| b.spec.cassandra_datacenter == dc.object_name())
                .filter_map(|b| b.metadata.name.clone()),
        );
    }
    if !backups.is_empty() {
        checks.deny(
            RuleId::K8,
            format!(
                "{who}: moving the backups from {location} to {after} while {} MedusaBackup(s) exist ({}) makes them unreachable, and the next sync deletes their records; to do it anyway, annotate the K8ssandraCluster with {ALLOW_STORAGE_CHANGE_ANNOTATION}: \"true\"",
                backups.len(),
                name_list(&backups, 3)
            ),
        );
    }
    Ok(())
}
