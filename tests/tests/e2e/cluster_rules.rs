//! The webhook's K8ssandraCluster rules (K1 to K9, KM), through the API server: what a user's
//! `kubectl apply` gets back.

use std::time::Duration;

use kube::Api;
use kube::api::{Patch, PatchParams};
use medusa_crds::*;
use medusa_e2e::{Failure, Harness, Outcome, ensure};
use serde_json::{Value, json};

use crate::support::{
    Answer, backup_record, cluster, configuration, create, create_with_status, eventually,
    role_based, s3, storage_secret, submit, warned,
};

scenarios![
    k1_a_namespaced_configuration_ref_is_denied_with_the_operators_text,
    k1_a_cluster_without_a_ref_needs_a_storage_provider,
    k1_a_cluster_without_a_ref_needs_a_bucket,
    k2_a_reference_to_a_missing_configuration_is_denied,
    km_a_cluster_with_a_configuration_gets_its_prefix_in_the_stored_object,
    k3_s3_compatible_storage_without_a_host_is_denied,
    k3_a_port_beyond_65535_is_denied,
    k4_a_secret_together_with_role_based_credentials_is_denied,
    k5_a_missing_storage_secret_is_denied_until_it_exists,
    k6_a_prefix_with_a_parent_segment_is_denied,
    k7_two_clusters_sharing_a_bucket_and_prefix_are_denied,
    k8_moving_the_storage_while_backups_exist_needs_the_annotation,
    k9_a_configuration_value_masked_by_the_clusters_default_arrives_as_a_warning,
];

/// A unique cluster name for this run (K7 compares prefixes across the whole API server).
fn unique(h: &Harness, name: &str) -> String {
    format!("{name}-{}", h.run)
}

async fn check(h: &Harness, namespace: &str, value: Value) -> Result<Answer, Failure> {
    submit(&h.client, namespace, value, false).await
}

async fn k1_a_namespaced_configuration_ref_is_denied_with_the_operators_text(
    h: &Harness,
) -> Outcome {
    let namespace = h.namespace(true).await?;
    let name = unique(h, "k1ns");
    let mut value = cluster(&namespace, &name, Storage::prefix_only(&name));
    value["spec"]["medusa"]["medusaConfigurationRef"] =
        json!({"name": "shared", "namespace": namespace});
    let what =
        format!("K8ssandraCluster {namespace}/{name} with medusaConfigurationRef.namespace set");
    let message = check(h, &namespace, value).await?.denied_by("K1", &what)?;
    ensure(
        message.contains("Medusa config must be namespace local"),
        || {
            format!(
                "{what}: expected the operator's text \"Medusa config must be namespace local\"; got: {message}"
            )
        },
    )
}

async fn k1_a_cluster_without_a_ref_needs_a_storage_provider(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let name = unique(h, "k1provider");
    let mut storage = role_based(&name);
    storage.storage_provider = None;
    let what = format!("K8ssandraCluster {namespace}/{name} without storageProvider nor ref");
    let message = check(h, &namespace, cluster(&namespace, &name, storage))
        .await?
        .denied_by("K1", &what)?;
    ensure(
        message
            .contains("medusa storage provider must be set when no medusaConfigurationRef is used"),
        || format!("{what}: expected the operator's text on the provider; got: {message}"),
    )
}

async fn k1_a_cluster_without_a_ref_needs_a_bucket(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let name = unique(h, "k1bucket");
    let mut storage = role_based(&name);
    storage.bucket_name = None;
    let what = format!("K8ssandraCluster {namespace}/{name} without bucketName nor ref");
    let message = check(h, &namespace, cluster(&namespace, &name, storage))
        .await?
        .denied_by("K1", &what)?;
    ensure(
        message.contains("medusa bucket name must be set when no medusaConfigurationRef is used"),
        || format!("{what}: expected the operator's text on the bucket; got: {message}"),
    )
}

async fn k2_a_reference_to_a_missing_configuration_is_denied(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let name = unique(h, "k2");
    let mut value = cluster(&namespace, &name, Storage::prefix_only(&name));
    value["spec"]["medusa"]["medusaConfigurationRef"] = json!({"name": "missing"});
    let what =
        format!("K8ssandraCluster {namespace}/{name} referencing MedusaConfiguration missing");
    let message = check(h, &namespace, value).await?.denied_by("K2", &what)?;
    ensure(
        message.contains("MedusaConfiguration \"missing\" not found"),
        || {
            format!(
                "{what}: expected \"MedusaConfiguration \\\"missing\\\" not found\"; got: {message}"
            )
        },
    )
}

