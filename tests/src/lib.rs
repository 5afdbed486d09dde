//! The end-to-end suite's harness: a real API server (started from `KUBEBUILDER_ASSETS`, or
//! the cluster of `KUBECONFIG`), the CRDs it lacks, medusa-webhook served from this process and
//! registered from `manifests/base`, one namespace per scenario, the operator's Medusa
//! controllers played by `medusa-crds`' simulator, users with fewer rights, and cleanup.
//!
//! The scenarios are in `tests/e2e/`; `cargo test -p medusa-e2e` runs them, or prints one line
//! saying why it skips.

pub mod cluster;
pub mod install;
pub mod objects;
pub mod pki;
pub mod plugin;
pub mod users;
pub mod webhook;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};
use medusa_crds::simulator::{Faults, Operator, Running, Timing};
use serde_json::json;

use cluster::{LocalControlPlane, Source};
use install::RUN_LABEL;
use webhook::Webhook;

pub use objects::{cassandra_pod, datacenter};
pub use plugin::{PluginRun, plugin, plugin_as};

/// Why a scenario, or the set-up, failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Failure(pub String);

impl Failure {
    /// A failure with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl From<kube::Error> for Failure {
    fn from(error: kube::Error) -> Self {
        Self(format!("API call failed: {error}"))
    }
}

impl From<serde_json::Error> for Failure {
    fn from(error: serde_json::Error) -> Self {
        Self(format!("JSON: {error}"))
    }
}

/// What a scenario returns.
pub type Outcome = Result<(), Failure>;

/// Fails with `message` unless `condition` holds.
pub fn ensure(condition: bool, message: impl FnOnce() -> String) -> Outcome {
    if condition {
        Ok(())
    } else {
        Err(Failure(message()))
    }
}

/// A client configuration from a kubeconfig file (its current context).
pub async fn config_from(path: &Path) -> Result<kube::Config, Failure> {
    let kubeconfig = kube::config::Kubeconfig::read_from(path)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))?;
    kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
        .await
        .map_err(|e| Failure::new(format!("cannot use {}: {e}", path.display())))
}

/// A short identifier of this run, for names.
fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut value = (nanos ^ (u128::from(std::process::id()) << 32)) % 36u128.pow(6);
    let mut id = String::new();
    for _ in 0..6 {
        let digit = u32::try_from(value % 36).unwrap_or(0);
        id.push(char::from_digit(digit, 36).unwrap_or('0'));
        value /= 36;
    }
    id
}

/// Where the webhook listens, and the host the API server dials: 127.0.0.1 for a local
/// control plane; for another cluster, `MEDUSA_E2E_WEBHOOK_HOST` names this machine as the
/// cluster reaches it.
fn webhook_address() -> (SocketAddr, String) {
    let host = std::env::var("MEDUSA_E2E_WEBHOOK_HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let listen = if host == "127.0.0.1" {
        SocketAddr::from(([127, 0, 0, 1], 0))
    } else {
        SocketAddr::from(([0, 0, 0, 0], 0))
    };
    (listen, host)
}

/// A webhook of one scenario's own, registered for its namespace only.
#[derive(Debug)]
pub struct PrivateWebhook {
    /// The server.
    pub webhook: Webhook,
    /// The namespace under it.
    pub namespace: String,
}

