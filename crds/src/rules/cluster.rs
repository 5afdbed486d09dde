//! K8ssandraCluster rules K1 to K9 and the KM mutation.

use std::borrow::Cow;
use std::sync::Arc;

use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, PatchOperation};
use serde_json::json;

use serde_json::value::RawValue;

use super::storage::{ClusterReview, StorageMove, storage_move_rules, storage_rules};
use super::view::StorageLocation;
use super::{
    AdmissionInput, AdmissionOperation, Checks, ClusterView, Expect, Finding, Mutation, ObjectText,
    RuleId, Who, decode,
};
use crate::types::{
    DatacenterTemplate, MedusaClusterTemplate, MedusaConfiguration, StorageProvider,
};

/// What the K rules read of a K8ssandraCluster: its name, whether it allows a storage move,
/// and the text of the two spec sections they read, each decoded, typed, when a rule needs it.
pub(super) struct ClusterText<'a> {
    object: &'a ObjectText<'a>,
    spec: Option<SpecText<'a>>,
}

#[derive(serde::Deserialize)]
struct SpecText<'a> {
    #[serde(default, borrow)]
    medusa: Option<&'a RawValue>,
    #[serde(default, borrow)]
    cassandra: Option<&'a RawValue>,
}

/// The one annotation the K rules read.
#[derive(serde::Deserialize)]
struct StorageChangeAnnotation<'a> {
    // ALLOW_STORAGE_CHANGE_ANNOTATION (a test keeps the two equal).
    #[serde(default, borrow, rename = "medusa.k8ssandra.io/allow-storage-change")]
    allow: Option<Cow<'a, str>>,
}

/// The datacenters of `spec.cassandra`.
#[derive(Default, serde::Deserialize)]
struct CassandraText {
    #[serde(default)]
    datacenters: Option<Vec<DatacenterTemplate>>,
}

impl<'a> ClusterText<'a> {
    /// The request's object.
    pub(super) fn object(input: &AdmissionInput<'a>) -> Result<Self, Finding> {
        Self::read(input, input.object, "object", "spec of the object")
    }

    /// The request's previous object.
    pub(super) fn old_object(input: &AdmissionInput<'a>) -> Result<Self, Finding> {
        Self::read(
            input,
            input.old_object,
            "old object",
            "spec of the old object",
        )
    }

    fn read(
        input: &AdmissionInput<'_>,
        object: Option<&'a ObjectText<'a>>,
        which: &str,
        spec_of_which: &str,
    ) -> Result<Self, Finding> {
        let object = input.required(object, which)?;
        let spec = match object.spec {
            Some(text) => Some(decode(input, text, spec_of_which)?),
            None => None,
        };
        Ok(Self { object, spec })
    }

    pub(super) fn name(&self) -> &str {
        self.object.metadata.name.as_deref().unwrap_or("")
    }

    /// `spec.medusa`, when set.
    pub(super) fn medusa(&self) -> Option<&'a RawValue> {
        self.spec
            .as_ref()
            .and_then(|s| s.medusa)
            .filter(|m| m.get() != "null")
    }

    /// Whether the cluster carries `ALLOW_STORAGE_CHANGE_ANNOTATION: "true"` (annotations that
    /// cannot be read allow nothing).
    fn allows_storage_change(&self) -> bool {
        self.object
            .metadata
            .annotations
            .and_then(|text| serde_json::from_str::<StorageChangeAnnotation>(text.get()).ok())
            .and_then(|a| a.allow)
            .is_some_and(|v| v == "true")
    }

    /// The datacenters of `spec.cassandra`, decoded.
    pub(super) fn datacenters(
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
            Some(text) => Ok(decode::<CassandraText>(input, text, which)?
                .datacenters
                .unwrap_or_default()),
            None => Ok(Vec::new()),
        }
    }
}

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
    let cluster = ClusterText::object(input)?;
    let Some(medusa_json) = cluster.medusa() else {
        return Ok(());
    };
    if checks.enabled(RuleId::K1) {
        let k1: OperatorView = decode(input, medusa_json, "spec.medusa")?;
        operator_rules(input.who(), &k1, checks);
    }
    // An update that leaves the spec as it was, byte for byte (labels, annotations), leaves
    // spec.medusa as it was: the old spec need not be read.
    if input.operation == AdmissionOperation::Update
        && let (Some(new), Some(old)) = (
            input.object.and_then(|o| o.spec),
            input.old_object.and_then(|o| o.spec),
        )
        && new.get() == old.get()
    {
        return Ok(());
    }
    let old = match input.operation {
        AdmissionOperation::Update => Some(ClusterText::old_object(input)?),
        _ => None,
    };
    // Unrelated updates are never blocked by the other rules: with spec.medusa unchanged,
    // neither the merged storage nor its location can differ from what was admitted.
    let Some((medusa, old_medusa)) = changed_medusa(input, medusa_json, old.as_ref())? else {
        return Ok(());
    };
    // The configuration, when one is referenced (K2). Without it, the merged storage cannot be
    // judged.
    let configuration = match medusa.configuration_name() {
        None => None,
        Some(name) => match referenced_configuration(input, name, checks).await {
            Some(found) => Some(found),
            None => return Ok(()),
        },
    };
    let review = ClusterReview {
        input,
        cluster: &cluster,
        medusa: &medusa,
        configuration: configuration.as_deref(),
    };
    // Merged once for every rule that reads it.
    let effective = review.effective();
    storage_rules(&review, &effective, checks).await?;
    if let Some(old) = old.as_ref()
        && checks.enabled(RuleId::K8)
        && !cluster.allows_storage_change()
    {
        let before = StorageMove {
            cluster: old,
            medusa: old_medusa.as_ref(),
            configuration: configuration.as_deref(),
        };
        let location = StorageLocation::of(&effective);
        storage_move_rules(input.who(), before, &location, input, checks).await?;
    }
    Ok(())
}