async fn km_a_cluster_with_a_configuration_gets_its_prefix_in_the_stored_object(
    h: &Harness,
) -> Outcome {
    let namespace = h.namespace(true).await?;
    create(
        &h.client,
        &namespace,
        configuration("shared", Storage::test().without_secret().role_based()),
    )
    .await?;
    // Its name becomes its prefix, which no other cluster of the API server may use: unique.
    let name = unique(h, "km");
    let mut value = cluster(&namespace, &name, Storage::default());
    value["spec"]["medusa"] =
        json!({"medusaConfigurationRef": {"name": "shared"}, "storageProperties": {}});
    let (_, warnings) = check(h, &namespace, value)
        .await?
        .admitted(&format!("K8ssandraCluster {namespace}/{name}"))?;
    warned(&warnings, "KM", "prefix was empty", "KM's mutation")?;
    let stored: K8ssandraCluster = Api::namespaced(h.client.clone(), &namespace)
        .get(&name)
        .await?;
    let prefix = stored
        .spec
        .medusa
        .and_then(|m| m.storage_properties)
        .and_then(|s| s.prefix);
    ensure(prefix.as_deref() == Some(name.as_str()), || {
        format!(
            "K8ssandraCluster {namespace}/{name} as stored: expected prefix {name:?} set by KM; got {prefix:?}"
        )
    })
}

async fn k3_s3_compatible_storage_without_a_host_is_denied(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let name = unique(h, "k3host");
    let storage = role_based(&name).provider(StorageProvider::S3Compatible);
    let what = format!("K8ssandraCluster {namespace}/{name} on s3_compatible without host");
    let message = check(h, &namespace, cluster(&namespace, &name, storage))
        .await?
        .denied_by("K3", &what)?;
    ensure(message.contains("needs the endpoint's host"), || {
        format!("{what}: expected \"needs the endpoint's host\"; got: {message}")
    })
}

async fn k3_a_port_beyond_65535_is_denied(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let name = unique(h, "k3port");
    let storage = role_based(&name)
        .provider(StorageProvider::S3Compatible)
        .with_host("minio.minio")
        .with_port(70_000);
    let what = format!("K8ssandraCluster {namespace}/{name} with port 70000");
    let message = check(h, &namespace, cluster(&namespace, &name, storage))
        .await?
        .denied_by("K3", &what)?;
    ensure(
        message.contains("storage port 70000 is not a TCP port"),
        || format!("{what}: expected \"storage port 70000 is not a TCP port\"; got: {message}"),
    )
}

async fn k4_a_secret_together_with_role_based_credentials_is_denied(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let name = unique(h, "k4");
    let storage = s3(&name).role_based();
    let what =
        format!("K8ssandraCluster {namespace}/{name} with a secret and role-based credentials");
    let message = check(h, &namespace, cluster(&namespace, &name, storage))
        .await?
        .denied_by("K4", &what)?;
    ensure(
        message.contains("cannot specify both a storage secret and role-based credentials"),
        || format!("{what}: expected the operator's text; got: {message}"),
    )
}

async fn k5_a_missing_storage_secret_is_denied_until_it_exists(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let name = unique(h, "k5");
    let value = cluster(&namespace, &name, s3(&name));
    let what =
        format!("K8ssandraCluster {namespace}/{name} whose Secret medusa-bucket-key is missing");
    let message = check(h, &namespace, value.clone())
        .await?
        .denied_by("K5", &what)?;
    ensure(message.contains("medusa-bucket-key"), || {
        format!("{what}: expected the Secret named; got: {message}")
    })?;
    create(&h.client, &namespace, storage_secret("medusa-bucket-key")).await?;
    eventually(
        &format!("{what}, once the Secret exists, admitted"),
        Duration::from_secs(20),
        || {
            let value = value.clone();
            let namespace = namespace.clone();
            async move {
                let answer = submit(&h.client, &namespace, value, true).await?;
                match answer.refusal {
                    None => Ok(Some(())),
                    Some(message) if message.contains("[K5]") => Ok(None),
                    Some(message) => Err(Failure::new(format!("unexpected refusal: {message}"))),
                }
            }
        },
    )
    .await
}

async fn k6_a_prefix_with_a_parent_segment_is_denied(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let name = unique(h, "k6");
    let storage = role_based(&format!("{name}/../escape"));
    let what = format!("K8ssandraCluster {namespace}/{name} with prefix {name}/../escape");
    let message = check(h, &namespace, cluster(&namespace, &name, storage))
        .await?
        .denied_by("K6", &what)?;
    ensure(message.contains("`..` path segment"), || {
        format!("{what}: expected \"`..` path segment\"; got: {message}")
    })
}

