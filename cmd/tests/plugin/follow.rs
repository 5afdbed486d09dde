//! The follow engine on synthetic watch streams: the outcome of `--wait` and `watch`, as an
//! exit code, whatever the events.

use crate::support;

use std::time::Duration;

use futures::StreamExt;
use kube::runtime::watcher::Event;
use kubectl_medusa::context::Ctx;
use kubectl_medusa::error::{ApiError, ExitCode};
use kubectl_medusa::follow::{BackupEvent, BackupTracker, Subject, TaskTracker, drive};
use medusa_crds::rules::ObjectKey;
use medusa_crds::status::Graces;
use medusa_crds::*;
use support::{NS, now};

type Events<E> = Vec<Result<E, ApiError>>;

fn subject() -> Subject {
    Subject {
        noun: "backup",
        resume: "kubectl medusa backup watch nightly -n k8ssandra".into(),
    }
}

fn keys(names: &[&str]) -> Vec<ObjectKey> {
    names.iter().map(|n| ObjectKey::new(NS, *n)).collect()
}

/// The events, then a watch that stays open and quiet.
fn stream<E: Send + 'static>(
    events: Events<E>,
) -> futures::stream::BoxStream<'static, Result<E, ApiError>> {
    futures::stream::iter(events)
        .chain(futures::stream::pending())
        .boxed()
}

/// A watch that broke, as the client reports it.
fn connection_reset() -> ApiError {
    ApiError::Call(kube::Error::Service("connection reset".into()))
}

fn job(name: &str) -> MedusaBackupJob {
    MedusaBackupJob::test(name)
        .created("2024-05-01T12:00:00Z")
        .started("2024-05-01T12:00:01Z")
}

fn done(name: &str) -> MedusaBackupJob {
    job(name)
        .finished_at("2024-05-01T12:01:00Z")
        .finished_pods(&["demo-dc1-default-sts-0"])
}

fn applied(job: MedusaBackupJob) -> Result<BackupEvent, ApiError> {
    Ok(BackupEvent::Job(Event::Apply(job)))
}

fn recorded(backup: MedusaBackup) -> Result<BackupEvent, ApiError> {
    Ok(BackupEvent::Backup(Event::Apply(backup)))
}

async fn follow_backups(
    names: &[&str],
    events: Events<BackupEvent>,
    timeout: Duration,
) -> (ExitCode, String) {
    let (ctx, _out, err) = Ctx::for_test(None, NS, now(), None);
    let mut tracker = BackupTracker::new(&keys(names), Graces::default());
    let result = drive(
        &ctx,
        &mut tracker,
        stream(events),
        timeout,
        &subject(),
        false,
    )
    .await;
    let code = match &result {
        Ok(_) => ExitCode::Success,
        Err(e) => {
            let _ = ctx.err.line(format!("error: {e}"));
            e.exit_code()
        }
    };
    (code, err.text())
}

fn one_record(name: &str) -> MedusaBackup {
    MedusaBackup::test(name)
        .times("2024-05-01T12:00:01Z", Some("2024-05-01T12:01:00Z"))
        .nodes(1, 1)
}

#[tokio::test(start_paused = true)]
async fn success_needs_the_finished_job_and_its_successful_record() {
    let (code, _) = follow_backups(
        &["nightly"],
        vec![
            applied(job("nightly")),
            applied(done("nightly")),
            recorded(one_record("nightly")),
        ],
        Duration::from_secs(600),
    )
    .await;
    assert_eq!(code, ExitCode::Success);
}

