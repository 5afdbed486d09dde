use super::*;

#[test]
fn a_complete_cluster_passes() {
    let decision = create(&K8ssandraCluster::test("demo"), &world());
    assert!(decision.allowed(), "{decision:#?}");
    assert!(decision.findings.is_empty(), "{decision:#?}");
}

#[test]
fn a_ref_without_prefix_is_denied_with_the_operator_text() {
    let cluster = K8ssandraCluster::test("demo")
        .configuration_ref("s3")
        .with_storage(Storage::default());
    let message = denies(&create(&cluster, &world()), RuleId::K1);
    assert!(message.starts_with(
        "K8ssandraCluster k8ssandra/demo: medusa storage prefix must be set when a medusaConfigurationRef is used: set spec.medusa.storageProperties.prefix"
    ), "{message}");
}

#[test]
fn a_namespaced_ref_is_denied_even_with_the_clusters_namespace() {
    let cluster = K8ssandraCluster::test("demo")
        .configuration_ref("s3")
        .raw_configuration_ref(ConfigurationRef {
            namespace: Some(NS.into()),
            ..ConfigurationRef::named("s3")
        });
    assert!(
        denies(&create(&cluster, &world()), RuleId::K1)
            .contains("Medusa config must be namespace local")
    );
}

#[test]
fn a_ref_with_another_field_is_denied() {
    let cluster = K8ssandraCluster::test("demo")
        .configuration_ref("s3")
        .raw_configuration_ref(ConfigurationRef {
            kind: Some("MedusaConfiguration".into()),
            ..ConfigurationRef::named("s3")
        });
    assert!(
        denies(&create(&cluster, &world()), RuleId::K1)
            .contains("Medusa config invalid, invalid field used")
    );
}

#[test]
fn the_first_failing_operator_rule_wins() {
    let cluster = K8ssandraCluster::test("demo")
        .configuration_ref("s3")
        .with_storage(Storage::default())
        .raw_configuration_ref(ConfigurationRef {
            namespace: Some("other".into()),
            ..ConfigurationRef::named("s3")
        });
    let k1 = of(&create(&cluster, &world()), RuleId::K1);
    assert_eq!(k1.len(), 1);
    assert!(k1[0].1.contains("prefix must be set"));
}

#[test]
fn no_ref_and_no_provider_is_denied_with_the_operator_text() {
    let cluster = K8ssandraCluster::test("demo").with_storage(Storage {
        storage_provider: None,
        ..Storage::test()
    });
    assert!(
        denies(&create(&cluster, &world()), RuleId::K1)
            .contains("medusa storage provider must be set when no medusaConfigurationRef is used")
    );
}

#[test]
fn no_ref_and_no_bucket_is_denied_with_the_operator_text() {
    let cluster = K8ssandraCluster::test("demo").with_storage(Storage {
        bucket_name: None,
        ..Storage::test()
    });
    assert!(
        denies(&create(&cluster, &world()), RuleId::K1)
            .contains("medusa bucket name must be set when no medusaConfigurationRef is used")
    );
}

#[test]
fn an_empty_ref_name_counts_as_no_ref() {
    let cluster = K8ssandraCluster::test("demo").raw_configuration_ref(ConfigurationRef {
        namespace: Some("x".into()),
        ..ConfigurationRef::named("")
    });
    silent(&create(&cluster, &world()), RuleId::K1);
}

#[test]
fn a_cluster_without_medusa_is_not_checked() {
    let decision = create(
        &K8ssandraCluster::test("demo").without_medusa(),
        &MemoryView::default(),
    );
    assert!(decision.findings.is_empty());
}

#[test]
fn operator_rules_also_apply_to_unrelated_updates() {
    let broken = K8ssandraCluster::test("demo")
        .configuration_ref("s3")
        .with_storage(Storage::default());
    let edited = broken.clone().label("team", "data");
    denies(&update(&broken, &edited, &world()), RuleId::K1);
}
