//! `kubectl medusa config`, `status`, `validate`, `auth`, `version` and dry runs against the
//! real API server; a user with fewer rights; a cluster without the Medusa CRDs.

use kubectl_medusa::error::ExitCode as Exit;
use medusa_crds::*;
use medusa_e2e::users::rule;
use medusa_e2e::{Failure, Harness, Outcome, ensure, plugin, plugin_as};
use serde_json::json;

use crate::support::{cluster, create, datacenter_with_pods, eventually, storage_secret, submit};

scenarios![
    plugin_config_create_stores_the_credentials_secret,
    plugin_config_list_describe_check_effective_and_delete,
    plugin_status_shows_the_datacenter_its_storage_and_its_failures,
    plugin_validate_judges_files_against_the_live_cluster,
    plugin_auth_check_as_administrator_allows_everything,
    plugin_a_user_without_the_right_to_create_exits_5_naming_it,
    plugin_version_sees_the_medusa_group,
    plugin_on_a_cluster_without_the_medusa_crds_exits_4,
    plugin_client_dry_run_prints_the_manifest_without_a_cluster,
];

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
    plugin(
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
    .await?
    .expect(Exit::Success, "created")?;
    plugin(h, &namespace, &["config", "describe", "minio"])
        .await?
        .expect(
            Exit::Success,
            "minio-credentials (present, with a `credentials` key)",
        )?;
    Ok(())
}

async fn plugin_config_list_describe_check_effective_and_delete(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    create(&h.client, &namespace, storage_secret("medusa-bucket-key")).await?;
    plugin(
        h,
        &namespace,
        &[
            "config",
            "create",
            "shared",
            "--provider",
            "s3",
            "--bucket",
            "k8ssandra-medusa",
            "--region",
            "eu-west-1",
            "--secret",
            "medusa-bucket-key",
            "--max-backup-count",
            "10",
        ],
    )
    .await?
    .expect(Exit::Success, "created")?;
    plugin(h, &namespace, &["config", "list"])
        .await?
        .expect(Exit::Success, "shared")?;
    plugin(h, &namespace, &["config", "check", "shared"])
        .await?
        .expect(Exit::Success, "credentials")?;
    let name = format!("eff-{}", h.run);
    let mut value = cluster(&namespace, &name, Storage::prefix_only(&name));
    value["spec"]["medusa"]["medusaConfigurationRef"] = json!({"name": "shared"});
    eventually(
        "the cluster referencing shared admitted",
        std::time::Duration::from_secs(20),
        || async {
            let answer = submit(&h.client, &namespace, value.clone(), false).await?;
            match answer.refusal {
                None => Ok(Some(())),
                Some(message) if message.contains("[K2]") => Ok(None),
                Some(message) => Err(Failure::new(format!(
                    "K8ssandraCluster {name}: unexpected refusal: {message}"
                ))),
            }
        },
    )
    .await?;
    // The positional K8SSANDRACLUSTER of `config effective` once landed in --cluster.
    let effective = plugin(h, &namespace, &["config", "effective", &name]).await?;
    effective.expect(Exit::Success, "configuration shared")?;
    effective.expect(Exit::Success, "maxBackupCount")?;
    plugin(h, &namespace, &["config", "delete", "shared", "--yes"])
        .await?
        .expect(Exit::Usage, "[C3]")?;
    Ok(())
}

async fn plugin_status_shows_the_datacenter_its_storage_and_its_failures(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 3, true).await?;
    let faults = simulator::Faults {
        failing_backup_pods: ["demo-dc1-default-sts-1".to_owned()].into(),
        ..Default::default()
    };
    let _operator = h.operator(&namespace, faults);
    plugin(
        h,
        &namespace,
        &[
            "backup",
            "create",
            "broken",
            "--dc",
            "dc1",
            "--wait",
            "--timeout",
            "60s",
        ],
    )
    .await?
    .expect(Exit::Failed, "demo-dc1-default-sts-1")?;
    let status = plugin(h, &namespace, &["status"]).await?;
    status.expect(
        Exit::Success,
        &format!("Datacenter dc1 (namespace {namespace}"),
    )?;
    status.expect(Exit::Success, "Failures (7d):    1")?;
    status.expect(
        Exit::Success,
        "backup broken: the backup failed on 1 of 3 pod(s): demo-dc1-default-sts-1",
    )?;
    Ok(())
}

