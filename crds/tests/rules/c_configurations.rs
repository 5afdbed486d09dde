use super::*;

#[test]
fn a_complete_configuration_passes() {
    let decision = create(&MedusaConfiguration::test("s3"), &world());
    assert!(decision.findings.is_empty(), "{decision:#?}");
}

#[test]
fn a_provider_without_bucket_is_denied() {
    let configuration = MedusaConfiguration::test("s3").with_storage(Storage {
        bucket_name: None,
        ..Storage::test()
    });
    assert!(
        denies(&create(&configuration, &world()), RuleId::C1)
            .contains("storageProvider is s3 but bucketName is empty")
    );
}

#[test]
fn secret_and_role_based_is_denied() {
    let configuration = MedusaConfiguration::test("s3").with_storage(Storage::test().role_based());
    assert!(
        denies(&create(&configuration, &world()), RuleId::C1)
            .contains("cannot specify both a storage secret and role-based credentials")
    );
}

#[test]
fn a_missing_secret_is_denied() {
    let configuration =
        MedusaConfiguration::test("s3").with_storage(Storage::test().with_secret("nope"));
    assert!(
        denies(&create(&configuration, &world()), RuleId::C1).contains("SecretAvailable to False")
    );
}

#[test]
fn a_secret_without_credentials_key_is_denied() {
    let view = world().with_secret(NS, "medusa-bucket-key", false);
    assert!(
        denies(&create(&MedusaConfiguration::test("s3"), &view), RuleId::C1)
            .contains("no `credentials` key")
    );
}

#[test]
fn a_prefix_warns_that_it_is_never_used() {
    let configuration =
        MedusaConfiguration::test("s3").with_storage(Storage::test().with_prefix("shared"));
    let decision = create(&configuration, &world());
    assert!(warns(&decision, RuleId::C2).contains("prefix \"shared\" is never used"));
    assert!(decision.allowed());
}

#[test]
fn deleting_a_referenced_configuration_is_denied_listing_the_users() {
    let view = world().replace(vec![
        Arc::new(K8ssandraCluster::test("a").configuration_ref("s3")),
        Arc::new(K8ssandraCluster::test("b").configuration_ref("s3")),
        Arc::new(
            K8ssandraCluster::test("c")
                .configuration_ref("s3")
                .namespace("elsewhere"),
        ),
    ]);
    let message = denies(&delete(&MedusaConfiguration::test("s3"), &view), RuleId::C3);
    assert!(
        message.starts_with("MedusaConfiguration k8ssandra/s3 is used by K8ssandraCluster a, b:"),
        "{message}"
    );
}

#[test]
fn deleting_an_unused_configuration_is_accepted() {
    let view = world().replace(vec![Arc::new(K8ssandraCluster::test("a"))]);
    assert!(delete(&MedusaConfiguration::test("s3"), &view).allowed());
}
