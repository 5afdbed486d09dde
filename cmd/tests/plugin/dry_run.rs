//! `--dry-run=client`: the manifests printed for GitOps, with no cluster at all.

use crate::support;

use kubectl_medusa::error::ExitCode;
use support::Run;

async fn manifest(line: &str) -> String {
    let outcome = Run::offline().run(line).await;
    assert_eq!(outcome.code, ExitCode::Success, "{line}: {outcome:?}");
    outcome.stdout
}

#[tokio::test]
async fn backup_create() {
    insta::assert_snapshot!(
        manifest("backup create nightly --dc dc1 --type full --label team=data --dry-run=client")
            .await
    );
}

#[tokio::test]
async fn backup_create_as_json() {
    insta::assert_snapshot!(manifest("backup create --dc dc1 --dry-run=client -o json").await);
}

#[tokio::test]
async fn backup_create_from_a_schedule() {
    insta::assert_snapshot!(
        manifest("backup create --dc dc1 --from-schedule nightly --dry-run=client -o name").await
    );
}

#[tokio::test]
async fn restore_create() {
    insta::assert_snapshot!(
        manifest("restore create --dc dc1 --backup nightly --dry-run=client").await
    );
}

#[tokio::test]
async fn sync() {
    insta::assert_snapshot!(manifest("sync --dc dc1 --dry-run=client").await);
}

#[tokio::test]
async fn purge_needs_no_confirmation_in_a_dry_run() {
    insta::assert_snapshot!(manifest("purge --dc dc1 --dry-run=client").await);
}

#[tokio::test]
async fn schedule_create() {
    insta::assert_snapshot!(
        manifest("schedule create weekly-purge --dc dc1 --cron 'CRON_TZ=Europe/Paris 0 3 * * 0' --operation purge --dry-run=client").await
    );
}

#[tokio::test]
async fn schedule_create_disabled() {
    insta::assert_snapshot!(
        manifest(
            "schedule create nightly --dc dc1 --cron @daily --disabled --dry-run=client -o json"
        )
        .await
    );
}

#[tokio::test]
async fn config_create_role_based() {
    insta::assert_snapshot!(
        manifest("config create s3 --provider s3 --bucket medusa --region eu-west-1 --role-based --max-backup-age 30 --dry-run=client").await
    );
}

#[tokio::test]
async fn config_create_with_credentials_prints_the_secret_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.json");
    std::fs::write(
        &path,
        "{\"type\": \"service_account\", \"private_key\": \"-----BEGIN PRIVATE KEY-----\"}",
    )
    .unwrap();
    let yaml = manifest(&format!(
        "config create gcs --provider google_storage --bucket medusa --credentials-file {} --dry-run=client",
        path.display()
    ))
    .await;
    insta::assert_snapshot!(yaml);
    let json = manifest(&format!(
        "config create gcs --provider google_storage --bucket medusa --credentials-file {} --dry-run=client -o json",
        path.display()
    ))
    .await;
    let list: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"][0]["kind"], "Secret");
    assert_eq!(list["items"][1]["kind"], "MedusaConfiguration");
}

#[tokio::test]
async fn a_server_dry_run_needs_the_cluster() {
    let outcome = Run::offline()
        .run("backup create nightly --dc dc1 --dry-run=server")
        .await;
    assert_eq!(outcome.code, ExitCode::Failed);
    assert!(
        outcome
            .stderr
            .contains("cannot read the kubeconfig /nonexistent/kubeconfig"),
        "{}",
        outcome.stderr
    );
}
