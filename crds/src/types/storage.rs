//! The shared `Storage` type (`apis/medusa/v1alpha1/medusa_types.go`): the body of
//! `MedusaConfiguration.spec.storageProperties` and `K8ssandraCluster.spec.medusa.storageProperties`.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use crate::wire::{Extra, GoInt, wire_enum};

wire_enum! {
    /// `storageProvider`. `local` was removed from the operator in 2023 and is not accepted.
    pub enum StorageProvider (closed) {
        GoogleStorage = "google_storage",
        AzureBlobs = "azure_blobs",
        S3 = "s3",
        S3Compatible = "s3_compatible",
        S3Rgw = "s3_rgw",
        IbmStorage = "ibm_storage",
    }
}

impl StorageProvider {
    /// Providers that talk to an endpoint the user runs, so `host` is required.
    pub fn needs_host(&self) -> bool {
        matches!(self, Self::S3Compatible | Self::S3Rgw)
    }
}

wire_enum! {
    /// `credentialsType`. An explicit empty string fails the CRD enum: omit the field instead.
    pub enum CredentialsType (closed) {
        RoleBased = "role-based",
        CredentialBased = "credential-based",
    }
}

/// The schema defaults of `Storage`, as the API server applies them.
pub mod defaults {
    /// `transferMaxBandwidth`.
    pub const TRANSFER_MAX_BANDWIDTH: &str = "50MB/s";
    /// `multiPartUploadThreshold` (100 MiB).
    pub const MULTI_PART_UPLOAD_THRESHOLD: i64 = 104_857_600;
    /// `podStorage.size`.
    pub const POD_STORAGE_SIZE: &str = "10Gi";
}

/// StorageProperties defines the storage backend settings to use for the backups.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Storage {
    /// The storage backend to use for the backups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_provider: Option<StorageProvider>,

    /// Kubernetes Secret that stores the key file for the storage provider's API.
    /// It must hold a `credentials` key, and exist in every datacenter namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_secret_ref: Option<SecretRef>,

    /// The name of the bucket to use for the backups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_name: Option<String>,

    /// Name of the top level folder in the backup bucket. If empty, the cluster name will be used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,

    /// Maximum backup age that the purge process should observe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<GoInt>", extend("default" = 0))]
    pub max_backup_age: Option<i64>,

    /// Maximum number of backups to keep (used by the purge process). Default is unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<GoInt>", extend("default" = 0))]
    pub max_backup_count: Option<i64>,

    /// AWS Profile to use for authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_profile: Option<String>,

    /// Max upload bandwidth in MB/s. Defaults to 50 MB/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "50MB/s"))]
    pub transfer_max_bandwidth: Option<String>,

    /// Number of concurrent uploads. 0 is rendered as 1 in medusa.ini.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<GoInt>", extend("default" = 0))]
    pub concurrent_transfers: Option<i64>,

    /// File size over which cloud specific cli tools are used for transfer. Defaults to 100 MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<GoInt>", extend("default" = 104_857_600))]
    pub multi_part_upload_threshold: Option<i64>,

    /// Host to connect to for the storage backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,

    /// Region of the storage bucket. The operator applies no default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,

    /// Port to connect to for the storage backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<GoInt>")]
    pub port: Option<i64>,

    /// Whether to use SSL for the storage backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secure: Option<bool>,

    /// When using SSL, whether to also verify the certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_verify: Option<bool>,

    /// Age after which orphan sstables can be deleted from the storage backend.
    /// Medusa's own default is 10 days; the operator applies none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<GoInt>")]
    pub backup_grace_period_in_days: Option<i64>,

    /// Pod storage settings for the removed local storage provider. Nothing reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_storage: Option<PodStorage>,

    /// Type of credentials to use for authentication. Can be "role-based", "credential-based"
    /// or omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_type: Option<CredentialsType>,

    /// Fields this model does not name.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

impl Storage {
    /// The storage Secret's name, when one is named (an empty name means none).
    pub fn secret_name(&self) -> Option<&str> {
        self.storage_secret_ref
            .as_ref()
            .and_then(|r| r.name.as_deref())
            .filter(|name| !name.is_empty())
    }

    /// Whether credentials come from the pod's identity rather than a Secret.
    pub fn is_role_based(&self) -> bool {
        self.credentials_type == Some(CredentialsType::RoleBased)
    }

    /// The prefix when set to something non-empty.
    pub fn prefix(&self) -> Option<&str> {
        self.prefix.as_deref().filter(|p| !p.is_empty())
    }

    /// The bucket when set to something non-empty.
    pub fn bucket(&self) -> Option<&str> {
        self.bucket_name.as_deref().filter(|b| !b.is_empty())
    }

