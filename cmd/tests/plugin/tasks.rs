//! `kubectl medusa sync`, `purge` and `task ...` against a fake API server.

use crate::support;

use kubectl_medusa::error::ExitCode;
use medusa_crds::simulator::medusa::{Medusa, StoredBackup};
use medusa_crds::simulator::{Faults, Operator, Running};
use medusa_crds::*;
use support::{Fake, NS, Run, pod};

const TASKS: &str = "/apis/medusa.k8ssandra.io/v1alpha1/namespaces/k8ssandra/medusatasks";

/// dc1 of K8ssandraCluster demo (keeping 7 backups), with medusa pods.
fn datacenter() -> (kube::Client, Fake) {
    let (client, fake) = Fake::start();
    fake.put(&CassandraDatacenter::test("dc1").of_k8ssandra_cluster("demo"));
    fake.put(&pod("demo-dc1-default-sts-0", "demo", "dc1", true));
    fake.put(&pod("demo-dc1-default-sts-1", "demo", "dc1", true));
    let mut storage = Storage::test().with_prefix("demo");
    storage.max_backup_count = Some(7);
    fake.put(&K8ssandraCluster::test("demo").with_storage(storage));
    (client, fake)
}

fn task(name: &str, operation: Operation) -> MedusaTask {
    MedusaTask::test(name, operation)
        .created("2024-05-01T12:00:00Z")
        .started("2024-05-01T12:00:01Z")
}

fn task_posts(fake: &Fake) -> Vec<serde_json::Value> {
    fake.writes()
        .into_iter()
        .filter(|c| c.is("POST", TASKS))
        .filter_map(|c| c.body)
        .collect()
}

// === sync ===

#[tokio::test]
async fn sync_posts_a_labelled_sync_task() {
    let (client, fake) = datacenter();
    let outcome = Run::on(&client).run("sync --dc dc1").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        "medusatask.medusa.k8ssandra.io/sync-dc1-20240501120000 created\n"
    );
    insta::assert_json_snapshot!("sync_body", task_posts(&fake).pop().unwrap());
}

/// The operator, with Medusa holding these backups of dc1's two pods in storage.
fn operator(client: &kube::Client, stored: &[&str], faults: Faults) -> Running {
    let mut medusa = Medusa::default();
    for (i, name) in stored.iter().enumerate() {
        medusa = medusa.with_backup(StoredBackup::complete(
            name,
            "dc1",
            "demo-dc1-default-sts",
            2,
            support::now() - chrono::Duration::days(i64::try_from(i).unwrap() + 1),
        ));
    }
    Operator::new(client.clone(), NS, support::now())
        .medusa(medusa)
        .faults(faults)
        .spawn()
}

#[tokio::test(start_paused = true)]
async fn sync_and_wait_reports_the_records_added_and_removed() {
    let (client, fake) = datacenter();
    fake.put(&MedusaBackup::test("kept"));
    fake.put(&MedusaBackup::test("gone"));
    let _operator = operator(&client, &["kept", "from-storage"], Faults::default());
    let outcome = Run::on(&client).run("sync --dc dc1 --name s1 --wait").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    insta::assert_snapshot!("sync_wait_stdout", outcome.stdout);
    assert!(fake.get("medusabackups", NS, "gone").is_none());
}

#[tokio::test(start_paused = true)]
async fn a_sync_that_reaches_no_pod_exits_1_saying_what_to_check() {
    let (client, _fake) = datacenter();
    let faults = Faults {
        sync_reaches_no_pod: true,
        ..Faults::default()
    };
    let _operator = operator(&client, &["kept"], faults);
    let outcome = Run::on(&client).run("sync --dc dc1 --name s1 --wait").await;
    assert_eq!(outcome.code, ExitCode::Failed, "{outcome:?}");
    let error = outcome.stderr.lines().last().unwrap();
    assert!(
        error.starts_with("error: sync s1: the sync reached no pod"),
        "{error}"
    );
    assert!(
        error.contains("check the medusa containers and the storage settings"),
        "{error}"
    );
}

// === purge ===

