//! The end-to-end suite: our CRDs, medusa-webhook and kubectl medusa against a real API server.
//!
//! `cargo test -p medusa-e2e` runs it against the etcd and kube-apiserver binaries of
//! `KUBEBUILDER_ASSETS`, else against the cluster of `KUBECONFIG`, and otherwise prints one line
//! saying why it skips. On a cluster it works in namespaces of its own, installs only the CRDs
//! the cluster lacks, limits its webhook registration to its namespaces, and removes all of it
//! at the end. For a remote cluster, `MEDUSA_E2E_WEBHOOK_HOST` names this machine as the API
//! server reaches it. `MEDUSA_REFERENCE_CRDS` (the operator's CRD folder) makes it install the
//! operator's own K8ssandraCluster and CassandraDatacenter CRDs instead of stand-ins.
//!
//! Arguments: a substring selects scenarios by name; `--list` lists them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)] // a test runner

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use kubectl_medusa::error::ExitCode as Exit;
use medusa_crds::*;
use medusa_e2e::cluster::{Detection, detect};
use medusa_e2e::{
    Failure, Harness, Outcome, cassandra_pod, datacenter, denied_by, ensure, plugin, unique_name,
};
use serde_json::{Value, json};

type Scenario = for<'a> fn(&'a Harness) -> Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        const SCENARIOS: &[(&str, Scenario)] = &[
            $((stringify!($name), |h| Box::pin($name(h)))),*
        ];
    };
}

scenarios![
    the_api_server_accepts_every_sample_and_our_model_writes_it_back_unchanged,
    a_backup_of_a_missing_datacenter_is_denied,
    a_backup_job_gets_its_datacenter_labels,
    a_backup_jobs_spec_cannot_change,
    an_unparseable_cron_is_denied,
    a_configuration_needs_its_secret,
    two_clusters_sharing_a_prefix_are_denied,
    a_cluster_with_a_configuration_gets_its_prefix,
    a_restore_into_a_datacenter_of_another_size_is_denied,
    server_side_dry_runs_are_judged_by_the_webhook,
    plugin_backup_create_wait_follows_the_operator_to_success,
    plugin_wait_times_out_with_exit_2,
    plugin_refuses_a_datacenter_without_medusa,
    plugin_schedule_pause_only_changes_disabled,
    plugin_config_create_stores_the_credentials_secret,
    plugin_auth_check_as_administrator_allows_everything,
    plugin_version_sees_the_medusa_group,
];

// === helpers ===

fn resource(api_version: &str, kind: &str) -> ApiResource {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let plural = match kind {
        "K8ssandraCluster" => "k8ssandraclusters".to_owned(),
        "CassandraDatacenter" => "cassandradatacenters".to_owned(),
        other => format!("{}s", other.to_lowercase()),
    };
    ApiResource {
        group: group.to_owned(),
        version: version.to_owned(),
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        plural,
    }
}

fn dynamic(client: &Client, namespace: &str, value: &Value) -> Api<DynamicObject> {
    let api_version = value["apiVersion"].as_str().unwrap_or_default();
    let kind = value["kind"].as_str().unwrap_or_default();
    Api::namespaced_with(client.clone(), namespace, &resource(api_version, kind))
}

/// Creates any object from JSON in `namespace`.
async fn create(client: &Client, namespace: &str, mut value: Value) -> Result<Value, kube::Error> {
    value["metadata"]["namespace"] = json!(namespace);
    let api = dynamic(client, namespace, &value);
    let object: DynamicObject = serde_json::from_value(value).map_err(kube::Error::SerdeError)?;
    let created = api.create(&PostParams::default(), &object).await?;
    serde_json::to_value(created).map_err(kube::Error::SerdeError)
}

