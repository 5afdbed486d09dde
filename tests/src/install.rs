//! What the suite installs, and removes at the end: the CRDs the cluster lacks, and our
//! webhook registration (from `manifests/base`), pointed at the webhook this process serves
//! and limited to the suite's own namespaces.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};

use crate::Failure;

/// The label that puts a namespace under the suite's webhook.
pub const RUN_LABEL: &str = "medusa-e2e.k8ssandra.io/run";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read_yaml(path: &Path) -> Result<Value, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))?;
    serde_saphyr::from_str(&text)
        .map_err(|e| Failure::new(format!("{} is not valid YAML: {e}", path.display())))
}

/// A CRD that keeps whatever it is given: for K8ssandraCluster and CassandraDatacenter when
/// the operator's CRDs are neither installed nor available as reference files.
pub fn stand_in_crd(group: &str, version: &str, kind: &str, plural: &str) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}"),
                     "labels": {"app.kubernetes.io/managed-by": "medusa-e2e"}},
        "spec": {
            "group": group,
            "names": {"kind": kind, "listKind": format!("{kind}List"), "plural": plural,
                      "singular": kind.to_lowercase()},
            "scope": "Namespaced",
            "versions": [{
                "name": version, "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "metadata": {"type": "object"},
                        "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                    }
                }}
            }]
        }
    })
}

/// The CRDs the suite needs, in the order to install them: ours for Medusa, and the
/// operator's for K8ssandraCluster and CassandraDatacenter when `MEDUSA_REFERENCE_CRDS`
/// points at them (else stand-ins).
pub fn wanted_crds() -> Result<Vec<Value>, Failure> {
    let mut crds = Vec::new();
    let ours = repo().join("crds/yaml");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&ours)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", ours.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    for file in files {
        crds.push(read_yaml(&file)?);
    }
    // Relative to the workspace root, as .ci/run and the justfile give it.
    let reference = std::env::var_os("MEDUSA_REFERENCE_CRDS")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                repo().join(dir)
            }
        });
    let k8c = reference
        .as_ref()
        .map(|r| r.join("k8ssandra.io_k8ssandraclusters.yaml"))
        .filter(|p| p.is_file());
    crds.push(match k8c {
        Some(path) => read_yaml(&path)?,
        None => stand_in_crd(
            "k8ssandra.io",
            "v1alpha1",
            "K8ssandraCluster",
            "k8ssandraclusters",
        ),
    });
    let cassdc = reference
        .as_ref()
        .map(|r| {
            r.join("../../cass-operator/crds/cassandra.datastax.com_cassandradatacenters.yaml")
        })
        .filter(|p| p.is_file());
    crds.push(match cassdc {
        Some(path) => read_yaml(&path)?,
        None => stand_in_crd(
            "cassandra.datastax.com",
            "v1beta1",
            "CassandraDatacenter",
            "cassandradatacenters",
        ),
    });
    Ok(crds)
}

fn established(crd: &CustomResourceDefinition) -> bool {
    crd.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| {
            c.iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        })
}