#[tokio::test]
async fn purge_shows_the_retention_in_force_and_refuses_without_yes() {
    let (client, fake) = datacenter();
    let outcome = Run::on(&client).run("purge --dc dc1").await;
    assert_eq!(outcome.code, ExitCode::Usage);
    assert!(
        outcome.stderr.contains(
            "Retention in force (K8ssandraCluster k8ssandra/demo): maxBackupAge 0 day(s) (0: unlimited), maxBackupCount 7 (0: unlimited)."
        ),
        "{}",
        outcome.stderr
    );
    assert!(outcome.stderr.contains("pass --yes"));
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn purge_with_unlimited_retention_says_it_deletes_no_backup() {
    let (client, fake) = datacenter();
    fake.put(&K8ssandraCluster::test("demo"));
    let outcome = Run::on(&client).run("purge --dc dc1 --yes").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert!(
        outcome
            .stderr
            .contains("i.e. unlimited: the purge deletes no backup")
    );
    assert_eq!(task_posts(&fake)[0]["spec"]["operation"], "purge");
}

#[tokio::test(start_paused = true)]
async fn purge_and_wait_follows_the_purge_and_its_sync_and_sums_the_pods() {
    let (client, fake) = datacenter();
    let stored = ["newest", "middle", "oldest"];
    for name in stored {
        fake.put(&MedusaBackup::test(name));
    }
    let running = operator(&client, &stored, Faults::default());
    running.medusa().lock().unwrap().max_backup_count = 1;
    let outcome = Run::on(&client)
        .run("purge --dc dc1 --name p1 --yes --wait")
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert_eq!(
        outcome.stdout.lines().last().unwrap(),
        "purge p1 succeeded: 4 backup file set(s) purged across pods, 160 objects deleted (2.00 MB), 0 objects kept within the GC grace period; records refreshed by p1-sync"
    );
    // The follow-up sync removed the records of the purged backups.
    assert!(fake.get("medusabackups", NS, "oldest").is_none());
    assert!(fake.get("medusabackups", NS, "newest").is_some());
    assert_eq!(
        fake.get("medusatasks", NS, "p1-sync").unwrap()["metadata"]["labels"],
        fake.get("medusatasks", NS, "p1").unwrap()["metadata"]["labels"],
        "the sync carries the purge's labels"
    );
}

#[tokio::test(start_paused = true)]
async fn a_purge_that_fails_on_a_pod_exits_1_naming_it() {
    let (client, _fake) = datacenter();
    let faults = Faults {
        failing_task_pods: ["demo-dc1-default-sts-1".to_owned()].into(),
        ..Faults::default()
    };
    let _operator = operator(&client, &["newest"], faults);
    let outcome = Run::on(&client)
        .run("purge --dc dc1 --name p1 --yes --wait")
        .await;
    assert_eq!(outcome.code, ExitCode::Failed, "{outcome:?}");
    assert_eq!(
        outcome.stderr.lines().last().unwrap(),
        "error: purge p1: the purge failed on 1 pod(s): demo-dc1-default-sts-1"
    );
}

// === task list, describe, watch, delete ===

fn tasks() -> (kube::Client, Fake) {
    let (client, fake) = datacenter();
    fake.put(
        &task("purge-1", Operation::Purge)
            .created("2024-05-01T02:00:00Z")
            .started("2024-05-01T02:00:01Z")
            .finished_at("2024-05-01T02:01:00Z")
            .purged("demo-dc1-default-sts-0", 1, 120, 5_000_000, 0)
            .purged("demo-dc1-default-sts-1", 1, 80, 3_000_000, 2),
    );
    fake.put(
        &task("sync-1", Operation::Sync)
            .created("2024-05-01T11:59:00Z")
            .started("2024-05-01T11:59:01Z")
            .in_progress(&["demo-dc1-default-sts-1"])
            .finished_pod("demo-dc1-default-sts-0"),
    );
    (client, fake)
}

#[tokio::test]
async fn task_list_shows_operation_status_and_pods() {
    let (client, _fake) = tasks();
    let outcome = Run::on(&client).run("task list").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    insta::assert_snapshot!("task_list", outcome.stdout);
}

#[tokio::test]
async fn task_describe_shows_the_purge_statistics_per_pod() {
    let (client, _fake) = tasks();
    let outcome = Run::on(&client).run("task describe purge-1").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    insta::assert_snapshot!("task_describe_purge", outcome.stdout);
}

#[tokio::test]
async fn task_describe_of_an_unknown_task_is_not_found() {
    let (client, _fake) = tasks();
    let outcome = Run::on(&client).run("task describe nope").await;
    assert_eq!(outcome.code, ExitCode::NotFound);
    assert!(
        outcome
            .stderr
            .contains("MedusaTask \"nope\" not found in namespace k8ssandra")
    );
}

#[tokio::test(start_paused = true)]
async fn task_watch_ends_with_the_task() {
    let (client, fake) = tasks();
    fake.put(&MedusaTask::test("sync-2", Operation::Sync).created("2024-05-01T12:00:00Z"));
    let _operator = operator(&client, &[], Faults::default());
    let outcome = Run::on(&client).run("task watch sync-2").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert_eq!(outcome.stdout, "sync sync-2 succeeded\n");
}

#[tokio::test]
async fn task_delete_asks_then_deletes() {
    let (client, fake) = tasks();
    let outcome = Run::on(&client)
        .answering(true)
        .run("task delete purge-1")
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        "medusatask.medusa.k8ssandra.io/purge-1 deleted\n"
    );
    let deletes: Vec<String> = fake
        .writes()
        .iter()
        .map(|c| format!("{} {}", c.method, c.path))
        .collect();
    assert_eq!(deletes, [format!("DELETE {TASKS}/purge-1")]);
}
