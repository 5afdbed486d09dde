use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::catalog::backup_rows;
use crate::fixtures::instant;
use crate::status::Phase;
use crate::{
    CassandraDatacenter, MedusaBackup, MedusaBackupJob, MedusaBackupSchedule, MedusaRestoreJob,
    MedusaTask, Operation,
};

fn now() -> DateTime<Utc> {
    instant("2024-05-10T12:00:00Z")
}

/// A backup job of dc1 that ran `minutes` minutes from `start`, with its record.
fn finished_backup(name: &str, start: &str, minutes: i64) -> (MedusaBackupJob, MedusaBackup) {
    let started = instant(start);
    let finished = (started + Duration::minutes(minutes)).to_rfc3339();
    (
        MedusaBackupJob::test(name)
            .started(start)
            .finished_at(&finished)
            .finished_pods(&["p0", "p1", "p2"]),
        MedusaBackup::test(name).times(start, Some(&finished)),
    )
}

fn running_backup(name: &str, start: &str) -> MedusaBackupJob {
    MedusaBackupJob::test(name)
        .started(start)
        .in_progress(&["p0"])
}

fn records(jobs: Vec<MedusaBackupJob>, backups: Vec<MedusaBackup>) -> Vec<OperationRecord> {
    let rows = backup_rows(jobs, backups, now());
    operations(&rows, &[], &[], now())
}

fn history(durations_minutes: &[i64]) -> (Vec<MedusaBackupJob>, Vec<MedusaBackup>) {
    durations_minutes
        .iter()
        .enumerate()
        .map(|(day, minutes)| {
            finished_backup(
                &format!("nightly-{day}"),
                &format!("2024-05-0{}T01:00:00Z", day + 1),
                *minutes,
            )
        })
        .unzip()
}

// === operations ===

#[test]
fn operations_list_jobs_restores_and_tasks_with_their_kind() {
    let rows = backup_rows(
        vec![running_backup("b", "2024-05-10T11:00:00Z")],
        vec![MedusaBackup::test("imported").synced()],
        now(),
    );
    let restores = [MedusaRestoreJob::test("r")];
    let tasks = [
        MedusaTask::test("s", Operation::Sync),
        MedusaTask::test("p", Operation::Purge),
        MedusaTask::test("pr", Operation::PrepareRestore),
    ];
    let kinds: Vec<(String, OperationKind)> = operations(&rows, &restores, &tasks, now())
        .into_iter()
        .map(|r| (r.key.name, r.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("b".to_owned(), OperationKind::Backup),
            ("r".to_owned(), OperationKind::Restore),
            ("s".to_owned(), OperationKind::Sync),
            ("p".to_owned(), OperationKind::Purge),
            ("pr".to_owned(), OperationKind::PrepareRestore),
        ],
        "a record imported by a sync is a backup, not an operation"
    );
}

// === stall ===

#[test]
fn a_running_backup_past_three_times_the_median_is_stalled() {
    let (mut jobs, backups) = history(&[10, 20, 30]);
    jobs.push(running_backup("slow", "2024-05-10T10:59:00Z"));
    let records = records(jobs, backups);
    let stalls = Stalls::new(&records, StallPolicy::default());
    let slow = records.iter().find(|r| r.key.name == "slow").unwrap();
    let stall = stalls
        .check(slow, now())
        .expect("61 minutes > 3 × 20 minutes");
    assert_eq!(stall.limit, Duration::minutes(60));
    assert_eq!(
        stall.explain(OperationKind::Backup, "dc1"),
        "running for 1h1m, over 3 times the median 20m of the last 3 successful backups of datacenter dc1"
    );
}

#[test]
fn a_running_backup_within_three_times_the_median_is_not_stalled() {
    let (mut jobs, backups) = history(&[10, 20, 30]);
    jobs.push(running_backup("fine", "2024-05-10T11:01:00Z"));
    let records = records(jobs, backups);
    let stalls = Stalls::new(&records, StallPolicy::default());
    let fine = records.iter().find(|r| r.key.name == "fine").unwrap();
    assert_eq!(stalls.check(fine, now()), None);
}

