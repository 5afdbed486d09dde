//! `status`, `validate`, `auth check`, `version` and completion against a fake API server.

use crate::support;

use kubectl_medusa::error::ExitCode;
use medusa_crds::*;
use serde_json::{Value, json};
use support::{Fake, Run, pod};

fn ready_pod(name: &str, medusa_ready: bool) -> Value {
    let mut pod = pod(name, "demo", "dc1", true);
    pod["status"] = json!({"containerStatuses": [
        {"name": "cassandra", "ready": true, "restartCount": 0, "image": "cassandra", "imageID": ""},
        {"name": "medusa", "ready": medusa_ready, "restartCount": 0, "image": "medusa", "imageID": ""},
    ]});
    pod
}

/// dc1 of K8ssandraCluster demo (configuration s3, 7 backups kept), pods, backups, a failed
/// purge, a running sync and a schedule.
fn cluster() -> (kube::Client, Fake) {
    let (client, fake) = Fake::start();
    fake.put(&CassandraDatacenter::test("dc1").of_k8ssandra_cluster("demo"));
    fake.put(&ready_pod("demo-dc1-default-sts-0", true));
    fake.put(&ready_pod("demo-dc1-default-sts-1", false));
    let mut storage = Storage::test();
    storage.max_backup_count = Some(7);
    fake.put(
        &MedusaConfiguration::test("s3")
            .with_storage(storage)
            .condition("Ready", "True", ""),
    );
    fake.put(&K8ssandraCluster::test("demo").configuration_ref("s3"));
    fake.put(
        &MedusaBackupJob::test("nightly-1")
            .created("2024-05-01T01:30:00Z")
            .started("2024-05-01T01:30:00Z")
            .finished_at("2024-05-01T01:34:00Z")
            .finished_pods(&["demo-dc1-default-sts-0", "demo-dc1-default-sts-1"]),
    );
    fake.put(
        &MedusaBackup::test("nightly-1")
            .times("2024-05-01T01:30:00Z", Some("2024-05-01T01:34:00Z"))
            .nodes(2, 2),
    );
    fake.put(
        &MedusaTask::test("purge-1", Operation::Purge)
            .created("2024-04-30T03:00:00Z")
            .started("2024-04-30T03:00:00Z")
            .finished_at("2024-04-30T03:01:00Z")
            .failed_pods(&["demo-dc1-default-sts-1"]),
    );
    fake.put(
        &MedusaTask::test("sync-1", Operation::Sync)
            .created("2024-05-01T11:59:00Z")
            .started("2024-05-01T11:59:01Z"),
    );
    fake.put(
        &MedusaBackupSchedule::test("nightly")
            .executed(Some("2024-05-01T01:30:00Z"), Some("2024-05-02T01:30:00Z")),
    );
    (client, fake)
}

// === status ===

#[tokio::test]
async fn status_puts_everything_about_a_datacenter_on_one_screen() {
    let (client, _fake) = cluster();
    let outcome = Run::on(&client).run("status").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    insta::assert_snapshot!("status", outcome.stdout);
}

#[tokio::test]
async fn status_json_has_named_fields() {
    let (client, _fake) = cluster();
    let outcome = Run::on(&client).run("status --dc dc1 -o json").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    let reports: Value = serde_json::from_str(&outcome.stdout).unwrap();
    let report = &reports[0];
    assert_eq!(report["lastGoodBackup"]["name"], "nightly-1");
    assert_eq!(
        report["configuration"],
        json!({"name": "s3", "ready": true})
    );
    assert_eq!(
        report["retention"],
        json!({"maxBackupAge": 0, "maxBackupCount": 7})
    );
    assert_eq!(report["failures"][0]["name"], "purge-1");
    assert_eq!(report["running"][0]["kind"], "sync");
    assert_eq!(
        report["medusaPods"][1],
        json!({"pod": "demo-dc1-default-sts-1", "ready": false})
    );
}

#[tokio::test]
async fn status_without_datacenters_says_where_to_look() {
    let (client, _fake) = Fake::start();
    let outcome = Run::on(&client).run("status").await;
    assert_eq!(outcome.code, ExitCode::NotFound);
    assert!(
        outcome
            .stderr
            .contains("no CassandraDatacenter in namespace k8ssandra")
    );
}

