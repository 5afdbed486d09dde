//! `kubectl medusa backup create` and `watch` against a fake API server and the simulated
//! operator: the calls made, the output, the exit code.

use crate::support;

use kubectl_medusa::error::ExitCode;
use medusa_crds::simulator::{Faults, Operator, Running};
use medusa_crds::*;
use support::{Fake, NS, Run, pod, put_dc1_pods};

const JOBS: &str = "/apis/medusa.k8ssandra.io/v1alpha1/namespaces/k8ssandra/medusabackupjobs";
const BACKUPS: &str = "/apis/medusa.k8ssandra.io/v1alpha1/namespaces/k8ssandra/medusabackups";

/// Datacenter dc1 of cluster demo, with three pods running a medusa container.
fn datacenter_with_pods() -> (kube::Client, Fake) {
    let (client, fake) = Fake::start();
    fake.put(&CassandraDatacenter::test("dc1"));
    put_dc1_pods(&fake);
    (client, fake)
}

fn posts(fake: &Fake, path: &str) -> Vec<serde_json::Value> {
    fake.writes()
        .into_iter()
        .filter(|c| c.is("POST", path))
        .filter_map(|c| c.body)
        .collect()
}

// === create ===

#[tokio::test]
async fn create_checks_the_datacenter_and_its_pods_then_posts_a_labelled_job() {
    let (client, fake) = datacenter_with_pods();
    let outcome = Run::on(&client).run("backup create nightly --dc dc1").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        "medusabackupjob.medusa.k8ssandra.io/nightly created\n"
    );
    assert!(
        outcome
            .stderr
            .contains("follow it with: kubectl medusa backup watch nightly -n k8ssandra")
    );
    insta::assert_snapshot!("create_calls", fake.call_lines().join("\n"));
    let post = fake.writes().pop().unwrap();
    assert_eq!(post.query.get("fieldManager").unwrap(), "kubectl-medusa");
    insta::assert_json_snapshot!("create_body", post.body.unwrap());
}

#[tokio::test]
async fn create_names_a_backup_after_its_datacenter_and_the_utc_time() {
    let (client, fake) = datacenter_with_pods();
    let outcome = Run::on(&client)
        .run("backup create --dc dc1 --type full --label team=data")
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    let body = posts(&fake, JOBS).pop().unwrap();
    assert_eq!(body["metadata"]["name"], "dc1-20240501120000");
    assert_eq!(body["spec"]["backupType"], "full");
    assert_eq!(body["metadata"]["labels"]["team"], "data");
}

#[tokio::test]
async fn create_from_a_schedule_uses_the_operators_name_and_the_schedule_label() {
    let (client, fake) = datacenter_with_pods();
    let outcome = Run::on(&client)
        .run("backup create --dc dc1 --from-schedule nightly")
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    let body = posts(&fake, JOBS).pop().unwrap();
    // The operator's `<schedule>-<unix seconds>`: 2024-05-01T12:00:00Z.
    assert_eq!(body["metadata"]["name"], "nightly-1714564800");
}

