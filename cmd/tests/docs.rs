//! Generated documentation stays in step with the code: `docs/rbac.md` from the permission
//! table of `auth check`. `UPDATE_DOCS=1` (or `just generate`) rewrites it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::path::Path;

#[test]
fn the_rbac_page_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/rbac.md");
    let expected = kubectl_medusa::commands::auth::rbac_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/rbac.md is stale: run `just generate` (UPDATE_DOCS=1 cargo test -p kubectl-medusa --test docs)"
    );
}

#[test]
fn every_command_with_api_calls_has_its_permissions() {
    let documented: Vec<&str> = kubectl_medusa::commands::auth::COMMANDS
        .iter()
        .map(|(name, _)| *name)
        .collect();
    for command in [
        "backup create",
        "backup list",
        "backup describe",
        "backup watch",
        "backup delete",
        "backup latest",
        "restore create",
        "restore preflight",
        "restore list",
        "restore describe",
        "restore watch",
        "restore delete",
        "sync",
        "purge",
        "task list",
        "task describe",
        "task watch",
        "task delete",
        "schedule create",
        "schedule list",
        "schedule describe",
        "schedule pause",
        "schedule resume",
        "schedule run",
        "schedule delete",
        "config create",
        "config list",
        "config describe",
        "config check",
        "config delete",
        "config effective",
        "status",
    ] {
        assert!(
            documented.contains(&command),
            "{command} has no permission list"
        );
    }
}
