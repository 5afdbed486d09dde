//! The derived status of every kind, computed as section 6 of the operator notes describes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use medusa_crds::fixtures::instant;
use medusa_crds::status::*;
use medusa_crds::*;

const NOW: &str = "2024-05-01T12:00:00Z";

fn now() -> chrono::DateTime<chrono::Utc> {
    instant(NOW)
}

fn codes(anomalies: &[Anomaly]) -> Vec<&'static str> {
    anomalies.iter().map(Anomaly::code).collect()
}

/// One state per write of the operator's backup reconcile, in its order (the table in
/// `status.rs`), then the anomalies.
mod backup_job {
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
}

mod backup {
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
}

mod restore {
    use super::*;

    #[test]
    fn after_the_owner_reference_update_alone_it_is_still_pending() {
        let mut job = MedusaRestoreJob::test("r").created("2024-05-01T11:59:40Z");
        job.metadata.owner_references = Some(vec![Default::default()]);
        let status = restore_status(&job, None, now(), Graces::default());
        assert_eq!(status.phase, Phase::Pending);
        assert_eq!(status.progress, None);
    }

    #[test]
    fn failed_checks_written_with_one_status_update_fail_at_once() {
        let job = MedusaRestoreJob::test("r")
            .started("2024-05-01T11:59:50Z")
            .finished_at("2024-05-01T11:59:50Z")
            .message("node counts differ for source backup and destination datacenter");
        let status = restore_status(&job, None, now(), Graces::default());
        assert_eq!(status.phase, Phase::Failed);
        assert!(status.phase.is_terminal());
    }

    #[test]
    fn without_start_is_pending() {
        let job = MedusaRestoreJob::test("r").created("2024-05-01T11:59:00Z");
        assert_eq!(
            restore_status(&job, None, now(), Graces::default()).phase,
            Phase::Pending
        );
    }

    #[test]
    fn running_progress_follows_the_operator_markers() {
        let started = MedusaRestoreJob::test("r").started("2024-05-01T10:00:00Z");
        let prepared = started.clone().prepared();
        let stopped = prepared.clone().datacenter_stopped("2024-05-01T10:01:00Z");
        let progress = |job: &MedusaRestoreJob| {
            let status = restore_status(job, None, now(), Graces::default());
            assert_eq!(status.phase, Phase::Running);
            (status.progress.unwrap().to_string(), status.reason.unwrap())
        };
        assert_eq!(
            progress(&started),
            ("0/3 steps".into(), "computing the host mapping".into())
        );
        assert_eq!(
            progress(&prepared),
            ("1/3 steps".into(), "stopping the datacenter".into())
        );
        assert_eq!(progress(&stopped).0, "2/3 steps");
    }

    #[test]
    fn finish_time_without_message_succeeds() {
        let job = MedusaRestoreJob::test("r")
            .started("2024-05-01T10:00:00Z")
            .prepared()
            .datacenter_stopped("2024-05-01T10:01:00Z")
            .finished_at("2024-05-01T10:10:00Z");
        let status = restore_status(&job, None, now(), Graces::default());
        assert_eq!(status.phase, Phase::Succeeded);
        assert_eq!(status.progress.unwrap().to_string(), "3/3 steps");
    }

    #[test]
    fn a_message_fails_with_the_operator_text() {
        let job = MedusaRestoreJob::test("r")
            .started("2024-05-01T10:00:00Z")
            .finished_at("2024-05-01T10:00:05Z")
            .message("target backup has not finished");
        let status = restore_status(&job, None, now(), Graces::default());
        assert_eq!(status.phase, Phase::Failed);
        assert_eq!(status.reason.unwrap(), "target backup has not finished");
    }

    #[test]
    fn an_empty_message_is_not_a_failure() {
        let job = MedusaRestoreJob::test("r")
            .started("2024-05-01T10:00:00Z")
            .finished_at("2024-05-01T10:10:00Z")
            .message("");
        assert_eq!(
            restore_status(&job, None, now(), Graces::default()).phase,
            Phase::Succeeded
        );
    }

    #[test]
    fn a_rewritten_finish_time_is_reported() {
        let job = MedusaRestoreJob::test("r")
            .started("2024-05-01T10:00:00Z")
            .finished_at("2024-05-01T11:30:00Z");
        let status = restore_status(
            &job,
            Some(instant("2024-05-01T10:10:00Z")),
            now(),
            Graces::default(),
        );
        assert_eq!(status.phase, Phase::Succeeded);
        assert_eq!(codes(&status.anomalies), ["RestoreFinishTimeRewritten"]);
    }

    #[test]
    fn an_unchanged_finish_time_is_not_reported() {
        let job = MedusaRestoreJob::test("r")
            .started("2024-05-01T10:00:00Z")
            .finished_at("2024-05-01T10:10:00Z");
        let status = restore_status(
            &job,
            Some(instant("2024-05-01T10:10:00Z")),
            now(),
            Graces::default(),
        );
        assert!(status.anomalies.is_empty());
    }

