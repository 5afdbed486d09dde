use super::*;

#[test]
fn a_configuration_without_provider_leaves_the_merge_without_one() {
    let view = world().replace(vec![Arc::new(
        MedusaConfiguration::test("s3").with_storage(Storage {
            storage_provider: None,
            ..Storage::test()
        }),
    )]);
    let message = denies(
        &create(
            &K8ssandraCluster::test("demo").configuration_ref("s3"),
            &view,
        ),
        RuleId::K3,
    );
    assert!(
        message.contains(
            "the merged storage (MedusaConfiguration and K8ssandraCluster) has no storageProvider"
        ),
        "{message}"
    );
    assert!(message.contains("set storageProvider in MedusaConfiguration \"s3\""));
}

#[test]
fn s3_compatible_without_host_is_denied() {
    let cluster = K8ssandraCluster::test("demo").with_storage(
        Storage::test()
            .provider(StorageProvider::S3Compatible)
            .with_prefix("demo"),
    );
    assert!(
        denies(&create(&cluster, &world()), RuleId::K3)
            .contains("storageProvider s3_compatible needs the endpoint's host")
    );
}

#[test]
fn s3_compatible_with_host_is_accepted() {
    let cluster = K8ssandraCluster::test("demo").with_storage(
        Storage::test()
            .provider(StorageProvider::S3Rgw)
            .with_host("rgw.ceph")
            .with_prefix("demo"),
    );
    silent(&create(&cluster, &world()), RuleId::K3);
}

#[test]
fn a_port_beyond_65535_is_denied() {
    let cluster = K8ssandraCluster::test("demo")
        .with_storage(Storage::test().with_port(70000).with_prefix("demo"));
    assert!(
        denies(&create(&cluster, &world()), RuleId::K3)
            .contains("storage port 70000 is not a TCP port")
    );
}

#[test]
fn port_zero_means_unset() {
    let cluster = K8ssandraCluster::test("demo")
        .with_storage(Storage::test().with_port(0).with_prefix("demo"));
    silent(&create(&cluster, &world()), RuleId::K3);
}
