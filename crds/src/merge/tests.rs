//! The operator's merge, case by case.

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