/// Creates the CRDs the cluster does not serve yet and waits until they are established.
/// Returns the names of those it created (to remove at the end).
pub async fn ensure_crds(client: &Client) -> Result<Vec<String>, Failure> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut created = Vec::new();
    for value in wanted_crds()? {
        let crd: CustomResourceDefinition = serde_json::from_value(value)
            .map_err(|e| Failure::new(format!("a CRD does not parse: {e}")))?;
        let name = crd.metadata.name.clone().unwrap_or_default();
        let existing = api
            .get_opt(&name)
            .await
            .map_err(|e| Failure::new(format!("cannot read CRD {name}: {e}")))?;
        if existing.is_none() {
            api.create(&PostParams::default(), &crd)
                .await
                .map_err(|e| Failure::new(format!("cannot create CRD {name}: {e}")))?;
            created.push(name.clone());
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let current = api
                .get(&name)
                .await
                .map_err(|e| Failure::new(format!("cannot read CRD {name}: {e}")))?;
            if established(&current) {
                break;
            }
            if Instant::now() > deadline {
                return Err(Failure::new(format!(
                    "CRD {name} not established after 60 s: {:?}",
                    current.status
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok(created)
}

/// Our webhook configurations from `manifests/base`, renamed for this run, pointed at `base`
/// (`https://host:port`) with this CA, and limited to namespaces labelled for this run.
pub fn webhook_configurations(
    run: &str,
    base: &str,
    ca_pem: &str,
) -> Result<(ValidatingWebhookConfiguration, MutatingWebhookConfiguration), Failure> {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    let rewrite = |mut value: Value| -> Result<Value, Failure> {
        value["metadata"]["name"] = json!(format!("medusa-webhook-e2e-{run}"));
        let webhooks = value["webhooks"]
            .as_array_mut()
            .ok_or_else(|| Failure::new("a webhook configuration without webhooks"))?;
        for webhook in webhooks {
            let path = webhook
                .pointer("/clientConfig/service/path")
                .and_then(Value::as_str)
                .ok_or_else(|| Failure::new("a webhook without clientConfig.service.path"))?
                .to_owned();
            webhook["clientConfig"] = json!({"url": format!("{base}{path}"), "caBundle": ca});
            webhook["namespaceSelector"] = json!({"matchLabels": {RUN_LABEL: run}});
            webhook["timeoutSeconds"] = json!(10);
        }
        Ok(value)
    };
    let base_dir = repo().join("manifests/base");
    let validating = rewrite(read_yaml(
        &base_dir.join("validatingwebhookconfiguration.yaml"),
    )?)?;
    let mutating = rewrite(read_yaml(
        &base_dir.join("mutatingwebhookconfiguration.yaml"),
    )?)?;
    Ok((
        serde_json::from_value(validating)
            .map_err(|e| Failure::new(format!("the validating configuration: {e}")))?,
        serde_json::from_value(mutating)
            .map_err(|e| Failure::new(format!("the mutating configuration: {e}")))?,
    ))
}

/// Registers the webhook configurations.
pub async fn register_webhooks(
    client: &Client,
    run: &str,
    base: &str,
    ca_pem: &str,
) -> Result<(), Failure> {
    let (validating, mutating) = webhook_configurations(run, base, ca_pem)?;
    Api::<ValidatingWebhookConfiguration>::all(client.clone())
        .create(&PostParams::default(), &validating)
        .await
        .map_err(|e| Failure::new(format!("cannot register the validating webhook: {e}")))?;
    Api::<MutatingWebhookConfiguration>::all(client.clone())
        .create(&PostParams::default(), &mutating)
        .await
        .map_err(|e| Failure::new(format!("cannot register the mutating webhook: {e}")))?;
    Ok(())
}

/// Removes what the suite added (the webhook configurations registered under these labels,
/// the namespaces, the CRDs it created); reports what it could not remove.
pub async fn remove(
    client: &Client,
    registrations: &[String],
    crds: &[String],
    namespaces: &[String],
) -> Vec<String> {
    let mut problems = Vec::new();
    let params = DeleteParams::default();
    for label in registrations {
        let name = format!("medusa-webhook-e2e-{label}");
        if let Err(e) = Api::<ValidatingWebhookConfiguration>::all(client.clone())
            .delete(&name, &params)
            .await
        {
            problems.push(format!("ValidatingWebhookConfiguration {name}: {e}"));
        }
        if let Err(e) = Api::<MutatingWebhookConfiguration>::all(client.clone())
            .delete(&name, &params)
            .await
        {
            problems.push(format!("MutatingWebhookConfiguration {name}: {e}"));
        }
    }
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    for namespace in namespaces {
        if let Err(e) = api.delete(namespace, &params).await {
            problems.push(format!("Namespace {namespace}: {e}"));
        }
    }
    let crd_api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crds {
        if let Err(e) = crd_api.delete(crd, &params).await {
            problems.push(format!("CRD {crd}: {e}"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn the_suite_installs_the_six_medusa_crds_and_the_two_it_reads() {
        let names: Vec<String> = wanted_crds()
            .unwrap()
            .into_iter()
            .map(|v| {
                let crd: CustomResourceDefinition = serde_json::from_value(v).unwrap();
                crd.metadata.name.unwrap()
            })
            .collect();
        assert_eq!(
            names,
            [
                "medusabackupjobs.medusa.k8ssandra.io",
                "medusabackups.medusa.k8ssandra.io",
                "medusabackupschedules.medusa.k8ssandra.io",
                "medusaconfigurations.medusa.k8ssandra.io",
                "medusarestorejobs.medusa.k8ssandra.io",
                "medusatasks.medusa.k8ssandra.io",
                "k8ssandraclusters.k8ssandra.io",
                "cassandradatacenters.cassandra.datastax.com",
            ]
        );
    }

    #[test]
    fn the_operators_crds_are_used_when_the_reference_folder_has_them() {
        let Some(dir) = std::env::var_os("MEDUSA_REFERENCE_CRDS") else {
            println!("MEDUSA_REFERENCE_CRDS is not set: the stand-ins are used");
            return;
        };
        let crds = wanted_crds().unwrap();
        let k8c = crds
            .iter()
            .find(|c| c["metadata"]["name"] == "k8ssandraclusters.k8ssandra.io")
            .unwrap();
        assert!(
            k8c["metadata"]["labels"]["app.kubernetes.io/managed-by"] != "medusa-e2e",
            "MEDUSA_REFERENCE_CRDS={dir:?}: the operator's K8ssandraCluster CRD was not found"
        );
    }

    #[test]
    fn a_stand_in_crd_keeps_spec_and_status_and_has_a_status_subresource() {
        let crd: CustomResourceDefinition = serde_json::from_value(stand_in_crd(
            "k8ssandra.io",
            "v1alpha1",
            "K8ssandraCluster",
            "k8ssandraclusters",
        ))
        .unwrap();
        let version = &crd.spec.versions[0];
        assert!(version.subresources.as_ref().unwrap().status.is_some());
        let properties = version
            .schema
            .as_ref()
            .unwrap()
            .open_api_v3_schema
            .as_ref()
            .unwrap()
            .properties
            .as_ref()
            .unwrap();
        for field in ["spec", "status"] {
            assert_eq!(
                properties[field].x_kubernetes_preserve_unknown_fields,
                Some(true)
            );
        }
    }

    #[test]
    fn the_registration_points_at_this_process_and_only_at_the_runs_namespaces() {
        let (validating, mutating) =
            webhook_configurations("abc123", "https://127.0.0.1:9443", "CA PEM").unwrap();
        assert_eq!(
            validating.metadata.name.as_deref(),
            Some("medusa-webhook-e2e-abc123")
        );
        let webhooks = validating.webhooks.unwrap();
        assert!(!webhooks.is_empty());
        let clients = webhooks
            .iter()
            .map(|w| (&w.client_config, w.namespace_selector.as_ref()))
            .chain(
                mutating
                    .webhooks
                    .as_ref()
                    .unwrap()
                    .iter()
                    .map(|w| (&w.client_config, w.namespace_selector.as_ref())),
            );
        for (client, selector) in clients {
            assert!(client.service.is_none());
            let url = client.url.as_deref().unwrap();
            assert!(
                url == "https://127.0.0.1:9443/validate" || url == "https://127.0.0.1:9443/mutate",
                "{url}"
            );
            assert_eq!(client.ca_bundle.as_ref().unwrap().0, b"CA PEM");
            let selector = selector.unwrap();
            assert_eq!(selector.match_labels.as_ref().unwrap()[RUN_LABEL], "abc123");
            assert!(selector.match_expressions.is_none());
        }
        // The rules are the manifests' own.
        assert!(webhooks[0].rules.as_ref().unwrap().iter().any(|r| {
            r.resources
                .as_ref()
                .unwrap()
                .contains(&"medusabackupjobs".to_owned())
        }));
    }
}
