use super::*;

#[test]
fn a_denial_set_to_warn_admits_with_a_warning() {
    let policy = Policy::default().with_action(RuleId::J1, Action::Warn);
    let decision = create_with(
        &MedusaBackupJob::test("nightly").dc("dc9"),
        &world(),
        &policy,
    );
    assert!(decision.allowed());
    warns(&decision, RuleId::J1);
}

#[test]
fn a_rule_set_to_off_says_nothing() {
    let policy = Policy::default().with_action(RuleId::J1, Action::Off);
    let decision = create_with(
        &MedusaBackupJob::test("nightly").dc("dc9"),
        &world(),
        &policy,
    );
    assert!(decision.findings.is_empty());
}

#[test]
fn an_unreadable_object_is_denied_with_the_reason() {
    let value = to_raw_value(&json!({"apiVersion": "medusa.k8ssandra.io/v1alpha1", "kind": "MedusaBackupJob", "metadata": {"name": "x"}, "spec": {"cassandraDatacenter": 5}})).unwrap();
    let decision = block_on(validate(
        &request(
            ResourceKind::MedusaBackupJob,
            AdmissionOperation::Create,
            "x",
            Some(&text(&value)),
            None,
        ),
        &world(),
        &Policy::default(),
    ));
    assert!(!decision.allowed());
    assert!(decision.denial_message().unwrap().starts_with(
        "MedusaBackupJob k8ssandra/x: cannot read the spec of the object as a MedusaBackupJob"
    ));
}
