//! `kubectl medusa logs` against a fake API server that serves pods and their logs.

use crate::support;

use kubectl_medusa::error::ExitCode;
use medusa_crds::*;
use serde_json::json;
use support::{Fake, NS, Run, pod};

const P0: &str = "demo-dc1-default-sts-0";
const P1: &str = "demo-dc1-default-sts-1";
const P2: &str = "demo-dc1-default-sts-2";

/// dc1 with three medusa pods, each with a line before the backup window and two in it.
fn datacenter() -> (kube::Client, Fake) {
    let (client, fake) = Fake::start();
    fake.put(&CassandraDatacenter::test("dc1"));
    for name in [P0, P1, P2] {
        fake.put(&pod(name, "demo", "dc1", true));
    }
    fake.log(
        NS,
        P0,
        "medusa",
        &[
            ("2024-05-01T09:00:00Z", "INFO yesterday's noise"),
            ("2024-05-01T10:00:01Z", "INFO Starting backup nightly"),
            ("2024-05-01T10:00:04Z", "INFO Backup done"),
        ],
    );
    fake.log(
        NS,
        P1,
        "medusa",
        &[
            ("2024-05-01T10:00:02Z", "INFO Starting backup nightly"),
            (
                "2024-05-01T10:00:03Z",
                "ERROR This error happened during the backup: AccessDenied",
            ),
        ],
    );
    fake.log(
        NS,
        P2,
        "medusa",
        &[("2024-05-01T10:00:02Z", "INFO not part of it")],
    );
    (client, fake)
}

/// Backup `nightly` of dc1, started at 10:00 on pods 0 and 1; pod 1 failed.
fn failed_backup() -> MedusaBackupJob {
    MedusaBackupJob::test("nightly")
        .started("2024-05-01T10:00:00Z")
        .finished_at("2024-05-01T10:05:00Z")
        .finished_pods(&[P0])
        .failed_pods(&[P1])
}

#[tokio::test]
async fn backup_logs_interleave_the_operation_pods_by_time_from_its_start() {
    let (client, fake) = datacenter();
    fake.put(&failed_backup());
    let outcome = Run::on(&client).run("logs backup nightly").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        format!(
            "[{P0}] INFO Starting backup nightly\n\
             [{P1}] INFO Starting backup nightly\n\
             [{P1}] ERROR This error happened during the backup: AccessDenied\n\
             [{P0}] INFO Backup done\n"
        ),
        "kubectl medusa logs backup nightly: lines of pods 0 and 1 since a minute before 10:00, by time"
    );
}

#[tokio::test]
async fn logs_ask_the_api_server_only_from_a_minute_before_the_start() {
    let (client, fake) = datacenter();
    fake.put(&failed_backup());
    Run::on(&client).run("logs backup nightly").await;
    let since: Vec<String> = fake
        .calls()
        .into_iter()
        .filter(|c| c.path.ends_with("/log"))
        .filter_map(|c| c.query.get("sinceTime").cloned())
        .collect();
    assert_eq!(since, ["2024-05-01T09:59:00Z", "2024-05-01T09:59:00Z"]);
}

#[tokio::test]
async fn all_reads_every_pod_of_the_datacenter() {
    let (client, fake) = datacenter();
    fake.put(&failed_backup());
    let outcome = Run::on(&client).run("logs backup nightly --all").await;
    assert!(
        outcome
            .stdout
            .contains(&format!("[{P2}] INFO not part of it")),
        "kubectl medusa logs backup nightly --all: expected pod 2's line, got {:?}",
        outcome.stdout
    );
}

#[tokio::test]
async fn pod_reads_one_pod_only() {
    let (client, fake) = datacenter();
    fake.put(&failed_backup());
    let outcome = Run::on(&client)
        .run(&format!("logs backup nightly --pod {P1} --timestamps"))
        .await;
    assert_eq!(
        outcome.stdout,
        format!(
            "[{P1}] 2024-05-01T10:00:02Z INFO Starting backup nightly\n\
             [{P1}] 2024-05-01T10:00:03Z ERROR This error happened during the backup: AccessDenied\n"
        )
    );
}

#[tokio::test]
async fn errors_stand_out_in_color() {
    let (client, fake) = datacenter();
    fake.put(&failed_backup());
    // On a terminal `--color auto` colors too, unless NO_COLOR is set: `always` is explicit.
    let outcome = Run::on(&client)
        .on_terminal()
        .run(&format!("logs backup nightly --pod {P1} --color always"))
        .await;
    assert!(
        outcome
            .stdout
            .contains("\u{1b}[1;31m[demo-dc1-default-sts-1] ERROR This error happened"),
        "expected the ERROR line in bold red, got {:?}",
        outcome.stdout
    );
    assert!(
        !outcome
            .stdout
            .contains("\u{1b}[1;31m[demo-dc1-default-sts-1] INFO")
    );
}

