//! One state per write of the operator's backup reconcile, in its order (the table in
//! `status.rs`), then the anomalies.

use super::*;

const PODS: [&str; 3] = ["sts-0", "sts-1", "sts-2"];

fn derive(job: &MedusaBackupJob, backup: Option<&MedusaBackup>) -> DerivedStatus {
    backup_job_status(job, backup, now(), Graces::default())
}

fn created() -> MedusaBackupJob {
    MedusaBackupJob::test("nightly").created("2024-05-01T11:59:30Z")
}

/// Finished on every pod, `finish` long before now unless given.
fn finished_job() -> MedusaBackupJob {
    MedusaBackupJob::test("nightly")
        .started("2024-05-01T10:00:00Z")
        .finished_at("2024-05-01T10:05:00Z")
        .finished_pods(&PODS)
}

/// Finished on every pod 30 s ago: within the record grace.
fn just_finished_job() -> MedusaBackupJob {
    finished_job().finished_at("2024-05-01T11:59:30Z")
}

fn record_just_created() -> MedusaBackup {
    MedusaBackup::test("nightly")
        .created("2024-05-01T11:59:31Z")
        .without_status()
}

#[test]
fn a_new_job_is_pending() {
    let status = derive(&created(), None);
    assert_eq!(status.phase, Phase::Pending);
    assert_eq!(
        status.reason.as_deref(),
        Some("waiting for the operator to start it")
    );
    assert!(status.anomalies.is_empty());
}

#[test]
fn pending_long_after_creation_reports_not_started() {
    let job = MedusaBackupJob::test("nightly").created("2024-05-01T11:00:00Z");
    let status = derive(&job, None);
    assert_eq!(status.phase, Phase::Pending);
    assert_eq!(codes(&status.anomalies), ["NotStarted"]);
    assert!(
        status.anomalies[0]
            .to_string()
            .contains("3600s after creation")
    );
}

#[test]
fn after_the_start_time_patch_it_is_starting_the_backup_on_the_pods() {
    let job = created().started("2024-05-01T11:59:45Z");
    let status = derive(&job, None);
    assert_eq!(status.phase, Phase::Running);
    assert_eq!(
        status.reason.as_deref(),
        Some("starting the backup on the pods")
    );
    assert_eq!(status.progress, None);
}

#[test]
fn after_the_in_progress_patch_it_is_backing_up_on_every_pod() {
    let job = created().started("2024-05-01T11:59:45Z").in_progress(&PODS);
    let status = derive(&job, None);
    assert_eq!(status.phase, Phase::Running);
    assert_eq!(status.reason.as_deref(), Some("backing up on 3 pod(s)"));
    assert_eq!(status.progress.unwrap().to_string(), "0/3 pods");
}

#[test]
fn pods_leaving_in_progress_count_as_progress() {
    let job = MedusaBackupJob::test("nightly")
        .started("2024-05-01T10:00:00Z")
        .in_progress(&["sts-1", "sts-2"])
        .finished_pods(&["sts-0"]);
    let status = derive(&job, None);
    assert_eq!(status.phase, Phase::Running);
    assert_eq!(status.progress.unwrap().to_string(), "1/3 pods");
    assert_eq!(status.pods, ["sts-1", "sts-2"]);
}

#[test]
fn when_the_last_pod_is_done_it_is_recording_the_finish_time() {
    let job = MedusaBackupJob::test("nightly")
        .started("2024-05-01T10:00:00Z")
        .finished_pods(&PODS);
    let status = derive(&job, None);
    assert_eq!(status.phase, Phase::Running);
    assert_eq!(
        status.reason.as_deref(),
        Some("every pod done; recording the finish time")
    );
    assert_eq!(status.progress.unwrap().to_string(), "3/3 pods");
}

#[test]
fn finished_with_failed_pods_fails_naming_them() {
    let job = MedusaBackupJob::test("nightly")
        .started("2024-05-01T10:00:00Z")
        .finished_at("2024-05-01T10:05:00Z")
        .finished_pods(&["sts-0"])
        .failed_pods(&["sts-1", "sts-2"]);
    let status = derive(&job, None);
    assert_eq!(status.phase, Phase::Failed);
    assert_eq!(status.pods, ["sts-1", "sts-2"]);
    assert_eq!(
        status.reason.unwrap(),
        "the backup failed on 2 of 3 pod(s): sts-1, sts-2"
    );
}

#[test]
fn failed_pods_fail_the_job_even_with_a_backup_record() {
    let job = finished_job().failed_pods(&["sts-3"]);
    let status = derive(&job, Some(&MedusaBackup::test("nightly")));
    assert_eq!(status.phase, Phase::Failed);
}