async fn plugin_validate_judges_files_against_the_live_cluster(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    let dir = tempfile::tempdir().map_err(|e| Failure::new(e.to_string()))?;
    let path = dir.path().join("backup.yaml");
    std::fs::write(
        &path,
        format!("apiVersion: medusa.k8ssandra.io/v1alpha1\nkind: MedusaBackupJob\nmetadata: {{name: later, namespace: {namespace}}}\nspec: {{cassandraDatacenter: dc1}}\n"),
    )
    .map_err(|e| Failure::new(e.to_string()))?;
    let path = path.display().to_string();
    plugin(h, &namespace, &["validate", "-f", &path])
        .await?
        .expect(Exit::Usage, "J1")?;
    plugin(
        h,
        &namespace,
        &["validate", "-f", &path, "--cluster-view", "live"],
    )
    .await?
    .expect(Exit::Success, "no finding")?;
    Ok(())
}

async fn plugin_auth_check_as_administrator_allows_everything(h: &Harness) -> Outcome {
    let namespace = h.namespace(false).await?;
    let run = plugin(h, &namespace, &["auth", "check"]).await?;
    run.expect(Exit::Success, "backup create")?;
    ensure(!run.stdout.contains(" no"), || {
        run.unexpected("every permission allowed").0
    })
}

async fn plugin_a_user_without_the_right_to_create_exits_5_naming_it(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    let read = ["get", "list", "watch"];
    let kubeconfig = h
        .user_with(
            &namespace,
            "viewer",
            vec![
                rule(
                    "medusa.k8ssandra.io",
                    &[
                        "medusabackupjobs",
                        "medusabackups",
                        "medusarestorejobs",
                        "medusatasks",
                        "medusabackupschedules",
                        "medusaconfigurations",
                    ],
                    &read,
                ),
                rule("cassandra.datastax.com", &["cassandradatacenters"], &read),
                rule("", &["pods"], &read),
            ],
        )
        .await?;
    plugin_as(&kubeconfig, &namespace, &["backup", "list"])
        .await?
        .expect(Exit::Success, "No backups found")?;
    plugin_as(
        &kubeconfig,
        &namespace,
        &["backup", "create", "nightly", "--dc", "dc1"],
    )
    .await?
    .expect(
        Exit::Forbidden,
        &format!(
            "you need create on medusabackupjobs.medusa.k8ssandra.io in namespace {namespace}"
        ),
    )?;
    let check = plugin_as(
        &kubeconfig,
        &namespace,
        &["auth", "check", "backup", "create"],
    )
    .await?;
    ensure(
        check.stdout.contains("create") && check.stdout.contains("no"),
        || {
            check
                .unexpected("auth check naming create as not allowed")
                .0
        },
    )
}

async fn plugin_version_sees_the_medusa_group(h: &Harness) -> Outcome {
    let namespace = h.namespace(false).await?;
    plugin(h, &namespace, &["version"]).await?.expect(
        Exit::Success,
        "medusa.k8ssandra.io served versions: v1alpha1",
    )?;
    Ok(())
}

async fn plugin_on_a_cluster_without_the_medusa_crds_exits_4(h: &Harness) -> Outcome {
    let Some(plane) = h.empty_control_plane().await? else {
        println!(
            "  (the suite runs on a cluster it did not start: it cannot start one without CRDs; checked only on KUBEBUILDER_ASSETS)"
        );
        return Ok(());
    };
    let run = plugin_as(&plane.kubeconfig, "default", &["backup", "list"]).await?;
    run.expect(
        Exit::NotFound,
        "Medusa CRDs not found: is k8ssandra-operator installed with Medusa enabled?",
    )?;
    plugin_as(&plane.kubeconfig, "default", &["version"])
        .await?
        .expect(Exit::Success, "medusa.k8ssandra.io: not served")?;
    Ok(())
}

async fn plugin_client_dry_run_prints_the_manifest_without_a_cluster(_h: &Harness) -> Outcome {
    let nowhere = std::path::Path::new("/nonexistent/kubeconfig");
    let run = plugin_as(
        nowhere,
        "k8ssandra",
        &[
            "backup",
            "create",
            "nightly",
            "--dc",
            "dc1",
            "--dry-run=client",
        ],
    )
    .await?;
    run.expect(Exit::Success, "kind: MedusaBackupJob")?;
    run.expect(Exit::Success, "namespace: k8ssandra")?;
    Ok(())
}