/// Creates an object and sets its status, as the operator would.
async fn create_with_status(
    client: &Client,
    namespace: &str,
    value: Value,
) -> Result<Value, Failure> {
    let status = value.get("status").cloned();
    let created = create(client, namespace, value.clone()).await?;
    if let Some(status) = status {
        let name = created["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        dynamic(client, namespace, &value)
            .patch_status(
                &name,
                &PatchParams::default(),
                &Patch::Merge(json!({"status": status})),
            )
            .await?;
    }
    Ok(created)
}

fn typed_json<T: serde::Serialize>(object: &T) -> Value {
    serde_json::to_value(object).unwrap()
}

/// A datacenter with `pods` Cassandra pods, with or without medusa containers.
async fn datacenter_with_pods(
    client: &Client,
    namespace: &str,
    size: i32,
    medusa: bool,
) -> Outcome {
    create(client, namespace, datacenter(namespace, "dc1", size)).await?;
    for i in 0..usize::try_from(size).unwrap_or(0) {
        create(
            client,
            namespace,
            cassandra_pod(namespace, "dc1", i, medusa),
        )
        .await?;
    }
    Ok(())
}

/// Reads an object until `done` holds (the operator's and the caches' eventual consistency).
async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut attempt: F) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, Failure>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = attempt().await? {
            return Ok(value);
        }
        if Instant::now() > deadline {
            return Err(Failure::new(format!("{what}: not within {timeout:?}")));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

// === the CRDs and the model ===

fn roundtrip_documents() -> Result<Vec<(String, Value)>, Failure> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crds/tests/fixtures/roundtrip");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut documents = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| Failure::new(e.to_string()))?;
        let values: Vec<Value> = serde_saphyr::from_multiple(&text)
            .map_err(|e| Failure::new(format!("{}: {e}", file.display())))?;
        let stem = file
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        // unknown-fields.yaml holds enum values of future operators, which today's CRDs refuse.
        if stem == "unknown-fields" {
            continue;
        }
        for (i, value) in values.into_iter().enumerate() {
            // CassandraDatacenter is cass-operator's; we model only the part Medusa reads.
            let ours = value["kind"]
                .as_str()
                .is_some_and(|k| k.starts_with("Medusa") || k == "K8ssandraCluster");
            if value.is_object() && ours {
                documents.push((format!("{stem}#{i}"), value));
            }
        }
    }
    Ok(documents)
}

/// The object as our model reads and writes it.
fn through_model(value: &Value) -> Result<Value, Failure> {
    fn via<T: serde::de::DeserializeOwned + serde::Serialize>(
        value: &Value,
    ) -> Result<Value, Failure> {
        let typed: T = serde_json::from_value(value.clone())?;
        Ok(serde_json::to_value(typed)?)
    }
    match value["kind"].as_str().unwrap_or_default() {
        "MedusaBackupJob" => via::<MedusaBackupJob>(value),
        "MedusaBackup" => via::<MedusaBackup>(value),
        "MedusaRestoreJob" => via::<MedusaRestoreJob>(value),
        "MedusaTask" => via::<MedusaTask>(value),
        "MedusaBackupSchedule" => via::<MedusaBackupSchedule>(value),
        "MedusaConfiguration" => via::<MedusaConfiguration>(value),
        "K8ssandraCluster" => via::<K8ssandraCluster>(value),
        "CassandraDatacenter" => via::<CassandraDatacenter>(value),
        other => Err(Failure::new(format!("no model for kind {other}"))),
    }
}

fn comparable(mut value: Value) -> Value {
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("resourceVersion");
        meta.remove("managedFields");
    }
    value
}

async fn the_api_server_accepts_every_sample_and_our_model_writes_it_back_unchanged(
    h: &Harness,
) -> Outcome {
    let namespace = h.namespace(false).await?;
    let mut used = std::collections::BTreeSet::new();
    for (origin, mut value) in roundtrip_documents()? {
        let kind = value["kind"].as_str().unwrap_or_default().to_owned();
        let name = value["metadata"]["name"]
            .as_str()
            .unwrap_or("sample")
            .to_owned();
        let unique = unique_name(&mut used, &kind, &name);
        value["metadata"]["name"] = json!(unique);
        for key in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "generation",
            "managedFields",
        ] {
            value["metadata"].as_object_mut().map(|m| m.remove(key));
        }
        let created = create_with_status(&h.client, &namespace, value.clone())
            .await
            .map_err(|e| {
                Failure::new(format!("{origin}: the API server refused the sample: {e}"))
            })?;
        let _ = created;
        let api = dynamic(&h.client, &namespace, &value);
        let stored = serde_json::to_value(api.get(&unique).await?)?;
        let modelled = through_model(&stored).map_err(|e| {
            Failure::new(format!(
                "{origin}: our model cannot read the stored object: {e}"
            ))
        })?;
        let object: DynamicObject = serde_json::from_value(modelled.clone())?;
        api.replace(&unique, &PostParams::default(), &object)
            .await
            .map_err(|e| {
                Failure::new(format!(
                    "{origin}: replacing with our model's object failed: {e}"
                ))
            })?;
        let again = serde_json::to_value(api.get(&unique).await?)?;
        ensure(
            comparable(again.clone()) == comparable(stored.clone()),
            || {
                format!(
                    "{origin}: writing back through our model changed the object\nstored: {stored}\nafter:  {again}"
                )
            },
        )?;
        if stored.get("status").is_some() {
            let mut object: DynamicObject = serde_json::from_value(modelled)?;
            // The resourceVersion of the object as it is now.
            object.metadata.resource_version = again["metadata"]["resourceVersion"]
                .as_str()
                .map(str::to_owned);
            api.replace_status(&unique, &PostParams::default(), &object)
                .await
                .map_err(|e| Failure::new(format!("{origin}: replacing the status failed: {e}")))?;
            let after_status = serde_json::to_value(api.get(&unique).await?)?;
            ensure(
                comparable(after_status.clone()) == comparable(stored.clone()),
                || {
                    format!(
                        "{origin}: writing the status back changed it\nstored: {stored}\nafter:  {after_status}"
                    )
                },
            )?;
        }
    }
    Ok(())
}

