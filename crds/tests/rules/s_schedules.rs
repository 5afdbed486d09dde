use super::*;

#[test]
fn a_valid_schedule_passes() {
    assert!(
        create(&MedusaBackupSchedule::test("nightly"), &world())
            .findings
            .is_empty()
    );
}

#[test]
fn an_unparsable_cron_is_denied_with_the_operator_text() {
    let message = denies(
        &create(&MedusaBackupSchedule::test("n").cron("? 8 0 0"), &world()),
        RuleId::S1,
    );
    assert!(
        message.contains("expected exactly 5 fields, found 4: [? 8 0 0]"),
        "{message}"
    );
}

#[test]
fn a_cron_that_never_runs_warns() {
    let decision = create(
        &MedusaBackupSchedule::test("n").cron("0 0 30 2 *"),
        &world(),
    );
    let message = warns(&decision, RuleId::S1);
    assert!(
        message.contains("spec.cronSchedule \"0 0 30 2 *\" never runs"),
        "{message}"
    );
    assert!(decision.allowed());
}

#[test]
fn an_unimplemented_policy_is_denied() {
    let message = denies(
        &create(&MedusaBackupSchedule::test("n").policy("Replace"), &world()),
        RuleId::S2,
    );
    assert!(
        message.contains(
            "concurrencyPolicy \"Replace\" is accepted by the schema but not implemented"
        )
    );
}

#[test]
fn allow_is_accepted() {
    silent(
        &create(&MedusaBackupSchedule::test("n").policy("Allow"), &world()),
        RuleId::S2,
    );
}

#[test]
fn a_missing_datacenter_warns() {
    let decision = create(&MedusaBackupSchedule::test("n").dc("dc9"), &world());
    assert!(warns(&decision, RuleId::S3).contains("does not exist in namespace k8ssandra yet"));
    assert!(decision.allowed());
}