#[tokio::test]
async fn create_on_a_missing_datacenter_lists_the_existing_ones_and_sends_nothing() {
    let (client, fake) = datacenter_with_pods();
    let outcome = Run::on(&client).run("backup create --dc dc-1").await;
    assert_eq!(outcome.code, ExitCode::NotFound);
    assert!(
        outcome.stderr.contains(
            "CassandraDatacenter \"dc-1\" not found in namespace k8ssandra (datacenters in namespace k8ssandra: dc1)"
        ),
        "{}",
        outcome.stderr
    );
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn create_refuses_a_datacenter_whose_pods_have_no_medusa_container() {
    let (client, fake) = Fake::start();
    fake.put(&CassandraDatacenter::test("dc1"));
    fake.put(&pod("demo-dc1-default-sts-0", "demo", "dc1", false));
    let outcome = Run::on(&client).run("backup create --dc dc1").await;
    assert_eq!(outcome.code, ExitCode::Failed);
    assert!(
        outcome.stderr.contains(
            "Medusa is not enabled on datacenter dc1: pods demo-dc1-default-sts-0 have no medusa container"
        ),
        "{}",
        outcome.stderr
    );
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn create_refuses_a_stopped_datacenter_without_pods() {
    let (client, fake) = Fake::start();
    fake.put(&CassandraDatacenter::test("dc1").stopped());
    let outcome = Run::on(&client).run("backup create --dc dc1").await;
    assert_eq!(outcome.code, ExitCode::Failed);
    assert!(outcome.stderr.contains("datacenter dc1 has no pods"));
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn create_runs_the_webhook_rules_locally_before_sending() {
    let (client, fake) = datacenter_with_pods();
    fake.put(&MedusaBackup::test("nightly"));
    let outcome = Run::on(&client).run("backup create nightly --dc dc1").await;
    assert_eq!(outcome.code, ExitCode::Usage);
    assert!(
        outcome
            .stderr
            .contains("MedusaBackup \"nightly\" already exists in namespace k8ssandra"),
        "{}",
        outcome.stderr
    );
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn create_warns_when_another_backup_of_the_datacenter_runs() {
    let (client, fake) = datacenter_with_pods();
    fake.put(&MedusaBackupJob::test("earlier").started("2024-05-01T11:59:00Z"));
    let outcome = Run::on(&client).run("backup create nightly --dc dc1").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert!(
        outcome
            .stderr
            .contains("warning: [J1] MedusaBackupJob k8ssandra/nightly: another backup of datacenter \"dc1\" has not finished (earlier)"),
        "{}",
        outcome.stderr
    );
}

#[tokio::test]
async fn create_with_server_dry_run_sends_dry_run_all_and_stores_nothing() {
    let (client, fake) = datacenter_with_pods();
    let outcome = Run::on(&client)
        .run("backup create nightly --dc dc1 --dry-run=server")
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        "medusabackupjob.medusa.k8ssandra.io/nightly created (server dry run)\n"
    );
    let post = fake.writes().pop().unwrap();
    assert!(post.is_dry_run(), "{}", post.line());
    assert!(fake.get("medusabackupjobs", NS, "nightly").is_none());
}

#[tokio::test]
async fn create_with_output_name_prints_only_the_name() {
    let (client, _fake) = datacenter_with_pods();
    let outcome = Run::on(&client)
        .run("backup create nightly --dc dc1 -o name")
        .await;
    assert_eq!(outcome.code, ExitCode::Success);
    assert_eq!(
        outcome.stdout,
        "medusabackupjob.medusa.k8ssandra.io/nightly\n"
    );
}

#[tokio::test]
async fn a_forbidden_create_says_which_permission_is_missing() {
    let (client, fake) = datacenter_with_pods();
    fake.fail(
        "POST",
        "/medusabackupjobs",
        403,
        "medusabackupjobs.medusa.k8ssandra.io is forbidden: User \"dev\" cannot create resource",
    );
    let outcome = Run::on(&client).run("backup create nightly --dc dc1").await;
    assert_eq!(outcome.code, ExitCode::Forbidden);
    assert_eq!(
        outcome.stderr.lines().last().unwrap(),
        "error: you need create on medusabackupjobs.medusa.k8ssandra.io in namespace k8ssandra; run kubectl medusa auth check"
    );
}

#[tokio::test]
async fn a_webhook_denial_is_shown_as_is_with_the_usage_exit_code() {
    let (client, fake) = datacenter_with_pods();
    fake.fail(
        "POST",
        "/medusabackupjobs",
        400,
        "admission webhook \"medusa-webhook.k8ssandra.io\" denied the request: J1: MedusaBackupJob k8ssandra/nightly: ...",
    );
    let outcome = Run::on(&client).run("backup create nightly --dc dc1").await;
    assert_eq!(outcome.code, ExitCode::Usage);
    assert!(
        outcome.stderr.contains(
            "error: admission webhook \"medusa-webhook.k8ssandra.io\" denied the request"
        )
    );
}

#[tokio::test]
async fn missing_crds_are_reported_as_such() {
    let (client, fake) = Fake::start();
    let fake = fake.without_group("medusa.k8ssandra.io");
    let outcome = Run::on(&client).run("backup list").await;
    assert_eq!(outcome.code, ExitCode::NotFound);
    assert!(
        outcome.stderr.contains(
            "Medusa CRDs not found: is k8ssandra-operator installed with Medusa enabled?"
        ),
        "{}",
        outcome.stderr
    );
    drop(fake);
}

#[tokio::test]
async fn create_for_a_k8ssandra_cluster_makes_one_job_per_local_datacenter() {
    let (client, fake) = datacenter_with_pods();
    fake.put(&CassandraDatacenter::test("dc2"));
    fake.put(&pod("demo-dc2-default-sts-0", "demo", "dc2", true));
    fake.put(
        &K8ssandraCluster::test("demo")
            .add_datacenter("dc2", None, None, 1)
            .add_datacenter("dc3", None, Some("east"), 3),
    );
    let outcome = Run::on(&client)
        .run("backup create weekly --k8c demo")
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    let names: Vec<String> = posts(&fake, JOBS)
        .iter()
        .map(|b| {
            format!(
                "{} {}",
                b["metadata"]["name"], b["spec"]["cassandraDatacenter"]
            )
        })
        .collect();
    assert_eq!(names, ["\"weekly-dc1\" \"dc1\"", "\"weekly-dc2\" \"dc2\""]);
    assert!(
        outcome.stderr.contains(
            "warning: datacenter dc3 runs in context east: back it up there (kubectl medusa backup create --context east --dc dc3 -n k8ssandra)"
        ),
        "{}",
        outcome.stderr
    );
}

#[tokio::test]
async fn create_for_a_cluster_without_medusa_fails_and_says_so() {
    let (client, fake) = datacenter_with_pods();
    fake.put(&K8ssandraCluster::test("demo").without_medusa());
    let outcome = Run::on(&client).run("backup create --k8c demo").await;
    assert_eq!(outcome.code, ExitCode::Failed);
    assert!(
        outcome
            .stderr
            .contains("has no spec.medusa: Medusa is not enabled on it")
    );
    assert!(fake.writes().is_empty());
}

// === create --wait and watch, against the operator played write by write ===

fn operator(client: &kube::Client, faults: Faults) -> Running {
    Operator::new(client.clone(), NS, support::now())
        .faults(faults)
        .spawn()
}

async fn create_and_wait(faults: Faults, extra: &str) -> (support::Outcome, Vec<String>) {
    let (client, _fake) = datacenter_with_pods();
    let operator = operator(&client, faults);
    let outcome = Run::on(&client)
        .run(&format!("backup create nightly --dc dc1 --wait {extra}"))
        .await;
    (outcome, operator.journal())
}

#[tokio::test(start_paused = true)]
async fn create_and_wait_follows_every_write_of_the_operator_to_success() {
    let (outcome, journal) = create_and_wait(Faults::default(), "").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        "medusabackupjob.medusa.k8ssandra.io/nightly created\nbackup nightly succeeded on datacenter dc1\n"
    );
    insta::assert_snapshot!("wait_success_progress", outcome.stderr);
    insta::assert_snapshot!("wait_success_operator_writes", journal.join("\n"));
}

#[tokio::test(start_paused = true)]
async fn create_and_wait_watches_the_job_and_its_record_by_name() {
    let (client, fake) = datacenter_with_pods();
    let _operator = operator(&client, Faults::default());
    let outcome = Run::on(&client)
        .run("backup create nightly --dc dc1 --wait")
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    let watches: Vec<String> = fake
        .calls()
        .iter()
        .filter(|c| c.is_watch())
        .map(|c| format!("{} {}", c.path, c.query.get("fieldSelector").unwrap()))
        .collect();
    assert!(
        watches.contains(&format!("{JOBS} metadata.name=nightly")),
        "{watches:?}"
    );
    assert!(
        watches.contains(&format!("{BACKUPS} metadata.name=nightly")),
        "{watches:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn create_and_wait_exits_1_naming_the_failed_pods() {
    let faults = Faults {
        failing_backup_pods: ["demo-dc1-default-sts-2".to_owned()].into(),
        ..Faults::default()
    };
    let (outcome, _) = create_and_wait(faults, "").await;
    assert_eq!(outcome.code, ExitCode::Failed, "{outcome:?}");
    assert_eq!(
        outcome.stderr.lines().last().unwrap(),
        "error: backup nightly: the backup failed on 1 of 3 pod(s): demo-dc1-default-sts-2"
    );
}

#[tokio::test(start_paused = true)]
async fn a_record_whose_status_comes_late_within_the_grace_is_a_success() {
    let faults = Faults {
        late_record_status: Some(std::time::Duration::from_secs(120)),
        ..Faults::default()
    };
    let (outcome, _) = create_and_wait(faults, "").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert!(
        outcome
            .stderr
            .contains("Running  3/3 pods  recording the backup"),
        "{}",
        outcome.stderr
    );
    assert!(!outcome.stderr.contains("warning"), "{}", outcome.stderr);
}

#[tokio::test(start_paused = true)]
async fn a_summary_the_operator_cannot_find_fails_once_the_record_grace_is_over() {
    let faults = Faults {
        missing_summary: true,
        ..Faults::default()
    };
    let (outcome, journal) = create_and_wait(faults, "--record-grace 2m").await;
    assert_eq!(outcome.code, ExitCode::Failed, "{outcome:?}");
    assert!(
        !journal.iter().any(|w| w.contains("medusabackups/")),
        "{journal:?}"
    );
    assert!(
        outcome
            .stderr
            .contains("warning: nightly: the job finished at")
            && outcome.stderr.contains("kubectl medusa sync --dc dc1"),
        "{}",
        outcome.stderr
    );
    assert_eq!(
        outcome.stderr.lines().last().unwrap(),
        "error: backup nightly: every pod finished but the operator wrote no MedusaBackup record"
    );
}

#[tokio::test(start_paused = true)]
async fn a_record_whose_status_never_comes_fails_saying_how_to_recreate_it() {
    let faults = Faults {
        lost_record_status: true,
        ..Faults::default()
    };
    let (outcome, _) = create_and_wait(faults, "").await;
    assert_eq!(outcome.code, ExitCode::Failed, "{outcome:?}");
    assert!(
        outcome
            .stderr
            .contains("kubectl medusa backup delete nightly; the data stays in storage"),
        "{}",
        outcome.stderr
    );
}

#[tokio::test(start_paused = true)]
async fn medusa_saying_in_progress_after_every_node_finished_is_not_a_success() {
    let faults = Faults {
        summary_in_progress: true,
        ..Faults::default()
    };
    let (outcome, _) = create_and_wait(faults, "").await;
    assert_eq!(outcome.code, ExitCode::Failed, "{outcome:?}");
    assert!(
        outcome.stderr.contains("cassandra-medusa#965"),
        "{}",
        outcome.stderr
    );
    assert_eq!(
        outcome.stderr.lines().last().unwrap(),
        "error: backup nightly: every pod finished but Medusa's summary says IN_PROGRESS"
    );
}

#[tokio::test(start_paused = true)]
async fn an_operator_that_dies_mid_backup_leaves_the_wait_to_time_out_with_exit_2() {
    let faults = Faults {
        dies_mid_backup: true,
        ..Faults::default()
    };
    let (outcome, _) = create_and_wait(faults, "--timeout 10m").await;
    assert_eq!(outcome.code, ExitCode::TimedOut, "{outcome:?}");
    let error = outcome.stderr.lines().last().unwrap();
    assert!(
        error.starts_with(
            "error: timed out after 10m: nightly  Running  0/3 pods  backing up on 3 pod(s)"
        ),
        "{error}"
    );
    assert!(
        error.ends_with(
            "the backup goes on in the cluster; follow it with kubectl medusa backup watch nightly -n k8ssandra"
        ),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_backup_of_a_datacenter_that_loses_its_pods_never_starts_and_is_reported() {
    let (client, fake) = datacenter_with_pods();
    let _operator = operator(&client, Faults::default());
    let run = Run::on(&client).run("backup create nightly --dc dc1 --wait --timeout 5m");
    let remove_pods = async {
        fake.created("medusabackupjobs").await;
        for i in 0..3 {
            fake.remove("v1", "Pod", NS, &format!("demo-dc1-default-sts-{i}"));
        }
    };
    let (outcome, ()) = tokio::join!(run, remove_pods);
    assert_eq!(outcome.code, ExitCode::TimedOut, "{outcome:?}");
    let warnings: Vec<&str> = outcome
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning: nightly: not started"))
        .collect();
    assert_eq!(warnings.len(), 1, "reported once:\n{}", outcome.stderr);
    assert!(fake.get("medusabackupjobs", NS, "nightly").is_some());
}

#[tokio::test(start_paused = true)]
async fn wait_with_json_output_prints_only_the_final_object() {
    let (outcome, _) = create_and_wait(Faults::default(), "-o json").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    let printed: serde_json::Value = serde_json::from_str(&outcome.stdout).unwrap();
    assert_eq!(printed["kind"], "MedusaBackupJob");
    assert_eq!(printed["status"]["finished"].as_array().unwrap().len(), 3);
    assert!(outcome.stderr.is_empty(), "{}", outcome.stderr);
}

#[tokio::test(start_paused = true)]
async fn watch_on_a_terminal_draws_a_live_per_pod_view() {
    let (client, fake) = datacenter_with_pods();
    fake.put(&MedusaBackupJob::test("nightly").created("2024-05-01T12:00:00Z"));
    let _operator = operator(&client, Faults::default());
    let outcome = Run::on(&client)
        .on_terminal()
        .run("backup watch nightly")
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert!(outcome.stderr.contains("\u{1b}[2K"), "{:?}", outcome.stderr);
    assert!(
        outcome
            .stderr
            .contains("    done     demo-dc1-default-sts-0")
    );
    assert!(
        outcome
            .stderr
            .contains("    running  demo-dc1-default-sts-2")
    );
    assert_eq!(outcome.stdout, "backup nightly succeeded\n");
}

#[tokio::test]
async fn watch_of_an_unknown_backup_is_not_found() {
    let (client, _fake) = Fake::start();
    let outcome = Run::on(&client).run("backup watch nope").await;
    assert_eq!(outcome.code, ExitCode::NotFound);
    assert!(
        outcome
            .stderr
            .contains("MedusaBackupJob \"nope\" not found in namespace k8ssandra")
    );
}
