use super::*;

#[test]
fn an_empty_prefix_with_a_ref_becomes_the_cluster_name() {
    let cluster = K8ssandraCluster::test("demo")
        .configuration_ref("s3")
        .with_storage(Storage::default());
    let (result, patched) = mutation(&cluster, &world(), &Policy::default());
    assert_eq!(result.fired, [RuleId::KM]);
    assert_eq!(
        patched.pointer("/spec/medusa/storageProperties/prefix"),
        Some(&json!("demo"))
    );
    assert!(result.warnings[0].contains("prefix was empty and is now \"demo\""));
    assert!(
        create(
            &serde_json::from_value::<K8ssandraCluster>(patched).unwrap(),
            &world()
        )
        .allowed()
    );
}

#[test]
fn a_missing_storage_section_is_added() {
    let mut cluster = K8ssandraCluster::test("demo").configuration_ref("s3");
    cluster.spec.medusa.as_mut().unwrap().storage_properties = None;
    let (_, patched) = mutation(&cluster, &world(), &Policy::default());
    assert_eq!(
        patched.pointer("/spec/medusa/storageProperties"),
        Some(&json!({"prefix": "demo"}))
    );
}

#[test]
fn a_set_prefix_is_left_alone() {
    let (result, _) = mutation(
        &K8ssandraCluster::test("demo").configuration_ref("s3"),
        &world(),
        &Policy::default(),
    );
    assert!(result.patch.is_empty());
}

#[test]
fn the_mutation_can_be_turned_off() {
    let cluster = K8ssandraCluster::test("demo")
        .configuration_ref("s3")
        .with_storage(Storage::default());
    let policy = Policy::default().with_mutation(RuleId::KM, false);
    assert!(mutation(&cluster, &world(), &policy).0.patch.is_empty());
}
