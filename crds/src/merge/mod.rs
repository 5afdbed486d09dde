//! The storage merge, with the operator's exact semantics (`mergeStorageProperties`, goalesce
//! `DeepMerge(configuration, cluster)`): the K8ssandraCluster's values win field by field only
//! where they are non-zero; structs merge field-wise; lists are replaced whole; an empty prefix
//! means the cluster's name.
//!
//! Besides the result, it says where each field came from and reports the traps this creates.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::types::{K8ssandraCluster, MedusaClusterTemplate, MedusaConfiguration, Storage};

/// Where an effective storage field comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FieldSource {
    /// The K8ssandraCluster's `spec.medusa.storageProperties`.
    Cluster,
    /// The referenced MedusaConfiguration.
    Configuration,
    /// A CRD schema default (written into the K8ssandraCluster by the API server).
    SchemaDefault,
    /// The K8ssandraCluster's name, used for an empty prefix.
    ClusterName,
    /// Nobody set it; the operator uses the zero value.
    Unset,
}

impl fmt::Display for FieldSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Cluster => "cluster",
            Self::Configuration => "configuration",
            Self::SchemaDefault => "default",
            Self::ClusterName => "cluster name",
            Self::Unset => "unset",
        })
    }
}

/// A surprise of the merge that the user should hear about.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "trap", rename_all = "camelCase")]
pub enum MergeTrap {
    /// The configuration sets a value, but the cluster's schema default (which the API server
    /// always writes) is non-zero and wins.
    #[serde(rename_all = "camelCase")]
    MaskedBySchemaDefault {
        /// The field path, e.g. `transferMaxBandwidth`.
        field: String,
        /// The configuration's ignored value.
        configuration_value: Value,
        /// The default that wins.
        default_value: Value,
    },
    /// The cluster sets a zero value (false, 0, ""), which cannot override the configuration's
    /// non-zero value.
    #[serde(rename_all = "camelCase")]
    CannotReset {
        /// The field path, e.g. `secure`.
        field: String,
        /// The cluster's ignored zero value.
        cluster_value: Value,
        /// The configuration's value that stays in force.
        configuration_value: Value,
    },
}

impl MergeTrap {
    /// The field the trap is about.
    pub fn field(&self) -> &str {
        match self {
            Self::MaskedBySchemaDefault { field, .. } | Self::CannotReset { field, .. } => field,
        }
    }
}

impl fmt::Display for MergeTrap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MaskedBySchemaDefault {
                field,
                configuration_value,
                default_value,
            } => write!(
                f,
                "storageProperties.{field}: the MedusaConfiguration's {configuration_value} is ignored, because the API server writes the schema default {default_value} into the K8ssandraCluster and the cluster's non-zero value wins the merge; set {field}: {configuration_value} in the K8ssandraCluster instead"
            ),
            Self::CannotReset {
                field,
                cluster_value,
                configuration_value,
            } => write!(
                f,
                "storageProperties.{field}: the K8ssandraCluster's {cluster_value} cannot override the MedusaConfiguration's {configuration_value} (the operator's merge ignores zero values), so {configuration_value} stays in force; change it in the MedusaConfiguration, or stop referencing it"
            ),
        }
    }
}

/// What goes into the merge.
#[derive(Clone, Copy, Debug)]
pub struct MergeInput<'a> {
    /// The K8ssandraCluster's `metadata.name` (an empty prefix falls back to it).
    pub cluster_name: &'a str,
    /// The K8ssandraCluster's `spec.medusa.storageProperties`.
    pub cluster: &'a Storage,
    /// The referenced MedusaConfiguration's `spec.storageProperties`, when a ref is used and
    /// the configuration was found.
    pub configuration: Option<&'a Storage>,
    /// Whether `cluster` was stored by the API server (schema defaults applied), as in an
    /// admission request. `false` for manifests read from files: the defaults are then applied
    /// here, exactly as the API server will, and fields the user wrote are told apart.
    pub cluster_defaulted: bool,
}