#[tokio::test]
async fn follow_streams_every_container_until_its_log_ends() {
    let (client, fake) = datacenter();
    fake.put(&failed_backup());
    let outcome = Run::on(&client).run("logs backup nightly --follow").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    let follows: Vec<String> = fake
        .calls()
        .into_iter()
        .filter(|c| c.path.ends_with("/log"))
        .map(|c| c.query.get("follow").cloned().unwrap_or_default())
        .collect();
    assert_eq!(
        follows,
        ["true", "true"],
        "one followed stream per pod of the backup"
    );
    let mut lines: Vec<&str> = outcome.stdout.lines().collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            format!("[{P0}] INFO Backup done"),
            format!("[{P0}] INFO Starting backup nightly"),
            format!("[{P1}] ERROR This error happened during the backup: AccessDenied"),
            format!("[{P1}] INFO Starting backup nightly"),
        ],
        "kubectl medusa logs backup nightly --follow: every line of both pods, as they arrive"
    );
}

#[tokio::test]
async fn restore_logs_include_the_medusa_restore_init_container() {
    let (client, fake) = Fake::start();
    fake.put(&CassandraDatacenter::test("dc1"));
    let mut restored = pod(P0, "demo", "dc1", true);
    restored["spec"]["initContainers"] = json!([{"name": "medusa-restore", "image": "medusa"}]);
    fake.put(&restored);
    fake.put(&MedusaRestoreJob::test("restore-1").started("2024-05-01T11:00:00Z"));
    fake.log(
        NS,
        P0,
        "medusa-restore",
        &[("2024-05-01T11:00:10Z", "INFO Downloading backup nightly")],
    );
    fake.log(
        NS,
        P0,
        "medusa",
        &[("2024-05-01T11:02:00Z", "INFO Serving gRPC")],
    );
    let outcome = Run::on(&client).run("logs restore restore-1").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        format!(
            "[{P0}/medusa-restore] INFO Downloading backup nightly\n[{P0}] INFO Serving gRPC\n"
        )
    );
}

#[tokio::test]
async fn task_logs_read_the_pods_that_ran_it() {
    let (client, fake) = datacenter();
    fake.put(
        &MedusaTask::test("purge-1", Operation::Purge)
            .started("2024-05-01T10:00:00Z")
            .finished_pod(P2),
    );
    let outcome = Run::on(&client).run("logs task purge-1").await;
    assert_eq!(outcome.stdout, format!("[{P2}] INFO not part of it\n"));
}

#[tokio::test]
async fn a_pod_outside_the_datacenter_is_not_found_with_the_way_to_list_pods() {
    let (client, fake) = datacenter();
    fake.put(&failed_backup());
    let outcome = Run::on(&client)
        .run("logs backup nightly --pod elsewhere")
        .await;
    assert_eq!(outcome.code, ExitCode::NotFound, "{outcome:?}");
    assert!(
        outcome.stderr.contains("pod elsewhere is not a pod of datacenter dc1")
            && outcome.stderr.contains("kubectl get pods -n k8ssandra -l cassandra.datastax.com/cluster=demo,cassandra.datastax.com/datacenter=dc1"),
        "{}",
        outcome.stderr
    );
}

#[tokio::test]
async fn an_unknown_backup_is_not_found() {
    let (client, _fake) = datacenter();
    let outcome = Run::on(&client).run("logs backup nope").await;
    assert_eq!(outcome.code, ExitCode::NotFound, "{outcome:?}");
    assert!(
        outcome
            .stderr
            .contains("MedusaBackupJob \"nope\" not found"),
        "{}",
        outcome.stderr
    );
}

#[tokio::test]
async fn refused_pod_logs_name_the_permission() {
    let (client, fake) = datacenter();
    let fake = fake.deny("get", "pods/log");
    fake.put(&failed_backup());
    let outcome = Run::on(&client).run("logs backup nightly").await;
    assert_eq!(outcome.code, ExitCode::Forbidden, "{outcome:?}");
    assert!(outcome.stderr.contains("pods/log"), "{}", outcome.stderr);
}

#[tokio::test]
async fn describe_of_a_failed_task_ends_with_its_logs_command() {
    let (client, fake) = datacenter();
    fake.put(
        &MedusaTask::test("purge-1", Operation::Purge)
            .started("2024-05-01T10:00:00Z")
            .finished_at("2024-05-01T10:01:00Z")
            .failed_pods(&[P1]),
    );
    let outcome = Run::on(&client).run("task describe purge-1").await;
    assert!(
        outcome
            .stdout
            .ends_with("See why in Medusa's logs: kubectl medusa logs task purge-1 -n k8ssandra\n"),
        "{}",
        outcome.stdout
    );
}
