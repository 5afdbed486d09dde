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