/// The storage the operator will use, with where each field came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EffectiveStorage {
    /// The merged storage properties (the prefix as merged, possibly empty).
    pub storage: Storage,
    /// The prefix medusa.ini gets: the merged prefix, else the cluster's name.
    pub prefix: String,
    /// The source of every field, by path (`storageSecretRef.name`, `prefix`, ...).
    pub sources: BTreeMap<String, FieldSource>,
    /// Merge surprises.
    pub traps: Vec<MergeTrap>,
}

impl EffectiveStorage {
    /// The source of a field path.
    pub fn source(&self, field: &str) -> FieldSource {
        self.sources
            .get(field)
            .copied()
            .unwrap_or(FieldSource::Unset)
    }
}

/// Schema defaults of `Storage`, by field path.
pub fn schema_default(path: &str) -> Option<Value> {
    Some(match path {
        "transferMaxBandwidth" => json!(crate::types::storage::defaults::TRANSFER_MAX_BANDWIDTH),
        "multiPartUploadThreshold" => {
            json!(crate::types::storage::defaults::MULTI_PART_UPLOAD_THRESHOLD)
        }
        "maxBackupAge" | "maxBackupCount" | "concurrentTransfers" => json!(0),
        "storageSecretRef.name" => json!(""),
        "podStorage.size" => json!(crate::types::storage::defaults::POD_STORAGE_SIZE),
        _ => return None,
    })
}

/// Go's zero value test on a JSON value.
fn is_zero(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(_) => false,
    }
}

impl K8ssandraCluster {
    /// The storage the operator renders for this cluster: its `spec.medusa.storageProperties`
    /// merged with its MedusaConfiguration's. `defaulted`: whether the cluster went through the
    /// API server (which writes the schema defaults into it).
    pub fn effective_storage(
        &self,
        configuration: Option<&MedusaConfiguration>,
        defaulted: bool,
    ) -> EffectiveStorage {
        effective_storage(
            self.metadata.name.as_deref().unwrap_or(""),
            self.spec.medusa.as_ref(),
            configuration,
            defaulted,
        )
    }
}

/// The storage the operator renders for the cluster named `cluster_name` with this
/// `spec.medusa`, merged with its MedusaConfiguration's (see
/// [`K8ssandraCluster::effective_storage`]).
pub fn effective_storage(
    cluster_name: &str,
    medusa: Option<&MedusaClusterTemplate>,
    configuration: Option<&MedusaConfiguration>,
    defaulted: bool,
) -> EffectiveStorage {
    let cluster_storage = medusa
        .map(MedusaClusterTemplate::storage)
        .unwrap_or_default();
    let configuration_storage = configuration.map(MedusaConfiguration::storage);
    merge_storage(MergeInput {
        cluster_name,
        cluster: &cluster_storage,
        configuration: configuration_storage.as_ref(),
        cluster_defaulted: defaulted,
    })
}

/// Merges with the operator's semantics. Without a configuration this is the identity (the
/// operator does not merge at all), plus the prefix fallback and sources.
pub fn merge_storage(input: MergeInput<'_>) -> EffectiveStorage {
    // A cluster that went through the API server already holds its schema defaults, and what
    // its user wrote cannot be told from them: only a cluster from a file needs both.
    let (written, with_defaults) = if input.cluster_defaulted {
        (None, None)
    } else {
        let mut with_defaults = input.cluster.clone();
        with_defaults.apply_schema_defaults();
        (Some(to_map(input.cluster)), Some(with_defaults))
    };
    let cluster_storage = with_defaults.as_ref().unwrap_or(input.cluster);
    let cluster = to_map(cluster_storage);
    let configuration = input.configuration.map(to_map);

    let mut ctx = Merge {
        sources: BTreeMap::new(),
        traps: Vec::new(),
        written: written.as_ref(),
        merging: configuration.is_some(),
    };
    let merged = ctx.merge_objects("", &cluster, configuration.as_ref().unwrap_or(&Map::new()));
    let storage: Storage =
        serde_json::from_value(Value::Object(merged)).unwrap_or_else(|_| cluster_storage.clone());

    let prefix = match storage.prefix() {
        Some(prefix) => prefix.to_owned(),
        None => {
            ctx.sources
                .insert("prefix".into(), FieldSource::ClusterName);
            input.cluster_name.to_owned()
        }
    };
    EffectiveStorage {
        storage,
        prefix,
        sources: ctx.sources,
        traps: ctx.traps,
    }
}