#[test]
fn the_median_of_an_even_history_is_the_mean_of_the_middle_two() {
    let (jobs, backups) = history(&[10, 20, 40, 50]);
    let stalls = Stalls::new(&records(jobs, backups), StallPolicy::default());
    let (limit, basis) = stalls.limit("k8ssandra", "dc1", OperationKind::Backup);
    assert_eq!(limit, Duration::minutes(90));
    assert!(matches!(basis, StallBasis::Median { samples: 4, .. }));
}

#[test]
fn only_the_newest_successes_make_the_history() {
    // Nine days: the oldest (1000 minutes) falls out of a history of 8.
    let (jobs, backups) = history(&[1000, 10, 10, 10, 10, 10, 10, 10, 10]);
    let policy = StallPolicy {
        history: 8,
        ..StallPolicy::default()
    };
    let stalls = Stalls::new(&records(jobs, backups), policy);
    let (limit, _) = stalls.limit("k8ssandra", "dc1", OperationKind::Backup);
    assert_eq!(limit, Duration::minutes(30));
}

#[test]
fn without_history_the_limit_is_six_hours() {
    let records = records(
        vec![running_backup("first", "2024-05-10T05:00:00Z")],
        vec![],
    );
    let stalls = Stalls::new(&records, StallPolicy::default());
    let stall = stalls.check(&records[0], now()).expect("7 h > 6 h");
    assert_eq!(stall.basis, StallBasis::NoHistory);
    assert_eq!(
        stall.explain(OperationKind::Backup, "dc1"),
        "running for 7h, over 6h with no successful backups of datacenter dc1 to compare with"
    );
}

#[test]
fn history_is_per_datacenter_and_kind() {
    let (jobs, backups) = history(&[10, 10, 10]);
    let stalls = Stalls::new(&records(jobs, backups), StallPolicy::default());
    assert_eq!(
        stalls.limit("k8ssandra", "dc2", OperationKind::Backup).1,
        StallBasis::NoHistory
    );
    assert_eq!(
        stalls.limit("k8ssandra", "dc1", OperationKind::Purge).1,
        StallBasis::NoHistory
    );
}

#[test]
fn a_finished_operation_is_never_stalled() {
    let (jobs, backups) = history(&[600]);
    let records = records(jobs, backups);
    let stalls = Stalls::new(&records, StallPolicy::default());
    assert_eq!(stalls.check(&records[0], now()), None);
}

// === retention ===

fn backup_started(name: &str, start: &str) -> MedusaBackup {
    MedusaBackup::test(name).times(start, Some(start))
}

fn names(preview: &PurgePreview) -> Vec<&str> {
    preview.candidates.iter().map(|c| c.name.as_str()).collect()
}

#[test]
fn retention_off_deletes_nothing() {
    let backups = [backup_started("old", "2020-01-01T00:00:00Z")];
    let preview = purge_preview(&backups, Retention::default(), now(), &[]);
    assert!(preview.retention.is_off());
    assert!(preview.candidates.is_empty());
}

#[test]
fn by_age_deletes_backups_started_strictly_before_the_limit() {
    let backups = [
        backup_started("older", "2024-05-02T11:59:59Z"),
        backup_started("exactly", "2024-05-02T12:00:00Z"),
        backup_started("newer", "2024-05-09T00:00:00Z"),
    ];
    let retention = Retention {
        max_backup_age: 8,
        max_backup_count: 0,
    };
    let preview = purge_preview(&backups, retention, now(), &[]);
    assert_eq!(names(&preview), ["older"]);
    assert_eq!(
        preview.candidates[0].reasons,
        [PurgeReason::OlderThan { days: 8 }]
    );
    assert_eq!(
        preview.candidates[0].reasons[0].to_string(),
        "older than 8 day(s) (maxBackupAge)"
    );
}

#[test]
fn by_count_keeps_the_newest_and_counts_incomplete_backups() {
    let backups = [
        backup_started("a", "2024-05-01T00:00:00Z"),
        backup_started("b-incomplete", "2024-05-02T00:00:00Z").nodes(2, 3),
        backup_started("c", "2024-05-03T00:00:00Z"),
        backup_started("d", "2024-05-04T00:00:00Z"),
    ];
    let retention = Retention {
        max_backup_age: 0,
        max_backup_count: 2,
    };
    let preview = purge_preview(&backups, retention, now(), &[]);
    assert_eq!(names(&preview), ["a", "b-incomplete"]);
    assert_eq!(
        preview.candidates[0].reasons,
        [PurgeReason::BeyondNewest { count: 2 }]
    );
}

