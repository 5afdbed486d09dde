use super::*;

#[test]
fn a_missing_configuration_is_denied() {
    let cluster = K8ssandraCluster::test("demo").configuration_ref("gcs");
    let message = denies(&create(&cluster, &world()), RuleId::K2);
    assert!(
        message.contains("MedusaConfiguration \"gcs\" not found in namespace k8ssandra"),
        "{message}"
    );
    assert!(message.contains("medusaconfigurations.medusa.k8ssandra.io \"gcs\" not found"));
}

#[test]
fn an_existing_configuration_is_accepted() {
    let decision = create(
        &K8ssandraCluster::test("demo").configuration_ref("s3"),
        &world(),
    );
    silent(&decision, RuleId::K2);
    assert!(decision.allowed(), "{decision:#?}");
}

#[test]
fn an_unrelated_update_does_not_recheck_it() {
    let cluster = K8ssandraCluster::test("demo").configuration_ref("gcs");
    let decision = update(&cluster, &cluster.clone().label("team", "data"), &world());
    silent(&decision, RuleId::K2);
    assert!(decision.allowed());
}

#[test]
fn a_failed_lookup_warns_when_the_policy_fails_open() {
    let cluster = K8ssandraCluster::test("demo").configuration_ref("s3");
    let decision = create(&cluster, &FailingLookups(world()));
    assert!(
        warns(&decision, RuleId::K2)
            .contains("GET timed out after 300ms; admitted because the webhook policy fails open")
    );
    assert!(decision.allowed());
}

#[test]
fn a_failed_lookup_denies_when_the_policy_fails_closed() {
    let cluster = K8ssandraCluster::test("demo").configuration_ref("s3");
    let policy = Policy::from_yaml("lookups:\n  onFailure: deny\n").unwrap();
    let decision = create_with(&cluster, &FailingLookups(world()), &policy);
    assert!(denies(&decision, RuleId::K2).contains("fails closed"));
}
