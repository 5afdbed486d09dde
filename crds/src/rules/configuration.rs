//! MedusaConfiguration rules C1 to C3.

use super::{
    AdmissionInput, AdmissionOperation, Checks, ClusterView, Finding, RuleId, Who, name_list,
};
use crate::types::{K8ssandraCluster, MedusaConfigurationSpec, StorageProvider};

pub(super) async fn validate<V: ClusterView>(
    input: &AdmissionInput<'_>,
    checks: &mut Checks<'_, V>,
) -> Result<(), Finding> {
    let who = input.who();
    match input.operation {
        AdmissionOperation::Create | AdmissionOperation::Update => {
            let spec: MedusaConfigurationSpec = input.spec()?;
            storage_rules(who, &spec, input.namespace, checks).await;
            Ok(())
        }
        AdmissionOperation::Delete => {
            references(who, input, checks).await;
            Ok(())
        }
        AdmissionOperation::Connect => Ok(()),
    }
}

/// C1 and C2.
async fn storage_rules<V: ClusterView>(
    who: Who<'_>,
    configuration: &MedusaConfigurationSpec,
    namespace: &str,
    checks: &mut Checks<'_, V>,
) {
    let storage = configuration.storage();
    if checks.enabled(RuleId::C1) {
        if let Some(provider) = &storage.storage_provider {
            if let StorageProvider::Unknown(value) = provider {
                checks.deny(
                    RuleId::C1,
                    format!(
                        "{who}: storageProvider {value:?} is not one the operator accepts; use one of {}",
                        StorageProvider::KNOWN.join(", ")
                    ),
                );
            }
            if storage.bucket().is_none() {
                checks.deny(
                    RuleId::C1,
                    format!(
                        "{who}: spec.storageProperties.storageProvider is {provider} but bucketName is empty; set spec.storageProperties.bucketName"
                    ),
                );
            }
        }
        match (storage.secret_name(), storage.is_role_based()) {
            (Some(secret), true) => checks.deny(
                RuleId::C1,
                format!(
                    "{who}: cannot specify both a storage secret and role-based credentials: {secret}; remove storageSecretRef to use the pods' cloud identity (a K8ssandraCluster cannot remove it later: empty values do not override), or remove credentialsType: role-based"
                ),
            ),
            (Some(secret), false) => {
                let lookup = checks.view.secret(namespace, secret).await;
                let facts = checks.require(
                    RuleId::C1,
                    lookup,
                    || format!("Secret {secret:?} in namespace {namespace}"),
                    || format!(
                        "{who}: storage Secret {secret:?} not found in namespace {namespace}: the operator would set SecretAvailable to False and keep retrying; create it in this namespace with a `credentials` key (and in every datacenter namespace that uses this configuration)"
                    ),
                );
                if facts.and_then(|f| f.has_credentials_key) == Some(false) {
                    checks.deny(
                        RuleId::C1,
                        format!(
                            "{who}: storage Secret {secret:?} in namespace {namespace} has no `credentials` key: Medusa reads /etc/medusa-secrets/credentials; store the provider's credentials file under the key `credentials`"
                        ),
                    );
                }
            }
            (None, _) => {}
        }
    }
    if let Some(prefix) = storage.prefix() {
        checks.warn(
            RuleId::C2,
            format!(
                "{who}: spec.storageProperties.prefix {prefix:?} is never used: every K8ssandraCluster that references a MedusaConfiguration must set its own prefix, which wins the merge; remove it here"
            ),
        );
    }
}

/// C3: no deletion while K8ssandraClusters reference the configuration.
async fn references<V: ClusterView>(
    who: Who<'_>,
    input: &AdmissionInput<'_>,
    checks: &mut Checks<'_, V>,
) {
    if !checks.enabled(RuleId::C3) {
        return;
    }
    let lookup = checks.view.list_all::<K8ssandraCluster>().await;
    let Some(clusters) = checks.list(RuleId::C3, lookup, || {
        "which K8ssandraClusters reference this configuration".to_owned()
    }) else {
        return;
    };
    let users: Vec<String> = clusters
        .iter()
        .filter(|c| c.namespace_or_default() == input.namespace)
        .filter(|c| references_configuration(c, input.name))
        .filter_map(|c| c.metadata.name.clone())
        .collect();
    if !users.is_empty() {
        checks.deny(
            RuleId::C3,
            format!(
                "{who} is used by K8ssandraCluster {}: their next reconcile would fail (medusaconfigurations.medusa.k8ssandra.io {:?} not found) and block their datacenters; point them at another configuration or remove their medusaConfigurationRef first",
                name_list(&users, 5),
                input.name
            ),
        );
    }
}

fn references_configuration(cluster: &K8ssandraCluster, name: &str) -> bool {
    cluster
        .spec
        .medusa
        .as_ref()
        .and_then(|m| m.configuration_name())
        == Some(name)
}