#[test]
fn a_backup_selected_by_both_rules_names_both_reasons() {
    let backups = [
        backup_started("ancient", "2024-01-01T00:00:00Z"),
        backup_started("new", "2024-05-09T00:00:00Z"),
    ];
    let retention = Retention {
        max_backup_age: 30,
        max_backup_count: 1,
    };
    let preview = purge_preview(&backups, retention, now(), &[]);
    assert_eq!(names(&preview), ["ancient"]);
    assert_eq!(
        preview.candidates[0].reasons,
        [
            PurgeReason::OlderThan { days: 30 },
            PurgeReason::BeyondNewest { count: 1 }
        ]
    );
}

#[test]
fn retention_applies_per_node_so_a_node_that_missed_a_backup_keeps_an_older_one() {
    let backups = [
        backup_started("a", "2024-05-01T00:00:00Z").hosts(&["n0", "n1"]),
        backup_started("b", "2024-05-02T00:00:00Z").hosts(&["n0"]),
        backup_started("c", "2024-05-03T00:00:00Z").hosts(&["n0", "n1"]),
    ];
    let retention = Retention {
        max_backup_age: 0,
        max_backup_count: 2,
    };
    let preview = purge_preview(&backups, retention, now(), &[]);
    assert_eq!(names(&preview), ["a"]);
    assert_eq!(preview.candidates[0].nodes, ["n0"]);
    assert_eq!(preview.candidates[0].kept_on, ["n1"]);
}

#[test]
fn backups_without_a_start_count_but_are_never_picked_as_python_slices_do() {
    // Four backups, one without a start, keep 3: purge.py computes 3 - 3 = 0 to remove from
    // the three it can sort, so nothing goes.
    let mut unknown = backup_started("unknown", "2024-05-01T00:00:00Z");
    if let Some(status) = unknown.status.as_mut() {
        status.start_time = None;
    }
    let backups = [
        unknown.clone(),
        backup_started("a", "2024-05-02T00:00:00Z"),
        backup_started("b", "2024-05-03T00:00:00Z"),
        backup_started("c", "2024-05-04T00:00:00Z"),
    ];
    let retention = Retention {
        max_backup_age: 0,
        max_backup_count: 3,
    };
    let preview = purge_preview(&backups, retention, now(), &[]);
    assert!(preview.candidates.is_empty());
    assert_eq!(preview.unknown_start, ["unknown"]);

    // Four backups, two without a start, keep 3: 4 > 3, and of the two it can sort purge.py
    // removes 2 - 3 = -1, that is `sorted[:-1]`: every one but the newest.
    let mut second = unknown.clone();
    second.metadata.name = Some("unknown-2".into());
    let backups = [
        unknown,
        second,
        backup_started("a", "2024-05-02T00:00:00Z"),
        backup_started("b", "2024-05-03T00:00:00Z"),
    ];
    let retention = Retention {
        max_backup_age: 0,
        max_backup_count: 3,
    };
    let preview = purge_preview(&backups, retention, now(), &[]);
    assert_eq!(names(&preview), ["a"]);
}

// === summary ===

fn input() -> HealthInput {
    let (mut jobs, mut backups) = history(&[10, 20, 30]);
    jobs.push(
        MedusaBackupJob::test("failed")
            .started("2024-05-10T01:00:00Z")
            .finished_at("2024-05-10T01:07:00Z")
            .failed_pods(&["p1"]),
    );
    backups.push(MedusaBackup::test("imported").dc("dc2").synced());
    jobs.push(running_backup("now", "2024-05-10T11:50:00Z"));
    HealthInput {
        backup_jobs: jobs,
        backups,
        tasks: vec![MedusaTask::test("purge-1", Operation::Purge).started("2024-05-10T02:00:00Z")],
        schedules: vec![MedusaBackupSchedule::test("nightly")],
        datacenters: vec![CassandraDatacenter::test("dc3")],
        ..HealthInput::default()
    }
}

