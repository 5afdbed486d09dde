//! `kubectl medusa restore ...` against a fake API server.

use crate::support;

use kubectl_medusa::error::ExitCode;
use medusa_crds::simulator::medusa::{Medusa, StoredBackup};
use medusa_crds::simulator::{Operator, Running};
use medusa_crds::*;
use support::{Fake, NS, Run, put_dc1_pods};

const RESTORES: &str = "/apis/medusa.k8ssandra.io/v1alpha1/namespaces/k8ssandra/medusarestorejobs";
const TASKS: &str = "/apis/medusa.k8ssandra.io/v1alpha1/namespaces/k8ssandra/medusatasks";

/// dc1 (3 nodes, rack default) and two successful backups of it.
fn with_backups() -> (kube::Client, Fake) {
    let (client, fake) = Fake::start();
    fake.put(&CassandraDatacenter::test("dc1"));
    fake.put(
        &MedusaBackup::test("nightly").times("2024-05-01T01:00:00Z", Some("2024-05-01T01:05:00Z")),
    );
    fake.put(
        &MedusaBackup::test("older").times("2024-04-29T01:00:00Z", Some("2024-04-29T01:05:00Z")),
    );
    (client, fake)
}

fn restore_posts(fake: &Fake) -> Vec<serde_json::Value> {
    fake.writes()
        .into_iter()
        .filter(|c| c.is("POST", RESTORES))
        .filter_map(|c| c.body)
        .collect()
}

// === create ===

#[tokio::test]
async fn create_refuses_without_a_terminal_or_yes_and_sends_nothing() {
    let (client, fake) = with_backups();
    let outcome = Run::on(&client)
        .run("restore create --dc dc1 --backup nightly")
        .await;
    assert_eq!(outcome.code, ExitCode::Usage);
    assert!(
        outcome.stderr.contains(
            "Restoring backup nightly stops datacenter dc1 in namespace k8ssandra: every Cassandra pod goes down until the data is restored. Continue? Refusing without a terminal to confirm: pass --yes"
        ),
        "{}",
        outcome.stderr
    );
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn create_with_yes_posts_a_labelled_restore_job() {
    let (client, fake) = with_backups();
    let outcome = Run::on(&client)
        .run("restore create --dc dc1 --backup nightly --yes")
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        "medusarestorejob.medusa.k8ssandra.io/restore-nightly-20240501120000 created\n"
    );
    insta::assert_json_snapshot!("create_body", restore_posts(&fake).pop().unwrap());
}

#[tokio::test]
async fn create_asks_a_person_at_the_terminal() {
    let (client, fake) = with_backups();
    let outcome = Run::on(&client)
        .answering(true)
        .run("restore create r1 --dc dc1 --backup nightly")
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert_eq!(restore_posts(&fake)[0]["metadata"]["name"], "r1");
}

#[tokio::test]
async fn create_latest_restores_the_newest_successful_backup() {
    let (client, fake) = with_backups();
    let outcome = Run::on(&client)
        .run("restore create r1 --dc dc1 --latest --yes")
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert_eq!(restore_posts(&fake)[0]["spec"]["backup"], "nightly");
}

#[tokio::test]
async fn create_latest_needs_the_cluster_even_in_client_dry_run() {
    let outcome = Run::offline()
        .run("restore create --dc dc1 --latest --dry-run=client")
        .await;
    assert_eq!(outcome.code, ExitCode::Usage);
    assert!(
        outcome
            .stderr
            .contains("give --backup NAME with --dry-run=client")
    );
}

