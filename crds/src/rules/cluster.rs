//! K8ssandraCluster rules K1 to K9 and the KM mutation.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, PatchOperation};
use serde_json::json;

use serde_json::value::RawValue;

use super::view::{StorageLocation, storage_location_of};
use super::{
    AdmissionInput, AdmissionOperation, Checks, ClusterView, Expect, Finding, Mutation, RuleId,
    Who, decode, name_list,
};
use crate::merge::{EffectiveStorage, FieldSource, effective_storage};
use crate::naming::ALLOW_STORAGE_CHANGE_ANNOTATION;
use crate::types::{
    DatacenterTemplate, MedusaBackup, MedusaClusterTemplate, MedusaConfiguration, StorageProvider,
};

/// What the K rules read of a K8ssandraCluster, decoded once per object: its name, whether it
/// allows a storage move, and the text of the two sections they read, each decoded once, typed,
/// when a rule needs it.
#[derive(serde::Deserialize)]
struct ClusterText<'a> {
    #[serde(default, borrow)]
    metadata: MetaText<'a>,
    #[serde(default, borrow)]
    spec: Option<SpecText<'a>>,
}

#[derive(Default, serde::Deserialize)]
struct MetaText<'a> {
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

#[derive(serde::Deserialize)]
struct SpecText<'a> {
    #[serde(default, borrow)]
    medusa: Option<&'a RawValue>,
    #[serde(default, borrow)]
    cassandra: Option<&'a RawValue>,
}

/// The datacenters of `spec.cassandra`.
#[derive(Default, serde::Deserialize)]
struct CassandraText {
    #[serde(default)]
    datacenters: Option<Vec<DatacenterTemplate>>,
}

impl<'a> ClusterText<'a> {
    fn read(
        input: &AdmissionInput<'_>,
        object: Option<&'a RawValue>,
        which: &str,
    ) -> Result<Self, Finding> {
        decode(input, object, which)
    }

    fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or("")
    }

    /// `spec.medusa`, when set.
    fn medusa(&self) -> Option<&'a RawValue> {
        self.spec
            .as_ref()
            .and_then(|s| s.medusa)
            .filter(|m| m.get() != "null")
    }

    fn allows_storage_change(&self) -> bool {
        self.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(ALLOW_STORAGE_CHANGE_ANNOTATION))
            .is_some_and(|v| v == "true")
    }

    /// The datacenters of `spec.cassandra`, decoded.
    fn datacenters(
        &self,
        input: &AdmissionInput<'_>,
        which: &str,
    ) -> Result<Vec<DatacenterTemplate>, Finding> {
        match self
            .spec
            .as_ref()
            .and_then(|s| s.cassandra)
            .filter(|c| c.get() != "null")
        {
            Some(text) => Ok(decode::<CassandraText>(input, Some(text), which)?
                .datacenters
                .unwrap_or_default()),
            None => Ok(Vec::new()),
        }
    }
}

/// The maximum prefix length we accept.
pub const MAX_PREFIX_LEN: usize = 256;

pub(super) async fn validate<V: ClusterView>(
    input: &AdmissionInput<'_>,
    checks: &mut Checks<'_, V>,
) -> Result<(), Finding> {
    if !matches!(
        input.operation,
        AdmissionOperation::Create | AdmissionOperation::Update
    ) {
        return Ok(());
    }
    let cluster = ClusterText::read(input, input.object, "object")?;
    let Some(medusa_json) = cluster.medusa() else {
        return Ok(());
    };
    let who = input.who();
    if checks.enabled(RuleId::K1) {
        let k1: OperatorView = decode(input, Some(medusa_json), "spec.medusa")?;
        operator_rules(who, &k1, checks);
    }
    let old = match input.operation {
        AdmissionOperation::Update => {
            Some(ClusterText::read(input, input.old_object, "old object")?)
        }
        _ => None,
    };
    // Unrelated updates are never blocked by the other rules: with spec.medusa unchanged,
    // neither the merged storage nor its location can differ from what was admitted.
    let old_json = old.as_ref().and_then(ClusterText::medusa);
    if old_json.is_some_and(|old_json| old_json.get() == medusa_json.get()) {
        return Ok(());
    }
    let medusa: MedusaClusterTemplate = decode(input, Some(medusa_json), "spec.medusa")?;
    let old_medusa = match old_json {
        Some(old_json) => {
            let old_medusa: MedusaClusterTemplate =
                decode(input, Some(old_json), "old spec.medusa")?;
            if old_medusa == medusa {
                return Ok(());
            }
            Some(old_medusa)
        }
        None => None,
    };

    // The configuration, when one is referenced (K2). Without it, the merged storage cannot be
    // judged.
    let configuration_name = medusa.configuration_name();
    let configuration: Option<Arc<MedusaConfiguration>> = match configuration_name {
        None => None,
        Some(name) => {
            let lookup = checks
                .view
                .get::<MedusaConfiguration>(input.namespace, name, Expect::Exists)
                .await;
            let found = checks.require(
                RuleId::K2,
                lookup,
                || format!("that MedusaConfiguration {name:?} exists"),
                || format!(
                    "{who}: MedusaConfiguration {name:?} not found in namespace {ns}; create it first, or fix spec.medusa.medusaConfigurationRef.name (a referenced configuration must be in the K8ssandraCluster's namespace). The operator would fail every reconcile with: medusaconfigurations.medusa.k8ssandra.io {name:?} not found",
                    ns = input.namespace
                ),
            );
            match found {
                Some(found) => Some(found),
                None => return Ok(()),
            }
        }
    };

    let effective = effective_storage(
        cluster.name(),
        Some(&medusa),
        configuration.as_deref(),
        input.defaulted,
    );
    merged_storage_rules(who, &effective, configuration_name, checks);
    credentials_rules(who, &effective, configuration_name, checks);
    if effective.storage.secret_name().is_some() && checks.enabled(RuleId::K5) {
        let datacenters = cluster.datacenters(input, "spec.cassandra")?;
        secret_rules(who, &datacenters, input.namespace, &effective, checks).await;
    }
    prefix_rules(who, &effective, checks);
    let location = StorageLocation::of(&effective);
    shared_location_rules(who, &location, input, checks).await;
    for trap in &effective.traps {
        checks.warn(RuleId::K9, format!("{who}: {trap}"));
    }
    if let Some(old) = old.as_ref()
        && checks.enabled(RuleId::K8)
        && !cluster.allows_storage_change()
    {
        let before = StorageMove {
            cluster: old,
            medusa: old_medusa.as_ref(),
            configuration: configuration.as_deref(),
        };
        storage_move_rules(who, before, &location, input, checks).await?;
    }
    Ok(())
}