/// Everything the scenarios share.
pub struct Harness {
    /// This run's identifier.
    pub run: String,
    /// The administrator's client configuration.
    pub config: kube::Config,
    /// A client on it.
    pub client: Client,
    /// A kubeconfig file for it (what the plugin reads).
    pub kubeconfig: PathBuf,
    /// Where the suite runs, for messages.
    pub description: String,
    source: Source,
    created_crds: Vec<String>,
    namespaces: Mutex<Vec<String>>,
    registrations: Mutex<Vec<String>>,
    counter: AtomicUsize,
    webhook: Option<Webhook>,
    // Last: stopped after everything else.
    plane: tokio::sync::Mutex<Option<LocalControlPlane>>,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("run", &self.run)
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

impl Harness {
    /// Starts or connects to the API server, installs the CRDs it lacks, serves and registers
    /// the webhook, and waits until the API server calls it.
    pub async fn start(source: &Source) -> Result<Self, Failure> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (plane, kubeconfig, description) = match source {
            Source::Assets(assets) => {
                let plane = LocalControlPlane::start(assets).await?;
                let kubeconfig = plane.kubeconfig.clone();
                (
                    Some(plane),
                    kubeconfig,
                    format!("etcd and kube-apiserver from {}", assets.display()),
                )
            }
            Source::Kubeconfig(path) => {
                (None, path.clone(), format!("KUBECONFIG {}", path.display()))
            }
        };
        let config = config_from(&kubeconfig).await?;
        let client = Client::try_from(config.clone())
            .map_err(|e| Failure::new(format!("cannot create a client: {e}")))?;
        client.apiserver_version().await.map_err(|e| {
            Failure::new(format!("cannot reach the API server of {description}: {e}"))
        })?;
        let created_crds = install::ensure_crds(&client).await?;
        let mut harness = Self {
            run: run_id(),
            config,
            client: client.clone(),
            kubeconfig,
            description,
            source: source.clone(),
            created_crds,
            namespaces: Mutex::new(Vec::new()),
            registrations: Mutex::new(Vec::new()),
            counter: AtomicUsize::new(0),
            webhook: None,
            plane: tokio::sync::Mutex::new(plane),
        };
        let (listen, host) = webhook_address();
        let webhook = Webhook::start(client.clone(), listen, &host).await?;
        harness
            .register(&harness.run.clone(), &webhook.base_url, &webhook.ca_pem)
            .await?;
        let base_url = webhook.base_url.clone();
        harness.webhook = Some(webhook);
        let namespace = harness.namespace(true).await?;
        harness.wait_for_webhook(&namespace, &base_url).await?;
        Ok(harness)
    }

    async fn register(&self, label: &str, base_url: &str, ca_pem: &str) -> Outcome {
        install::register_webhooks(&self.client, label, base_url, ca_pem).await?;
        self.registrations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(label.to_owned());
        Ok(())
    }

    /// A new namespace for one scenario; under the suite's webhook when `webhook` is true.
    pub async fn namespace(&self, webhook: bool) -> Result<String, Failure> {
        self.namespace_under(webhook.then_some(self.run.as_str()))
            .await
    }

