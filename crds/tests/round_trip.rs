//! The documentation's examples and realistic operator objects deserialize, and serialize back
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly
//! to the same JSON, unknown fields included.

use std::path::PathBuf;

use medusa_crds::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn fixtures() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/roundtrip");
    let mut documents = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for (i, doc) in docs.into_iter().enumerate() {
            let name = format!("{}#{i}", path.file_name().unwrap().to_string_lossy());
            documents.push((name, doc));
        }
    }
    documents
}

fn round_trip<T: DeserializeOwned + Serialize>(name: &str, document: &Value) {
    let typed: T = serde_json::from_value(document.clone())
        .unwrap_or_else(|e| panic!("{name} does not deserialize: {e}"));
    let back = serde_json::to_value(&typed).unwrap();
    // The kind and apiVersion are written by kube's derive; the seeds sometimes omit them.
    let mut expected = document.clone();
    for key in ["apiVersion", "kind"] {
        if expected.get(key).is_none()
            && let (Some(object), Some(value)) = (expected.as_object_mut(), back.get(key))
        {
            object.insert(key.to_owned(), value.clone());
        }
    }
    if expected.get("metadata").is_none()
        && let Some(object) = expected.as_object_mut()
    {
        object.insert("metadata".into(), serde_json::json!({}));
    }
    assert_eq!(back, expected, "{name} changed on the round trip");
}

#[test]
fn every_fixture_round_trips_unchanged() {
    let documents = fixtures();
    assert!(
        documents.len() >= 25,
        "only {} fixtures found",
        documents.len()
    );
    for (name, document) in &documents {
        match document.get("kind").and_then(Value::as_str) {
            Some("MedusaBackupJob") => round_trip::<MedusaBackupJob>(name, document),
            Some("MedusaBackup") => round_trip::<MedusaBackup>(name, document),
            Some("MedusaRestoreJob") => round_trip::<MedusaRestoreJob>(name, document),
            Some("MedusaTask") => round_trip::<MedusaTask>(name, document),
            Some("MedusaBackupSchedule") => round_trip::<MedusaBackupSchedule>(name, document),
            Some("MedusaConfiguration") => round_trip::<MedusaConfiguration>(name, document),
            Some("K8ssandraCluster") => round_trip::<K8ssandraCluster>(name, document),
            Some("CassandraDatacenter") => round_trip::<CassandraDatacenter>(name, document),
            other => panic!("{name}: unexpected kind {other:?}"),
        }
    }
}

#[test]
fn unknown_enum_values_are_kept() {
    let (_, document) = fixtures()
        .into_iter()
        .find(|(name, _)| name == "unknown-fields.yaml#5")
        .unwrap();
    let configuration: MedusaConfiguration = serde_json::from_value(document).unwrap();
    let storage = configuration.storage();
    assert_eq!(
        storage.storage_provider,
        Some(StorageProvider::Unknown("oracle_storage".into()))
    );
}

#[test]
fn documented_restore_status_reads_its_markers() {
    let (_, document) = fixtures()
        .into_iter()
        .find(|(name, _)| name == "seed-medusarestorejob.yaml#1")
        .unwrap();
    let restore: MedusaRestoreJob = serde_json::from_value(document).unwrap();
    let status = restore.status.unwrap();
    assert_eq!(status.restore_key, "ec5b35c1-f2fe-4465-a74f-e29aa1d467ff");
    assert_eq!(status.restore_prepared, Some(true));
}

#[test]
fn a_full_cluster_exposes_its_datacenters() {
    let (_, document) = fixtures()
        .into_iter()
        .find(|(name, _)| name == "operator-objects.yaml#8")
        .unwrap();
    let cluster: K8ssandraCluster = serde_json::from_value(document).unwrap();
    let dc1 = cluster.datacenter("dc1").unwrap();
    assert_eq!(dc1.cassandra_name(), "DC1");
    assert_eq!(dc1.namespace_in("k8ssandra"), "east");
    assert_eq!(dc1.context(), Some("kind-east"));
    assert_eq!(
        cluster.datacenter("dc2").unwrap().namespace_in("k8ssandra"),
        "k8ssandra"
    );
    assert_eq!(cluster.cass_cluster_name(), "Prod Cluster");
    let medusa = cluster.spec.medusa.unwrap();
    assert_eq!(medusa.configuration_name(), Some("s3-shared"));
    assert_eq!(medusa.service_properties.unwrap().grpc_port, Some(50055));
}

#[test]
fn a_full_datacenter_exposes_what_medusa_needs() {
    let (_, document) = fixtures()
        .into_iter()
        .find(|(name, _)| name == "operator-objects.yaml#9")
        .unwrap();
    let dc: CassandraDatacenter = serde_json::from_value(document).unwrap();
    assert_eq!(dc.datacenter_name(), "DC1");
    assert_eq!(dc.rack_names(), ["r1", "r2", "r3"]);
    assert!(dc.template_has_container("medusa"));
    assert!(dc.template_has_init_container("medusa-restore"));
    assert!(dc.is_ready());
    assert!(!dc.is_stopped());
}
