//! `kubectl medusa backup list`, `describe`, `delete` and `latest` against a fake API server
//! holding a catalog of jobs and records: the calls made, the output, the exit code.

use crate::support;

use kubectl_medusa::error::ExitCode;
use medusa_crds::simulator::Operator;
use medusa_crds::*;
use support::{Fake, NS, Run, put_dc1_pods};

const JOBS: &str = "/apis/medusa.k8ssandra.io/v1alpha1/namespaces/k8ssandra/medusabackupjobs";
const BACKUPS: &str = "/apis/medusa.k8ssandra.io/v1alpha1/namespaces/k8ssandra/medusabackups";

// === list ===

fn running(name: &str) -> MedusaBackupJob {
    MedusaBackupJob::test(name)
        .created("2024-05-01T12:00:00Z")
        .started("2024-05-01T12:00:01Z")
        .in_progress(&[
            "demo-dc1-default-sts-0",
            "demo-dc1-default-sts-1",
            "demo-dc1-default-sts-2",
        ])
}

fn catalog() -> (kube::Client, Fake) {
    let (client, fake) = Fake::start();
    fake.put(
        &MedusaBackupJob::test("nightly-1")
            .created("2024-04-30T01:00:00Z")
            .started("2024-04-30T01:00:00Z")
            .finished_at("2024-04-30T01:04:00Z")
            .finished_pods(&[
                "demo-dc1-default-sts-0",
                "demo-dc1-default-sts-1",
                "demo-dc1-default-sts-2",
            ]),
    );
    fake.put(
        &MedusaBackup::test("nightly-1")
            .times("2024-04-30T01:00:00Z", Some("2024-04-30T01:04:00Z"))
            .size("2.10 GB", 4300),
    );
    fake.put(
        &MedusaBackupJob::test("nightly-2")
            .created("2024-05-01T01:00:00Z")
            .started("2024-05-01T01:00:01Z")
            .finished_at("2024-05-01T01:02:00Z")
            .finished_pods(&["demo-dc1-default-sts-0"])
            .failed_pods(&["demo-dc1-default-sts-1", "demo-dc1-default-sts-2"]),
    );
    fake.put(
        &running("adhoc")
            .created("2024-05-01T11:58:00Z")
            .started("2024-05-01T11:58:00Z"),
    );
    // Imported by a sync from another cluster: no job, no size.
    fake.put(
        &MedusaBackup::test("imported")
            .times("2024-04-20T03:00:00Z", Some("2024-04-20T03:30:00Z"))
            .synced(),
    );
    fake.put(&MedusaBackup::test("other-dc").dc("dc2").namespace("other"));
    (client, fake)
}

#[tokio::test]
async fn list_joins_jobs_and_records_with_derived_status_and_sizes() {
    let (client, fake) = catalog();
    let outcome = Run::on(&client).run("backup list").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    insta::assert_snapshot!("list_table", outcome.stdout);
    // Both lists at once.
    assert_eq!(
        fake.call_set(),
        [
            format!("GET {JOBS}?limit=500"),
            format!("GET {BACKUPS}?limit=500")
        ]
        .into()
    );
}

#[tokio::test]
async fn list_reads_every_page_of_a_large_catalog() {
    let (client, fake) = Fake::start();
    for i in 0..1_201 {
        fake.put(&MedusaBackup::test(&format!("b{i:04}")));
    }
    let outcome = Run::on(&client).run("backup list -o name").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert_eq!(outcome.stdout.lines().count(), 1_201);
    let pages: Vec<String> = fake
        .call_lines()
        .into_iter()
        .filter(|l| l.contains("/medusabackups"))
        .collect();
    assert_eq!(
        pages,
        [
            format!("GET {BACKUPS}?limit=500"),
            format!("GET {BACKUPS}?continue=500&limit=500"),
            format!("GET {BACKUPS}?continue=1000&limit=500"),
        ]
    );
}

#[tokio::test]
async fn list_wide_adds_files_origin_finish_and_anomalies() {
    let (client, _fake) = catalog();
    let outcome = Run::on(&client).run("backup list -o wide").await;
    insta::assert_snapshot!("list_wide", outcome.stdout);
}

