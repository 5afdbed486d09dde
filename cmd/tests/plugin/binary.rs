//! The `kubectl-medusa` binary itself: exit codes of the argument parser, standard input, and
//! `--dry-run=client` with no cluster and no kubeconfig at all.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs the binary in an empty home, with no kubeconfig.
fn medusa(args: &[&str], stdin: Option<&str>, kubeconfig: Option<&std::path::Path>) -> Output {
    let home = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_kubectl-medusa"));
    command
        .args(args)
        .env_clear()
        .env("HOME", home.path())
        .env(
            "KUBECONFIG",
            kubeconfig.unwrap_or(&home.path().join("none")),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_says_kubectl_medusa_and_exits_0() {
    let output = medusa(&["--help"], None, None);
    assert_eq!(output.status.code(), Some(0));
    let help = text(&output.stdout);
    assert!(help.contains("Usage: kubectl medusa"), "{help}");
    assert!(help.contains("Exit codes: 0 succeeded, 1 the operation failed, 2 a wait timed out"));
}

#[test]
fn a_usage_error_exits_3() {
    let output = medusa(
        &["backup", "create", "--type", "incremental", "--dc", "dc1"],
        None,
        None,
    );
    assert_eq!(output.status.code(), Some(3));
    assert!(text(&output.stderr).contains("invalid value 'incremental'"));
}

#[test]
fn client_dry_run_works_without_any_kubeconfig_in_namespace_default() {
    let output = medusa(
        &[
            "backup",
            "create",
            "nightly",
            "--dc",
            "dc1",
            "--dry-run=client",
        ],
        None,
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let manifest = text(&output.stdout);
    assert!(manifest.contains("kind: MedusaBackupJob"));
    assert!(manifest.contains("namespace: default"), "{manifest}");
}

#[test]
fn client_dry_run_takes_the_namespace_of_the_kubeconfig_context() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: prod\ncontexts:\n- name: prod\n  context: {cluster: unreachable, user: nobody, namespace: cassandra}\nclusters:\n- name: unreachable\n  cluster: {server: 'https://127.0.0.1:1'}\nusers:\n- name: nobody\n  user: {}\n",
    )
    .unwrap();
    let output = medusa(
        &["sync", "--dc", "dc1", "--dry-run=client"],
        None,
        Some(&kubeconfig),
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("namespace: cassandra"));
}

#[test]
fn validate_reads_standard_input() {
    let output = medusa(
        &["validate", "-f", "-"],
        Some(
            "apiVersion: medusa.k8ssandra.io/v1alpha1\nkind: MedusaBackupSchedule\nmetadata: {name: hourly, namespace: k8ssandra}\nspec:\n  cronSchedule: '0 * * *'\n  backupSpec: {cassandraDatacenter: dc1}\n",
        ),
        None,
    );
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    let table = text(&output.stdout);
    assert!(table.contains("<stdin>#0"), "{table}");
    assert!(table.contains("S1"), "{table}");
}

#[test]
fn an_unreachable_cluster_exits_1_and_says_what_to_check() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\nusers:\n- name: u\n  user: {token: t}\n",
    )
    .unwrap();
    let output = medusa(
        &["backup", "list", "--request-timeout", "2s"],
        None,
        Some(&kubeconfig),
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("check the cluster is reachable"),
        "{}",
        text(&output.stderr)
    );
}

/// The commit part of a `--version` line: twelve hex digits (and `-modified` for a work tree
/// with changes), or `unknown` for a build outside git.
fn is_commit(text: &str) -> bool {
    let hash = text.strip_suffix("-modified").unwrap_or(text);
    hash == "unknown" || (hash.len() == 12 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[test]
fn version_prints_the_version_and_the_git_commit() {
    let output = medusa(&["--version"], None, None);
    assert_eq!(output.status.code(), Some(0));
    let line = text(&output.stdout);
    let rest = line
        .trim()
        .strip_prefix(&format!(
            "kubectl medusa {} (commit ",
            env!("CARGO_PKG_VERSION")
        ))
        .unwrap_or_else(|| panic!("{line:?}"));
    let commit = rest.strip_suffix(')').unwrap_or_else(|| panic!("{line:?}"));
    assert!(is_commit(commit), "{line:?}");
}
