//! Backup health in the plugin: `purge --preview`, and running operations that look stalled in
//! the lists and in `status`, against a fake API server.

use crate::support;

use kubectl_medusa::error::ExitCode;
use medusa_crds::*;
use support::{Fake, Run, pod};

/// dc1 of K8ssandraCluster demo, keeping backups 7 days and at most 2.
fn datacenter() -> (kube::Client, Fake) {
    let (client, fake) = Fake::start();
    fake.put(&CassandraDatacenter::test("dc1").of_k8ssandra_cluster("demo"));
    fake.put(&pod("demo-dc1-default-sts-0", "demo", "dc1", true));
    let mut storage = Storage::test().with_prefix("demo");
    storage.max_backup_age = Some(7);
    storage.max_backup_count = Some(2);
    fake.put(&K8ssandraCluster::test("demo").with_storage(storage));
    (client, fake)
}

fn record(name: &str, started: &str) -> MedusaBackup {
    MedusaBackup::test(name).times(started, Some(started))
}

/// A finished backup of dc1 (job and record) that took ten minutes, on day `day` of April.
fn finished(fake: &Fake, name: &str, day: u32) {
    let start = format!("2024-04-{day:02}T01:00:00Z");
    let end = format!("2024-04-{day:02}T01:10:00Z");
    fake.put(
        &MedusaBackupJob::test(name)
            .started(&start)
            .finished_at(&end)
            .finished_pods(&["demo-dc1-default-sts-0"]),
    );
    fake.put(&MedusaBackup::test(name).times(&start, Some(&end)));
}

// === purge --preview ===

fn catalog(fake: &Fake) {
    fake.put(&record("april-20", "2024-04-20T01:00:00Z"));
    fake.put(&record("april-28", "2024-04-28T01:00:00Z"));
    fake.put(&record("april-29", "2024-04-29T01:00:00Z"));
    fake.put(&record("april-30", "2024-04-30T01:00:00Z"));
    fake.put(&record("other-dc", "2024-01-01T01:00:00Z").dc("dc2"));
}

#[tokio::test]
async fn preview_lists_what_the_retention_deletes_with_the_reasons() {
    let (client, fake) = datacenter();
    catalog(&fake);
    let outcome = Run::on(&client).run("purge --dc dc1 --preview").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    let lines: Vec<&str> = outcome.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "Retention in force (K8ssandraCluster k8ssandra/demo): maxBackupAge 7 day(s) (0: unlimited), maxBackupCount 2 (0: unlimited)."
    );
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["NAME", "STARTED", "NODES", "REASON"]
    );
    assert!(
        lines[2].starts_with("april-20")
            && lines[2].ends_with(
                "older than 7 day(s) (maxBackupAge); beyond the newest 2 (maxBackupCount)"
            ),
        "{}",
        lines[2]
    );
    assert_eq!(
        lines[3],
        "april-28   3d11h     all     beyond the newest 2 (maxBackupCount)"
    );
    assert_eq!(
        lines[4],
        "A purge of datacenter dc1 would delete 2 of its 4 MedusaBackup(s); nothing was created."
    );
    assert!(lines[5].starts_with(
        "Not known from the cluster: files in the bucket that no MedusaBackup describes"
    ));
}

#[tokio::test]
async fn preview_creates_nothing() {
    let (client, fake) = datacenter();
    catalog(&fake);
    Run::on(&client).run("purge --dc dc1 --preview").await;
    assert!(
        fake.writes().is_empty(),
        "purge --preview wrote: {:?}",
        fake.call_lines()
    );
}

#[tokio::test]
async fn preview_as_json_gives_each_candidate_its_reasons() {
    let (client, fake) = datacenter();
    catalog(&fake);
    let outcome = Run::on(&client)
        .run("purge --dc dc1 --preview -o json")
        .await;
    let preview: serde_json::Value = serde_json::from_str(&outcome.stdout).unwrap();
    assert_eq!(
        preview["retention"],
        serde_json::json!({"maxBackupAge": 7, "maxBackupCount": 2})
    );
    assert_eq!(preview["candidates"][0]["name"], "april-20");
    assert_eq!(
        preview["candidates"][0]["reasons"],
        serde_json::json!([{"rule": "olderThan", "days": 7}, {"rule": "beyondNewest", "count": 2}])
    );
}

#[tokio::test]
async fn preview_names_backup_jobs_without_a_record() {
    let (client, fake) = datacenter();
    catalog(&fake);
    fake.put(
        &MedusaBackupJob::test("half-done")
            .started("2024-04-30T02:00:00Z")
            .failed_pods(&["demo-dc1-default-sts-0"]),
    );
    let outcome = Run::on(&client).run("purge --dc dc1 --preview").await;
    assert!(
        outcome
            .stdout
            .contains("Backup jobs without a MedusaBackup (half-done)"),
        "{}",
        outcome.stdout
    );
}

