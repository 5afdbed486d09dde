//! The end-to-end suite's harness: a real API server (started from `KUBEBUILDER_ASSETS`, or
//! the cluster of `KUBECONFIG`), the CRDs it lacks, medusa-webhook served from this process and
//! registered from `manifests/base`, one namespace per scenario, and cleanup.
//!
//! The scenarios are in `tests/e2e.rs`; `cargo test -p medusa-e2e` runs them, or prints one
//! line saying why it skips.

pub mod cluster;
pub mod install;
pub mod pki;
pub mod webhook;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};

use cluster::{LocalControlPlane, Source};
use install::RUN_LABEL;
use webhook::Webhook;

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

/// Everything the scenarios share.
pub struct Harness {
    /// This run's identifier.
    pub run: String,
    /// The administrator's client configuration.
    pub config: kube::Config,
    /// A client on it.
    pub client: Client,
    /// A kubeconfig file for it (for what reads one).
    pub kubeconfig: std::path::PathBuf,
    /// Where the suite runs, for messages.
    pub description: String,
    created_crds: Vec<String>,
    namespaces: Mutex<Vec<String>>,
    counter: AtomicUsize,
    webhook: Option<Webhook>,
    // Last: stopped after everything else.
    plane: Option<LocalControlPlane>,
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
        let run = run_id();
        let mut harness = Self {
            run,
            config,
            client: client.clone(),
            kubeconfig,
            description,
            created_crds,
            namespaces: Mutex::new(Vec::new()),
            counter: AtomicUsize::new(0),
            webhook: None,
            plane,
        };
        // The API server must reach the webhook: 127.0.0.1 for a local control plane; for
        // another cluster, MEDUSA_E2E_WEBHOOK_HOST names this machine as the cluster sees it.
        let host = std::env::var("MEDUSA_E2E_WEBHOOK_HOST").unwrap_or_else(|_| "127.0.0.1".into());
        let listen: SocketAddr = if host == "127.0.0.1" {
            SocketAddr::from(([127, 0, 0, 1], 0))
        } else {
            SocketAddr::from(([0, 0, 0, 0], 0))
        };
        let webhook = Webhook::start(client.clone(), listen, &host).await?;
        install::register_webhooks(&client, &harness.run, &webhook.base_url, &webhook.ca_pem)
            .await?;
        let base_url = webhook.base_url.clone();
        harness.webhook = Some(webhook);
        harness.wait_for_webhook(&base_url).await?;
        Ok(harness)
    }

    /// A new namespace for one scenario; under the suite's webhook when `webhook` is true.
    pub async fn namespace(&self, webhook: bool) -> Result<String, Failure> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let name = format!("e2e-{}-{n}", self.run);
        let mut labels = std::collections::BTreeMap::from([(
            "app.kubernetes.io/managed-by".to_owned(),
            "medusa-e2e".to_owned(),
        )]);
        if webhook {
            labels.insert(RUN_LABEL.to_owned(), self.run.clone());
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

    /// Waits until the API server sends our webhook the reviews (registration takes a moment
    /// to reach the API server's informers).
    async fn wait_for_webhook(&self, base_url: &str) -> Outcome {
        let namespace = self.namespace(true).await?;
        let api: Api<medusa_crds::MedusaBackupSchedule> =
            Api::namespaced(self.client.clone(), &namespace);
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

    /// Removes what the suite created; returns what it could not.
    pub async fn cleanup(mut self) -> Vec<String> {
        let namespaces = self
            .namespaces
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        // A local control plane goes with its processes; a cluster keeps nothing of ours.
        let problems = if self.plane.is_some() {
            Vec::new()
        } else {
            install::remove(&self.client, &self.run, &self.created_crds, &namespaces).await
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

/// A CassandraDatacenter that the operator's CRD accepts (it requires the server type and
/// version), with a medusa container in its pod template.
pub fn datacenter(namespace: &str, name: &str, size: i32) -> Value {
    let mut dc = serde_json::to_value(
        medusa_crds::CassandraDatacenter::test(name)
            .namespace(namespace)
            .size(size),
    )
    .unwrap_or_default();
    dc["spec"]["serverType"] = json!("cassandra");
    dc["spec"]["serverVersion"] = json!("4.1.5");
    dc["spec"]["storageConfig"] = json!({"cassandraDataVolumeClaimSpec": {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "1Gi"}}
    }});
    if let Some(meta) = dc["metadata"].as_object_mut() {
        meta.remove("creationTimestamp");
    }
    if let Some(object) = dc.as_object_mut() {
        object.remove("status");
    }
    dc
}

/// A Cassandra pod of datacenter `dc` of cluster `demo`, with a medusa container when asked.
/// Pause images: on a real cluster they run and do nothing.
pub fn cassandra_pod(namespace: &str, dc: &str, index: usize, medusa: bool) -> Value {
    let mut containers = vec![json!({"name": "cassandra", "image": "registry.k8s.io/pause:3.10"})];
    if medusa {
        containers.push(json!({"name": "medusa", "image": "registry.k8s.io/pause:3.10"}));
    }
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("demo-{dc}-default-sts-{index}"), "namespace": namespace,
                     "labels": {"cassandra.datastax.com/cluster": "demo",
                                "cassandra.datastax.com/datacenter": dc}},
        "spec": {"containers": containers}
    })
}

/// What `kubectl medusa` did.
#[derive(Debug)]
pub struct PluginRun {
    /// The exit code.
    pub code: kubectl_medusa::error::ExitCode,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `kubectl medusa <words> -n namespace` against the suite's API server, in-process,
/// with a person answering yes at the prompt.
pub async fn plugin(
    harness: &Harness,
    namespace: &str,
    words: &[&str],
) -> Result<PluginRun, Failure> {
    use clap::Parser;
    let mut argv = vec!["kubectl-medusa".to_owned()];
    argv.extend(words.iter().map(|w| (*w).to_owned()));
    argv.extend(["-n".to_owned(), namespace.to_owned()]);
    let cli = kubectl_medusa::cli::Cli::try_parse_from(&argv)
        .map_err(|e| Failure::new(format!("{argv:?} does not parse: {e}")))?;
    let (ctx, out, err) = kubectl_medusa::context::Ctx::for_test(
        Some(harness.client.clone()),
        namespace,
        chrono::Utc::now(),
        Some(true),
    );
    let ctx = ctx.with_global(cli.global.clone());
    let code = match kubectl_medusa::run(&ctx, cli.command).await {
        Ok(()) => kubectl_medusa::error::ExitCode::Success,
        Err(e) => {
            let _ = ctx.err.line(format!("error: {e}"));
            e.exit_code()
        }
    };
    Ok(PluginRun {
        code,
        stdout: out.text(),
        stderr: err.text(),
    })
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