fn to_map(storage: &Storage) -> Map<String, Value> {
    match serde_json::to_value(storage) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

struct Merge<'a> {
    sources: BTreeMap<String, FieldSource>,
    traps: Vec<MergeTrap>,
    /// What the user wrote, when known (manifests from files).
    written: Option<&'a Map<String, Value>>,
    merging: bool,
}

impl Merge<'_> {
    fn written_value(&self, path: &str) -> Option<&Value> {
        let mut current = self.written?;
        let mut parts = path.split('.').peekable();
        while let Some(part) = parts.next() {
            let value = current.get(part)?;
            if parts.peek().is_none() {
                return Some(value);
            }
            current = value.as_object()?;
        }
        None
    }

    fn merge_objects(
        &mut self,
        prefix: &str,
        cluster: &Map<String, Value>,
        configuration: &Map<String, Value>,
    ) -> Map<String, Value> {
        let mut keys: Vec<&String> = cluster.keys().chain(configuration.keys()).collect();
        keys.sort();
        keys.dedup();
        let mut out = Map::new();
        for key in keys {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            let merged = match (cluster.get(key), configuration.get(key)) {
                (Some(Value::Object(c)), Some(Value::Object(k))) => {
                    Value::Object(self.merge_objects(&path, c, k))
                }
                (Some(Value::Object(c)), None) => {
                    Value::Object(self.merge_objects(&path, c, &Map::new()))
                }
                (None, Some(Value::Object(k))) => {
                    Value::Object(self.merge_objects(&path, &Map::new(), k))
                }
                (c, k) => self.merge_leaf(&path, c, k),
            };
            out.insert(key.clone(), merged);
        }
        out
    }

    fn merge_leaf(
        &mut self,
        path: &str,
        cluster: Option<&Value>,
        configuration: Option<&Value>,
    ) -> Value {
        let default = schema_default(path);
        let cluster_set = cluster.is_some_and(|v| !is_zero(v));
        let configuration_set = configuration.is_some_and(|v| !is_zero(v));
        let (value, source) = if cluster_set {
            let value = cluster.cloned().unwrap_or(Value::Null);
            let equals_default = default.as_ref() == Some(&value);
            let user_wrote_it = self.written_value(path).is_some();
            if equals_default && !user_wrote_it {
                if self.merging && configuration_set && configuration != Some(&value) {
                    self.traps.push(MergeTrap::MaskedBySchemaDefault {
                        field: path.to_owned(),
                        configuration_value: configuration.cloned().unwrap_or(Value::Null),
                        default_value: value.clone(),
                    });
                }
                (value, FieldSource::SchemaDefault)
            } else {
                (value, FieldSource::Cluster)
            }
        } else if configuration_set {
            if let Some(zero) = cluster
                && self.explicit_zero(path, zero, default.as_ref())
            {
                self.traps.push(MergeTrap::CannotReset {
                    field: path.to_owned(),
                    cluster_value: zero.clone(),
                    configuration_value: configuration.cloned().unwrap_or(Value::Null),
                });
            }
            (
                configuration.cloned().unwrap_or(Value::Null),
                FieldSource::Configuration,
            )
        } else {
            let value = cluster.or(configuration).cloned().unwrap_or(Value::Null);
            let source = if default.is_some() && default.as_ref() == Some(&value) {
                FieldSource::SchemaDefault
            } else {
                FieldSource::Unset
            };
            (value, source)
        };
        self.sources.insert(path.to_owned(), source);
        value
    }

    /// Whether the cluster's zero value is something the user wrote, rather than a schema
    /// default the API server filled in.
    fn explicit_zero(&self, path: &str, zero: &Value, default: Option<&Value>) -> bool {
        if path == "storageSecretRef.name" {
            // The credentials rules report this one, with the fix that applies.
            return false;
        }
        match self.written {
            Some(_) => self.written_value(path).is_some(),
            // Stored objects: a zero equal to a zero schema default is indistinguishable from
            // the API server's defaulting, so only other zeros count as written.
            None => default != Some(zero),
        }
    }
}

#[cfg(test)]
mod tests;
