use super::*;

fn create_json(kind: ResourceKind, name: &str, object: Value) -> Decision {
    let value = to_raw_value(&object).unwrap();
    block_on(validate(
        &request(
            kind,
            AdmissionOperation::Create,
            name,
            Some(&text(&value)),
            None,
        ),
        &world(),
        &Policy::default(),
    ))
}

#[test]
fn an_object_not_yet_named_is_named_by_its_generate_name() {
    let decision = create_json(
        ResourceKind::MedusaBackupJob,
        "",
        json!({"metadata": {"generateName": "nightly-"}, "spec": {"cassandraDatacenter": "dc9"}}),
    );
    assert!(
        denies(&decision, RuleId::J1).starts_with("MedusaBackupJob k8ssandra/nightly-*: "),
        "{decision:#?}"
    );
}

#[test]
fn an_object_without_any_name_is_unnamed() {
    let decision = create_json(
        ResourceKind::MedusaBackupJob,
        "",
        json!({"spec": {"cassandraDatacenter": "dc9"}}),
    );
    assert!(
        denies(&decision, RuleId::J1).starts_with("MedusaBackupJob k8ssandra/(unnamed): "),
        "{decision:#?}"
    );
}

#[test]
fn the_rules_read_only_the_fields_they_check() {
    // As the API server sends it: managedFields, a status, fields this model does not know,
    // and escaped strings (`d\u00631` is `dc1`).
    let json = r#"{
        "apiVersion": "medusa.k8ssandra.io/v1alpha1",
        "kind": "MedusaTask",
        "metadata": {
            "name": "prepare-1",
            "managedFields": [{"manager": "kubectl", "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:cassandraDatacenter": {}}}}],
            "annotations": {"note": "a \"quoted\" \\ value"}
        },
        "spec": {"operation": "prepare_restore", "cassandraDatacenter": "d\u00631", "backupName": "backup1", "restoreKey": "k", "futureField": [1, 2]},
        "status": {"whatever": true}
    }"#;
    let value = RawValue::from_string(json.to_owned()).unwrap();
    let view = world().replace(vec![Arc::new(MedusaBackup::test("backup1"))]);
    let decision = block_on(validate(
        &request(
            ResourceKind::MedusaTask,
            AdmissionOperation::Create,
            "prepare-1",
            Some(&text(&value)),
            None,
        ),
        &view,
        &Policy::default(),
    ));
    assert!(decision.findings.is_empty(), "{decision:#?}");
}

#[test]
fn a_spec_field_of_the_wrong_type_is_unreadable() {
    let decision = create_json(
        ResourceKind::MedusaRestoreJob,
        "r",
        json!({"spec": {"cassandraDatacenter": "dc1", "backup": ["backup1"]}}),
    );
    assert!(
        decision
            .denial_message()
            .unwrap()
            .starts_with("MedusaRestoreJob k8ssandra/r: cannot read the spec of the object as a MedusaRestoreJob: invalid type: sequence"),
        "{decision:#?}"
    );
}

#[test]
fn an_object_without_spec_is_denied_naming_what_is_missing() {
    let decision = create_json(
        ResourceKind::MedusaBackupJob,
        "b",
        json!({"metadata": {"name": "b"}}),
    );
    assert_eq!(
        decision.denial_message().unwrap(),
        "MedusaBackupJob k8ssandra/b: the object has no spec; fix the manifest"
    );
}

#[test]
fn an_object_that_cannot_be_read_at_all_is_denied_with_the_reason() {
    let input = request(
        ResourceKind::MedusaTask,
        AdmissionOperation::Create,
        "t",
        None,
        None,
    );
    let decision = unreadable(
        &input,
        "invalid type: sequence, expected a Kubernetes object",
    );
    assert_eq!(
        decision.denial_message().unwrap(),
        "MedusaTask k8ssandra/t: cannot read the object: invalid type: sequence, expected a Kubernetes object; fix the manifest"
    );
}
