//! Generated documentation stays in step with the code: `docs/rbac.md` from the permission
//! table of `auth check`. `UPDATE_DOCS=1` (or `just generate`) rewrites it.

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
        "docs/rbac.md is stale: run `just generate` (UPDATE_DOCS=1 cargo test -p kubectl-medusa --test plugin -- docs::)"
    );
}

/// Commands whose every call any authenticated user may make: `version` and `auth check`
/// ask about the user and the API server, `completion` makes none, and `validate` reads only
/// files (its `--cluster-view live` entry is checked on its own).
const NEEDS_NOTHING: &[&str] = &["version", "auth check", "completion", "validate"];

#[test]
fn every_command_of_the_tree_has_its_permissions() {
    let documented: Vec<&str> = kubectl_medusa::commands::auth::COMMANDS
        .iter()
        .map(|(name, _)| *name)
        .collect();
    let tree = kubectl_medusa::commands::auth::leaf_commands();
    let stale: Vec<&&str> = documented
        .iter()
        .filter(|c| **c != "validate --cluster-view live" && !tree.iter().any(|t| t == **c))
        .collect();
    assert!(
        stale.is_empty(),
        "permission lists of commands the command line does not have (expected none): {stale:?}"
    );
    let missing: Vec<String> = tree
        .into_iter()
        .filter(|c| !NEEDS_NOTHING.contains(&c.as_str()) && !documented.contains(&c.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "commands without a permission list in auth.rs COMMANDS (expected none): {missing:?}"
    );
    assert!(documented.contains(&"validate --cluster-view live"));
}
