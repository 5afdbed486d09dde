//! `kubectl medusa config ...` against a fake API server.

use crate::support;

use base64::Engine as _;
use kubectl_medusa::error::ExitCode;
use medusa_crds::*;
use serde_json::json;
use support::{Fake, NS, Run};

const SECRETS: &str = "/api/v1/namespaces/k8ssandra/secrets";
const CONFIGS: &str =
    "/apis/medusa.k8ssandra.io/v1alpha1/namespaces/k8ssandra/medusaconfigurations";

const AWS_CREDENTIALS: &str =
    "[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = c2VjcmV0\n";

fn credentials_file(contents: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials");
    std::fs::write(&path, contents).unwrap();
    (dir, path.display().to_string())
}

fn secret(name: &str, with_key: bool) -> serde_json::Value {
    let key = if with_key { "credentials" } else { "other" };
    json!({"apiVersion": "v1", "kind": "Secret",
           "metadata": {"name": name, "namespace": NS},
           "data": {key: base64::engine::general_purpose::STANDARD.encode("x")}})
}

// === create ===

#[tokio::test]
async fn create_with_a_credentials_file_creates_the_secret_then_the_configuration() {
    let (client, fake) = Fake::start();
    let (_dir, path) = credentials_file(AWS_CREDENTIALS);
    let outcome = Run::on(&client)
        .run(&format!(
            "config create minio --provider s3_compatible --bucket medusa --host minio.minio --port 9000 --credentials-file {path} --max-backup-count 7"
        ))
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        "secret/minio-credentials created\nmedusaconfiguration.medusa.k8ssandra.io/minio created\n"
    );
    let writes = fake.writes();
    assert_eq!(writes[0].path, SECRETS);
    let secret = writes[0].body.clone().unwrap();
    let stored = base64::engine::general_purpose::STANDARD
        .decode(secret["data"]["credentials"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        stored,
        AWS_CREDENTIALS.as_bytes(),
        "the file, whole, under `credentials`"
    );
    assert_eq!(writes[1].path, CONFIGS);
    insta::assert_json_snapshot!("create_body", writes[1].body.clone().unwrap());
}

