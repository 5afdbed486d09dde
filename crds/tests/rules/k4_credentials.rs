use super::*;

#[test]
fn no_secret_and_no_role_is_denied_with_the_operator_text() {
    let cluster = K8ssandraCluster::test("demo")
        .with_storage(Storage::test().without_secret().with_prefix("demo"));
    assert!(
        denies(&create(&cluster, &world()), RuleId::K4)
            .contains("must specify either a storge secret or use role-based credentials")
    );
}

#[test]
fn role_based_without_secret_is_accepted() {
    let cluster = K8ssandraCluster::test("demo").with_storage(
        Storage::test()
            .without_secret()
            .role_based()
            .with_prefix("demo"),
    );
    let decision = create(&cluster, &world());
    silent(&decision, RuleId::K4);
    silent(&decision, RuleId::K5);
}

#[test]
fn the_documented_irsa_example_is_denied_and_explained() {
    let mut cluster = K8ssandraCluster::test("demo").configuration_ref("s3");
    cluster.spec.medusa.as_mut().unwrap().storage_properties =
        Some(Storage::prefix_only("demo").role_based().with_secret(""));
    let message = denies(&create(&cluster, &world()), RuleId::K4);
    assert!(
        message.contains(
            "cannot specify both a storage secret and role-based credentials: medusa-bucket-key"
        ),
        "{message}"
    );
    assert!(message.contains("comes from MedusaConfiguration \"s3\""));
    assert!(message.contains("IRSA"));
}

#[test]
fn both_in_the_cluster_gets_the_plain_hint() {
    let cluster = K8ssandraCluster::test("demo")
        .with_storage(Storage::test().role_based().with_prefix("demo"));
    let message = denies(&create(&cluster, &world()), RuleId::K4);
    assert!(
        message.contains("remove storageSecretRef to use the pods' cloud identity"),
        "{message}"
    );
}