    /// A new namespace under the webhook registered with this label value, if any.
    async fn namespace_under(&self, label: Option<&str>) -> Result<String, Failure> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let name = format!("e2e-{}-{n}", self.run);
        let mut labels = std::collections::BTreeMap::from([(
            "app.kubernetes.io/managed-by".to_owned(),
            "medusa-e2e".to_owned(),
        )]);
        if let Some(label) = label {
            labels.insert(RUN_LABEL.to_owned(), label.to_owned());
        }
        let namespace = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some(labels),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        Api::<Namespace>::all(self.client.clone())
            .create(&PostParams::default(), &namespace)
            .await
            .map_err(|e| Failure::new(format!("cannot create namespace {name}: {e}")))?;
        self.namespaces
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(name.clone());
        Ok(name)
    }

    /// A webhook of the scenario's own (its certificate in files it reloads), registered
    /// only for a new namespace, and ready: for scenarios that stop or rotate it.
    pub async fn private_webhook(&self) -> Result<PrivateWebhook, Failure> {
        let (listen, host) = webhook_address();
        let webhook = Webhook::start_from_files(self.client.clone(), listen, &host).await?;
        let label = format!(
            "{}-{}",
            self.run,
            self.counter.fetch_add(1, Ordering::Relaxed)
        );
        self.register(&label, &webhook.base_url, &webhook.ca_pem)
            .await?;
        let namespace = self.namespace_under(Some(&label)).await?;
        self.wait_for_webhook(&namespace, &webhook.base_url).await?;
        Ok(PrivateWebhook { webhook, namespace })
    }

    /// Waits until the API server sends the webhook of `namespace` the reviews (registration
    /// takes a moment to reach the API server's informers).
    async fn wait_for_webhook(&self, namespace: &str, base_url: &str) -> Outcome {
        let api: Api<medusa_crds::MedusaBackupSchedule> =
            Api::namespaced(self.client.clone(), namespace);
        let probe: medusa_crds::MedusaBackupSchedule = serde_json::from_value(json!({
            "apiVersion": "medusa.k8ssandra.io/v1alpha1", "kind": "MedusaBackupSchedule",
            "metadata": {"name": "probe", "namespace": namespace},
            "spec": {"cronSchedule": "not a cron", "backupSpec": {"cassandraDatacenter": "dc1"}}
        }))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut last;
        loop {
            let params = PostParams {
                dry_run: true,
                ..PostParams::default()
            };
            match api.create(&params, &probe).await {
                Err(kube::Error::Api(status)) if status.message.contains("[S1]") => return Ok(()),
                Err(e) => last = e.to_string(),
                Ok(_) => {
                    last = "the invalid probe was accepted: the webhook is not called yet".into()
                }
            }
            if Instant::now() > deadline {
                return Err(Failure::new(format!(
                    "the API server of {} does not call the webhook at {base_url} after 30 s ({last}); for a remote cluster, set MEDUSA_E2E_WEBHOOK_HOST to this machine's address as the cluster reaches it",
                    self.description
                )));
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// The suite's webhook.
    pub fn webhook(&self) -> Option<&Webhook> {
        self.webhook.as_ref()
    }

    /// The operator's Medusa controllers, played on `namespace` at a brisk pace, with these
    /// faults; they stop when the returned value is dropped.
    pub fn operator(&self, namespace: &str, faults: Faults) -> Running {
        Operator::new(self.client.clone(), namespace, chrono::Utc::now())
            .timing(Timing::brisk())
            .faults(faults)
            .spawn()
    }

    /// Restarts kube-apiserver under the webhook and the clients; `false` when the suite runs
    /// on a cluster it did not start (`KUBECONFIG`), whose API server it cannot restart.
    pub async fn restart_api_server(&self) -> Result<bool, Failure> {
        let mut plane = self.plane.lock().await;
        match plane.as_mut() {
            Some(plane) => plane.restart_apiserver().await.map(|()| true),
            None => Ok(false),
        }
    }

    /// A second, empty control plane (no CRDs at all) from the same binaries, and a
    /// kubeconfig for it; `None` on a cluster the suite did not start.
    pub async fn empty_control_plane(&self) -> Result<Option<LocalControlPlane>, Failure> {
        match &self.source {
            Source::Assets(assets) => LocalControlPlane::start(assets).await.map(Some),
            Source::Kubeconfig(_) => Ok(None),
        }
    }

    /// Removes what the suite created; returns what it could not.
    pub async fn cleanup(mut self) -> Vec<String> {
        let namespaces = self
            .namespaces
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let registrations = self
            .registrations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        // A local control plane goes with its processes; a cluster keeps nothing of ours.
        let problems = if self.plane.lock().await.is_some() {
            Vec::new()
        } else {
            install::remove(
                &self.client,
                &registrations,
                &self.created_crds,
                &namespaces,
            )
            .await
        };
        self.webhook = None;
        problems
    }
}

/// An API error's message, or a failure saying the call was not refused.
pub fn refused<T>(result: Result<T, kube::Error>, what: &str) -> Result<String, Failure> {
    match result {
        Err(kube::Error::Api(status)) => Ok(status.message),
        Err(other) => Err(Failure::new(format!(
            "{what}: expected a refusal, got {other}"
        ))),
        Ok(_) => Err(Failure::new(format!(
            "{what}: accepted, expected a refusal"
        ))),
    }
}

/// Asserts the webhook denied the request with this rule.
pub fn denied_by<T>(
    result: Result<T, kube::Error>,
    rule: &str,
    what: &str,
) -> Result<String, Failure> {
    let message = refused(result, what)?;
    ensure(
        message.contains("denied the request") && message.contains(&format!("[{rule}]")),
        || format!("{what}: expected a denial by {rule}, got: {message}"),
    )?;
    Ok(message)
}

/// `name`, or `name-2`, `name-3`... : the first that no earlier sample of the kind took (two
/// samples may share a name, and a suffixed name may be another sample's own).
pub fn unique_name(
    used: &mut std::collections::BTreeSet<(String, String)>,
    kind: &str,
    name: &str,
) -> String {
    let mut candidate = name.to_owned();
    let mut n = 1;
    while !used.insert((kind.to_owned(), candidate.clone())) {
        n += 1;
        candidate = format!("{name}-{n}");
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_names_stay_unique_when_many_samples_share_one() {
        let mut used = std::collections::BTreeSet::new();
        let names: Vec<String> = ["demo", "demo", "demo-2", "demo", "demo"]
            .iter()
            .map(|n| unique_name(&mut used, "K8ssandraCluster", n))
            .collect();
        assert_eq!(names, ["demo", "demo-2", "demo-2-2", "demo-3", "demo-4"]);
        assert_eq!(unique_name(&mut used, "MedusaBackup", "demo"), "demo");
    }
}
