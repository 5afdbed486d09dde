//! Our CustomResourceDefinitions, generated from the Rust types.
//!
//! kube's derive produces a structural schema; this module brings it to the exact shape
//! controller-gen gives the operator's CRDs (no `nullable`, Go `int` without format, the
//! `apiVersion`/`kind`/`metadata` root properties) so the two can be compared field by field.

use kube::CustomResourceExt;
use kube::core::schema::{OptionalEnum, OptionalIntOrString, StructuralSchemaRewriter};
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use schemars::transform::AddNullable;
use serde_json::{Map, Value, json};

use crate::types::{
    MedusaBackup, MedusaBackupJob, MedusaBackupSchedule, MedusaConfiguration, MedusaRestoreJob,
    MedusaTask,
};

/// Marks a property whose `default` comes from Rust's `#[serde(default)]` (for robust reading)
/// but which the operator's schema declares without a default. Removed with the default.
pub const NO_SCHEMA_DEFAULT: &str = "x-medusa-no-default";

/// Errors while rendering CRDs.
#[derive(Debug, thiserror::Error)]
pub enum CrdGenError {
    /// The CRD could not be turned into JSON.
    #[error("failed to convert the {kind} CRD to JSON: {source}")]
    Json {
        /// The kind.
        kind: &'static str,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// The CRD could not be written as YAML.
    #[error("failed to write the {kind} CRD as YAML: {message}")]
    Yaml {
        /// The kind.
        kind: &'static str,
        /// The cause.
        message: String,
    },
}

/// One generated CRD and the file it is committed as.
#[derive(Debug, Clone)]
pub struct GeneratedCrd {
    /// The kind, e.g. `MedusaBackupJob`.
    pub kind: &'static str,
    /// The file name under `crds/yaml/`, named like the operator's.
    pub file_name: String,
    /// The normalized CRD as JSON.
    pub crd: Value,
}

/// The six Medusa CRDs, normalized.
pub fn medusa_crds() -> Result<Vec<GeneratedCrd>, CrdGenError> {
    Ok(vec![
        generate::<MedusaBackupJob>("MedusaBackupJob")?,
        generate::<MedusaBackup>("MedusaBackup")?,
        generate::<MedusaRestoreJob>("MedusaRestoreJob")?,
        generate::<MedusaTask>("MedusaTask")?,
        generate::<MedusaBackupSchedule>("MedusaBackupSchedule")?,
        generate::<MedusaConfiguration>("MedusaConfiguration")?,
    ])
}

/// kube's `crd()` for names, columns and subresources, with the schema taken straight from
/// schemars (the same settings as kube's derive) so that our markers survive to normalization:
/// k8s-openapi's `JSONSchemaProps` would drop them.
fn generate<K: CustomResourceExt + JsonSchema>(
    kind: &'static str,
) -> Result<GeneratedCrd, CrdGenError> {
    let crd = K::crd();
    let file_name = format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural);
    let mut crd =
        serde_json::to_value(&crd).map_err(|source| CrdGenError::Json { kind, source })?;
    let generator = SchemaSettings::openapi3()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .with_transform(AddNullable::default())
        .with_transform(StructuralSchemaRewriter)
        .with_transform(OptionalEnum)
        .with_transform(OptionalIntOrString)
        .into_generator();
    let schema = serde_json::to_value(generator.into_root_schema_for::<K>())
        .map_err(|source| CrdGenError::Json { kind, source })?;
    if let Some(versions) = crd
        .pointer_mut("/spec/versions")
        .and_then(Value::as_array_mut)
    {
        for version in versions {
            version["schema"] = json!({ "openAPIV3Schema": schema.clone() });
        }
    }
    normalize_crd(&mut crd);
    Ok(GeneratedCrd {
        kind,
        file_name,
        crd,
    })
}

/// The YAML text of a generated CRD, as committed.
pub fn to_yaml(generated: &GeneratedCrd) -> Result<String, CrdGenError> {
    let body = serde_saphyr::to_string(&generated.crd).map_err(|e| CrdGenError::Yaml {
        kind: generated.kind,
        message: e.to_string(),
    })?;
    Ok(format!(
        "# Generated from the medusa-crds Rust types by `just generate`; do not edit.\n---\n{body}"
    ))
}

