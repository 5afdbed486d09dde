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
fn schema_default(path: &str) -> Option<Value> {
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
    let written = to_map(input.cluster);
    let mut cluster_storage = input.cluster.clone();
    if !input.cluster_defaulted {
        cluster_storage.apply_schema_defaults();
    }
    let cluster = to_map(&cluster_storage);
    let configuration = input.configuration.map(to_map);

    let mut ctx = Merge {
        sources: BTreeMap::new(),
        traps: Vec::new(),
        written: if input.cluster_defaulted {
            None
        } else {
            Some(&written)
        },
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
mod tests {
    use super::*;
    use crate::types::storage::{SecretRef, StorageProvider};

    fn storage(value: Value) -> Storage {
        serde_json::from_value(value).unwrap()
    }

    fn merged(cluster: Value, configuration: Option<Value>) -> EffectiveStorage {
        let cluster = storage(cluster);
        let configuration = configuration.map(storage);
        merge_storage(MergeInput {
            cluster_name: "demo",
            cluster: &cluster,
            configuration: configuration.as_ref(),
            cluster_defaulted: true,
        })
    }

    #[test]
    fn cluster_non_zero_values_win() {
        let result = merged(
            json!({"prefix": "demo", "bucketName": "mine"}),
            Some(json!({"bucketName": "shared", "storageProvider": "s3"})),
        );
        assert_eq!(result.storage.bucket_name.as_deref(), Some("mine"));
        assert_eq!(result.source("bucketName"), FieldSource::Cluster);
    }

    #[test]
    fn configuration_fills_fields_the_cluster_leaves_zero() {
        let result = merged(
            json!({"prefix": "demo"}),
            Some(json!({"bucketName": "shared", "storageProvider": "s3", "region": "us-west-2"})),
        );
        assert_eq!(result.storage.storage_provider, Some(StorageProvider::S3));
        assert_eq!(result.storage.region.as_deref(), Some("us-west-2"));
        assert_eq!(result.source("region"), FieldSource::Configuration);
    }

    #[test]
    fn an_empty_secret_name_keeps_the_configuration_secret() {
        let result = merged(
            json!({"prefix": "demo", "credentialsType": "role-based", "storageSecretRef": {"name": ""}}),
            Some(json!({"storageSecretRef": {"name": "bucket-key"}})),
        );
        assert_eq!(result.storage.secret_name(), Some("bucket-key"));
        assert_eq!(
            result.source("storageSecretRef.name"),
            FieldSource::Configuration
        );
        assert!(result.storage.is_role_based());
    }

    #[test]
    fn lists_are_replaced_whole_by_a_non_empty_cluster_list() {
        let result = merged(
            json!({"prefix": "p", "podStorage": {"accessModes": ["ReadWriteOnce"]}}),
            Some(
                json!({"podStorage": {"accessModes": ["ReadWriteMany", "ReadOnlyMany"], "storageClassName": "fast"}}),
            ),
        );
        let pod_storage = result.storage.pod_storage.unwrap();
        assert_eq!(pod_storage.access_modes.unwrap(), ["ReadWriteOnce"]);
        assert_eq!(pod_storage.storage_class_name.as_deref(), Some("fast"));
    }

    #[test]
    fn an_empty_cluster_list_keeps_the_configuration_list() {
        let result = merged(
            json!({"prefix": "p", "podStorage": {"accessModes": []}}),
            Some(json!({"podStorage": {"accessModes": ["ReadWriteMany"]}})),
        );
        assert_eq!(
            result.storage.pod_storage.unwrap().access_modes.unwrap(),
            ["ReadWriteMany"]
        );
    }

    #[test]
    fn empty_prefix_without_configuration_means_the_cluster_name() {
        let result = merged(json!({"storageProvider": "s3", "bucketName": "b"}), None);
        assert_eq!(result.prefix, "demo");
        assert_eq!(result.source("prefix"), FieldSource::ClusterName);
    }

    #[test]
    fn a_set_prefix_is_used_as_is() {
        let result = merged(
            json!({"storageProvider": "s3", "bucketName": "b", "prefix": "p1"}),
            None,
        );
        assert_eq!(result.prefix, "p1");
        assert_eq!(result.source("prefix"), FieldSource::Cluster);
    }

    #[test]
    fn without_configuration_nothing_is_merged_and_no_trap_fires() {
        let result = merged(
            json!({"storageProvider": "s3", "bucketName": "b", "transferMaxBandwidth": "50MB/s", "secure": false}),
            None,
        );
        assert!(result.traps.is_empty());
        assert_eq!(
            result.source("transferMaxBandwidth"),
            FieldSource::SchemaDefault
        );
        assert_eq!(result.source("secure"), FieldSource::Unset);
    }

    #[test]
    fn cluster_schema_defaults_mask_the_configuration_values() {
        let result = merged(
            json!({"prefix": "demo", "transferMaxBandwidth": "50MB/s", "multiPartUploadThreshold": 104857600}),
            Some(json!({"transferMaxBandwidth": "200MB/s", "multiPartUploadThreshold": 52428800})),
        );
        assert_eq!(
            result.storage.transfer_max_bandwidth.as_deref(),
            Some("50MB/s")
        );
        assert_eq!(
            result.storage.multi_part_upload_threshold,
            Some(104_857_600)
        );
        let fields: Vec<&str> = result.traps.iter().map(MergeTrap::field).collect();
        assert_eq!(fields, ["multiPartUploadThreshold", "transferMaxBandwidth"]);
        assert!(
            result.traps[1]
                .to_string()
                .contains("\"200MB/s\" is ignored")
        );
        assert_eq!(
            result.source("transferMaxBandwidth"),
            FieldSource::SchemaDefault
        );
    }

    #[test]
    fn configuration_equal_to_the_default_is_no_trap() {
        let result = merged(
            json!({"prefix": "demo", "transferMaxBandwidth": "50MB/s"}),
            Some(json!({"transferMaxBandwidth": "50MB/s"})),
        );
        assert!(result.traps.is_empty());
    }

    #[test]
    fn cluster_zero_values_cannot_reset_configuration_values() {
        let result = merged(
            json!({"prefix": "demo", "secure": false, "port": 0, "host": ""}),
            Some(json!({"secure": true, "port": 9000, "host": "minio"})),
        );
        assert_eq!(result.storage.secure, Some(true));
        assert_eq!(result.storage.port, Some(9000));
        let fields: Vec<&str> = result.traps.iter().map(MergeTrap::field).collect();
        assert_eq!(fields, ["host", "port", "secure"]);
        assert!(
            result.traps[2]
                .to_string()
                .contains("false cannot override")
        );
    }

    #[test]
    fn defaulted_zero_values_are_not_reported_as_resets() {
        // maxBackupAge: 0 is what the API server writes; it may not be the user's intent.
        let result = merged(
            json!({"prefix": "demo", "maxBackupAge": 0}),
            Some(json!({"maxBackupAge": 7})),
        );
        assert_eq!(result.storage.max_backup_age, Some(7));
        assert!(result.traps.is_empty());
    }

    #[test]
    fn zero_values_written_in_a_manifest_are_reported_as_resets() {
        let cluster = storage(json!({"prefix": "demo", "maxBackupAge": 0}));
        let configuration = storage(json!({"maxBackupAge": 7}));
        let result = merge_storage(MergeInput {
            cluster_name: "demo",
            cluster: &cluster,
            configuration: Some(&configuration),
            cluster_defaulted: false,
        });
        assert_eq!(result.traps.len(), 1);
        assert_eq!(result.traps[0].field(), "maxBackupAge");
    }

    #[test]
    fn manifests_get_the_schema_defaults_the_api_server_will_write() {
        let cluster = storage(json!({"prefix": "demo"}));
        let configuration = storage(json!({"transferMaxBandwidth": "10MB/s"}));
        let result = merge_storage(MergeInput {
            cluster_name: "demo",
            cluster: &cluster,
            configuration: Some(&configuration),
            cluster_defaulted: false,
        });
        assert_eq!(
            result.storage.transfer_max_bandwidth.as_deref(),
            Some("50MB/s")
        );
        assert_eq!(result.traps[0].field(), "transferMaxBandwidth");
    }

    #[test]
    fn a_default_value_the_user_wrote_in_a_manifest_is_the_cluster_choice() {
        let cluster = storage(json!({"prefix": "demo", "transferMaxBandwidth": "50MB/s"}));
        let configuration = storage(json!({"transferMaxBandwidth": "10MB/s"}));
        let result = merge_storage(MergeInput {
            cluster_name: "demo",
            cluster: &cluster,
            configuration: Some(&configuration),
            cluster_defaulted: false,
        });
        assert!(result.traps.is_empty());
        assert_eq!(result.source("transferMaxBandwidth"), FieldSource::Cluster);
    }

    #[test]
    fn the_documented_irsa_example_keeps_the_configuration_secret() {
        let cluster = Storage {
            prefix: Some("demo".into()),
            credentials_type: Some(crate::types::CredentialsType::RoleBased),
            storage_secret_ref: Some(SecretRef::named("")),
            ..Storage::default()
        };
        let configuration = Storage {
            storage_provider: Some(StorageProvider::S3),
            bucket_name: Some("k8ssandra-medusa".into()),
            storage_secret_ref: Some(SecretRef::named("medusa-bucket-key")),
            ..Storage::default()
        };
        let result = merge_storage(MergeInput {
            cluster_name: "demo",
            cluster: &cluster,
            configuration: Some(&configuration),
            cluster_defaulted: false,
        });
        assert_eq!(result.storage.secret_name(), Some("medusa-bucket-key"));
        assert!(result.storage.is_role_based());
    }

    #[test]
    fn unknown_fields_merge_with_the_same_rules() {
        let result = merged(
            json!({"prefix": "demo", "futureFlag": ""}),
            Some(json!({"futureFlag": "on"})),
        );
        assert_eq!(result.storage.extra.get("futureFlag"), Some(&json!("on")));
    }
}