// === the webhook ===

fn backup_job(name: &str, dc: &str) -> Value {
    json!({"apiVersion": "medusa.k8ssandra.io/v1alpha1", "kind": "MedusaBackupJob",
           "metadata": {"name": name}, "spec": {"cassandraDatacenter": dc}})
}

async fn a_backup_of_a_missing_datacenter_is_denied(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let message = denied_by(
        create(&h.client, &namespace, backup_job("nightly", "dc-typo")).await,
        "J1",
        "a MedusaBackupJob for a missing datacenter",
    )?;
    ensure(message.contains("\"dc-typo\" not found"), || {
        message.clone()
    })
}

async fn a_backup_job_gets_its_datacenter_labels(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    let created = create(&h.client, &namespace, backup_job("nightly", "dc1")).await?;
    let labels = &created["metadata"]["labels"];
    ensure(
        labels["cassandra.datastax.com/datacenter"] == "dc1"
            && labels["cassandra.datastax.com/cluster"] == "demo",
        || format!("the mutating webhook did not add the datacenter labels: {labels}"),
    )
}

async fn a_backup_jobs_spec_cannot_change(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    create(&h.client, &namespace, backup_job("nightly", "dc1")).await?;
    let api: Api<MedusaBackupJob> = Api::namespaced(h.client.clone(), &namespace);
    denied_by(
        api.patch(
            "nightly",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"backupType": "full"}})),
        )
        .await,
        "J2",
        "changing a MedusaBackupJob's spec",
    )?;
    Ok(())
}

async fn an_unparseable_cron_is_denied(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let schedule = typed_json(
        &MedusaBackupSchedule::test("hourly")
            .namespace(&namespace)
            .cron("0 * * *"),
    );
    let message = denied_by(
        create(&h.client, &namespace, schedule).await,
        "S1",
        "a schedule with four cron fields",
    )?;
    ensure(
        message.contains("expected exactly 5 fields, found 4"),
        || message.clone(),
    )
}

async fn a_configuration_needs_its_secret(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let configuration = typed_json(&MedusaConfiguration::test("s3").namespace(&namespace));
    denied_by(
        create(&h.client, &namespace, configuration.clone()).await,
        "C1",
        "a MedusaConfiguration whose Secret is missing",
    )?;
    create(
        &h.client,
        &namespace,
        json!({"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "medusa-bucket-key"},
               "stringData": {"credentials": "[default]\naws_access_key_id = a\naws_secret_access_key = b\n"}}),
    )
    .await?;
    eventually(
        "the MedusaConfiguration accepted once its Secret exists",
        Duration::from_secs(20),
        || {
            let configuration = configuration.clone();
            let namespace = namespace.clone();
            async move {
                match create(&h.client, &namespace, configuration).await {
                    Ok(_) => Ok(Some(())),
                    Err(kube::Error::Api(status)) if status.message.contains("[C1]") => Ok(None),
                    Err(e) => Err(Failure::new(format!("unexpected refusal: {e}"))),
                }
            }
        },
    )
    .await
}

fn cluster(namespace: &str, name: &str, prefix: &str) -> Value {
    let mut value = typed_json(
        &K8ssandraCluster::test(name)
            .namespace(namespace)
            .with_storage(
                Storage::test()
                    .with_prefix(prefix)
                    .without_secret()
                    .role_based(),
            ),
    );
    value["spec"]["cassandra"]["serverVersion"] = json!("4.1.5");
    value["metadata"]
        .as_object_mut()
        .map(|m| m.remove("creationTimestamp"));
    value
}