/// What K1 reads of `spec.medusa`: the operator's `ValidateMedusa` looks at nothing else.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct OperatorView<'a> {
    #[serde(default, borrow)]
    medusa_configuration_ref: Option<ReferenceView<'a>>,
    #[serde(default, borrow)]
    storage_properties: Option<StorageView<'a>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReferenceView<'a> {
    #[serde(default, borrow)]
    api_version: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    field_path: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    namespace: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    resource_version: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    uid: Option<Cow<'a, str>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct StorageView<'a> {
    #[serde(default, borrow)]
    prefix: Option<Cow<'a, str>>,
    #[serde(default)]
    storage_provider: Option<StorageProvider>,
    #[serde(default, borrow)]
    bucket_name: Option<Cow<'a, str>>,
}

/// K1: `ValidateMedusa`, same order and texts; the first failure wins, as in the operator.
fn operator_rules<V: ClusterView>(
    who: Who<'_>,
    medusa: &OperatorView<'_>,
    checks: &mut Checks<'_, V>,
) {
    let set = |v: &Option<Cow<'_, str>>| v.as_deref().is_some_and(|s| !s.is_empty());
    let storage = medusa.storage_properties.as_ref();
    let failure = if let Some(reference) = medusa
        .medusa_configuration_ref
        .as_ref()
        .filter(|r| set(&r.name))
    {
        if !storage.is_some_and(|s| set(&s.prefix)) {
            Some(
                "medusa storage prefix must be set when a medusaConfigurationRef is used: set spec.medusa.storageProperties.prefix to a folder name unique to this cluster in the shared bucket (for example its name)".to_owned(),
            )
        } else if set(&reference.namespace) {
            Some(
                "Medusa config must be namespace local: remove spec.medusa.medusaConfigurationRef.namespace; the MedusaConfiguration is always read from the K8ssandraCluster's namespace".to_owned(),
            )
        } else if set(&reference.api_version)
            || set(&reference.kind)
            || set(&reference.field_path)
            || set(&reference.resource_version)
            || set(&reference.uid)
        {
            Some(
                "Medusa config invalid, invalid field used: spec.medusa.medusaConfigurationRef may only set name; remove apiVersion, kind, fieldPath, resourceVersion and uid".to_owned(),
            )
        } else {
            None
        }
    } else if storage.and_then(|s| s.storage_provider.as_ref()).is_none() {
        Some(
            "medusa storage provider must be set when no medusaConfigurationRef is used: set spec.medusa.storageProperties.storageProvider (s3, s3_compatible, s3_rgw, google_storage, azure_blobs or ibm_storage), or reference a MedusaConfiguration".to_owned(),
        )
    } else if !storage.is_some_and(|s| set(&s.bucket_name)) {
        Some(
            "medusa bucket name must be set when no medusaConfigurationRef is used: set spec.medusa.storageProperties.bucketName, or reference a MedusaConfiguration".to_owned(),
        )
    } else {
        None
    };
    if let Some(message) = failure {
        checks.deny(RuleId::K1, format!("{who}: {message}"));
    }
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
struct StorageMove<'a, 'b> {
    cluster: &'a ClusterText<'b>,
    medusa: Option<&'a MedusaClusterTemplate>,
    configuration: Option<&'a MedusaConfiguration>,
}

/// K8: no move of the backup location while backups exist.
async fn storage_move_rules<V: ClusterView>(
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

/// KM: with a configuration ref and an empty prefix, the prefix becomes the cluster's name.
pub(super) fn mutate(input: &AdmissionInput<'_>) -> Result<Mutation, Finding> {
    let cluster = ClusterText::read(input, input.object, "object")?;
    let Some(medusa_json) = cluster.medusa() else {
        return Ok(Mutation::default());
    };
    let medusa: MedusaClusterTemplate = decode(input, Some(medusa_json), "spec.medusa")?;
    let name = cluster.name();
    if medusa.configuration_name().is_none()
        || medusa.storage().prefix().is_some()
        || name.is_empty()
    {
        return Ok(Mutation::default());
    }
    let operation = if medusa.storage_properties.is_some() {
        PatchOperation::Add(AddOperation {
            path: PointerBuf::from_tokens(["spec", "medusa", "storageProperties", "prefix"]),
            value: json!(name),
        })
    } else {
        PatchOperation::Add(AddOperation {
            path: PointerBuf::from_tokens(["spec", "medusa", "storageProperties"]),
            value: json!({ "prefix": name }),
        })
    };
    Ok(Mutation {
        patch: vec![operation],
        fired: vec![RuleId::KM],
        warnings: vec![format!(
            "[KM] {}: spec.medusa.storageProperties.prefix was empty and is now {name:?} (the cluster's name): the operator requires a prefix with a medusaConfigurationRef; set your own to choose another folder",
            input.describe()
        )],
    })
}