// === validate ===

fn examples() -> String {
    format!("{}/../manifests/examples", env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test]
async fn validate_accepts_the_sample_manifests_without_a_cluster() {
    let outcome = Run::offline()
        .run(&format!("validate -f {}", examples()))
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert!(outcome.stderr.contains("0 denial(s)"), "{}", outcome.stderr);
}

#[tokio::test]
async fn validate_denies_each_common_mistake_with_exit_3() {
    let outcome = Run::offline()
        .run(&format!("validate -R -f {} -o json", examples()))
        .await;
    assert_eq!(outcome.code, ExitCode::Usage, "{outcome:?}");
    let rows: Vec<Value> = serde_json::from_str(&outcome.stdout).unwrap();
    let denied: Vec<String> = rows
        .iter()
        .filter(|r| r["severity"] == "deny")
        .map(|r| {
            format!(
                "{} {}",
                r["rule"].as_str().unwrap(),
                r["object"].as_str().unwrap()
            )
        })
        .collect();
    insta::assert_snapshot!("validate_mistakes", denied.join("\n"));
}

#[tokio::test]
async fn validate_of_a_missing_file_is_a_usage_error() {
    let outcome = Run::offline().run("validate -f /nonexistent.yaml").await;
    assert_eq!(outcome.code, ExitCode::Usage);
    assert!(outcome.stderr.contains("/nonexistent.yaml does not exist"));
}

#[tokio::test]
async fn validate_with_the_live_view_adds_the_cluster_objects() {
    let (client, fake) = cluster();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("job.yaml");
    // nightly-1 exists in the cluster: a job of that name would have no record.
    std::fs::write(
        &path,
        "apiVersion: medusa.k8ssandra.io/v1alpha1\nkind: MedusaBackupJob\nmetadata:\n  name: nightly-1\n  namespace: k8ssandra\nspec:\n  cassandraDatacenter: dc1\n",
    )
    .unwrap();
    let offline = Run::on(&client)
        .run(&format!("validate -f {}", path.display()))
        .await;
    assert_eq!(offline.code, ExitCode::Usage, "files only: dc1 is unknown");
    let live = Run::on(&client)
        .run(&format!(
            "validate -f {} --cluster-view live",
            path.display()
        ))
        .await;
    assert_eq!(live.code, ExitCode::Usage, "{live:?}");
    assert!(
        live.stdout
            .contains("MedusaBackup \"nightly-1\" already exists"),
        "{}",
        live.stdout
    );
    assert!(fake.writes().is_empty(), "validate never writes");
}

// === auth check ===

#[tokio::test]
async fn auth_check_asks_the_api_server_for_each_permission_of_a_command() {
    let (client, fake) = Fake::start();
    let fake = fake.deny("create", "medusabackupjobs.medusa.k8ssandra.io");
    let outcome = Run::on(&client).run("auth check backup create").await;
    assert_eq!(outcome.code, ExitCode::Forbidden, "{outcome:?}");
    insta::assert_snapshot!("auth_check", outcome.stdout);
    let reviews: Vec<Value> = fake
        .writes()
        .into_iter()
        .filter(|c| c.path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
        .map(|c| c.body.unwrap()["spec"]["resourceAttributes"].clone())
        .collect();
    assert_eq!(
        reviews[0],
        json!({"namespace": "k8ssandra", "verb": "create", "group": "medusa.k8ssandra.io", "resource": "medusabackupjobs"})
    );
    assert!(
        outcome
            .stderr
            .contains("you need create on medusabackupjobs.medusa.k8ssandra.io")
    );
}

#[tokio::test]
async fn auth_check_of_an_unknown_command_lists_the_known_ones() {
    let (client, _fake) = Fake::start();
    let outcome = Run::on(&client).run("auth check frobnicate").await;
    assert_eq!(outcome.code, ExitCode::Usage);
    assert!(outcome.stderr.contains("known: backup create"));
}

// === version ===

#[tokio::test]
async fn version_reports_the_operator_and_the_served_medusa_versions() {
    let (client, fake) = Fake::start();
    fake.put(&json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "k8ssandra-operator", "namespace": "k8ssandra-operator",
                     "labels": {"app.kubernetes.io/name": "k8ssandra-operator"}},
        "spec": {"selector": {}, "template": {"spec": {"containers": [
            {"name": "k8ssandra-operator", "image": "cr.k8ssandra.io/k8ssandra/k8ssandra-operator:v1.21.0"}]}}}
    }));
    let outcome = Run::on(&client).run("version").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    let lines: Vec<&str> = outcome.stdout.lines().collect();
    assert_eq!(
        lines[0],
        format!("kubectl-medusa: {}", kubectl_medusa::version())
    );
    assert!(
        lines[0].starts_with(&format!(
            "kubectl-medusa: {} (commit ",
            env!("CARGO_PKG_VERSION")
        )),
        "{}",
        lines[0]
    );
    assert_eq!(lines[1], "k8ssandra-operator: v1.21.0");
    assert_eq!(lines[2], "medusa.k8ssandra.io served versions: v1alpha1");
}