async fn k7_two_clusters_sharing_a_bucket_and_prefix_are_denied(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let shared = unique(h, "shared");
    create(
        &h.client,
        &namespace,
        cluster(&namespace, "first", role_based(&shared)),
    )
    .await?;
    // The webhook's cache of clusters sees the first one within moments: retry as dry runs.
    let second = cluster(&namespace, "second", role_based(&shared));
    let message = eventually(
        "the second cluster on the same prefix denied by K7",
        Duration::from_secs(20),
        || {
            let second = second.clone();
            let namespace = namespace.clone();
            async move {
                let answer = submit(&h.client, &namespace, second, true).await?;
                match answer.refusal {
                    Some(message) if message.contains("[K7]") => Ok(Some(message)),
                    Some(message) => Err(Failure::new(format!("unexpected refusal: {message}"))),
                    None => Ok(None),
                }
            }
        },
    )
    .await?;
    ensure(message.contains("first"), || {
        format!(
            "K8ssandraCluster {namespace}/second: expected the denial to name K8ssandraCluster first; got: {message}"
        )
    })
}

async fn k8_moving_the_storage_while_backups_exist_needs_the_annotation(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let name = unique(h, "k8");
    create(
        &h.client,
        &namespace,
        cluster(&namespace, &name, role_based(&name)),
    )
    .await?;
    create_with_status(&h.client, &namespace, backup_record("nightly-1", 3)).await?;
    let api: Api<K8ssandraCluster> = Api::namespaced(h.client.clone(), &namespace);
    let moved = format!("{name}-moved");
    let patch = json!({"spec": {"medusa": {"storageProperties": {"prefix": moved}}}});
    let what = format!(
        "moving K8ssandraCluster {namespace}/{name} to prefix {moved} while MedusaBackup nightly-1 exists"
    );
    let message = eventually(
        &format!("{what}: denied by K8"),
        Duration::from_secs(20),
        || {
            let api = api.clone();
            let patch = patch.clone();
            let name = name.clone();
            async move {
                let params = PatchParams {
                    dry_run: true,
                    ..PatchParams::default()
                };
                match api.patch(&name, &params, &Patch::Merge(&patch)).await {
                    Err(kube::Error::Api(status)) if status.message.contains("[K8]") => {
                        Ok(Some(status.message))
                    }
                    Err(e) => Err(Failure::new(format!("unexpected refusal: {e}"))),
                    Ok(_) => Ok(None),
                }
            }
        },
    )
    .await?;
    ensure(
        message.contains("nightly-1") && message.contains(naming::ALLOW_STORAGE_CHANGE_ANNOTATION),
        || format!("{what}: expected the backup and the annotation named; got: {message}"),
    )?;
    let annotated = json!({"metadata": {"annotations": {naming::ALLOW_STORAGE_CHANGE_ANNOTATION: "true"}},
                           "spec": {"medusa": {"storageProperties": {"prefix": moved}}}});
    api.patch(&name, &PatchParams::default(), &Patch::Merge(&annotated))
        .await
        .map_err(|e| Failure::new(format!("{what}, annotated: expected it admitted; got {e}")))?;
    Ok(())
}

async fn k9_a_configuration_value_masked_by_the_clusters_default_arrives_as_a_warning(
    h: &Harness,
) -> Outcome {
    let namespace = h.namespace(true).await?;
    let mut shared = Storage::test().without_secret().role_based();
    shared.transfer_max_bandwidth = Some("200MB/s".into());
    create(&h.client, &namespace, configuration("shared", shared)).await?;
    let name = unique(h, "k9");
    // The schema default the API server writes into the cluster (with the operator's CRD).
    let mut storage = Storage::prefix_only(&name);
    storage.transfer_max_bandwidth = Some("50MB/s".into());
    let mut value = cluster(&namespace, &name, storage);
    value["spec"]["medusa"]["medusaConfigurationRef"] = json!({"name": "shared"});
    let what =
        format!("K8ssandraCluster {namespace}/{name} over MedusaConfiguration shared (200MB/s)");
    let (_, warnings) = eventually(
        &format!("{what}: admitted"),
        Duration::from_secs(20),
        || {
            let value = value.clone();
            let namespace = namespace.clone();
            let what = what.clone();
            async move {
                let answer = submit(&h.client, &namespace, value, false).await?;
                match &answer.refusal {
                    // The configuration may not be in the webhook's cache yet.
                    Some(message) if message.contains("[K2]") => Ok(None),
                    _ => answer.admitted(&what).map(Some),
                }
            }
        },
    )
    .await?;
    warned(
        &warnings,
        "K9",
        "the MedusaConfiguration's \"200MB/s\" is ignored",
        &what,
    )
}