#[tokio::test(start_paused = true)]
async fn the_record_created_then_given_its_status_is_a_success_never_a_verdict_between() {
    let (code, err) = follow_backups(
        &["nightly"],
        vec![
            applied(job("nightly")),
            applied(done("nightly")),
            recorded(one_record("nightly").without_status()),
            recorded(one_record("nightly")),
        ],
        Duration::from_secs(600),
    )
    .await;
    assert_eq!(code, ExitCode::Success, "{err}");
    assert!(!err.contains("warning"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_record_that_never_comes_fails_when_the_grace_ends_without_any_new_event() {
    let started = tokio::time::Instant::now();
    let (code, err) = follow_backups(
        &["nightly"],
        vec![applied(done("nightly"))],
        Duration::from_secs(3600),
    )
    .await;
    assert_eq!(code, ExitCode::Failed, "{err}");
    // finishTime is 12:01:00, the command starts at 12:00:00, the grace is 5 minutes: the
    // next one-second tick after 12:06:00 ends the wait.
    let waited = started.elapsed().as_secs();
    assert!(
        (6 * 60..=6 * 60 + 1).contains(&waited),
        "waited {waited}s\n{err}"
    );
    assert!(
        err.contains("nightly  Running  1/1 pods  recording the backup"),
        "{err}"
    );
    assert!(
        err.contains("warning: nightly: the job finished at 2024-05-01T12:01:00+00:00"),
        "{err}"
    );
    assert!(
        err.lines().last().unwrap().ends_with(
            "error: backup nightly: every pod finished but the operator wrote no MedusaBackup record"
        ),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_pod_fails_the_wait_with_exit_1() {
    let (code, err) = follow_backups(
        &["nightly"],
        vec![applied(
            done("nightly").failed_pods(&["demo-dc1-default-sts-1"]),
        )],
        Duration::from_secs(600),
    )
    .await;
    assert_eq!(code, ExitCode::Failed);
    assert!(err.contains("demo-dc1-default-sts-1"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_job_stuck_running_times_out_with_exit_2_and_says_the_backup_goes_on() {
    let (code, err) = follow_backups(
        &["nightly"],
        vec![applied(
            job("nightly").in_progress(&["demo-dc1-default-sts-0"]),
        )],
        Duration::from_secs(120),
    )
    .await;
    assert_eq!(code, ExitCode::TimedOut);
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with("error: timed out after 2m: nightly  Running"),
        "{last}"
    );
    assert!(last.contains("the backup goes on in the cluster"), "{last}");
}

#[tokio::test(start_paused = true)]
async fn an_anomaly_is_explained_once_and_an_unconfirmed_result_is_not_a_success() {
    // Medusa says IN_PROGRESS although the job finished on every node.
    let (code, err) = follow_backups(
        &["nightly"],
        vec![
            applied(done("nightly")),
            recorded(one_record("nightly").status_name("IN_PROGRESS")),
        ],
        Duration::from_secs(600),
    )
    .await;
    assert_eq!(code, ExitCode::Failed, "{err}");
    assert!(
        err.lines()
            .last()
            .unwrap()
            .starts_with("error: backup nightly: "),
        "{err}"
    );
    let warnings = err
        .lines()
        .filter(|l| l.starts_with("warning: nightly:"))
        .count();
    assert_eq!(warnings, 1, "{err}");
}

#[tokio::test(start_paused = true)]
async fn the_worst_outcome_of_several_jobs_decides() {
    let (code, err) = follow_backups(
        &["weekly-dc1", "weekly-dc2"],
        vec![
            applied(done("weekly-dc1")),
            recorded(one_record("weekly-dc1")),
            applied(done("weekly-dc2").failed_pods(&["demo-dc2-default-sts-0"])),
        ],
        Duration::from_secs(600),
    )
    .await;
    assert_eq!(code, ExitCode::Failed);
    assert!(err.contains("backup weekly-dc2"), "{err}");
    assert!(!err.contains("backup weekly-dc1:"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn events_of_other_objects_are_ignored() {
    let (code, _) = follow_backups(
        &["nightly"],
        vec![applied(done("other").failed_pods(&["x"]))],
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(code, ExitCode::TimedOut);
}

#[tokio::test(start_paused = true)]
async fn a_forbidden_watch_exits_5() {
    let (code, err) = follow_backups(
        &["nightly"],
        vec![Err(ApiError::Call(kube::Error::Api(Box::new(
            kube::core::Status::failure("medusabackupjobs is forbidden", "Forbidden")
                .with_code(403),
        ))))],
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(code, ExitCode::Forbidden);
    assert!(err.contains("you need watch on the backup"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_transient_watch_error_is_reported_and_retried() {
    let (code, err) = follow_backups(
        &["nightly"],
        vec![
            Err(connection_reset()),
            Err(connection_reset()),
            applied(done("nightly")),
            recorded(one_record("nightly")),
        ],
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(code, ExitCode::Success, "{err}");
    assert_eq!(
        err.matches("watch interrupted (connection reset)").count(),
        1,
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_watch_that_ends_is_a_failure_that_says_how_to_resume() {
    let (ctx, _out, _err) = Ctx::for_test(None, NS, now(), None);
    let mut tracker = BackupTracker::new(&keys(&["nightly"]), Graces::default());
    let ended = futures::stream::iter(vec![applied(job("nightly"))]);
    let error = drive(
        &ctx,
        &mut tracker,
        ended,
        Duration::from_secs(60),
        &subject(),
        false,
    )
    .await
    .unwrap_err();
    assert_eq!(error.exit_code(), ExitCode::Failed);
    assert!(
        error
            .to_string()
            .contains("follow it with kubectl medusa backup watch nightly")
    );
}

#[tokio::test(start_paused = true)]
async fn a_deleted_job_goes_back_to_pending() {
    let (code, err) = follow_backups(
        &["nightly"],
        vec![
            applied(job("nightly")),
            Ok(BackupEvent::Job(Event::Delete(job("nightly")))),
        ],
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(code, ExitCode::TimedOut);
    assert!(err.contains("nightly  Pending  (not seen yet)"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_purge_that_ran_on_no_pod_is_flagged() {
    let (ctx, _out, err) = Ctx::for_test(None, NS, now(), None);
    let mut tracker = TaskTracker::new(&keys(&["purge-1"]));
    let task = MedusaTask::test("purge-1", Operation::Purge)
        .created("2024-05-01T12:00:00Z")
        .started("2024-05-01T12:00:01Z")
        .finished_at("2024-05-01T12:00:02Z");
    let result = drive(
        &ctx,
        &mut tracker,
        stream(vec![Ok(Event::Apply(task))]),
        Duration::from_secs(60),
        &Subject {
            noun: "purge",
            resume: String::new(),
        },
        false,
    )
    .await;
    assert!(result.is_ok());
    assert!(
        err.text()
            .contains("warning: purge-1: the task finished without running on any pod"),
        "{}",
        err.text()
    );
}

#[tokio::test(start_paused = true)]
async fn quiet_mode_prints_no_progress() {
    let (ctx, _out, err) = Ctx::for_test(None, NS, now(), None);
    let mut tracker = BackupTracker::new(&keys(&["nightly"]), Graces::default());
    let result = drive(
        &ctx,
        &mut tracker,
        stream(vec![
            applied(done("nightly")),
            recorded(one_record("nightly")),
        ]),
        Duration::from_secs(60),
        &subject(),
        true,
    )
    .await;
    assert!(result.is_ok());
    assert_eq!(err.text(), "");
}
