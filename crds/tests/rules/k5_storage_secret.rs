use super::*;

#[test]
fn a_missing_secret_in_a_datacenter_namespace_is_denied() {
    let cluster = K8ssandraCluster::test("demo").add_datacenter("dc2", Some("east"), None, 3);
    let message = denies(&create(&cluster, &world()), RuleId::K5);
    assert!(
        message.contains(
            "storage Secret \"medusa-bucket-key\" not found in namespace east (datacenter dc2)"
        ),
        "{message}"
    );
}

#[test]
fn a_secret_without_credentials_key_is_denied() {
    let view = world().with_secret(NS, "medusa-bucket-key", false);
    let message = denies(&create(&K8ssandraCluster::test("demo"), &view), RuleId::K5);
    assert!(message.contains("has no `credentials` key"), "{message}");
}

#[test]
fn a_secret_in_every_namespace_is_accepted() {
    let cluster = K8ssandraCluster::test("demo").add_datacenter("dc2", Some("east"), None, 3);
    let view = world().with_secret("east", "medusa-bucket-key", true);
    silent(&create(&cluster, &view), RuleId::K5);
}

#[test]
fn datacenters_in_other_contexts_are_named_in_a_warning() {
    let cluster =
        K8ssandraCluster::test("demo").add_datacenter("dc2", Some("west"), Some("kind-west"), 3);
    let message = warns(&create(&cluster, &world()), RuleId::K5);
    assert!(
        message
            .contains("dc2 (context kind-west, namespace west) run in other Kubernetes clusters"),
        "{message}"
    );
}

#[test]
fn local_contexts_from_the_policy_are_checked() {
    let cluster =
        K8ssandraCluster::test("demo").add_datacenter("dc2", Some("west"), Some("kind-west"), 3);
    let policy = Policy::from_yaml("localContexts: [kind-west]\n").unwrap();
    denies(&create_with(&cluster, &world(), &policy), RuleId::K5);
}

#[test]
fn unseen_secrets_only_warn() {
    let view = MemoryView {
        secrets: None,
        ..world()
    };
    let decision = create(&K8ssandraCluster::test("demo"), &view);
    assert!(warns(&decision, RuleId::K5).contains("Secrets cannot be seen from here"));
    assert!(decision.allowed());
}