#[test]
fn the_last_success_is_the_newest_backup_complete_on_every_node() {
    let health = health(input(), now(), StallPolicy::default());
    let dc1 = health
        .datacenters
        .iter()
        .find(|d| d.datacenter == "dc1")
        .unwrap();
    let last = dc1.last_success.as_ref().unwrap();
    assert_eq!(last.name, "nightly-2");
    assert_eq!(last.finished, instant("2024-05-03T01:30:00Z"));
    assert_eq!(last.size_bytes, Some(130_560));
    assert_eq!(last.files, Some(120));
}

#[test]
fn the_newest_finished_backup_gives_the_last_duration_and_verdict() {
    let health = health(input(), now(), StallPolicy::default());
    let dc1 = health
        .datacenters
        .iter()
        .find(|d| d.datacenter == "dc1")
        .unwrap();
    assert_eq!(
        dc1.last_failed,
        Some(true),
        "the job `failed` finished last"
    );
    assert_eq!(dc1.last_duration, Some(Duration::minutes(7)));
}

#[test]
fn a_synced_backup_counts_as_a_success_without_size_or_files() {
    let health = health(input(), now(), StallPolicy::default());
    let dc2 = health
        .datacenters
        .iter()
        .find(|d| d.datacenter == "dc2")
        .unwrap();
    let last = dc2.last_success.as_ref().unwrap();
    assert_eq!((last.size_bytes, last.files), (None, None));
}

#[test]
fn a_datacenter_with_medusa_but_no_backup_is_listed_with_its_creation() {
    let health = health(input(), now(), StallPolicy::default());
    let dc3 = health
        .datacenters
        .iter()
        .find(|d| d.datacenter == "dc3")
        .unwrap();
    assert_eq!(dc3.last_success, None);
    assert!(dc3.created.is_some());
}

#[test]
fn operations_are_counted_per_kind_and_phase() {
    let health = health(input(), now(), StallPolicy::default());
    let count = |kind, phase| {
        health
            .counts
            .iter()
            .find(|c| c.datacenter == "dc1" && c.kind == kind && c.phase == phase)
            .map_or(0, |c| c.count)
    };
    assert_eq!(count(OperationKind::Backup, Phase::Succeeded), 3);
    assert_eq!(count(OperationKind::Backup, Phase::Failed), 1);
    assert_eq!(count(OperationKind::Backup, Phase::Running), 1);
    assert_eq!(count(OperationKind::Purge, Phase::Running), 1);
}

#[test]
fn running_operations_carry_their_stall_verdict() {
    let health = health(input(), now(), StallPolicy::default());
    let verdicts: Vec<(&str, bool)> = health
        .running
        .iter()
        .map(|r| (r.record.key.name.as_str(), r.stall.is_some()))
        .collect();
    assert_eq!(verdicts, [("now", false), ("purge-1", true)]);
}

#[test]
fn a_schedule_reports_its_next_run_interval_and_pause() {
    let mut input = input();
    input
        .schedules
        .push(MedusaBackupSchedule::test("paused").disabled());
    let health = health(input, now(), StallPolicy::default());
    let nightly = &health.schedules[0];
    assert_eq!(nightly.operation, "backup");
    assert_eq!(nightly.interval, Some(Duration::days(1)));
    assert!(nightly.next_run.is_some_and(|t| t > now()));
    assert!(!nightly.paused);
    assert!(health.schedules[1].paused);
}

#[test]
fn only_the_datacenters_nodes_purge_so_another_clusters_backup_stays() {
    let backups = [
        backup_started("imported", "2024-01-01T00:00:00Z").hosts(&["prod-dc1-sts-0"]),
        backup_started("own", "2024-01-02T00:00:00Z")
            .hosts(&["demo-dc1-sts-0.demo-dc1-service.k8ssandra.svc.cluster.local"]),
    ];
    let retention = Retention {
        max_backup_age: 30,
        max_backup_count: 0,
    };
    let preview = purge_preview(&backups, retention, now(), &["demo-dc1-sts-0".to_owned()]);
    assert_eq!(names(&preview), ["own"], "a pod's FQDN counts as its node");
    assert_eq!(preview.foreign, ["imported"]);
}
