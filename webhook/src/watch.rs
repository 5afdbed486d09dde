//! Keeps the caches in sync with the API server. A kind whose CRD is not installed (or that
//! RBAC forbids) disables its cache with one log line, and is probed again every minute.

use std::fmt::Debug;
use std::hash::Hash;
use std::time::Duration;

use futures::StreamExt;
use kube::api::ListParams;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use medusa_crds::kinds::{Consume, Watched};

use crate::cache::{CacheWriter, SecretMeta, Writers, Writing};

const REPROBE_INTERVAL: Duration = Duration::from_secs(60);
const RETRY_INTERVAL: Duration = Duration::from_secs(5);

/// Whether the kind is served, and if not why.
enum Probe {
    Served,
    NotServed(String),
    Retry(String),
}

fn classify(kind: &str, error: &kube::Error) -> Probe {
    match error {
        kube::Error::Api(status) if status.code == 404 => {
            Probe::NotServed(format!("the {kind} CRD is not installed"))
        }
        kube::Error::Api(status) if status.code == 403 => Probe::NotServed(format!(
            "listing {kind} is forbidden to the webhook's ServiceAccount ({}); fix its ClusterRole",
            status.message
        )),
        other => Probe::Retry(other.to_string()),
    }
}

async fn wait_until_served<K, F, Fut>(
    writer: &CacheWriter<K>,
    probe: F,
    cancel: &CancellationToken,
) -> bool
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone + Default,
    F: Fn() -> Fut,
    Fut: Future<Output = Probe>,
{
    let mut disabled = false;
    loop {
        let pause = match probe().await {
            Probe::Served => {
                if disabled {
                    tracing::info!(cache = writer.name(), "now served; enabling its cache");
                    writer.enable();
                }
                return true;
            }
            Probe::NotServed(reason) => {
                if !disabled {
                    tracing::warn!(cache = writer.name(), %reason, "cache disabled: rules that need it will warn instead of deny");
                    writer.disable(reason);
                    disabled = true;
                }
                REPROBE_INTERVAL
            }
            Probe::Retry(reason) => {
                tracing::warn!(cache = writer.name(), %reason, "cannot list yet; retrying");
                RETRY_INTERVAL
            }
        };
        tokio::select! {
            () = cancel.cancelled() => return false,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

async fn run<K>(api: Api<K>, mut writer: CacheWriter<K>, cancel: CancellationToken)
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + Hash + Clone,
{
    let kind = K::kind(&K::DynamicType::default()).into_owned();
    let probe = || async {
        match api.list(&ListParams::default().limit(1)).await {
            Ok(_) => Probe::Served,
            Err(e) => classify(&kind, &e),
        }
    };
    if !wait_until_served(&writer, probe, &cancel).await {
        return;
    }
    let mut stream = watcher(api.clone(), watcher::Config::default())
        .default_backoff()
        .boxed();
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            next = stream.next() => match next {
                Some(Ok(event)) => writer.apply(event),
                Some(Err(e)) => tracing::warn!(cache = writer.name(), error = %e, "watch error; retrying with backoff"),
                None => return,
            },
        }
    }
}

/// Starts the watch of each kind's writer.
struct Spawner {
    client: Client,
    cancel: CancellationToken,
    tasks: JoinSet<()>,
}

impl Consume<Writing> for Spawner {
    fn consume<K: Watched>(&mut self, writer: CacheWriter<K>) {
        let api = Api::<K>::all(self.client.clone());
        self.tasks.spawn(run(api, writer, self.cancel.clone()));
    }
}

/// Starts one watch per cache.
pub fn spawn_all(client: Client, writers: Writers, cancel: CancellationToken) -> JoinSet<()> {
    let mut spawner = Spawner {
        client: client.clone(),
        cancel: cancel.clone(),
        tasks: JoinSet::new(),
    };
    writers.objects.consume(&mut spawner);
    // Secrets as metadata only: `Api<PartialObjectMeta<_>>` makes metadata-only requests.
    spawner
        .tasks
        .spawn(run(Api::<SecretMeta>::all(client), writers.secrets, cancel));
    spawner.tasks
}
