//! A second identity, with only the rights a scenario gives it: a ServiceAccount of the
//! scenario's namespace, bound to a Role of these rules, and a kubeconfig with a token the API
//! server issued for it (TokenRequest), on the same cluster entry as the administrator's.

use std::path::PathBuf;

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use kube::api::{ObjectMeta, PostParams};
use kube::config::{AuthInfo, Context, Kubeconfig, NamedAuthInfo, NamedContext};
use kube::{Api, Client};

use crate::{Failure, Harness};

/// A rule granting `verbs` on `resources` of `group`.
pub fn rule(group: &str, resources: &[&str], verbs: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: Some(vec![group.to_owned()]),
        resources: Some(resources.iter().map(|r| (*r).to_owned()).collect()),
        verbs: verbs.iter().map(|v| (*v).to_owned()).collect(),
        ..PolicyRule::default()
    }
}

fn meta(name: &str, namespace: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(namespace.to_owned()),
        ..ObjectMeta::default()
    }
}

async fn create<K>(client: &Client, namespace: &str, object: &K) -> Result<K, Failure>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
{
    Api::<K>::namespaced(client.clone(), namespace)
        .create(&PostParams::default(), object)
        .await
        .map_err(|e| {
            Failure::new(format!(
                "cannot create {} in {namespace}: {e}",
                K::kind(&())
            ))
        })
}

impl Harness {
    /// A kubeconfig for user `name` (a ServiceAccount of `namespace`) who may do only what
    /// `rules` grant in `namespace`.
    pub async fn user_with(
        &self,
        namespace: &str,
        name: &str,
        rules: Vec<PolicyRule>,
    ) -> Result<PathBuf, Failure> {
        let client = &self.client;
        create(
            client,
            namespace,
            &ServiceAccount {
                metadata: meta(name, namespace),
                ..ServiceAccount::default()
            },
        )
        .await?;
        create(
            client,
            namespace,
            &Role {
                metadata: meta(name, namespace),
                rules: Some(rules),
            },
        )
        .await?;
        create(
            client,
            namespace,
            &RoleBinding {
                metadata: meta(name, namespace),
                role_ref: RoleRef {
                    api_group: "rbac.authorization.k8s.io".into(),
                    kind: "Role".into(),
                    name: name.to_owned(),
                },
                subjects: Some(vec![Subject {
                    kind: "ServiceAccount".into(),
                    name: name.to_owned(),
                    namespace: Some(namespace.to_owned()),
                    ..Subject::default()
                }]),
            },
        )
        .await?;
        let request = TokenRequest {
            spec: TokenRequestSpec {
                audiences: Vec::new(),
                expiration_seconds: Some(3600),
                ..TokenRequestSpec::default()
            },
            ..TokenRequest::default()
        };
        let token = Api::<ServiceAccount>::namespaced(client.clone(), namespace)
            .create_token_request(name, &PostParams::default(), &request)
            .await
            .map_err(|e| {
                Failure::new(format!(
                    "cannot get a token for ServiceAccount {namespace}/{name}: {e}"
                ))
            })?
            .status
            .map(|s| s.token)
            .ok_or_else(|| {
                Failure::new(format!(
                    "the token request of {namespace}/{name} has no status"
                ))
            })?;
        self.kubeconfig_for(name, namespace, token)
    }

    /// The administrator's kubeconfig, with its cluster, for a token user.
    fn kubeconfig_for(
        &self,
        name: &str,
        namespace: &str,
        token: String,
    ) -> Result<PathBuf, Failure> {
        let admin = Kubeconfig::read_from(&self.kubeconfig)
            .map_err(|e| Failure::new(format!("cannot read {}: {e}", self.kubeconfig.display())))?;
        let current = admin.current_context.clone().unwrap_or_default();
        let cluster_name = admin
            .contexts
            .iter()
            .find(|c| c.name == current)
            .and_then(|c| c.context.as_ref())
            .map(|c| c.cluster.clone())
            .ok_or_else(|| Failure::new("the administrator's kubeconfig has no current context"))?;
        let cluster = admin
            .clusters
            .iter()
            .find(|c| c.name == cluster_name)
            .cloned()
            .ok_or_else(|| Failure::new(format!("the kubeconfig has no cluster {cluster_name}")))?;
        let config = Kubeconfig {
            clusters: vec![cluster],
            auth_infos: vec![NamedAuthInfo {
                name: name.to_owned(),
                auth_info: Some(AuthInfo {
                    token: Some(token.into()),
                    ..AuthInfo::default()
                }),
                other: Default::default(),
            }],
            contexts: vec![NamedContext {
                name: name.to_owned(),
                context: Some(Context {
                    cluster: cluster_name,
                    user: Some(name.to_owned()),
                    namespace: Some(namespace.to_owned()),
                    ..Context::default()
                }),
                other: Default::default(),
            }],
            current_context: Some(name.to_owned()),
            api_version: Some("v1".into()),
            kind: Some("Config".into()),
            ..Kubeconfig::default()
        };
        let text = serde_saphyr::to_string(&config)
            .map_err(|e| Failure::new(format!("cannot write a kubeconfig: {e}")))?;
        let path = std::env::temp_dir().join(format!(
            "medusa-e2e-{}-{namespace}-{name}.kubeconfig",
            self.run
        ));
        std::fs::write(&path, text)
            .map_err(|e| Failure::new(format!("cannot write {}: {e}", path.display())))?;
        Ok(path)
    }
}
