//! Our CRDs against the operator's, from the folder named by `MEDUSA_REFERENCE_CRDS`
//! (`.ci/run` points it at `../shared/reference/k8ssandra-operator/crds`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::path::{Path, PathBuf};

use medusa_crds::compat::{Difference, compare_crds, compare_schemas};
use serde_json::Value;

/// The operator's CRDs from the reference folder, or `None` (with one printed line) when the
/// folder is not configured.
fn reference_crds() -> Option<Vec<Value>> {
    let Some(dir) = std::env::var_os("MEDUSA_REFERENCE_CRDS") else {
        println!("MEDUSA_REFERENCE_CRDS is not set: operator compatibility not checked");
        return None;
    };
    let dir = PathBuf::from(dir);
    let dir = if dir.is_absolute() {
        dir
    } else {
        // Relative to the workspace root, like .ci/run gives it.
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir)
    };
    let mut crds = Vec::new();
    for entry in std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("MEDUSA_REFERENCE_CRDS={}: {e}", dir.display()))
    {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            crds.extend(docs.into_iter().filter(|d| d.is_object()));
        }
    }
    Some(crds)
}

fn find<'a>(crds: &'a [Value], kind: &str) -> &'a Value {
    crds.iter()
        .find(|c| c.pointer("/spec/names/kind").and_then(Value::as_str) == Some(kind))
        .unwrap_or_else(|| panic!("the reference folder has no CRD of kind {kind}"))
}

fn report(differences: &[Difference]) -> String {
    differences
        .iter()
        .map(|d| format!("  {d}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_six_medusa_crds_match_the_operator() {
    let Some(reference) = reference_crds() else {
        return;
    };
    let mut differences = Vec::new();
    for ours in medusa_crds::crdgen::medusa_crds().unwrap() {
        differences.extend(compare_crds(&ours.crd, find(&reference, ours.kind)));
    }
    assert!(
        differences.is_empty(),
        "{} difference(s) from the operator's CRDs:\n{}",
        differences.len(),
        report(&differences)
    );
}

#[test]
fn cluster_storage_properties_match_the_operator() {
    let Some(reference) = reference_crds() else {
        return;
    };
    let theirs = find(&reference, "K8ssandraCluster")
        .pointer("/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/medusa/properties/storageProperties")
        .expect("K8ssandraCluster has spec.medusa.storageProperties");
    let configuration = medusa_crds::crdgen::medusa_crds()
        .unwrap()
        .into_iter()
        .find(|c| c.kind == "MedusaConfiguration")
        .unwrap();
    let ours = configuration
        .crd
        .pointer(
            "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/storageProperties",
        )
        .unwrap();
    let differences = compare_schemas(
        "K8ssandraCluster",
        ".spec.medusa.storageProperties",
        ours,
        theirs,
    );
    assert!(differences.is_empty(), "{}", report(&differences));
}
