use super::*;

#[test]
fn a_sync_on_an_existing_datacenter_passes() {
    let decision = create(&MedusaTask::test("s", Operation::Sync), &world());
    assert!(decision.findings.is_empty(), "{decision:#?}");
}

#[test]
fn a_missing_datacenter_is_denied() {
    denies(
        &create(&MedusaTask::test("s", Operation::Purge).dc("dc9"), &world()),
        RuleId::T1,
    );
}

#[test]
fn prepare_restore_needs_a_backup_name_and_a_key() {
    let decision = create(&MedusaTask::test("p", Operation::PrepareRestore), &world());
    let messages: Vec<String> = of(&decision, RuleId::T1)
        .into_iter()
        .map(|(_, m)| m)
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("needs spec.backupName")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("needs spec.restoreKey")),
        "{messages:?}"
    );
}

#[test]
fn prepare_restore_needs_an_existing_backup() {
    let task = MedusaTask::test("p", Operation::PrepareRestore).prepare("gone", "key");
    assert!(
        denies(&create(&task, &world()), RuleId::T1).contains("MedusaBackup \"gone\" not found")
    );
}

#[test]
fn prepare_restore_with_backup_and_key_passes() {
    let view = world().replace(vec![Arc::new(MedusaBackup::test("nightly"))]);
    let task = MedusaTask::test("p", Operation::PrepareRestore).prepare("nightly", "key");
    assert!(create(&task, &view).findings.is_empty());
}

#[test]
fn the_same_operation_running_warns() {
    let view = world().replace(vec![Arc::new(
        MedusaTask::test("earlier", Operation::Purge).started("2024-05-01T10:00:00Z"),
    )]);
    let decision = create(&MedusaTask::test("p", Operation::Purge), &view);
    assert!(
        warns(&decision, RuleId::T1)
            .contains("a purge of datacenter \"dc1\" is still running (earlier)")
    );
    assert!(
        create(&MedusaTask::test("s", Operation::Sync), &view)
            .findings
            .is_empty()
    );
}

#[test]
fn tm_adds_the_datacenter_labels() {
    let (result, patched) = mutation(
        &MedusaTask::test("p", Operation::Purge),
        &world(),
        &Policy::default(),
    );
    assert_eq!(result.fired, [RuleId::TM]);
    assert_eq!(
        patched.pointer("/metadata/labels"),
        Some(&json!({CLUSTER_LABEL: "demo", DATACENTER_LABEL: "dc1"}))
    );
}
