//! Live GETs for what the caches cannot answer yet (an object created a moment ago), and for
//! the `credentials` key of a Secret, whose data is dropped at once.

use std::fmt::Debug;
use std::sync::Arc;

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};
use medusa_crds::kinds::Watched;
use medusa_crds::operator::secret_has_credentials;
use medusa_crds::rules::SecretFacts;

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

impl Live {
    /// Live lookups with this client.
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// An object of kind `K`, `None` when it does not exist; the error names the request.
    ///
    /// Both lookups return boxed futures: a kube request's future is kilobytes, and inline it
    /// would make the future of every review as large, to be moved on each one although few
    /// ever look anything up live.
    pub fn get<'a, K: Watched>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Arc<K>>, String>> {
        Box::pin(async move {
            Api::<K>::namespaced(self.client.clone(), namespace)
                .get_opt(name)
                .await
                .map(|found| found.map(Arc::new))
                .map_err(|e| format!("GET {} {namespace}/{name} failed: {e}", K::KIND))
        })
    }

    /// What the rules may know of a Secret, `None` when it does not exist. Only the presence
    /// of the `credentials` key is kept; the data is dropped here.
    pub fn secret<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<SecretFacts>, String>> {
        Box::pin(async move {
            let secret = Api::<Secret>::namespaced(self.client.clone(), namespace)
                .get_opt(name)
                .await
                .map_err(|e| format!("GET Secret {namespace}/{name} failed: {e}"))?;
            Ok(secret.map(|secret| {
                let has_key = secret_has_credentials(&secret);
                drop(secret);
                SecretFacts {
                    has_credentials_key: Some(has_key),
                }
            }))
        })
    }
}