#[tokio::test]
async fn list_filters_by_status_and_sorts_by_size() {
    let (client, _fake) = catalog();
    let failed = Run::on(&client)
        .run("backup list --status failed -o name")
        .await;
    assert_eq!(
        failed.stdout,
        "medusabackup.medusa.k8ssandra.io/nightly-2\n"
    );
    let by_size = Run::on(&client)
        .run("backup list --status succeeded --sort-by size --limit 1 -o name")
        .await;
    assert_eq!(
        by_size.stdout,
        "medusabackup.medusa.k8ssandra.io/nightly-1\n"
    );
}

#[tokio::test]
async fn list_since_keeps_recent_backups() {
    let (client, _fake) = catalog();
    let outcome = Run::on(&client).run("backup list --since 1d -o name").await;
    assert_eq!(
        outcome.stdout,
        "medusabackup.medusa.k8ssandra.io/adhoc\nmedusabackup.medusa.k8ssandra.io/nightly-2\n"
    );
}

#[tokio::test]
async fn list_passes_the_label_selector_to_the_api_server() {
    let (client, fake) = catalog();
    Run::on(&client).run("backup list -l team=data").await;
    for call in fake.calls() {
        assert_eq!(call.query.get("labelSelector").unwrap(), "team=data");
    }
}

#[tokio::test]
async fn list_across_namespaces_adds_the_namespace_column() {
    let (client, fake) = catalog();
    let outcome = Run::on(&client).run("backup list -A").await;
    assert!(
        outcome.stdout.starts_with("NAMESPACE"),
        "{}",
        outcome.stdout
    );
    assert!(outcome.stdout.contains("other "));
    assert_eq!(
        fake.call_set(),
        [
            "GET /apis/medusa.k8ssandra.io/v1alpha1/medusabackupjobs?limit=500".to_owned(),
            "GET /apis/medusa.k8ssandra.io/v1alpha1/medusabackups?limit=500".to_owned(),
        ]
        .into()
    );
}

#[tokio::test(start_paused = true)]
async fn list_watch_prints_each_backup_again_when_it_changes() {
    let (client, fake) = catalog();
    fake.put(&CassandraDatacenter::test("dc1"));
    put_dc1_pods(&fake);
    // The operator takes a new backup while the list is watched.
    let operator = async {
        fake.watching("medusabackupjobs").await;
        let _operator = Operator::new(client.clone(), NS, support::now()).spawn();
        fake.put(&MedusaBackupJob::test("adhoc").created("2024-05-01T12:00:00Z"));
        tokio::time::sleep(std::time::Duration::from_secs(600)).await;
    };
    let (outcome, ()) = tokio::join!(
        Run::on(&client).run_until_stopped("backup list -w", std::time::Duration::from_secs(300)),
        operator
    );
    let lines: Vec<&str> = outcome.stdout.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{}", outcome.stdout);
    // The table (a header and four rows), then a line per change of the adhoc backup.
    let changes = &lines[5..];
    assert!(!changes.is_empty(), "{}", outcome.stdout);
    assert!(
        changes.iter().all(|l| l.starts_with("adhoc ")),
        "{}",
        outcome.stdout
    );
    assert!(
        changes.last().unwrap().contains("Succeeded"),
        "{}",
        outcome.stdout
    );
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("NAME")).count(),
        1,
        "one header"
    );
}

#[tokio::test]
async fn an_empty_list_says_so_on_stderr() {
    let (client, _fake) = Fake::start();
    let outcome = Run::on(&client).run("backup list").await;
    assert_eq!(outcome.code, ExitCode::Success);
    assert_eq!(outcome.stdout, "");
    assert_eq!(outcome.stderr, "No backups found in namespace k8ssandra.\n");
}

#[tokio::test]
async fn list_json_is_a_kubernetes_list() {
    let (client, _fake) = catalog();
    let outcome = Run::on(&client).run("backup list -o json").await;
    let list: serde_json::Value = serde_json::from_str(&outcome.stdout).unwrap();
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"].as_array().unwrap().len(), 4);
}

// === describe ===

#[tokio::test]
async fn describe_joins_job_record_topology_restores_and_next_steps() {
    let (client, fake) = catalog();
    fake.put(
        &MedusaRestoreJob::test("restore-1")
            .backup("nightly-1")
            .started("2024-05-01T02:00:00Z")
            .finished_at("2024-05-01T02:30:00Z"),
    );
    let outcome = Run::on(&client).run("backup describe nightly-1").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    insta::assert_snapshot!("describe", outcome.stdout);
}

#[tokio::test]
async fn describe_of_a_failed_backup_points_at_the_logs() {
    let (client, _fake) = catalog();
    let outcome = Run::on(&client).run("backup describe nightly-2").await;
    insta::assert_snapshot!("describe_failed", outcome.stdout);
}

