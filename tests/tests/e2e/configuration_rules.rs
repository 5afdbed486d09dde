//! The webhook's MedusaConfiguration rules (C1 to C3), through the API server.

use std::time::Duration;

use medusa_crds::*;
use medusa_e2e::{Failure, Harness, Outcome, ensure};
use serde_json::json;

use crate::support::{
    cluster, configuration, create, eventually, remove, storage_secret, submit, warned,
};

scenarios![
    c1_a_configuration_needs_its_secret,
    c1_a_secret_together_with_role_based_credentials_is_denied,
    c1_a_provider_without_a_bucket_is_denied,
    c2_a_prefix_in_a_configuration_warns_that_it_is_never_used,
    c3_a_configuration_in_use_cannot_be_deleted,
];

const API_VERSION: &str = "medusa.k8ssandra.io/v1alpha1";

async fn c1_a_configuration_needs_its_secret(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let value = configuration("s3", Storage::test());
    let what =
        format!("MedusaConfiguration {namespace}/s3 whose Secret medusa-bucket-key is missing");
    let message = submit(&h.client, &namespace, value.clone(), false)
        .await?
        .denied_by("C1", &what)?;
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
                let answer = submit(&h.client, &namespace, value, false).await?;
                match answer.refusal {
                    None => Ok(Some(())),
                    Some(message) if message.contains("[C1]") => Ok(None),
                    Some(message) => Err(Failure::new(format!("unexpected refusal: {message}"))),
                }
            }
        },
    )
    .await
}

async fn c1_a_secret_together_with_role_based_credentials_is_denied(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    create(&h.client, &namespace, storage_secret("medusa-bucket-key")).await?;
    let what =
        format!("MedusaConfiguration {namespace}/both with a secret and role-based credentials");
    let message = submit(
        &h.client,
        &namespace,
        configuration("both", Storage::test().role_based()),
        false,
    )
    .await?
    .denied_by("C1", &what)?;
    ensure(
        message.contains("cannot specify both a storage secret and role-based credentials"),
        || format!("{what}: expected the operator's text; got: {message}"),
    )
}

async fn c1_a_provider_without_a_bucket_is_denied(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let mut storage = Storage::test().without_secret().role_based();
    storage.bucket_name = None;
    let what = format!("MedusaConfiguration {namespace}/nobucket with a provider and no bucket");
    let message = submit(
        &h.client,
        &namespace,
        configuration("nobucket", storage),
        false,
    )
    .await?
    .denied_by("C1", &what)?;
    ensure(
        message.contains("storageProvider is s3 but bucketName is empty"),
        || {
            format!(
                "{what}: expected \"storageProvider is s3 but bucketName is empty\"; got: {message}"
            )
        },
    )
}

async fn c2_a_prefix_in_a_configuration_warns_that_it_is_never_used(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let storage = Storage::test()
        .without_secret()
        .role_based()
        .with_prefix("shared");
    let what = format!("MedusaConfiguration {namespace}/prefixed with prefix shared");
    let (_, warnings) = submit(
        &h.client,
        &namespace,
        configuration("prefixed", storage),
        false,
    )
    .await?
    .admitted(&what)?;
    warned(&warnings, "C2", "prefix \"shared\" is never used", &what)
}

/// Creates K8ssandraCluster `name` referencing configuration `shared`, once the webhook's
/// cache has seen the configuration.
async fn cluster_using_shared(h: &Harness, namespace: &str, name: &str) -> Outcome {
    let mut value = cluster(namespace, name, Storage::prefix_only(name));
    value["spec"]["medusa"]["medusaConfigurationRef"] = json!({"name": "shared"});
    eventually(
        "the cluster referencing shared admitted",
        Duration::from_secs(20),
        || {
            let value = value.clone();
            async move {
                let answer = submit(&h.client, namespace, value, false).await?;
                match answer.refusal {
                    None => Ok(Some(())),
                    Some(message) if message.contains("[K2]") => Ok(None),
                    Some(message) => Err(Failure::new(format!("unexpected refusal: {message}"))),
                }
            }
        },
    )
    .await
}

async fn c3_a_configuration_in_use_cannot_be_deleted(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    create(
        &h.client,
        &namespace,
        configuration("shared", Storage::test().without_secret().role_based()),
    )
    .await?;
    let name = format!("c3-{}", h.run);
    cluster_using_shared(h, &namespace, &name).await?;
    let what = format!(
        "deleting MedusaConfiguration {namespace}/shared while K8ssandraCluster {name} uses it"
    );
    let message = eventually(
        &format!("{what}: denied by C3"),
        Duration::from_secs(20),
        || async {
            let answer = remove(
                &h.client,
                &namespace,
                API_VERSION,
                "MedusaConfiguration",
                "shared",
            )
            .await?;
            match answer.refusal {
                Some(message) if message.contains("[C3]") => Ok(Some(message)),
                Some(message) => Err(Failure::new(format!("unexpected refusal: {message}"))),
                None => Err(Failure::new(format!("{what}: it was deleted"))),
            }
        },
    )
    .await?;
    ensure(message.contains(&name), || {
        format!("{what}: expected the denial to name the cluster {name}; got: {message}")
    })?;
    remove(
        &h.client,
        &namespace,
        "k8ssandra.io/v1alpha1",
        "K8ssandraCluster",
        &name,
    )
    .await?;
    eventually(
        "deleting shared once no cluster uses it",
        Duration::from_secs(20),
        || async {
            let answer = remove(
                &h.client,
                &namespace,
                API_VERSION,
                "MedusaConfiguration",
                "shared",
            )
            .await?;
            match answer.refusal {
                None => Ok(Some(())),
                Some(message) if message.contains("[C3]") => Ok(None),
                Some(message) => Err(Failure::new(format!("unexpected refusal: {message}"))),
            }
        },
    )
    .await
}