async fn two_clusters_sharing_a_prefix_are_denied(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    // Every cluster of the API server counts: a prefix of this run's own.
    let shared = format!("shared-{}", h.run);
    create(&h.client, &namespace, cluster(&namespace, "first", &shared)).await?;
    // The webhook's cache of clusters sees the first one within moments: retry as dry runs.
    let second = cluster(&namespace, "second", &shared);
    let api = dynamic(&h.client, &namespace, &second);
    let object: DynamicObject = serde_json::from_value(second)?;
    let message = eventually("the second cluster denied", Duration::from_secs(20), || {
        let api = api.clone();
        let object = object.clone();
        async move {
            let params = PostParams {
                dry_run: true,
                ..PostParams::default()
            };
            match api.create(&params, &object).await {
                Err(kube::Error::Api(status)) if status.message.contains("[K7]") => {
                    Ok(Some(status.message))
                }
                Err(e) => Err(Failure::new(format!("unexpected refusal: {e}"))),
                Ok(_) => Ok(None),
            }
        }
    })
    .await?;
    ensure(message.contains("first"), || message.clone())
}

async fn a_cluster_with_a_configuration_gets_its_prefix(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let mut configuration = MedusaConfiguration::test("shared").namespace(&namespace);
    configuration.spec.storage_properties = Some(Storage::test().without_secret().role_based());
    create(&h.client, &namespace, typed_json(&configuration)).await?;
    // Its name becomes its prefix, which no other cluster of the API server may use: unique.
    let name = format!("km-{}", h.run);
    let mut value = cluster(&namespace, &name, "");
    value["spec"]["medusa"] = json!({"medusaConfigurationRef": {"name": "shared"},
                                     "storageProperties": {}});
    let created = create(&h.client, &namespace, value).await?;
    let prefix = &created["spec"]["medusa"]["storageProperties"]["prefix"];
    ensure(*prefix == json!(name), || {
        format!("the mutating webhook did not set the prefix to the cluster's name: {prefix}")
    })
}

fn three_node_backup(namespace: &str) -> Value {
    let mut value = typed_json(
        &MedusaBackup::test("nightly")
            .namespace(namespace)
            .times("2024-05-01T01:00:00Z", Some("2024-05-01T01:05:00Z")),
    );
    value["metadata"]
        .as_object_mut()
        .map(|m| m.remove("creationTimestamp"));
    value
}

async fn a_restore_into_a_datacenter_of_another_size_is_denied(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    create_with_status(&h.client, &namespace, three_node_backup(&namespace)).await?;
    let restore = json!({"apiVersion": "medusa.k8ssandra.io/v1alpha1", "kind": "MedusaRestoreJob",
                         "metadata": {"name": "restore"},
                         "spec": {"backup": "nightly", "cassandraDatacenter": "dc1"}});
    denied_by(
        create(&h.client, &namespace, restore).await,
        "R1",
        "a restore of 3 nodes into 1",
    )?;
    let run = plugin(
        h,
        &namespace,
        &["restore", "preflight", "--dc", "dc1", "--backup", "nightly"],
    )
    .await?;
    ensure(run.code == Exit::Failed, || {
        format!("preflight should fail: {run:?}")
    })?;
    ensure(run.stdout.contains("FAIL"), || run.stdout.clone())
}

async fn server_side_dry_runs_are_judged_by_the_webhook(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let api: Api<DynamicObject> = dynamic(&h.client, &namespace, &backup_job("x", "y"));
    let object: DynamicObject = serde_json::from_value(backup_job("nightly", "dc-typo"))?;
    let params = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    denied_by(api.create(&params, &object).await, "J1", "a dry-run create")?;
    let left = api.list(&Default::default()).await?;
    ensure(left.items.is_empty(), || {
        "a dry run stored an object".into()
    })
}

// === the plugin ===