#[tokio::test]
async fn describe_of_an_unknown_backup_is_not_found() {
    let (client, _fake) = catalog();
    let outcome = Run::on(&client).run("backup describe nope").await;
    assert_eq!(outcome.code, ExitCode::NotFound);
    assert!(
        outcome
            .stderr
            .contains("no MedusaBackupJob or MedusaBackup of that name")
    );
}

// === delete ===

#[tokio::test]
async fn delete_keep_last_selects_the_older_records_and_deletes_record_and_job() {
    let (client, fake) = catalog();
    let outcome = Run::on(&client)
        .run("backup delete --keep-last 1 --dc dc1 --yes")
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert!(
        outcome
            .stderr
            .contains("the backups stay in the bucket, and the next sync brings the records back")
    );
    let deletes: Vec<String> = fake
        .writes()
        .iter()
        .filter(|c| c.method == "DELETE")
        .map(|c| c.path.rsplit('/').take(2).collect::<Vec<_>>().join(" "))
        .collect();
    // dc1 has two records (nightly-2 failed and adhoc runs: neither has one); the newest stays.
    assert_eq!(
        deletes,
        ["imported medusabackups", "imported medusabackupjobs"]
    );
    assert!(fake.get("medusabackups", NS, "nightly-1").is_some());
    assert!(fake.get("medusabackups", NS, "imported").is_none());
}

#[tokio::test]
async fn delete_refuses_without_a_terminal_or_yes() {
    let (client, fake) = catalog();
    let outcome = Run::on(&client).run("backup delete nightly-1").await;
    assert_eq!(outcome.code, ExitCode::Usage);
    assert!(outcome.stderr.contains("pass --yes"));
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn delete_asks_on_a_terminal_and_a_no_changes_nothing() {
    let (client, fake) = catalog();
    let outcome = Run::on(&client)
        .answering(false)
        .run("backup delete nightly-1")
        .await;
    assert_eq!(outcome.code, ExitCode::Usage);
    assert!(outcome.stderr.contains("cancelled: nothing was changed"));
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn delete_dry_run_lists_what_would_go() {
    let (client, fake) = catalog();
    let outcome = Run::on(&client)
        .run("backup delete --older-than 1d --dry-run")
        .await;
    assert_eq!(outcome.code, ExitCode::Success);
    assert_eq!(
        outcome.stdout,
        "medusabackup.medusa.k8ssandra.io/imported would be deleted (dry run)\nmedusabackup.medusa.k8ssandra.io/nightly-1 would be deleted (dry run)\n"
    );
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn delete_without_targets_is_a_usage_error() {
    let (client, _fake) = catalog();
    let outcome = Run::on(&client).run("backup delete --yes").await;
    assert_eq!(outcome.code, ExitCode::Usage);
}

#[tokio::test]
async fn delete_of_an_unknown_name_is_not_found_and_deletes_nothing() {
    let (client, fake) = catalog();
    let outcome = Run::on(&client)
        .run("backup delete nightly-1 nope --yes")
        .await;
    assert_eq!(outcome.code, ExitCode::NotFound);
    assert!(fake.writes().is_empty());
}

// === latest ===

#[tokio::test]
async fn latest_prints_the_newest_successful_backup() {
    let (client, _fake) = catalog();
    let outcome = Run::on(&client).run("backup latest --dc dc1 -o name").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        "medusabackup.medusa.k8ssandra.io/nightly-1\n"
    );
}

#[tokio::test]
async fn latest_exits_1_when_older_than_max_age() {
    let (client, _fake) = catalog();
    let outcome = Run::on(&client)
        .run("backup latest --dc dc1 --max-age 12h")
        .await;
    assert_eq!(outcome.code, ExitCode::Failed);
    assert!(
        outcome
            .stderr
            .contains("the newest successful backup of datacenter dc1 (nightly-1) is 34h old, more than --max-age 12h"),
        "{}",
        outcome.stderr
    );
}

#[tokio::test]
async fn latest_without_any_success_is_not_found() {
    let (client, _fake) = catalog();
    let outcome = Run::on(&client).run("backup latest --dc dc9").await;
    assert_eq!(outcome.code, ExitCode::NotFound);
    assert!(
        outcome
            .stderr
            .contains("take one with kubectl medusa backup create --dc dc9")
    );
}
