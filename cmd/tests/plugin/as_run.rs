//! The built `kubectl-medusa` binary as users run it: a kubeconfig file (token and
//! client-certificate users, a context's namespace, `--context`, `-n`, `KUBECONFIG` naming two
//! files) against an HTTPS API server that answers like the real one, with the operator
//! played write by write, and every command of the README's table; its output to a pipe that
//! closes early.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use chrono::Utc;
use medusa_crds::simulator::medusa::{Medusa, StoredBackup};
use medusa_crds::simulator::{Operator, Running, Timing};
use medusa_crds::*;
use serde_json::json;
use support::fake::https::{Context, Served, User};
use support::{Fake, NS, put_dc1_pods};

/// An API server with datacenter dc1 (three medusa pods) of K8ssandraCluster demo, its storage
/// Secret, an older backup, and the operator; a kubeconfig for user alice (a token) in
/// namespace k8ssandra.
struct Cluster {
    fake: Fake,
    served: Served,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    _operator: Running,
}

/// What one run of the binary did.
#[derive(Debug)]
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

async fn cluster() -> Cluster {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (client, fake) = Fake::start_at(Utc::now());
    fake.put(&CassandraDatacenter::test("dc1").of_k8ssandra_cluster("demo"));
    put_dc1_pods(&fake);
    let mut storage = Storage::test().with_prefix("demo");
    storage.max_backup_count = Some(7);
    fake.put(&K8ssandraCluster::test("demo").with_storage(storage));
    fake.put(&json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "medusa-bucket-key", "namespace": NS},
        "data": {"credentials": "W2RlZmF1bHRdCg=="}}));
    fake.put(&MedusaBackup::test("older").created("2024-05-01T01:05:00Z"));
    // Written after any sinceTime the session asks for.
    fake.log(
        NS,
        "demo-dc1-default-sts-0",
        "medusa",
        &[("2999-01-01T00:00:00Z", "INFO Medusa is serving")],
    );
    let served = fake.serve_https().await;
    let dir = tempfile::tempdir().unwrap();
    let alice = served.token_user("alice");
    let kubeconfig = served.write_kubeconfig(
        dir.path(),
        "config",
        &[Context::new("alice", &alice).namespace(NS)],
    );
    // Medusa holds `older` in storage too, so that a sync keeps its record.
    let medusa = Medusa::default().with_backup(StoredBackup::complete(
        "older",
        "dc1",
        "demo-dc1-default-sts",
        3,
        Utc::now() - chrono::Duration::hours(11),
    ));
    let operator = Operator::new(client, NS, Utc::now())
        .timing(Timing::brisk())
        .medusa(medusa)
        .spawn();
    Cluster {
        fake,
        served,
        dir,
        kubeconfig,
        _operator: operator,
    }
}