    #[test]
    fn a_1970_finish_time_is_not_a_finish() {
        let job = MedusaRestoreJob::test("r")
            .started("2024-05-01T10:00:00Z")
            .finished_at("1970-01-01T00:00:00Z");
        assert_eq!(
            restore_status(&job, None, now(), Graces::default()).phase,
            Phase::Running
        );
    }
}

mod task {
    use super::*;

    #[test]
    fn a_purge_whose_last_pod_is_done_is_creating_its_sync_and_recording_the_finish() {
        let task = MedusaTask::test("p", Operation::Purge)
            .started("2024-05-01T10:00:00Z")
            .purged("sts-0", 1, 10, 100, 0)
            .purged("sts-1", 1, 10, 100, 0);
        let status = task_status(&task, now(), Graces::default());
        assert_eq!(status.phase, Phase::Running);
        assert_eq!(
            status.reason.as_deref(),
            Some("every pod done; creating p-sync and recording the finish time")
        );
        assert_eq!(status.progress.unwrap().to_string(), "2/2 pods");
    }

    #[test]
    fn a_prepare_restore_whose_last_pod_is_done_is_recording_the_finish() {
        let task = MedusaTask::test("pr", Operation::PrepareRestore)
            .prepare("nightly", "key")
            .started("2024-05-01T10:00:00Z")
            .finished_pod("sts-0");
        let status = task_status(&task, now(), Graces::default());
        assert_eq!(status.phase, Phase::Running);
        assert_eq!(
            status.reason.as_deref(),
            Some("every pod done; recording the finish time")
        );
    }

    #[test]
    fn a_task_after_its_owner_reference_update_is_pending() {
        let task = MedusaTask::test("s", Operation::Sync).created("2024-05-01T11:59:50Z");
        let status = task_status(&task, now(), Graces::default());
        assert_eq!(status.phase, Phase::Pending);
        assert!(status.anomalies.is_empty());
    }

    #[test]
    fn sync_finished_with_a_pod_succeeds() {
        let task = MedusaTask::test("s", Operation::Sync)
            .started("2024-05-01T10:00:00Z")
            .finished_at("2024-05-01T10:00:01Z")
            .finished_pod("demo-dc1-default-sts-0");
        assert_eq!(
            task_status(&task, now(), Graces::default()).phase,
            Phase::Succeeded
        );
    }

    #[test]
    fn sync_finished_with_empty_finished_list_fails() {
        let task = MedusaTask::test("s", Operation::Sync)
            .started("2024-05-01T10:00:00Z")
            .finished_at("2024-05-01T10:00:31Z");
        let status = task_status(&task, now(), Graces::default());
        assert_eq!(status.phase, Phase::Failed);
        assert!(
            status
                .reason
                .unwrap()
                .starts_with("the sync reached no pod")
        );
    }

    #[test]
    fn sync_started_is_running_without_pod_progress() {
        let task = MedusaTask::test("s", Operation::Sync).started("2024-05-01T10:00:00Z");
        let status = task_status(&task, now(), Graces::default());
        assert_eq!(status.phase, Phase::Running);
        assert_eq!(status.progress, None);
    }

    #[test]
    fn purge_running_counts_pods() {
        let task = MedusaTask::test("p", Operation::Purge)
            .started("2024-05-01T10:00:00Z")
            .in_progress(&["sts-1", "sts-2"])
            .purged("sts-0", 1, 10, 100, 0);
        let status = task_status(&task, now(), Graces::default());
        assert_eq!(status.phase, Phase::Running);
        assert_eq!(status.progress.unwrap().to_string(), "1/3 pods");
    }

    #[test]
    fn purge_finished_with_failed_pods_fails() {
        let task = MedusaTask::test("p", Operation::Purge)
            .started("2024-05-01T10:00:00Z")
            .finished_at("2024-05-01T10:01:00Z")
            .purged("sts-0", 1, 10, 100, 0)
            .failed_pods(&["sts-1"]);
        let status = task_status(&task, now(), Graces::default());
        assert_eq!(status.phase, Phase::Failed);
        assert_eq!(status.pods, ["sts-1"]);
    }

    #[test]
    fn purge_finished_without_failures_succeeds() {
        let task = MedusaTask::test("p", Operation::Purge)
            .started("2024-05-01T10:00:00Z")
            .finished_at("2024-05-01T10:01:00Z")
            .purged("sts-0", 3, 814, 10_770_961, 542)
            .purged("sts-1", 3, 852, 10_787_447, 520);
        let status = task_status(&task, now(), Graces::default());
        assert_eq!(status.phase, Phase::Succeeded);
        let totals = task.status.unwrap().purge_totals();
        assert_eq!(totals.objects_purged, 1666);
        assert_eq!(totals.purged_bytes, 21_558_408);
    }

