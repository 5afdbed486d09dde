use super::*;

#[test]
fn configuration_values_masked_by_cluster_defaults_warn() {
    let view = world().replace(vec![Arc::new(
        MedusaConfiguration::test("s3").with_storage(Storage {
            transfer_max_bandwidth: Some("200MB/s".into()),
            ..Storage::test()
        }),
    )]);
    let mut cluster = K8ssandraCluster::test("demo").configuration_ref("s3");
    cluster
        .spec
        .medusa
        .as_mut()
        .unwrap()
        .storage_properties
        .as_mut()
        .unwrap()
        .apply_schema_defaults();
    let decision = create(&cluster, &view);
    assert!(
        warns(&decision, RuleId::K9)
            .contains("transferMaxBandwidth: the MedusaConfiguration's \"200MB/s\" is ignored")
    );
    assert!(decision.allowed());
}

#[test]
fn no_configuration_means_no_trap() {
    silent(
        &create(&K8ssandraCluster::test("demo"), &world()),
        RuleId::K9,
    );
}