/// Runs the binary with `args` (a shell-like line) and these environment variables, in an
/// empty home.
async fn run_with(home: &Path, line: &str, env: &[(&str, &std::ffi::OsStr)]) -> Ran {
    let words = support::split_words(line);
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubectl-medusa"));
    command
        .args(&words)
        .env_clear()
        .env("HOME", home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().await.unwrap();
    Ran {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

impl Cluster {
    /// `kubectl medusa <line>` with `KUBECONFIG` naming the cluster's kubeconfig.
    async fn medusa(&self, line: &str) -> Ran {
        run_with(
            self.dir.path(),
            line,
            &[("KUBECONFIG", self.kubeconfig.as_os_str())],
        )
        .await
    }

    /// Who sent the last request.
    fn last_user(&self) -> Option<String> {
        self.fake.calls().pop().unwrap().user
    }

    /// The paths of the last `n` requests, sorted.
    fn last_paths(&self, n: usize) -> Vec<String> {
        let calls = self.fake.calls();
        let mut paths: Vec<String> = calls[calls.len() - n..]
            .iter()
            .map(|c| c.path.clone())
            .collect();
        paths.sort();
        paths
    }
}

fn expect(line: &str, ran: &Ran, code: i32, contains: &str) {
    assert_eq!(
        ran.code,
        Some(code),
        "kubectl medusa {line}: expected exit {code}, got {:?}\nstdout:\n{}\nstderr:\n{}",
        ran.code,
        ran.stdout,
        ran.stderr
    );
    let both = format!("{}{}", ran.stdout, ran.stderr);
    assert!(
        both.contains(contains),
        "kubectl medusa {line}: expected output containing {contains:?}\nstdout:\n{}\nstderr:\n{}",
        ran.stdout,
        ran.stderr
    );
}

/// Every command of the README's table, in an order a user could type them, with its exit
/// code and something it must print.
const SESSION: &[(&str, i32, &str)] = &[
    (
        "version",
        0,
        "medusa.k8ssandra.io served versions: v1alpha1",
    ),
    ("auth check", 0, "backup create"),
    (
        "status",
        0,
        "Datacenter dc1 (namespace k8ssandra, K8ssandraCluster demo)",
    ),
    (
        "config create s3 --provider s3 --bucket medusa --region eu-west-1 --secret medusa-bucket-key",
        0,
        "medusaconfiguration.medusa.k8ssandra.io/s3 created",
    ),
    ("config list", 0, "s3"),
    ("config describe s3", 0, "medusa-bucket-key"),
    ("config check s3", 0, "credentials"),
    ("config effective demo", 0, "bucketName"),
    (
        "backup create nightly --dc dc1 --wait",
        0,
        "backup nightly succeeded on datacenter dc1",
    ),
    ("backup list", 0, "nightly"),
    ("backup describe nightly", 0, "Succeeded"),
    ("backup watch nightly", 0, "backup nightly succeeded"),
    ("backup latest --dc dc1", 0, "nightly"),
    (
        "logs backup nightly",
        0,
        "[demo-dc1-default-sts-0] INFO Medusa is serving",
    ),
    ("restore preflight --dc dc1 --backup nightly", 0, "PASS"),
    (
        "restore create r1 --dc dc1 --backup nightly --yes --wait",
        0,
        "restore r1 succeeded",
    ),
    ("restore list", 0, "r1"),
    ("restore describe r1", 0, "Succeeded"),
    ("restore watch r1", 0, "restore r1 succeeded"),
    (
        "restore delete r1 --yes",
        0,
        "medusarestorejob.medusa.k8ssandra.io/r1 deleted",
    ),
    ("sync --dc dc1 --name s1 --wait", 0, "sync s1 succeeded"),
    ("purge --dc dc1 --preview", 0, "would delete 0 of its"),
    (
        "purge --dc dc1 --name p1 --yes --wait",
        0,
        "purge p1 succeeded",
    ),
    ("task list", 0, "p1-sync"),
    ("task describe p1", 0, "purge"),
    ("task watch p1", 0, "purge p1 succeeded"),
    (
        "task delete s1 --yes",
        0,
        "medusatask.medusa.k8ssandra.io/s1 deleted",
    ),
    (
        "schedule create weekly --dc dc1 --cron '0 2 * * 0'",
        0,
        "medusabackupschedule.medusa.k8ssandra.io/weekly created",
    ),
    ("schedule list", 0, "weekly"),
    ("schedule pause weekly", 0, "paused"),
    ("schedule resume weekly", 0, "resumed"),
    ("schedule run weekly --wait", 0, "succeeded"),
    ("schedule describe weekly", 0, "weekly-"),
    ("schedule delete weekly --yes", 0, "deleted"),
    (
        "backup delete older --yes",
        0,
        "the backups stay in the bucket",
    ),
    ("config delete s3 --yes", 0, "deleted"),
    ("completion bash", 0, "kubectl"),
];

#[test]
fn the_session_runs_every_command_of_the_tree() {
    let all = kubectl_medusa::commands::auth::leaf_commands();
    let missing: Vec<&String> = all
        .iter()
        .filter(|c| {
            c.as_str() != "validate"
                && !SESSION
                    .iter()
                    .any(|(line, _, _)| line.starts_with(&format!("{c} ")) || line == c)
        })
        .collect();
    assert!(
        missing.is_empty(),
        "commands the binary session never runs: {missing:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_runs_with_a_kubeconfig_against_the_operator() {
    let cluster = cluster().await;
    for (line, code, contains) in SESSION {
        let ran = cluster.medusa(line).await;
        expect(line, &ran, *code, contains);
    }
    let manifest = cluster.dir.path().join("backup.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: medusa.k8ssandra.io/v1alpha1\nkind: MedusaBackupJob\nmetadata: {name: later, namespace: k8ssandra}\nspec: {cassandraDatacenter: dc1}\n",
    )
    .unwrap();
    // dc1 is only in the cluster: the live view finds it.
    let line = format!("validate -f {} --cluster-view live", manifest.display());
    let ran = cluster.medusa(&line).await;
    expect(&line, &ran, 0, "1 object(s) checked: no finding.");
    let line = format!("validate -f {}", manifest.display());
    let ran = cluster.medusa(&line).await;
    expect(&line, &ran, 3, "J1");
    // The binary's requests came over HTTPS as alice; the simulated operator's come in process.
    let users: std::collections::BTreeSet<Option<String>> =
        cluster.fake.calls().into_iter().map(|c| c.user).collect();
    assert_eq!(users, [None, Some("alice".to_owned())].into());
}

/// The entry of `auth check` for a command line: its longest command name.
fn permissions_of(line: &str) -> Option<&'static [kubectl_medusa::commands::auth::Permission]> {
    kubectl_medusa::commands::auth::COMMANDS
        .iter()
        .filter(|(name, _)| line == *name || line.starts_with(&format!("{name} ")))
        .max_by_key(|(name, _)| name.len())
        .map(|(_, permissions)| *permissions)
}

/// Commands that need no permission beyond what every authenticated user has: they ask the
/// API server about the user itself, or read only to enrich what they print.
const NEEDS_NOTHING: &[&str] = &["version", "auth check", "completion"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_a_command_makes_is_in_its_auth_check_entry() {
    let cluster = cluster().await;
    let mut uncovered = Vec::new();
    for (line, code, contains) in SESSION {
        let before = cluster.fake.calls().len();
        let ran = cluster.medusa(line).await;
        expect(line, &ran, *code, contains);
        let calls: Vec<_> = cluster.fake.calls()[before..]
            .iter()
            .filter(|c| c.user.as_deref() == Some("alice"))
            .filter_map(support::fake::Call::permission)
            .collect();
        if NEEDS_NOTHING.iter().any(|c| line.starts_with(c)) {
            continue;
        }
        let Some(permissions) = permissions_of(line) else {
            uncovered.push(format!(
                "{line}: no entry in auth.rs COMMANDS, calls {calls:?}"
            ));
            continue;
        };
        for (verb, group, resource) in calls {
            let covered = permissions
                .iter()
                .any(|p| p.verb == verb && p.group == group && p.resource == resource);
            if !covered {
                uncovered.push(format!("{line}: {verb} {resource} ({group:?})"));
            }
        }
    }
    let manifest = cluster.dir.path().join("later.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: medusa.k8ssandra.io/v1alpha1\nkind: MedusaBackupJob\nmetadata: {name: later, namespace: k8ssandra}\nspec: {cassandraDatacenter: dc1}\n",
    )
    .unwrap();
    let before = cluster.fake.calls().len();
    let line = format!("validate -f {} --cluster-view live", manifest.display());
    expect(&line, &cluster.medusa(&line).await, 0, "no finding");
    let permissions = permissions_of("validate --cluster-view live").unwrap_or_default();
    for call in &cluster.fake.calls()[before..] {
        if let Some((verb, group, resource)) = call.permission()
            && !permissions
                .iter()
                .any(|p| p.verb == verb && p.group == group && p.resource == resource)
        {
            uncovered.push(format!(
                "validate --cluster-view live: {verb} {resource} ({group:?})"
            ));
        }
    }
    assert!(
        uncovered.is_empty(),
        "calls the commands made that their `auth check` entry does not list (expected every call covered):\n{}",
        uncovered.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_namespace_of_the_context_is_used_and_dash_n_overrides_it() {
    let cluster = cluster().await;
    let ran = cluster.medusa("backup list").await;
    expect("backup list", &ran, 0, "older");
    // The list reads the jobs and the records at once.
    assert_eq!(
        cluster.last_paths(2),
        [
            "/apis/medusa.k8ssandra.io/v1alpha1/namespaces/k8ssandra/medusabackupjobs",
            "/apis/medusa.k8ssandra.io/v1alpha1/namespaces/k8ssandra/medusabackups",
        ]
    );
    let ran = cluster.medusa("backup list -n elsewhere").await;
    expect(
        "backup list -n elsewhere",
        &ran,
        0,
        "No backups found in namespace elsewhere.",
    );
    assert_eq!(
        cluster.last_paths(2),
        [
            "/apis/medusa.k8ssandra.io/v1alpha1/namespaces/elsewhere/medusabackupjobs",
            "/apis/medusa.k8ssandra.io/v1alpha1/namespaces/elsewhere/medusabackups",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_certificate_user_is_chosen_with_dash_dash_context() {
    let cluster = cluster().await;
    let alice = cluster.served.token_user("alice");
    let ops: User = cluster.served.certificate_user("ops");
    let path = cluster.served.write_kubeconfig(
        cluster.dir.path(),
        "two-users",
        &[
            Context::new("alice", &alice).namespace(NS),
            Context::new("ops", &ops).namespace(NS),
        ],
    );
    let line = format!("--kubeconfig {} --context ops backup list", path.display());
    let ran = run_with(cluster.dir.path(), &line, &[]).await;
    expect(&line, &ran, 0, "older");
    assert_eq!(cluster.last_user().as_deref(), Some("ops"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubeconfig_naming_two_files_merges_them() {
    let cluster = cluster().await;
    let bob = cluster.served.token_user("bob");
    // The first file holds the cluster and a context naming user bob-user; the second, bob.
    let full = cluster
        .served
        .kubeconfig(&[Context::new("bob", &bob).namespace(NS)]);
    let mut config: serde_json::Value = serde_saphyr::from_str(&full).unwrap();
    let users = config["users"].take();
    let first = cluster.dir.path().join("clusters");
    std::fs::write(&first, serde_saphyr::to_string(&config).unwrap()).unwrap();
    let second = cluster.dir.path().join("users");
    std::fs::write(
        &second,
        serde_saphyr::to_string(&json!({"apiVersion": "v1", "kind": "Config", "users": users}))
            .unwrap(),
    )
    .unwrap();
    let joined = std::env::join_paths([&first, &second]).unwrap();
    let ran = run_with(
        cluster.dir.path(),
        "backup list",
        &[("KUBECONFIG", &joined)],
    )
    .await;
    expect("backup list (KUBECONFIG=clusters:users)", &ran, 0, "older");
    assert_eq!(cluster.last_user().as_deref(), Some("bob"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_effective_of_a_cluster_runs_with_a_real_kubeconfig() {
    let cluster = cluster().await;
    let ran = cluster.medusa("config effective demo").await;
    expect("config effective demo", &ran, 0, "prefix");
    assert!(
        !ran.stderr.contains("failed to load the cluster"),
        "{}",
        ran.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_without_rights_exits_5_naming_the_permission() {
    let cluster = cluster().await;
    let viewer = cluster.served.token_user("viewer");
    cluster
        .fake
        .deny_user("viewer", "create", "medusabackupjobs.medusa.k8ssandra.io");
    let path = cluster.served.write_kubeconfig(
        cluster.dir.path(),
        "viewer",
        &[Context::new("viewer", &viewer).namespace(NS)],
    );
    let line = format!(
        "--kubeconfig {} backup create nightly --dc dc1",
        path.display()
    );
    let ran = run_with(cluster.dir.path(), &line, &[]).await;
    expect(
        &line,
        &ran,
        5,
        "you need create on medusabackupjobs.medusa.k8ssandra.io in namespace k8ssandra",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_the_api_server_rejects_exit_1_saying_so() {
    let cluster = cluster().await;
    let mut stranger = cluster.served.token_user("stranger");
    stranger.credential = support::fake::https::Credential::Token("expired".into());
    let path = cluster.served.write_kubeconfig(
        cluster.dir.path(),
        "stranger",
        &[Context::new("stranger", &stranger)],
    );
    let line = format!("--kubeconfig {} backup list", path.display());
    let ran = run_with(cluster.dir.path(), &line, &[]).await;
    expect(&line, &ran, 1, "does not accept the credentials");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipe_closed_early_ends_the_command_quietly() {
    let cluster = cluster().await;
    // More than a pipe's buffer (64 KiB): the writes outlast the reader.
    for i in 0..1_500 {
        cluster
            .fake
            .put(&MedusaBackup::test(&format!("b{i:04}")).created("2024-05-01T01:05:00Z"));
    }
    // `kubectl medusa backup list | head -1`: the reader reads one line and goes away.
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubectl-medusa"))
        .args(["backup", "list"])
        .env_clear()
        .env("HOME", cluster.dir.path())
        .env("KUBECONFIG", &cluster.kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines =
        tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::with_capacity(64, stdout));
    let first = lines.next_line().await.unwrap().unwrap();
    assert!(first.starts_with("NAME"), "{first}");
    drop(lines);
    let output = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "nothing is said to no one: {stderr}");
}