#[tokio::test]
async fn create_refuses_a_credentials_file_in_the_wrong_format() {
    let (client, fake) = Fake::start();
    let (_dir, path) = credentials_file("{\"not\": \"aws\"}");
    let outcome = Run::on(&client)
        .run(&format!(
            "config create s3 --provider s3 --bucket b --region us-east-1 --credentials-file {path}"
        ))
        .await;
    assert_eq!(outcome.code, ExitCode::Usage);
    assert!(
        outcome
            .stderr
            .contains("an S3 credentials file is an INI file")
    );
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn create_needs_a_host_for_s3_compatible_storage() {
    let (client, _fake) = Fake::start();
    let outcome = Run::on(&client)
        .run("config create minio --provider s3_compatible --bucket b --secret s")
        .await;
    assert_eq!(outcome.code, ExitCode::Usage);
    assert!(outcome.stderr.contains("needs --host"));
}

#[tokio::test]
async fn create_needs_a_way_to_authenticate() {
    let (client, _fake) = Fake::start();
    let outcome = Run::on(&client)
        .run("config create s3 --provider s3 --bucket b")
        .await;
    assert_eq!(outcome.code, ExitCode::Usage);
    assert!(outcome.stderr.contains("--secret NAME"));
}

#[tokio::test]
async fn create_referencing_a_missing_secret_is_denied_locally() {
    let (client, fake) = Fake::start();
    let outcome = Run::on(&client)
        .run("config create s3 --provider s3 --bucket b --region us-east-1 --secret absent")
        .await;
    assert_eq!(outcome.code, ExitCode::Usage, "{outcome:?}");
    assert!(outcome.stderr.contains("\"absent\""), "{}", outcome.stderr);
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn create_with_an_existing_secret_reads_only_its_keys() {
    let (client, fake) = Fake::start();
    fake.put(&secret("bucket-key", true));
    let outcome = Run::on(&client)
        .run("config create s3 --provider s3 --bucket b --region us-east-1 --secret bucket-key")
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert_eq!(fake.writes().len(), 1);
}

// === list, describe, check ===

fn configurations() -> (kube::Client, Fake) {
    let (client, fake) = Fake::start();
    fake.put(
        &MedusaConfiguration::test("s3")
            .condition("SecretAvailable", "True", "")
            .condition("Ready", "True", ""),
    );
    fake.put(
        &MedusaConfiguration::test("broken")
            .with_storage(Storage::test().with_secret("absent"))
            .condition("SecretAvailable", "False", "secret absent not found")
            .condition("Ready", "False", ""),
    );
    fake.put(&secret("medusa-bucket-key", true));
    fake.put(&K8ssandraCluster::test("demo").configuration_ref("s3"));
    (client, fake)
}

#[tokio::test]
async fn list_shows_provider_bucket_secret_retention_readiness_and_users() {
    let (client, _fake) = configurations();
    let outcome = Run::on(&client).run("config list").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    insta::assert_snapshot!("list", outcome.stdout);
}

#[tokio::test]
async fn describe_says_the_secret_is_there_with_its_key_and_who_uses_it() {
    let (client, _fake) = configurations();
    let outcome = Run::on(&client).run("config describe s3").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    insta::assert_snapshot!("describe", outcome.stdout);
}

#[tokio::test]
async fn check_fails_when_the_secret_is_missing() {
    let (client, _fake) = configurations();
    let outcome = Run::on(&client).run("config check broken").await;
    assert_eq!(outcome.code, ExitCode::Failed);
    assert!(
        outcome.stdout.contains("absent (NOT FOUND)"),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome
            .stderr
            .contains("MedusaConfiguration k8ssandra/broken has")
    );
}

#[tokio::test]
async fn check_passes_for_a_ready_configuration() {
    let (client, _fake) = configurations();
    let outcome = Run::on(&client).run("config check s3").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
}

#[tokio::test]
async fn a_secret_without_the_credentials_key_is_a_problem() {
    let (client, fake) = configurations();
    fake.put(&secret("medusa-bucket-key", false));
    let outcome = Run::on(&client).run("config check s3").await;
    assert_eq!(outcome.code, ExitCode::Failed);
    assert!(outcome.stdout.contains("has no `credentials` key"));
}

// === delete ===

#[tokio::test]
async fn delete_refuses_a_configuration_a_cluster_uses() {
    let (client, fake) = configurations();
    let outcome = Run::on(&client).run("config delete s3 --yes").await;
    assert_eq!(outcome.code, ExitCode::Failed);
    assert!(outcome.stderr.contains("is used by K8ssandraCluster demo"));
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn delete_removes_an_unused_configuration() {
    let (client, fake) = configurations();
    let outcome = Run::on(&client).run("config delete broken --yes").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert_eq!(
        fake.writes().pop().unwrap().line(),
        format!("DELETE {CONFIGS}/broken")
    );
}

// === effective ===

#[tokio::test]
async fn effective_shows_each_merged_field_with_its_source_and_the_traps() {
    let (client, fake) = Fake::start();
    let mut shared = Storage::test();
    shared.max_backup_count = Some(10);
    shared.transfer_max_bandwidth = Some("100MB/s".into());
    fake.put(&MedusaConfiguration::test("shared").with_storage(shared));
    let mut own = Storage::prefix_only("demo");
    own.region = Some("eu-west-1".into());
    own.transfer_max_bandwidth = Some("50MB/s".into());
    fake.put(
        &K8ssandraCluster::test("demo")
            .configuration_ref("shared")
            .with_storage(own),
    );
    let outcome = Run::on(&client).run("config effective demo").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    insta::assert_snapshot!("effective", outcome.stdout);
}

#[tokio::test]
async fn effective_with_a_missing_configuration_is_not_found() {
    let (client, fake) = Fake::start();
    fake.put(&K8ssandraCluster::test("demo").configuration_ref("gone"));
    let outcome = Run::on(&client).run("config effective demo").await;
    assert_eq!(outcome.code, ExitCode::NotFound);
    assert!(
        outcome
            .stderr
            .contains("references MedusaConfiguration \"gone\", which does not exist")
    );
}