#[tokio::test]
async fn create_of_a_backup_that_is_not_here_is_denied_locally_with_the_fix() {
    let (client, fake) = with_backups();
    let outcome = Run::on(&client)
        .run("restore create --dc dc1 --backup elsewhere --yes")
        .await;
    assert_eq!(outcome.code, ExitCode::Usage, "{outcome:?}");
    assert!(
        outcome.stderr.contains("\"elsewhere\""),
        "{}",
        outcome.stderr
    );
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn create_of_a_backup_of_another_size_is_denied_before_anything_stops() {
    let (client, fake) = Fake::start();
    fake.put(&CassandraDatacenter::test("dc1").size(4));
    fake.put(&MedusaBackup::test("nightly"));
    let outcome = Run::on(&client)
        .run("restore create --dc dc1 --backup nightly --yes")
        .await;
    assert_eq!(outcome.code, ExitCode::Usage, "{outcome:?}");
    assert!(fake.writes().is_empty());
}

/// dc1 with its three pods and the `nightly` backup, and the operator with Medusa holding
/// `stored` in storage.
fn against_the_operator(stored: &[&str]) -> (kube::Client, Fake, Running) {
    let (client, fake) = with_backups();
    put_dc1_pods(&fake);
    let mut medusa = Medusa::default();
    for name in stored {
        medusa = medusa.with_backup(StoredBackup::complete(
            name,
            "dc1",
            "demo-dc1-default-sts",
            3,
            support::now() - chrono::Duration::days(1),
        ));
    }
    let operator = Operator::new(client.clone(), NS, support::now())
        .medusa(medusa)
        .spawn();
    (client, fake, operator)
}

fn plugin_writes(fake: &Fake) -> Vec<String> {
    fake.writes()
        .into_iter()
        .filter(|c| c.is_from_the_plugin())
        .map(|c| format!("{} {}", c.method, c.path))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn sync_first_imports_the_backup_then_restores_it() {
    let (client, fake, _operator) = against_the_operator(&["from-prod"]);
    let outcome = Run::on(&client)
        .run("restore create r1 --dc dc1 --backup from-prod --sync-first --yes")
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert_eq!(
        plugin_writes(&fake),
        [format!("POST {TASKS}"), format!("POST {RESTORES}")]
    );
    assert!(
        outcome.stderr.contains(
            "sync sync-dc1-20240501120000 started to import backup from-prod from storage"
        )
    );
    assert!(fake.get("medusabackups", NS, "from-prod").is_some());
}

#[tokio::test(start_paused = true)]
async fn sync_first_fails_clearly_when_the_backup_is_not_in_storage() {
    let (client, fake, _operator) = against_the_operator(&[]);
    let outcome = Run::on(&client)
        .run("restore create --dc dc1 --backup from-prod --sync-first --yes")
        .await;
    assert_eq!(outcome.code, ExitCode::NotFound, "{outcome:?}");
    assert!(
        outcome
            .stderr
            .contains("is not in the storage of datacenter dc1: check the bucket and prefix"),
        "{}",
        outcome.stderr
    );
    assert!(restore_posts(&fake).is_empty());
}

#[tokio::test(start_paused = true)]
async fn create_and_wait_follows_the_restore_stages_to_success() {
    let (client, fake, operator) = against_the_operator(&["nightly"]);
    let outcome = Run::on(&client)
        .run("restore create r1 --dc dc1 --backup nightly --yes --wait")
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert!(
        outcome
            .stdout
            .ends_with("restore r1 succeeded: the datacenter is back up with the restored data\n")
    );
    insta::assert_snapshot!("wait_stages", outcome.stderr);
    insta::assert_snapshot!("wait_operator_writes", operator.journal().join("\n"));
    let dc = fake.get("cassandradatacenters", NS, "dc1").unwrap();
    assert_eq!(
        dc["spec"]["stopped"], false,
        "the datacenter is started again"
    );
}

#[tokio::test(start_paused = true)]
async fn a_restore_the_operator_refuses_fails_with_its_message() {
    let (client, fake, _operator) = against_the_operator(&["nightly"]);
    // The datacenter grows between the plugin's checks and the operator's.
    let scale = async {
        fake.created("medusarestorejobs").await;
        fake.put(&CassandraDatacenter::test("dc1").size(4));
    };
    let (outcome, ()) = tokio::join!(
        Run::on(&client).run("restore create r1 --dc dc1 --backup nightly --yes --wait"),
        scale
    );
    assert_eq!(outcome.code, ExitCode::Failed, "{outcome:?}");
    assert_eq!(
        outcome.stderr.lines().last().unwrap(),
        "error: restore r1: node counts differ for source backup and destination datacenter"
    );
}

// === preflight ===

#[tokio::test]
async fn preflight_passes_for_a_matching_datacenter() {
    let (client, fake) = with_backups();
    let outcome = Run::on(&client)
        .run("restore preflight --dc dc1 --backup nightly")
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    insta::assert_snapshot!("preflight_pass", outcome.stdout);
    assert!(
        outcome
            .stderr
            .contains("The operator would accept this restore.")
    );
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn preflight_fails_with_the_operators_own_message() {
    let (client, fake) = Fake::start();
    fake.put(&CassandraDatacenter::test("dc1").size(4));
    fake.put(&MedusaBackup::test("nightly"));
    let outcome = Run::on(&client)
        .run("restore preflight --dc dc1 --backup nightly")
        .await;
    assert_eq!(outcome.code, ExitCode::Failed);
    insta::assert_snapshot!("preflight_fail", outcome.stdout);
    assert!(
        outcome
            .stderr
            .contains("error: the operator would refuse this restore, after stopping nothing:"),
        "{}",
        outcome.stderr
    );
}

#[tokio::test]
async fn preflight_of_an_unknown_backup_suggests_a_sync() {
    let (client, _fake) = with_backups();
    let outcome = Run::on(&client)
        .run("restore preflight --dc dc1 --backup nope")
        .await;
    assert_eq!(outcome.code, ExitCode::NotFound);
    assert!(outcome.stderr.contains("kubectl medusa sync --dc dc1"));
}

// === list, describe, delete ===

fn restores() -> (kube::Client, Fake) {
    let (client, fake) = with_backups();
    fake.put(
        &MedusaRestoreJob::test("done")
            .created("2024-04-30T10:00:00Z")
            .started("2024-04-30T10:00:01Z")
            .prepared()
            .datacenter_stopped("2024-04-30T10:01:00Z")
            .finished_at("2024-04-30T10:05:00Z"),
    );
    fake.put(
        &MedusaRestoreJob::test("refused")
            .backup("older")
            .created("2024-05-01T09:00:00Z")
            .started("2024-05-01T09:00:01Z")
            .finished_at("2024-05-01T09:00:02Z")
            .message("target datacenter has a different number of racks"),
    );
    fake.put(
        &MedusaRestoreJob::test("stopping")
            .created("2024-05-01T11:55:00Z")
            .started("2024-05-01T11:55:01Z")
            .prepared()
            .datacenter_stopped("2024-05-01T11:56:00Z"),
    );
    (client, fake)
}

#[tokio::test]
async fn list_shows_each_restore_with_its_stage() {
    let (client, _fake) = restores();
    let outcome = Run::on(&client).run("restore list -o wide").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    insta::assert_snapshot!("list_wide", outcome.stdout);
}

#[tokio::test]
async fn describe_of_a_refused_restore_points_at_preflight() {
    let (client, _fake) = restores();
    let outcome = Run::on(&client).run("restore describe refused").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    insta::assert_snapshot!("describe_refused", outcome.stdout);
}

#[tokio::test]
async fn deleting_a_running_restore_warns_that_the_datacenter_stays_as_it_is() {
    let (client, fake) = restores();
    let outcome = Run::on(&client).run("restore delete stopping").await;
    assert_eq!(outcome.code, ExitCode::Usage);
    assert!(
        outcome.stderr.contains(
            "Restores stopping are still running: deleting them leaves the datacenter as it is now (possibly stopped)."
        ),
        "{}",
        outcome.stderr
    );
    assert!(fake.writes().is_empty());
    let outcome = Run::on(&client).run("restore delete stopping --yes").await;
    assert_eq!(outcome.code, ExitCode::Success);
    assert!(fake.get("medusarestorejobs", NS, "stopping").is_none());
}