    /// The host when set to something non-empty.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref().filter(|h| !h.is_empty())
    }

    /// Fills in the CRD schema defaults the way the API server does when it stores the object.
    pub fn apply_schema_defaults(&mut self) {
        self.max_backup_age.get_or_insert(0);
        self.max_backup_count.get_or_insert(0);
        self.concurrent_transfers.get_or_insert(0);
        self.multi_part_upload_threshold
            .get_or_insert(defaults::MULTI_PART_UPLOAD_THRESHOLD);
        self.transfer_max_bandwidth
            .get_or_insert_with(|| defaults::TRANSFER_MAX_BANDWIDTH.to_owned());
        if let Some(secret) = self.storage_secret_ref.as_mut() {
            secret.name.get_or_insert_with(String::new);
        }
        if let Some(pod_storage) = self.pod_storage.as_mut() {
            pod_storage
                .size
                .get_or_insert_with(|| IntOrString::String(defaults::POD_STORAGE_SIZE.into()));
        }
    }
}

/// A reference to a Secret in the same namespace (`corev1.LocalObjectReference`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-map-type" = "atomic"))]
pub struct SecretRef {
    /// Name of the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = ""))]
    pub name: Option<String>,

    /// Fields this model does not name.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

impl SecretRef {
    /// A reference to the named Secret.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            extra: Extra::new(),
        }
    }
}

/// Pod storage settings for the removed `local` provider. A dead field kept for fidelity.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PodStorage {
    /// Storage class of the volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,

    /// Size of the volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "quantity_schema")]
    pub size: Option<IntOrString>,

    /// Access modes of the volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_modes: Option<Vec<String>>,

    /// Fields this model does not name.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// A Kubernetes quantity as written: a number or a string.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IntOrString {
    /// A plain number.
    Int(i64),
    /// A quantity string such as `10Gi`.
    String(String),
}

const QUANTITY_PATTERN: &str = r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$";

fn quantity_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "anyOf": [{ "type": "integer" }, { "type": "string" }],
        "default": defaults::POD_STORAGE_SIZE,
        "pattern": QUANTITY_PATTERN,
        "x-kubernetes-int-or-string": true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_provider_uses_the_operator_wire_string() {
        let all: Vec<String> = StorageProvider::KNOWN
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            all,
            [
                "google_storage",
                "azure_blobs",
                "s3",
                "s3_compatible",
                "s3_rgw",
                "ibm_storage"
            ]
        );
        assert_eq!(
            serde_json::to_value(StorageProvider::IbmStorage).unwrap(),
            json!("ibm_storage")
        );
    }

    #[test]
    fn local_provider_is_not_a_known_value() {
        assert_eq!(StorageProvider::known("local"), None);
    }

    #[test]
    fn only_endpoint_providers_need_a_host() {
        assert!(StorageProvider::S3Compatible.needs_host());
        assert!(StorageProvider::S3Rgw.needs_host());
        assert!(!StorageProvider::S3.needs_host());
        assert!(!StorageProvider::GoogleStorage.needs_host());
    }

    #[test]
    fn empty_secret_name_means_no_secret() {
        let storage = Storage {
            storage_secret_ref: Some(SecretRef::named("")),
            ..Storage::default()
        };
        assert_eq!(storage.secret_name(), None);
        let storage = Storage {
            storage_secret_ref: Some(SecretRef::named("bucket-key")),
            ..Storage::default()
        };
        assert_eq!(storage.secret_name(), Some("bucket-key"));
    }

    #[test]
    fn schema_defaults_fill_only_missing_values() {
        let mut storage: Storage = serde_json::from_value(json!({
            "transferMaxBandwidth": "100MB/s",
            "storageSecretRef": {},
            "podStorage": {}
        }))
        .unwrap();
        storage.apply_schema_defaults();
        assert_eq!(
            serde_json::to_value(&storage).unwrap(),
            json!({
                "transferMaxBandwidth": "100MB/s",
                "multiPartUploadThreshold": 104857600,
                "maxBackupAge": 0,
                "maxBackupCount": 0,
                "concurrentTransfers": 0,
                "storageSecretRef": {"name": ""},
                "podStorage": {"size": "10Gi"}
            })
        );
    }

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let input = json!({
            "storageProvider": "s3",
            "bucketName": "b",
            "futureField": {"a": 1},
            "storageSecretRef": {"name": "k", "futureRefField": true},
            "podStorage": {"size": 10}
        });
        let storage: Storage = serde_json::from_value(input.clone()).unwrap();
        assert_eq!(serde_json::to_value(&storage).unwrap(), input);
    }
}
