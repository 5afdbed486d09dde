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
