//! Live GETs for existence checks the caches cannot answer yet (an object created a moment
//! ago), and for the `credentials` key of a Secret, whose data is dropped at once.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client, Resource};
use medusa_crds::rules::{Lookup, SecretFacts};
use medusa_crds::{CassandraDatacenter, MedusaBackup, MedusaConfiguration};
use serde::de::DeserializeOwned;

/// The key under which Medusa reads the storage credentials.
pub const CREDENTIALS_KEY: &str = "credentials";

/// A question for the API server.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LiveKey {
    /// A MedusaConfiguration.
    Configuration(String, String),
    /// A CassandraDatacenter.
    Datacenter(String, String),
    /// A MedusaBackup.
    Backup(String, String),
    /// A Secret: its existence and whether it has a `credentials` key.
    Secret(String, String),
}

impl LiveKey {
    /// The kind asked about, for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Configuration(..) => "MedusaConfiguration",
            Self::Datacenter(..) => "CassandraDatacenter",
            Self::Backup(..) => "MedusaBackup",
            Self::Secret(..) => "Secret",
        }
    }
}

/// The API server's answer.
#[derive(Clone, Debug)]
pub enum LiveAnswer {
    /// A MedusaConfiguration.
    Configuration(Arc<MedusaConfiguration>),
    /// A CassandraDatacenter.
    Datacenter(Arc<CassandraDatacenter>),
    /// A MedusaBackup.
    Backup(Arc<MedusaBackup>),
    /// What we may know of a Secret.
    Secret(SecretFacts),
    /// Not found.
    Missing,
    /// The lookup failed or ran out of time.
    Failed(String),
}

impl LiveAnswer {
    /// The outcome, for metrics.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Failed(_) => "failed",
            _ => "found",
        }
    }

    /// As a rule lookup of the expected type.
    pub fn lookup<T>(&self, pick: impl FnOnce(&Self) -> Option<T>) -> Lookup<T> {
        match self {
            Self::Missing => Lookup::Missing,
            Self::Failed(why) => Lookup::Failed(why.clone()),
            other => pick(other).map_or_else(
                || Lookup::Failed("the live lookup returned another kind".into()),
                Lookup::Found,
            ),
        }
    }
}

/// Live lookups through a Kubernetes client.
#[derive(Clone)]
pub struct Live {
    client: Client,
}

impl Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live").finish_non_exhaustive()
    }
}

async fn get<K>(client: &Client, namespace: &str, name: &str) -> Result<Option<K>, String>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope> + Clone + DeserializeOwned + Debug,
    K::DynamicType: Default,
{
    Api::<K>::namespaced(client.clone(), namespace)
        .get_opt(name)
        .await
        .map_err(|e| {
            format!(
                "GET {} {namespace}/{name} failed: {e}",
                K::kind(&K::DynamicType::default())
            )
        })
}

impl Live {
    /// Live lookups with this client.
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Answers every key, concurrently, within `remaining`; keys not answered in time fail,
    /// naming the review's whole `budget`.
    pub async fn resolve(
        &self,
        keys: Vec<LiveKey>,
        remaining: Duration,
        budget: Duration,
    ) -> HashMap<LiveKey, LiveAnswer> {
        let started = Instant::now();
        let lookups = keys.into_iter().map(|key| async move {
            let answer = match tokio::time::timeout(remaining, self.fetch(&key)).await {
                Ok(answer) => answer,
                Err(_) => LiveAnswer::Failed(format!(
                    "the live lookup of {} did not answer within the {} ms budget",
                    key.kind(),
                    budget.as_millis()
                )),
            };
            (key, answer)
        });
        let answers = futures::future::join_all(lookups)
            .await
            .into_iter()
            .collect();
        tracing::debug!(
            elapsed_us = started.elapsed().as_micros() as u64,
            "live lookups done"
        );
        answers
    }

    async fn fetch(&self, key: &LiveKey) -> LiveAnswer {
        let client = &self.client;
        let found = match key {
            LiveKey::Configuration(ns, name) => get::<MedusaConfiguration>(client, ns, name)
                .await
                .map(|o| o.map(|o| LiveAnswer::Configuration(Arc::new(o)))),
            LiveKey::Datacenter(ns, name) => get::<CassandraDatacenter>(client, ns, name)
                .await
                .map(|o| o.map(|o| LiveAnswer::Datacenter(Arc::new(o)))),
            LiveKey::Backup(ns, name) => get::<MedusaBackup>(client, ns, name)
                .await
                .map(|o| o.map(|o| LiveAnswer::Backup(Arc::new(o)))),
            LiveKey::Secret(ns, name) => get::<Secret>(client, ns, name).await.map(|secret| {
                secret.map(|secret| {
                    // Only the presence of the key is kept; the data is dropped here.
                    let has_key = secret
                        .data
                        .as_ref()
                        .is_some_and(|d| d.contains_key(CREDENTIALS_KEY))
                        || secret
                            .string_data
                            .as_ref()
                            .is_some_and(|d| d.contains_key(CREDENTIALS_KEY));
                    drop(secret);
                    LiveAnswer::Secret(SecretFacts {
                        has_credentials_key: Some(has_key),
                    })
                })
            }),
        };
        match found {
            Ok(Some(answer)) => answer,
            Ok(None) => LiveAnswer::Missing,
            Err(why) => LiveAnswer::Failed(why),
        }
    }
}
