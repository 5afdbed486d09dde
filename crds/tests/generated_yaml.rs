//! The committed CRD YAML in `crds/yaml/` is what the Rust types generate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::path::PathBuf;

#[test]
fn committed_crd_yaml_is_up_to_date() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("yaml");
    let mut stale = Vec::new();
    for crd in medusa_crds::crdgen::medusa_crds().unwrap() {
        let expected = medusa_crds::crdgen::to_yaml(&crd).unwrap();
        let path = dir.join(&crd.file_name);
        match std::fs::read_to_string(&path) {
            Ok(actual) if actual == expected => {}
            Ok(_) => stale.push(format!("{} is stale", path.display())),
            Err(e) => stale.push(format!("{} is missing: {e}", path.display())),
        }
    }
    assert!(
        stale.is_empty(),
        "{}\nrun `just generate` (cargo run -p medusa-crds --example crdgen) and commit the result",
        stale.join("\n")
    );
}

#[test]
fn no_other_yaml_lies_in_the_generated_folder() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("yaml");
    let expected: Vec<String> = medusa_crds::crdgen::medusa_crds()
        .unwrap()
        .into_iter()
        .map(|c| c.file_name)
        .collect();
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(expected.contains(&name), "unexpected file crds/yaml/{name}");
    }
}
