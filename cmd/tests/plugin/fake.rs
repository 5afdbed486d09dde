//! The fake API server keeps the real one's rules, so the plugin's tests cannot pass on a
//! kinder server: the status subresource, optimistic concurrency, selectors, authentication.

use crate::support;

use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use medusa_crds::*;
use serde_json::json;
use support::fake::https::Context;
use support::{Fake, NS};

fn jobs(client: &kube::Client) -> Api<MedusaBackupJob> {
    Api::namespaced(client.clone(), NS)
}

fn finished_status() -> serde_json::Value {
    json!({"status": {"finishTime": "2024-05-01T12:00:00Z"}})
}

#[tokio::test]
async fn a_create_drops_the_status_sent_with_it() {
    let (client, _fake) = Fake::start();
    let job = MedusaBackupJob::test("nightly").started("2024-05-01T11:00:00Z");
    let created = jobs(&client)
        .create(&PostParams::default(), &job)
        .await
        .unwrap();
    assert_eq!(created.status, None);
    assert_eq!(created.metadata.generation, Some(1));
    assert!(created.metadata.uid.is_some());
}

#[tokio::test]
async fn a_patch_of_the_object_leaves_its_status_alone() {
    let (client, fake) = Fake::start();
    fake.put(&MedusaBackupJob::test("nightly"));
    let patched = jobs(&client)
        .patch(
            "nightly",
            &PatchParams::default(),
            &Patch::Merge(finished_status()),
        )
        .await
        .unwrap();
    assert_eq!(patched.status, None);
}

#[tokio::test]
async fn a_status_patch_changes_only_the_status() {
    let (client, fake) = Fake::start();
    fake.put(&MedusaBackupJob::test("nightly"));
    let mut patch = finished_status();
    patch["spec"] = json!({"backupType": "full"});
    let patched = jobs(&client)
        .patch_status("nightly", &PatchParams::default(), &Patch::Merge(patch))
        .await
        .unwrap();
    assert!(patched.status.unwrap().finish_time.is_some());
    assert_ne!(patched.spec.backup_type, Some(BackupType::Full));
}

#[tokio::test]
async fn a_spec_change_bumps_the_generation_and_a_label_change_does_not() {
    let (client, fake) = Fake::start();
    fake.put(&MedusaBackupJob::test("nightly").generation(1));
    let labelled = jobs(&client)
        .patch(
            "nightly",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}})),
        )
        .await
        .unwrap();
    assert_eq!(labelled.metadata.generation, Some(1));
    let changed = jobs(&client)
        .patch(
            "nightly",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"backupType": "full"}})),
        )
        .await
        .unwrap();
    assert_eq!(changed.metadata.generation, Some(2));
}

#[tokio::test]
async fn an_update_with_a_stale_resource_version_conflicts() {
    let (client, fake) = Fake::start();
    fake.put(&MedusaBackupJob::test("nightly"));
    let mut read = jobs(&client).get("nightly").await.unwrap();
    fake.put(&MedusaBackupJob::test("nightly").label("changed", "meanwhile"));
    read.metadata.labels = Some([("mine".to_owned(), "yes".to_owned())].into());
    let error = jobs(&client)
        .replace("nightly", &PostParams::default(), &read)
        .await
        .unwrap_err();
    let kube::Error::Api(status) = error else {
        panic!("{error}")
    };
    assert_eq!(status.code, 409);
    assert!(status.message.contains("the object has been modified"));
}

#[tokio::test]
async fn a_merge_patch_carrying_a_stale_resource_version_conflicts() {
    let (client, fake) = Fake::start();
    fake.put(&MedusaBackupJob::test("nightly"));
    let error = jobs(&client)
        .patch_status(
            "nightly",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"resourceVersion": "0"}, "status": {"startTime": "2024-05-01T12:00:00Z"}})),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, kube::Error::Api(s) if s.code == 409));
}

#[tokio::test]
async fn set_based_label_selectors_select() {
    let (client, fake) = Fake::start();
    fake.put(&MedusaBackupJob::test("a").label("tier", "db"));
    fake.put(&MedusaBackupJob::test("b").label("tier", "web"));
    fake.put(&MedusaBackupJob::test("c"));
    let names = |list: kube::api::ObjectList<MedusaBackupJob>| -> Vec<String> {
        list.items
            .into_iter()
            .filter_map(|j| j.metadata.name)
            .collect()
    };
    let api = jobs(&client);
    let listed = api
        .list(&ListParams::default().labels("tier in (db,cache)"))
        .await
        .unwrap();
    assert_eq!(names(listed), ["a"]);
    let listed = api
        .list(&ListParams::default().labels("!tier"))
        .await
        .unwrap();
    assert_eq!(names(listed), ["c"]);
    let listed = api
        .list(&ListParams::default().labels("tier!=db"))
        .await
        .unwrap();
    assert_eq!(names(listed), ["b", "c"]);
}

#[tokio::test]
async fn a_denied_user_gets_the_api_servers_403() {
    let (_, fake) = Fake::start();
    let served = fake.serve_https().await;
    let viewer = served.token_user("viewer");
    fake.deny_user("viewer", "create", "medusabackupjobs.medusa.k8ssandra.io");
    let dir = tempfile::tempdir().unwrap();
    let path = served.write_kubeconfig(dir.path(), "config", &[Context::new("v", &viewer)]);
    let client = client_of(&path).await;
    let error = jobs(&client)
        .create(&PostParams::default(), &MedusaBackupJob::test("nightly"))
        .await
        .unwrap_err();
    let kube::Error::Api(status) = error else {
        panic!("{error}")
    };
    assert_eq!(status.code, 403);
    assert_eq!(
        status.message,
        "medusabackupjobs.medusa.k8ssandra.io is forbidden: User \"viewer\" cannot create resource \"medusabackupjobs\" in API group \"medusa.k8ssandra.io\" in the namespace \"k8ssandra\""
    );
    assert_eq!(fake.calls().last().unwrap().user.as_deref(), Some("viewer"));
}

async fn client_of(path: &std::path::Path) -> kube::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kubeconfig = kube::config::Kubeconfig::read_from(path).unwrap();
    let config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .unwrap();
    kube::Client::try_from(config).unwrap()
}

#[tokio::test]
async fn over_https_a_client_certificate_names_its_user() {
    let (_, fake) = Fake::start();
    fake.put(&MedusaBackupJob::test("nightly"));
    let served = fake.serve_https().await;
    let operator = served.certificate_user("ops");
    let dir = tempfile::tempdir().unwrap();
    let path = served.write_kubeconfig(dir.path(), "config", &[Context::new("ops", &operator)]);
    let job = jobs(&client_of(&path).await).get("nightly").await.unwrap();
    assert_eq!(job.metadata.name.as_deref(), Some("nightly"));
    assert_eq!(fake.calls().last().unwrap().user.as_deref(), Some("ops"));
}

#[tokio::test]
async fn over_https_an_unknown_token_is_unauthorized() {
    let (_, fake) = Fake::start();
    let served = fake.serve_https().await;
    let mut stranger = served.token_user("stranger");
    stranger.credential = support::fake::https::Credential::Token("forged".into());
    let dir = tempfile::tempdir().unwrap();
    let path = served.write_kubeconfig(dir.path(), "config", &[Context::new("s", &stranger)]);
    let error = jobs(&client_of(&path).await)
        .get("nightly")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, kube::Error::Api(s) if s.code == 401),
        "{error}"
    );
}
