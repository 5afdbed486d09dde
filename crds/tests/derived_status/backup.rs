use super::*;

fn derive(backup: &MedusaBackup) -> DerivedStatus {
    backup_status(backup, now(), Graces::default())
}

#[test]
fn success_is_succeeded_with_node_progress() {
    let status = derive(&MedusaBackup::test("nightly"));
    assert_eq!(status.phase, Phase::Succeeded);
    assert_eq!(status.progress.unwrap().to_string(), "3/3 nodes");
}

#[test]
fn in_progress_without_finish_time_is_running() {
    let backup = MedusaBackup::test("nightly")
        .status_name("IN_PROGRESS")
        .nodes(1, 3)
        .times("2024-05-01T10:00:00Z", None);
    let status = derive(&backup);
    assert_eq!(status.phase, Phase::Running);
    assert!(status.anomalies.is_empty());
}

#[test]
fn in_progress_with_finish_time_is_unknown_for_good() {
    let backup = MedusaBackup::test("nightly").status_name("IN_PROGRESS");
    let status = derive(&backup);
    assert_eq!(status.phase, Phase::Unknown);
    assert_eq!(codes(&status.anomalies), ["BackupInProgressWithFinishTime"]);
}

#[test]
fn failed_is_failed() {
    let backup = MedusaBackup::test("nightly").status_name("FAILED");
    assert_eq!(derive(&backup).phase, Phase::Failed);
}

#[test]
fn medusas_unknown_status_is_a_failure() {
    let backup = MedusaBackup::test("nightly").status_name("UNKNOWN");
    assert_eq!(derive(&backup).phase, Phase::Failed);
}

#[test]
fn a_status_this_version_does_not_know_is_unknown() {
    let backup = MedusaBackup::test("nightly").status_name("VERIFYING");
    assert_eq!(derive(&backup).phase, Phase::Unknown);
}

#[test]
fn a_record_just_created_without_status_is_being_recorded() {
    let backup = MedusaBackup::test("nightly")
        .created("2024-05-01T11:59:50Z")
        .without_status();
    let status = derive(&backup);
    assert_eq!(status.phase, Phase::Running);
    assert_eq!(status.reason.as_deref(), Some("recording the backup"));
}

#[test]
fn a_record_without_status_after_the_grace_failed_to_record() {
    let backup = MedusaBackup::test("nightly")
        .created("2024-05-01T10:00:00Z")
        .without_status();
    let status = derive(&backup);
    assert_eq!(status.phase, Phase::Failed);
    assert_eq!(codes(&status.anomalies), ["BackupRecordWithoutStatus"]);
}

#[test]
fn finish_before_start_is_an_anomaly() {
    let backup =
        MedusaBackup::test("b").times("2024-05-01T10:00:00Z", Some("2024-05-01T09:00:00Z"));
    assert_eq!(codes(&derive(&backup).anomalies), ["FinishBeforeStart"]);
}