async fn play_the_operator(client: Client, namespace: String) -> Outcome {
    let jobs: Api<MedusaBackupJob> = Api::namespaced(client.clone(), &namespace);
    eventually(
        "the plugin's MedusaBackupJob",
        Duration::from_secs(30),
        || {
            let jobs = jobs.clone();
            async move { Ok(jobs.get_opt("nightly").await?) }
        },
    )
    .await?;
    let now = chrono::Utc::now();
    let at = |seconds: i64| {
        (now + chrono::Duration::seconds(seconds))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let pod = "demo-dc1-default-sts-0";
    jobs.patch_status(
        "nightly",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"startTime": at(0), "inProgress": [pod]}})),
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    create_with_status(
        &client,
        &namespace,
        json!({"apiVersion": "medusa.k8ssandra.io/v1alpha1", "kind": "MedusaBackup",
               "metadata": {"name": "nightly"},
               "spec": {"cassandraDatacenter": "dc1", "backupType": "differential"},
               "status": {"startTime": at(0), "finishTime": at(1), "totalNodes": 1, "finishedNodes": 1,
                          "status": "SUCCESS", "totalFiles": 42, "totalSize": "1.50 MB",
                          "nodes": [{"host": pod, "datacenter": "dc1", "rack": "default", "tokens": [-1, 1]}]}}),
    )
    .await?;
    jobs.patch_status(
        "nightly",
        &PatchParams::default(),
        &Patch::Merge(
            json!({"status": {"finishTime": at(1), "finished": [pod], "inProgress": null}}),
        ),
    )
    .await?;
    Ok(())
}

async fn plugin_backup_create_wait_follows_the_operator_to_success(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    let (run, operator) = tokio::join!(
        plugin(
            h,
            &namespace,
            &[
                "backup",
                "create",
                "nightly",
                "--dc",
                "dc1",
                "--wait",
                "--timeout",
                "90s"
            ]
        ),
        play_the_operator(h.client.clone(), namespace.clone())
    );
    operator?;
    let run = run?;
    ensure(run.code == Exit::Success, || {
        format!("backup create --wait: {run:?}")
    })?;
    ensure(
        run.stdout
            .contains("backup nightly succeeded on datacenter dc1"),
        || run.stdout.clone(),
    )?;
    let job: MedusaBackupJob = Api::namespaced(h.client.clone(), &namespace)
        .get("nightly")
        .await?;
    let labels = job.metadata.labels.unwrap_or_default();
    ensure(
        labels
            .get("app.kubernetes.io/managed-by")
            .map(String::as_str)
            == Some("kubectl-medusa"),
        || format!("labels: {labels:?}"),
    )?;
    let list = plugin(h, &namespace, &["backup", "list", "-o", "json"]).await?;
    let rows: Value = serde_json::from_str(&list.stdout)?;
    let row = &rows["items"][0];
    ensure(
        row["status"]["phase"] == "Succeeded" && row["size"] == "1.50 MB",
        || list.stdout.clone(),
    )?;
    let described = plugin(h, &namespace, &["backup", "describe", "nightly"]).await?;
    ensure(described.stdout.contains("Succeeded"), || {
        described.stdout.clone()
    })
}

async fn plugin_wait_times_out_with_exit_2(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    let run = plugin(
        h,
        &namespace,
        &[
            "backup",
            "create",
            "nightly",
            "--dc",
            "dc1",
            "--wait",
            "--timeout",
            "3s",
        ],
    )
    .await?;
    ensure(run.code == Exit::TimedOut, || format!("{run:?}"))?;
    ensure(
        run.stderr.contains("the backup goes on in the cluster"),
        || run.stderr.clone(),
    )?;
    let job: Option<MedusaBackupJob> = Api::namespaced(h.client.clone(), &namespace)
        .get_opt("nightly")
        .await?;
    ensure(job.is_some(), || "the job should exist".into())
}

async fn plugin_refuses_a_datacenter_without_medusa(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, false).await?;
    let run = plugin(h, &namespace, &["backup", "create", "--dc", "dc1"]).await?;
    ensure(run.code == Exit::Failed, || format!("{run:?}"))?;
    ensure(
        run.stderr
            .contains("Medusa is not enabled on datacenter dc1"),
        || run.stderr.clone(),
    )?;
    let jobs: Api<MedusaBackupJob> = Api::namespaced(h.client.clone(), &namespace);
    ensure(
        jobs.list(&Default::default()).await?.items.is_empty(),
        || "a job was created".into(),
    )
}

async fn plugin_schedule_pause_only_changes_disabled(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    let created = plugin(
        h,
        &namespace,
        &[
            "schedule",
            "create",
            "nightly",
            "--dc",
            "dc1",
            "--cron",
            "30 1 * * *",
        ],
    )
    .await?;
    ensure(created.code == Exit::Success, || format!("{created:?}"))?;
    let paused = plugin(h, &namespace, &["schedule", "pause", "nightly"]).await?;
    ensure(paused.code == Exit::Success, || format!("{paused:?}"))?;
    let schedule: MedusaBackupSchedule = Api::namespaced(h.client.clone(), &namespace)
        .get("nightly")
        .await?;
    ensure(schedule.spec.disabled == Some(true), || {
        format!("{:?}", schedule.spec)
    })?;
    ensure(schedule.spec.cron_schedule == "30 1 * * *", || {
        format!("{:?}", schedule.spec)
    })
}