    #[test]
    fn purge_on_no_pods_succeeds_with_anomaly() {
        let task = MedusaTask::test("p", Operation::Purge)
            .started("2024-05-01T10:00:00Z")
            .finished_at("2024-05-01T10:00:00Z");
        let status = task_status(&task, now(), Graces::default());
        assert_eq!(status.phase, Phase::Succeeded);
        assert_eq!(codes(&status.anomalies), ["TaskRanOnNoPods"]);
    }

    #[test]
    fn prepare_restore_failure_names_the_pods() {
        let task = MedusaTask::test("pr", Operation::PrepareRestore)
            .prepare("nightly", "key")
            .started("2024-05-01T10:00:00Z")
            .finished_at("2024-05-01T10:01:00Z")
            .failed_pods(&["sts-0"]);
        let status = task_status(&task, now(), Graces::default());
        assert_eq!(status.phase, Phase::Failed);
        assert!(
            status
                .reason
                .unwrap()
                .contains("prepare_restore failed on 1 pod(s)")
        );
    }

    #[test]
    fn unknown_operation_is_unknown() {
        let task = MedusaTask::test("v", Operation::from_wire("verify"));
        assert_eq!(
            task_status(&task, now(), Graces::default()).phase,
            Phase::Unknown
        );
    }
}

mod schedule {
    use super::*;

    #[test]
    fn next_run_follows_the_last_execution() {
        let schedule = MedusaBackupSchedule::test("nightly")
            .executed(Some("2024-05-01T01:30:00Z"), Some("2024-05-02T01:30:00Z"));
        let state = schedule_state(&schedule, now());
        assert_eq!(
            state.next_run.unwrap().to_rfc3339(),
            "2024-05-02T01:30:00+00:00"
        );
        assert!(state.anomalies.is_empty());
    }

    #[test]
    fn a_never_run_schedule_counts_from_its_creation() {
        let schedule = MedusaBackupSchedule::test("hourly")
            .cron("0 * * * *")
            .created("2024-05-01T11:40:00Z");
        let state = schedule_state(&schedule, now());
        assert_eq!(
            state.next_run.unwrap().to_rfc3339(),
            "2024-05-01T13:00:00+00:00"
        );
    }

    #[test]
    fn an_overdue_next_schedule_is_reported() {
        let schedule = MedusaBackupSchedule::test("nightly")
            .executed(Some("2024-04-29T01:30:00Z"), Some("2024-04-30T01:30:00Z"));
        let state = schedule_state(&schedule, now());
        assert_eq!(codes(&state.anomalies), ["ScheduleOverdue"]);
    }

    #[test]
    fn an_unsupported_policy_is_reported() {
        let schedule = MedusaBackupSchedule::test("nightly").policy("Replace");
        assert_eq!(
            codes(&schedule_state(&schedule, now()).anomalies),
            ["UnsupportedConcurrencyPolicy"]
        );
    }

    #[test]
    fn allow_and_forbid_are_supported_policies() {
        for policy in ["Allow", "Forbid"] {
            let schedule = MedusaBackupSchedule::test("nightly").policy(policy);
            assert!(schedule_state(&schedule, now()).anomalies.is_empty());
        }
    }

    #[test]
    fn an_invalid_cron_is_reported_with_the_parser_text() {
        let schedule = MedusaBackupSchedule::test("nightly").cron("* * *");
        let state = schedule_state(&schedule, now());
        assert_eq!(state.next_run, None);
        assert_eq!(
            state.anomalies[0].to_string(),
            "the cron expression does not parse (expected exactly 5 fields, found 3: [* * *]): the operator makes no progress on this schedule"
        );
    }

    #[test]
    fn a_disabled_schedule_is_paused() {
        let schedule = MedusaBackupSchedule::test("nightly").disabled();
        assert!(schedule_state(&schedule, now()).paused);
    }
}

mod configuration {
    use super::*;

    #[test]
    fn ready_with_secret_available_has_no_anomaly() {
        let configuration = MedusaConfiguration::test("s3")
            .condition("SecretAvailable", "True", "SecretAvailable")
            .condition("Ready", "True", "Ready");
        let state = configuration_state(&configuration);
        assert_eq!(
            (state.ready, state.secret_available),
            (Some(true), Some(true))
        );
        assert!(state.anomalies.is_empty());
    }

    #[test]
    fn missing_secret_carries_the_get_error() {
        let configuration = MedusaConfiguration::test("s3").condition(
            "SecretAvailable",
            "False",
            "secrets \"medusa-bucket-key\" not found",
        );
        let state = configuration_state(&configuration);
        assert_eq!(state.ready, None);
        assert_eq!(
            state.secret_message.unwrap(),
            "secrets \"medusa-bucket-key\" not found"
        );
    }

    #[test]
    fn ready_true_with_secret_unavailable_is_an_anomaly() {
        let configuration = MedusaConfiguration::test("s3")
            .condition("SecretAvailable", "False", "secrets \"k\" not found")
            .condition("Ready", "True", "Ready");
        assert_eq!(
            codes(&configuration_state(&configuration).anomalies),
            ["ReadyButSecretUnavailable"]
        );
    }
}
