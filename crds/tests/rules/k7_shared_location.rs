use super::*;

fn view_with(other: K8ssandraCluster) -> MemoryView {
    world()
        .replace(vec![Arc::new(other)])
        .with_secret("other", "medusa-bucket-key", true)
}

#[test]
fn another_cluster_with_the_same_bucket_and_prefix_is_denied() {
    let other = K8ssandraCluster::test("other")
        .namespace("other")
        .with_storage(Storage::test().with_prefix("demo"));
    let message = denies(
        &create(&K8ssandraCluster::test("demo"), &view_with(other)),
        RuleId::K7,
    );
    assert!(message.contains("K8ssandraCluster other/other already uses s3 bucket \"k8ssandra-medusa\" with prefix \"demo\""), "{message}");
}

#[test]
fn an_empty_prefix_counts_as_the_cluster_name() {
    let other = K8ssandraCluster::test("demo")
        .namespace("other")
        .with_storage(Storage::test());
    denies(
        &create(&K8ssandraCluster::test("demo"), &view_with(other)),
        RuleId::K7,
    );
}

#[test]
fn configurations_are_merged_before_comparing() {
    let other = K8ssandraCluster::test("other")
        .configuration_ref("s3")
        .with_storage(Storage::prefix_only("demo"));
    denies(
        &create(&K8ssandraCluster::test("demo"), &view_with(other)),
        RuleId::K7,
    );
}

#[test]
fn another_prefix_is_accepted() {
    let other = K8ssandraCluster::test("other").with_storage(Storage::test().with_prefix("other"));
    silent(
        &create(&K8ssandraCluster::test("demo"), &view_with(other)),
        RuleId::K7,
    );
}

#[test]
fn the_cluster_itself_does_not_count() {
    let cluster = K8ssandraCluster::test("demo");
    let changed = cluster
        .clone()
        .with_storage(Storage::test().with_prefix("demo").with_port(443));
    silent(
        &update(&cluster, &changed, &view_with(cluster.clone())),
        RuleId::K7,
    );
}