async fn plugin_config_create_stores_the_credentials_secret(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let dir = tempfile::tempdir().map_err(|e| Failure::new(e.to_string()))?;
    let path = dir.path().join("credentials");
    std::fs::write(
        &path,
        "[default]\naws_access_key_id = a\naws_secret_access_key = b\n",
    )
    .map_err(|e| Failure::new(e.to_string()))?;
    let path = path.display().to_string();
    let run = plugin(
        h,
        &namespace,
        &[
            "config",
            "create",
            "minio",
            "--provider",
            "s3_compatible",
            "--bucket",
            "medusa",
            "--host",
            "minio.minio",
            "--credentials-file",
            &path,
        ],
    )
    .await?;
    ensure(run.code == Exit::Success, || format!("{run:?}"))?;
    let described = plugin(h, &namespace, &["config", "describe", "minio"]).await?;
    ensure(
        described
            .stdout
            .contains("minio-credentials (present, with a `credentials` key)"),
        || described.stdout.clone(),
    )
}

async fn plugin_auth_check_as_administrator_allows_everything(h: &Harness) -> Outcome {
    let namespace = h.namespace(false).await?;
    let run = plugin(h, &namespace, &["auth", "check"]).await?;
    ensure(run.code == Exit::Success, || format!("{run:?}"))?;
    ensure(!run.stdout.contains(" no"), || run.stdout.clone())
}

async fn plugin_version_sees_the_medusa_group(h: &Harness) -> Outcome {
    let namespace = h.namespace(false).await?;
    let run = plugin(h, &namespace, &["version"]).await?;
    ensure(
        run.stdout
            .contains("medusa.k8ssandra.io served versions: v1alpha1"),
        || run.stdout.clone(),
    )
}

// === the runner ===

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filter = args.iter().find(|a| !a.starts_with('-')).cloned();
    let selected: Vec<&(&str, Scenario)> = SCENARIOS
        .iter()
        .filter(|(name, _)| filter.as_deref().is_none_or(|f| name.contains(f)))
        .collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in &selected {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }
    let source = match detect() {
        Detection::Skip(why) => {
            println!("e2e: skipped: {why}");
            return ExitCode::SUCCESS;
        }
        Detection::Run(source) => source,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            println!("e2e: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let started = Instant::now();
        let harness =
            match tokio::time::timeout(Duration::from_secs(180), Harness::start(&source)).await {
                Ok(Ok(harness)) => harness,
                Ok(Err(e)) => {
                    println!("e2e: set-up failed: {e}");
                    return ExitCode::FAILURE;
                }
                Err(_) => {
                    println!("e2e: set-up did not finish in 180 s");
                    return ExitCode::FAILURE;
                }
            };
        println!(
            "e2e: {} scenario(s) against {} (run {})",
            selected.len(),
            harness.description,
            harness.run
        );
        let harness_ref = &harness;
        let results: Vec<(&str, Outcome, Duration)> = futures::stream::iter(selected)
            .map(|(name, scenario)| async move {
                let begun = Instant::now();
                let outcome =
                    match tokio::time::timeout(Duration::from_secs(150), scenario(harness_ref))
                        .await
                    {
                        Ok(outcome) => outcome,
                        Err(_) => Err(Failure::new("did not finish in 150 s")),
                    };
                let elapsed = begun.elapsed();
                match &outcome {
                    Ok(()) => println!("test {name} ... ok ({:.1}s)", elapsed.as_secs_f64()),
                    Err(_) => println!("test {name} ... FAILED ({:.1}s)", elapsed.as_secs_f64()),
                }
                (*name, outcome, elapsed)
            })
            .buffer_unordered(4)
            .collect()
            .await;
        let total = results.len();
        let failures: Vec<(&str, Failure)> = results
            .into_iter()
            .filter_map(|(name, outcome, _)| outcome.err().map(|e| (name, e)))
            .collect();
        for (name, failure) in &failures {
            println!("\n---- {name} ----\n{failure}");
        }
        let problems = harness.cleanup().await;
        for problem in &problems {
            println!("e2e: cleanup: cannot remove {problem}");
        }
        println!(
            "\ne2e: {} failed, {} passed in {:.1}s",
            failures.len(),
            total - failures.len(),
            started.elapsed().as_secs_f64()
        );
        if failures.is_empty() && problems.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    })
}