#[tokio::test]
async fn version_on_a_cluster_without_the_operator_says_it_is_not_installed() {
    let (client, _fake) = Fake::start();
    let outcome = Run::on(&client).run("version").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    let line = outcome.stdout.lines().nth(1).unwrap();
    assert!(
        line.starts_with("k8ssandra-operator: not found: no Deployment labelled app.kubernetes.io/name=k8ssandra-operator"),
        "{line}"
    );
    assert!(
        !outcome.stdout.contains("permissions"),
        "{}",
        outcome.stdout
    );
}

#[tokio::test]
async fn version_without_the_right_to_list_deployments_says_so() {
    let (client, fake) = Fake::start();
    fake.fail(
        "GET",
        "/apis/apps/v1/deployments",
        403,
        "deployments.apps is forbidden: User \"dev\" cannot list resource \"deployments\" in API group \"apps\" at the cluster scope",
    );
    let outcome = Run::on(&client).run("version").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert_eq!(
        outcome.stdout.lines().nth(1).unwrap(),
        "k8ssandra-operator: unknown: you cannot list Deployments in all namespaces (you need list on deployments.apps cluster-wide)"
    );
}

#[tokio::test]
async fn version_says_when_the_medusa_crds_are_missing() {
    let (client, fake) = Fake::start();
    let _fake = fake.without_group("medusa.k8ssandra.io");
    let outcome = Run::on(&client).run("version").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert!(
        outcome
            .stdout
            .contains("medusa.k8ssandra.io: not served: Medusa CRDs not found")
    );
}

#[tokio::test]
async fn version_without_a_cluster_still_prints_the_plugin_version() {
    let outcome = Run::offline().run("version").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert!(outcome.stdout.contains("cluster: unreachable"));
}

// === completion ===

#[tokio::test]
async fn completion_offers_the_names_in_the_cluster() {
    let (client, fake) = cluster();
    let outcome = Run::on(&client)
        .run("-n k8ssandra __complete backup describe nig")
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert_eq!(outcome.stdout, "nightly-1\n:4\n");
    let outcome = Run::on(&client)
        .run("-n k8ssandra __complete backup create --dc ''")
        .await;
    assert_eq!(outcome.stdout, "dc1\n:4\n");
    drop(fake);
}

#[tokio::test]
async fn completion_is_silent_when_the_cluster_is_unreachable() {
    let outcome = Run::offline()
        .run("-n k8ssandra __complete schedule pause ''")
        .await;
    assert_eq!(outcome.code, ExitCode::Success);
    assert_eq!(outcome.stdout, ":4\n");
    assert_eq!(outcome.stderr, "");
}

#[tokio::test]
async fn the_bash_script_completes_kubectl_medusa() {
    let outcome = Run::offline().run("completion bash").await;
    assert_eq!(outcome.code, ExitCode::Success);
    assert!(
        outcome.stdout.contains("kubectl"),
        "{}",
        &outcome.stdout[..200.min(outcome.stdout.len())]
    );
}

#[tokio::test]
async fn the_kubectl_helper_is_installed_executable() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = Run::offline()
        .run(&format!(
            "completion kubectl-helper --install {}",
            dir.path().display()
        ))
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    let shim = dir.path().join("kubectl_complete-medusa");
    let text = std::fs::read_to_string(&shim).unwrap();
    assert!(text.contains("kubectl-medusa __complete"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&shim).unwrap().permissions().mode() & 0o111,
            0o111
        );
    }
}
