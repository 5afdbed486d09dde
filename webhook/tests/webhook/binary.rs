//! The `medusa-webhook` binary as it is run: its logs as a container runtime or a pipe
//! receives them.

use std::process::{Command, Stdio};

/// Runs the binary with no way to reach a cluster, so it logs why it stops and exits.
fn run_without_a_cluster(args: &[&str]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_medusa-webhook"))
        .args(args)
        .env("KUBECONFIG", dir.path().join("missing-kubeconfig"))
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT")
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG")
        .env("HOME", dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn text_logs_written_to_a_pipe_carry_no_colour_codes() {
    let (success, stdout) = run_without_a_cluster(&["--log-format", "text"]);
    assert!(!success, "it cannot run without a cluster");
    assert!(stdout.contains("medusa-webhook stopped"), "{stdout:?}");
    assert!(
        !stdout.contains('\u{1b}'),
        "ANSI codes in a pipe: {stdout:?}"
    );
}

#[test]
fn json_logs_are_one_object_per_line() {
    let (_, stdout) = run_without_a_cluster(&["--log-format", "json"]);
    let line = stdout
        .lines()
        .find(|l| l.contains("medusa-webhook stopped"));
    let line = line.unwrap_or_else(|| panic!("no stop line in {stdout:?}"));
    let value: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(value["level"], "ERROR");
    assert!(
        value["error"]
            .as_str()
            .unwrap()
            .contains("cannot configure a Kubernetes client"),
        "{value}"
    );
}

#[test]
fn version_prints_the_version_and_the_git_commit() {
    let output = Command::new(env!("CARGO_BIN_EXE_medusa-webhook"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(output.status.success());
    let line = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let commit = line
        .strip_prefix(&format!(
            "medusa-webhook {} (commit ",
            env!("CARGO_PKG_VERSION")
        ))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{line:?}"));
    let hash = commit.strip_suffix("-modified").unwrap_or(commit);
    assert!(
        hash == "unknown" || (hash.len() == 12 && hash.bytes().all(|b| b.is_ascii_hexdigit())),
        "{line:?}"
    );
}