#[test]
fn after_the_finish_time_patch_and_before_the_record_it_is_recording_the_backup() {
    let status = derive(&just_finished_job(), None);
    assert_eq!(status.phase, Phase::Running);
    assert_eq!(status.reason.as_deref(), Some("recording the backup"));
    assert!(status.anomalies.is_empty());
}

#[test]
fn after_the_record_is_created_and_before_its_status_it_is_recording_the_backup() {
    let status = derive(&just_finished_job(), Some(&record_just_created()));
    assert_eq!(status.phase, Phase::Running);
    assert_eq!(status.reason.as_deref(), Some("recording the backup"));
    assert!(status.anomalies.is_empty());
}

#[test]
fn after_the_records_status_patch_with_success_it_succeeds() {
    let status = derive(&finished_job(), Some(&MedusaBackup::test("nightly")));
    assert_eq!(status.phase, Phase::Succeeded);
    assert_eq!(status.progress.unwrap().to_string(), "3/3 pods");
    assert_eq!(status.duration().unwrap().num_seconds(), 300);
}

#[test]
fn no_record_after_the_grace_fails_as_finished_without_backup_saying_what_to_do() {
    let status = derive(&finished_job(), None);
    assert_eq!(status.phase, Phase::Failed);
    assert_eq!(codes(&status.anomalies), ["FinishedWithoutBackup"]);
    let text = status.anomalies[0].to_string();
    assert!(text.contains("kubectl medusa sync --dc dc1"), "{text}");
}

#[test]
fn a_record_without_status_after_the_grace_fails_saying_what_to_do() {
    let record = MedusaBackup::test("nightly")
        .created("2024-05-01T10:05:01Z")
        .without_status();
    let status = derive(&finished_job(), Some(&record));
    assert_eq!(status.phase, Phase::Failed);
    assert_eq!(codes(&status.anomalies), ["BackupRecordWithoutStatus"]);
    let text = status.anomalies[0].to_string();
    assert!(
        text.contains("kubectl medusa backup delete nightly")
            && text.contains("kubectl medusa sync --dc dc1"),
        "{text}"
    );
}

#[test]
fn the_record_grace_is_the_callers() {
    let short = Graces {
        record: chrono::Duration::seconds(10),
        ..Graces::default()
    };
    let status = backup_job_status(&just_finished_job(), None, now(), short);
    assert_eq!(status.phase, Phase::Failed);
}

#[test]
fn backup_record_in_progress_after_all_nodes_finished_is_unknown_with_the_medusa_issue() {
    let backup = MedusaBackup::test("nightly").status_name("IN_PROGRESS");
    let status = derive(&finished_job(), Some(&backup));
    assert_eq!(status.phase, Phase::Unknown);
    assert!(status.phase.is_terminal());
    assert_eq!(
        codes(&status.anomalies),
        ["BackupInProgressAfterJobFinished"]
    );
    assert!(
        status.anomalies[0]
            .to_string()
            .contains("cassandra-medusa#965")
    );
}

#[test]
fn backup_record_failed_fails_the_job() {
    let backup = MedusaBackup::test("nightly").status_name("FAILED");
    assert_eq!(derive(&finished_job(), Some(&backup)).phase, Phase::Failed);
}

#[test]
fn backup_record_unknown_fails_the_job_as_the_operator_fails_unknown_pods() {
    let backup = MedusaBackup::test("nightly").status_name("UNKNOWN");
    let status = derive(&finished_job(), Some(&backup));
    assert_eq!(status.phase, Phase::Failed);
    assert_eq!(
        status.reason.as_deref(),
        Some("every pod finished but Medusa's summary says UNKNOWN")
    );
}

#[test]
fn zero_finish_time_while_pods_run_is_running_with_anomaly() {
    let job = MedusaBackupJob::test("nightly")
        .started("2024-05-01T10:00:00Z")
        .finished_at("1970-01-01T00:00:00Z")
        .in_progress(&["sts-0"]);
    let status = derive(&job, None);
    assert_eq!(status.phase, Phase::Running);
    assert_eq!(codes(&status.anomalies), ["ZeroFinishTime"]);
    assert!(status.anomalies[0].to_string().contains("1970-01-01"));
}

#[test]
fn finish_time_with_pods_in_progress_is_reported() {
    let job = finished_job().in_progress(&["sts-2"]);
    let status = derive(&job, Some(&MedusaBackup::test("nightly")));
    assert_eq!(codes(&status.anomalies), ["FinishedWithPodsInProgress"]);
}

#[test]
fn incomplete_backup_record_is_reported_on_the_job() {
    let backup = MedusaBackup::test("nightly").nodes(2, 3);
    let status = derive(&finished_job(), Some(&backup));
    assert_eq!(status.phase, Phase::Succeeded);
    assert_eq!(codes(&status.anomalies), ["IncompleteBackup"]);
}
