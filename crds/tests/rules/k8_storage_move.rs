use super::*;

fn with_backups() -> MemoryView {
    world().with(MedusaBackup::test("nightly-1"))
}

#[test]
fn moving_the_prefix_with_backups_is_denied() {
    let old = K8ssandraCluster::test("demo");
    let new = old
        .clone()
        .with_storage(Storage::test().with_prefix("demo-v2"));
    let message = denies(&update(&old, &new, &with_backups()), RuleId::K8);
    assert!(
        message.contains("while 1 MedusaBackup(s) exist (nightly-1)"),
        "{message}"
    );
    assert!(message.contains(ALLOW_STORAGE_CHANGE_ANNOTATION));
}

#[test]
fn the_annotation_allows_the_move() {
    let old = K8ssandraCluster::test("demo");
    let new = old
        .clone()
        .with_storage(Storage::test().with_prefix("demo-v2"))
        .annotation(ALLOW_STORAGE_CHANGE_ANNOTATION, "true");
    silent(&update(&old, &new, &with_backups()), RuleId::K8);
}

#[test]
fn moving_without_backups_is_accepted() {
    let old = K8ssandraCluster::test("demo");
    let new = old.clone().with_storage(
        Storage::test()
            .with_bucket("other-bucket")
            .with_prefix("demo"),
    );
    silent(&update(&old, &new, &world()), RuleId::K8);
}

#[test]
fn changes_that_keep_the_location_are_accepted() {
    let old = K8ssandraCluster::test("demo");
    let new = old
        .clone()
        .with_storage(Storage::test().with_prefix("demo").with_port(443));
    silent(&update(&old, &new, &with_backups()), RuleId::K8);
}