/// The new `spec.medusa`, typed, and the old one on update, when it changed; `None` when it
/// did not (same text, or the same once typed).
fn changed_medusa(
    input: &AdmissionInput<'_>,
    medusa_json: &RawValue,
    old: Option<&ClusterText<'_>>,
) -> Result<Option<(MedusaClusterTemplate, Option<MedusaClusterTemplate>)>, Finding> {
    let old_json = old.and_then(ClusterText::medusa);
    if old_json.is_some_and(|old_json| old_json.get() == medusa_json.get()) {
        return Ok(None);
    }
    let medusa: MedusaClusterTemplate = decode(input, medusa_json, "spec.medusa")?;
    let old_medusa = match old_json {
        Some(old_json) => {
            let old_medusa: MedusaClusterTemplate = decode(input, old_json, "old spec.medusa")?;
            if old_medusa == medusa {
                return Ok(None);
            }
            Some(old_medusa)
        }
        None => None,
    };
    Ok(Some((medusa, old_medusa)))
}

/// K2: the referenced MedusaConfiguration, when it can be had.
async fn referenced_configuration<V: ClusterView>(
    input: &AdmissionInput<'_>,
    name: &str,
    checks: &mut Checks<'_, V>,
) -> Option<Arc<MedusaConfiguration>> {
    let who = input.who();
    let lookup = checks
        .view
        .get::<MedusaConfiguration>(input.namespace, name, Expect::Exists)
        .await;
    checks.require(
        RuleId::K2,
        lookup,
        || format!("that MedusaConfiguration {name:?} exists"),
        || format!(
            "{who}: MedusaConfiguration {name:?} not found in namespace {ns}; create it first, or fix spec.medusa.medusaConfigurationRef.name (a referenced configuration must be in the K8ssandraCluster's namespace). The operator would fail every reconcile with: medusaconfigurations.medusa.k8ssandra.io {name:?} not found",
            ns = input.namespace
        ),
    )
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

/// KM: with a configuration ref and an empty prefix, the prefix becomes the cluster's name.
pub(super) fn mutate(input: &AdmissionInput<'_>) -> Result<Mutation, Finding> {
    let cluster = ClusterText::object(input)?;
    let Some(medusa_json) = cluster.medusa() else {
        return Ok(Mutation::default());
    };
    let medusa: MedusaClusterTemplate = decode(input, medusa_json, "spec.medusa")?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::naming::ALLOW_STORAGE_CHANGE_ANNOTATION;

    #[test]
    fn the_annotation_read_is_the_one_named_by_the_constant() {
        let text = json!({ ALLOW_STORAGE_CHANGE_ANNOTATION: "true", "other": "x" }).to_string();
        let read: StorageChangeAnnotation = serde_json::from_str(&text).unwrap();
        assert_eq!(read.allow.as_deref(), Some("true"));
    }
}