/// Brings kube's derived CRD to controller-gen's shape.
pub fn normalize_crd(crd: &mut Value) {
    if let Some(names) = crd
        .pointer_mut("/spec/names")
        .and_then(Value::as_object_mut)
        && !names.contains_key("listKind")
        && let Some(kind) = names.get("kind").and_then(Value::as_str)
    {
        let list_kind = format!("{kind}List");
        names.insert("listKind".into(), Value::String(list_kind));
    }
    let Some(versions) = crd
        .pointer_mut("/spec/versions")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for version in versions {
        let Some(root) = version.pointer_mut("/schema/openAPIV3Schema") else {
            continue;
        };
        normalize_schema(root);
        if let Some(root) = root.as_object_mut() {
            root.remove("title");
            root.remove("required");
            if let Some(props) = root.get_mut("properties").and_then(Value::as_object_mut) {
                let mut with_meta = Map::new();
                with_meta.insert(
                    "apiVersion".into(),
                    json!({"description": API_VERSION_DESCRIPTION, "type": "string"}),
                );
                with_meta.insert(
                    "kind".into(),
                    json!({"description": KIND_DESCRIPTION, "type": "string"}),
                );
                with_meta.insert("metadata".into(), json!({"type": "object"}));
                for (key, value) in std::mem::take(props) {
                    with_meta.insert(key, value);
                }
                *props = with_meta;
            }
        }
    }
}

const API_VERSION_DESCRIPTION: &str = "APIVersion defines the versioned schema of this representation of an object.\nServers should convert recognized schemas to the latest internal value, and\nmay reject unrecognized values.\nMore info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
const KIND_DESCRIPTION: &str = "Kind is a string value representing the REST resource this object represents.\nServers may infer this from the endpoint the client submits requests to.\nCannot be updated.\nIn CamelCase.\nMore info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";

/// Recursively removes what controller-gen never writes.
fn normalize_schema(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    object.remove("nullable");
    if object.remove(NO_SCHEMA_DEFAULT).is_some() {
        object.remove("default");
    }
    if let Some(values) = object.get_mut("enum").and_then(Value::as_array_mut) {
        values.retain(|v| !v.is_null());
    }
    for bound in ["minimum", "maximum"] {
        if let Some(value) = object.get_mut(bound)
            && let Some(float) = value.as_f64()
            && float.fract() == 0.0
            && !value.is_i64()
        {
            // Bounds are whole numbers in every schema we emit; JSON keeps them as `0.0`.
            #[allow(clippy::cast_possible_truncation)]
            let whole = float as i64;
            *value = json!(whole);
        }
    }
    if object.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true))
        && object.contains_key("anyOf")
    {
        object.insert(
            "anyOf".into(),
            json!([{"type": "integer"}, {"type": "string"}]),
        );
    }
    for key in ["properties", "patternProperties"] {
        if let Some(props) = object.get_mut(key).and_then(Value::as_object_mut) {
            props.values_mut().for_each(normalize_schema);
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(child) = object.get_mut(key) {
            normalize_schema(child);
        }
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(children) = object.get_mut(key).and_then(Value::as_array_mut) {
            children.iter_mut().for_each(normalize_schema);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated(kind: &str) -> Value {
        medusa_crds()
            .unwrap()
            .into_iter()
            .find(|c| c.kind == kind)
            .unwrap()
            .crd
    }

    #[test]
    fn file_names_follow_the_operator_convention() {
        let names: Vec<String> = medusa_crds()
            .unwrap()
            .into_iter()
            .map(|c| c.file_name)
            .collect();
        assert!(names.contains(&"medusa.k8ssandra.io_medusabackupjobs.yaml".to_string()));
        assert!(names.contains(&"medusa.k8ssandra.io_medusaconfigurations.yaml".to_string()));
        assert_eq!(names.len(), 6);
    }

    #[test]
    fn no_property_is_nullable() {
        let crd = generated("MedusaConfiguration").to_string();
        assert!(!crd.contains("nullable"), "{crd}");
        assert!(!crd.contains(NO_SCHEMA_DEFAULT));
    }

    #[test]
    fn go_int_fields_have_no_format() {
        let crd = generated("MedusaConfiguration");
        let port = crd
            .pointer("/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/storageProperties/properties/port")
            .unwrap();
        assert_eq!(
            port,
            &json!({"description": "Port to connect to for the storage backend.", "type": "integer"})
        );
    }

    #[test]
    fn required_string_fields_carry_no_rust_default() {
        let crd = generated("MedusaRestoreJob");
        let key = crd
            .pointer(
                "/spec/versions/0/schema/openAPIV3Schema/properties/status/properties/restoreKey",
            )
            .unwrap();
        assert!(key.get("default").is_none(), "{key}");
    }

    #[test]
    fn root_declares_api_version_kind_and_metadata_first() {
        let crd = generated("MedusaTask");
        let props = crd
            .pointer("/spec/versions/0/schema/openAPIV3Schema/properties")
            .unwrap()
            .as_object()
            .unwrap();
        let keys: Vec<&String> = props.keys().collect();
        assert_eq!(keys, ["apiVersion", "kind", "metadata", "spec", "status"]);
    }

    #[test]
    fn yaml_starts_with_the_generated_marker() {
        let crd = &medusa_crds().unwrap()[0];
        let yaml = to_yaml(crd).unwrap();
        assert!(yaml.starts_with("# Generated from the medusa-crds Rust types"));
        let parsed: Vec<Value> = serde_saphyr::from_multiple(&yaml).unwrap();
        assert_eq!(parsed, vec![crd.crd.clone()]);
    }
}