#[tokio::test]
async fn preview_with_retention_off_deletes_nothing() {
    let (client, fake) = Fake::start();
    fake.put(&CassandraDatacenter::test("dc1").of_k8ssandra_cluster("demo"));
    fake.put(&K8ssandraCluster::test("demo").with_storage(Storage::test().with_prefix("demo")));
    catalog(&fake);
    let outcome = Run::on(&client).run("purge --dc dc1 --preview").await;
    assert!(
        outcome
            .stdout
            .contains("maxBackupAge 0 and maxBackupCount 0, i.e. unlimited")
    );
    assert!(
        outcome
            .stdout
            .contains("would delete 0 of its 4 MedusaBackup(s)")
    );
}

#[tokio::test]
async fn preview_without_the_cluster_fails_naming_what_is_missing() {
    let (client, fake) = Fake::start();
    fake.put(&CassandraDatacenter::test("dc1"));
    let outcome = Run::on(&client).run("purge --dc dc1 --preview").await;
    assert_ne!(outcome.code, ExitCode::Success);
    assert!(
        outcome
            .stderr
            .contains("cannot preview the purge of datacenter k8ssandra/dc1")
            && outcome.stderr.contains("kubectl medusa status --dc dc1"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn preview_refuses_yes_as_it_asks_nothing() {
    use clap::Parser;
    let error = kubectl_medusa::cli::Cli::try_parse_from([
        "kubectl-medusa",
        "purge",
        "--dc",
        "dc1",
        "--preview",
        "--yes",
    ])
    .unwrap_err();
    assert_eq!(error.kind(), clap::error::ErrorKind::ArgumentConflict);
}

// === stalled operations ===

/// A purge of dc1 running since 05:00: seven hours at the tests' noon, with no history.
fn purge_running_since_five() -> MedusaTask {
    MedusaTask::test("purge-1", Operation::Purge)
        .started("2024-05-01T05:00:00Z")
        .in_progress(&["demo-dc1-default-sts-0"])
}

fn history(fake: &Fake) {
    finished(fake, "nightly-1", 28);
    finished(fake, "nightly-2", 29);
    finished(fake, "nightly-3", 30);
}

#[tokio::test]
async fn backup_list_marks_a_backup_running_past_three_times_the_median() {
    let (client, fake) = datacenter();
    history(&fake);
    fake.put(
        &MedusaBackupJob::test("slow")
            .started("2024-05-01T11:00:00Z")
            .in_progress(&["demo-dc1-default-sts-0"]),
    );
    fake.put(
        &MedusaBackupJob::test("fresh")
            .started("2024-05-01T11:55:00Z")
            .in_progress(&["demo-dc1-default-sts-0"]),
    );
    let outcome = Run::on(&client).run("backup list").await;
    let line = |name: &str| {
        outcome
            .stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("backup list: no row {name} in {}", outcome.stdout))
            .to_owned()
    };
    assert!(
        line("slow").contains("Running, stalled?"),
        "{}",
        line("slow")
    );
    assert!(!line("fresh").contains("stalled"), "{}", line("fresh"));
}

#[tokio::test]
async fn stall_factor_moves_the_limit() {
    let (client, fake) = datacenter();
    history(&fake);
    fake.put(
        &MedusaBackupJob::test("slow")
            .started("2024-05-01T11:00:00Z")
            .in_progress(&["demo-dc1-default-sts-0"]),
    );
    let outcome = Run::on(&client).run("backup list --stall-factor 10").await;
    assert!(
        !outcome.stdout.contains("stalled"),
        "60 min < 10 × 10 min: {}",
        outcome.stdout
    );
}

#[tokio::test]
async fn task_list_marks_a_purge_running_past_six_hours_without_history() {
    let (client, fake) = datacenter();
    fake.put(&purge_running_since_five());
    let outcome = Run::on(&client).run("task list").await;
    assert!(
        outcome.stdout.contains("Running, stalled?"),
        "{}",
        outcome.stdout
    );
    let relaxed = Run::on(&client).run("task list --stall-after 8h").await;
    assert!(!relaxed.stdout.contains("stalled"), "{}", relaxed.stdout);
}

#[tokio::test]
async fn restore_list_marks_a_restore_running_past_six_hours() {
    let (client, fake) = datacenter();
    fake.put(&MedusaRestoreJob::test("restore-1").started("2024-05-01T05:00:00Z"));
    let outcome = Run::on(&client).run("restore list").await;
    assert!(
        outcome.stdout.contains("Running, stalled?"),
        "{}",
        outcome.stdout
    );
}

#[tokio::test]
async fn status_lists_a_stalled_operation_under_needs_attention_with_its_logs_command() {
    let (client, fake) = datacenter();
    fake.put(&purge_running_since_five());
    let outcome = Run::on(&client).run("status --dc dc1").await;
    assert!(
        outcome.stdout.contains(
            "  Needs attention:\n    - purge purge-1 looks stalled: running for 7h, over 6h with no successful purges of datacenter dc1 to compare with; see why with: kubectl medusa logs task purge-1 -n k8ssandra\n"
        ),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome
            .stdout
            .contains("  Running:          purge purge-1 0/1 pods (stalled?)\n"),
        "{}",
        outcome.stdout
    );
}
