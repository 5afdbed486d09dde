use super::*;

#[test]
fn a_job_on_an_existing_datacenter_passes() {
    let decision = create(&MedusaBackupJob::test("nightly"), &world());
    assert!(decision.findings.is_empty(), "{decision:#?}");
}

#[test]
fn a_missing_datacenter_is_denied_listing_the_existing_ones() {
    let message = denies(
        &create(&MedusaBackupJob::test("nightly").dc("dc9"), &world()),
        RuleId::J1,
    );
    assert!(message.contains("CassandraDatacenter \"dc9\" not found in namespace k8ssandra (datacenters in namespace k8ssandra: dc1)"), "{message}");
}

#[test]
fn a_name_taken_by_a_backup_record_is_denied() {
    let view = world().replace(vec![Arc::new(MedusaBackup::test("nightly"))]);
    assert!(
        denies(
            &create(&MedusaBackupJob::test("nightly"), &view),
            RuleId::J1
        )
        .contains("MedusaBackup \"nightly\" already exists")
    );
}

#[test]
fn a_datacenter_without_medusa_warns() {
    let view = world().replace(vec![Arc::new(
        CassandraDatacenter::test("dc1").without_medusa(),
    )]);
    let decision = create(&MedusaBackupJob::test("nightly"), &view);
    assert!(warns(&decision, RuleId::J1).contains("no medusa container"));
    assert!(decision.allowed());
}

#[test]
fn another_unfinished_job_of_the_datacenter_warns() {
    let view = world().replace(vec![
        Arc::new(MedusaBackupJob::test("earlier").started("2024-05-01T10:00:00Z")),
        Arc::new(MedusaBackupJob::test("done").finished_at("2024-05-01T10:05:00Z")),
    ]);
    assert!(
        warns(
            &create(&MedusaBackupJob::test("nightly"), &view),
            RuleId::J1
        )
        .contains("has not finished (earlier)")
    );
}

#[test]
fn without_the_datacenter_crd_the_check_warns() {
    let view =
        world().unavailable::<CassandraDatacenter>("the CassandraDatacenter CRD is not installed");
    let decision = create(&MedusaBackupJob::test("nightly"), &view);
    assert!(warns(&decision, RuleId::J1).contains("the CassandraDatacenter CRD is not installed"));
    assert!(decision.allowed());
}

#[test]
fn editing_the_spec_is_denied() {
    let job = MedusaBackupJob::test("nightly");
    let message = denies(&update(&job, &job.clone().full(), &world()), RuleId::J2);
    assert!(message.contains("spec cannot change after creation"));
}

#[test]
fn editing_labels_or_status_is_accepted() {
    let job = MedusaBackupJob::test("nightly");
    let edited = job
        .clone()
        .label("keep", "yes")
        .started("2024-05-01T10:00:00Z");
    assert!(update(&job, &edited, &world()).allowed());
}

#[test]
fn jm_adds_the_datacenter_labels() {
    let (result, patched) = mutation(
        &MedusaBackupJob::test("nightly"),
        &world(),
        &Policy::default(),
    );
    assert_eq!(result.fired, [RuleId::JM]);
    assert_eq!(
        patched.pointer("/metadata/labels"),
        Some(&json!({CLUSTER_LABEL: "demo", DATACENTER_LABEL: "dc1"}))
    );
}

#[test]
fn jm_adds_missing_labels_one_by_one() {
    let job = MedusaBackupJob::test("nightly")
        .label("team", "data")
        .label(CLUSTER_LABEL, "demo");
    let (result, patched) = mutation(&job, &world(), &Policy::default());
    assert_eq!(result.patch.len(), 1);
    assert_eq!(
        patched.pointer("/metadata/labels"),
        Some(&json!({"team": "data", CLUSTER_LABEL: "demo", DATACENTER_LABEL: "dc1"}))
    );
}

fn schedule_label(patched: &Value) -> Option<&Value> {
    patched.pointer(&format!(
        "/metadata/labels/{}",
        SCHEDULE_LABEL.replace('/', "~1")
    ))
}

#[test]
fn jm_labels_no_job_named_like_a_run_from_before_the_schedule_existed() {
    // The schedule was created at 2024-05-01T09:59:00Z; 1714528800 is 02:00 that day.
    let view = world().replace(vec![Arc::new(MedusaBackupSchedule::test("nightly"))]);
    let (_, patched) = mutation(
        &MedusaBackupJob::test("nightly-1714528800"),
        &view,
        &Policy::default(),
    );
    assert_eq!(schedule_label(&patched), None);
}

#[test]
fn jm_adds_the_schedule_label_for_an_existing_schedule() {
    let view = world().replace(vec![Arc::new(MedusaBackupSchedule::test("nightly"))]);
    // 2024-05-01T12:00:00Z, after the schedule's creation.
    let (_, patched) = mutation(
        &MedusaBackupJob::test("nightly-1714564800"),
        &view,
        &Policy::default(),
    );
    assert_eq!(
        patched.pointer(&format!(
            "/metadata/labels/{}",
            SCHEDULE_LABEL.replace('/', "~1")
        )),
        Some(&json!("nightly"))
    );
}

#[test]
fn jm_adds_no_schedule_label_without_the_schedule() {
    let (_, patched) = mutation(
        &MedusaBackupJob::test("nightly-1714528800"),
        &world(),
        &Policy::default(),
    );
    assert!(
        patched
            .pointer(&format!(
                "/metadata/labels/{}",
                SCHEDULE_LABEL.replace('/', "~1")
            ))
            .is_none()
    );
}

#[test]
fn jm_does_nothing_without_the_datacenter() {
    let (result, _) = mutation(
        &MedusaBackupJob::test("nightly").dc("dc9"),
        &world(),
        &Policy::default(),
    );
    assert!(result.patch.is_empty());
}
