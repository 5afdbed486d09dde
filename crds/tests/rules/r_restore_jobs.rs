use super::*;

fn with_backup(backup: MedusaBackup) -> MemoryView {
    world().with(backup)
}

#[test]
fn a_valid_restore_is_admitted_with_the_stop_warning() {
    let decision = create(
        &MedusaRestoreJob::test("r"),
        &with_backup(MedusaBackup::test("nightly")),
    );
    assert!(decision.allowed(), "{decision:#?}");
    assert!(warns(&decision, RuleId::R1).contains("the restore stops datacenter \"dc1\""));
}

#[test]
fn a_missing_backup_is_denied() {
    let message = denies(&create(&MedusaRestoreJob::test("r"), &world()), RuleId::R1);
    assert!(
        message.contains("MedusaBackup \"nightly\" not found in namespace k8ssandra"),
        "{message}"
    );
    assert!(message.contains("kubectl medusa sync --dc dc1"));
}

#[test]
fn a_missing_datacenter_is_denied() {
    let decision = create(
        &MedusaRestoreJob::test("r").dc("dc9"),
        &with_backup(MedusaBackup::test("nightly")),
    );
    assert!(denies(&decision, RuleId::R1).contains("CassandraDatacenter \"dc9\" not found"));
}

#[test]
fn an_incomplete_backup_is_denied_with_the_operator_text() {
    let decision = create(
        &MedusaRestoreJob::test("r"),
        &with_backup(MedusaBackup::test("nightly").nodes(2, 3)),
    );
    let message = denies(&decision, RuleId::R1);
    assert!(
        message.contains("target backup has not completed successfully: 2 of 3 nodes completed"),
        "{message}"
    );
}

#[test]
fn a_size_mismatch_is_denied_with_the_operator_text() {
    let view = with_backup(MedusaBackup::test("nightly"))
        .replace(vec![Arc::new(CassandraDatacenter::test("dc1").size(5))]);
    assert!(denies(&create(&MedusaRestoreJob::test("r"), &view), RuleId::R1)
        .contains("node counts differ for source backup and destination datacenter: backup 3 nodes, datacenter size 5"));
}

#[test]
fn another_unfinished_restore_of_the_datacenter_is_denied() {
    let view = with_backup(MedusaBackup::test("nightly")).replace(vec![Arc::new(
        MedusaRestoreJob::test("earlier").started("2024-05-01T10:00:00Z"),
    )]);
    assert!(
        denies(&create(&MedusaRestoreJob::test("r"), &view), RuleId::R1)
            .contains("restore earlier of datacenter \"dc1\" has not finished")
    );
}

#[test]
fn a_finished_restore_does_not_block() {
    let view = with_backup(MedusaBackup::test("nightly")).replace(vec![Arc::new(
        MedusaRestoreJob::test("earlier").finished_at("2024-05-01T10:00:00Z"),
    )]);
    assert!(create(&MedusaRestoreJob::test("r"), &view).allowed());
}

#[test]
fn editing_the_spec_is_denied() {
    let job = MedusaRestoreJob::test("r");
    denies(
        &update(&job, &job.clone().backup("other"), &world()),
        RuleId::R2,
    );
}

#[test]
fn editing_metadata_is_accepted() {
    let job = MedusaRestoreJob::test("r");
    assert!(update(&job, &job.clone().label("a", "b"), &world()).allowed());
}
