//! k8ssandra-operator's Medusa controllers, played request by request against an API server.
//!
//! A test support for the plugin's tests (against the fake API server) and the end-to-end suite
//! (against a real one): [`Operator`] lists the namespace as the operator's informers would,
//! and reconciles each MedusaBackupJob, MedusaRestoreJob, MedusaTask and MedusaBackupSchedule
//! with the writes of `controllers/medusa/*_controller.go`, one request at a time, in their
//! order: the owner reference `Update` first, `startTime` and `inProgress` in two status
//! patches, `finishTime` before the MedusaBackup, the record created and then given its status,
//! a purge's `<task>-sync`, a sync's `finished` list, a schedule's status written before its
//! run is created. Medusa itself ([`medusa::Medusa`]) answers the gRPC calls: per-pod backups
//! that take [`Timing::backup`], the backups in storage, purges by retention.
//!
//! [`Faults`] plays what goes wrong in real clusters: a pod whose backup fails, a summary the
//! operator cannot find (the job finishes, no MedusaBackup), a record whose status arrives late
//! or never, an operator that dies mid-backup (the status stays as it is), Medusa's summary
//! saying IN_PROGRESS after every node finished (cassandra-medusa#965), a sync that reaches no
//! pod, a purge that fails on a pod. A restore whose checks fail gets the operator's `message`
//! from [`crate::restore::restore_preflight`], so that fault is the real check.
//!
//! Time is tokio's: paused in the plugin's tests (the delays pass at once), real against a real
//! API server. The simulated operator's clock is [`Clock`]: a start instant plus tokio's time
//! since, so that it agrees with the tests' fixed "now".

mod backup;
mod cassdc;
pub mod medusa;
mod restore;
mod schedule;
mod task;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::types::{
    CassandraDatacenter, MedusaBackupJob, MedusaBackupSchedule, MedusaRestoreJob, MedusaTask,
};
use medusa::Medusa;

/// The field manager of the simulated operator's writes.
pub const FIELD_MANAGER: &str = "k8ssandra-operator";

/// The simulated operator's clock: `base` plus tokio's time since the simulator started.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    base: DateTime<Utc>,
    start: tokio::time::Instant,
}

impl Clock {
    /// A clock that reads `base` now.
    pub fn starting_at(base: DateTime<Utc>) -> Self {
        Self {
            base,
            start: tokio::time::Instant::now(),
        }
    }

    /// Now.
    pub fn now(&self) -> DateTime<Utc> {
        self.base + chrono::Duration::from_std(self.start.elapsed()).unwrap_or_default()
    }

    /// Now, as the API server stores times (whole seconds, RFC 3339).
    pub fn stamp(&self) -> String {
        stamp(self.now())
    }
}

/// A time as the API server stores it.
pub fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// How long things take.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// How often the simulated informers list the namespace (a watch's latency).
    pub poll: Duration,
    /// The controllers' `DefaultDelay` (15 s in the operator).
    pub requeue: Duration,
    /// How long Medusa takes to back up one pod (the pods run at once, a little apart).
    pub backup: Duration,
    /// How long one pod's purge or prepare_restore takes (the operator runs them one by one).
    pub pod_task: Duration,
    /// How long cass-operator takes to stop or start the datacenter.
    pub datacenter: Duration,
    /// How long medusa-restore takes to download the data once the datacenter restarts.
    pub restore: Duration,
    /// Between creating a MedusaBackup and patching its status (the same reconcile: a few
    /// milliseconds in a healthy operator).
    pub record_status: Duration,
}

impl Timing {
    /// The operator's own pace: 15 s requeues, a minute's backup per pod.
    pub fn realistic() -> Self {
        Self {
            poll: Duration::from_secs(1),
            requeue: Duration::from_secs(15),
            backup: Duration::from_secs(60),
            pod_task: Duration::from_secs(20),
            datacenter: Duration::from_secs(30),
            restore: Duration::from_secs(60),
            record_status: Duration::from_millis(50),
        }
    }

    /// A brisk pace for a real API server in a test suite: every step within a few seconds.
    pub fn brisk() -> Self {
        Self {
            poll: Duration::from_millis(200),
            requeue: Duration::from_millis(500),
            backup: Duration::from_secs(2),
            pod_task: Duration::from_millis(500),
            datacenter: Duration::from_secs(1),
            restore: Duration::from_secs(1),
            record_status: Duration::from_millis(100),
        }
    }
}

impl Default for Timing {
    fn default() -> Self {
        Self::realistic()
    }
}

/// What goes wrong.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Pods whose backups Medusa reports FAILED.
    pub failing_backup_pods: BTreeSet<String>,
    /// `GetBackups` finds no summary of the job's backup: the operator has written
    /// `finishTime` and stops with "backup summary couldn't be found"; no MedusaBackup.
    pub missing_summary: bool,
    /// Delays the MedusaBackup's status patch after its create (on top of
    /// [`Timing::record_status`]).
    pub late_record_status: Option<Duration>,
    /// The MedusaBackup's status patch fails: the record stays without status for good.
    pub lost_record_status: bool,
    /// Medusa's summary says IN_PROGRESS although every node finished (cassandra-medusa#965).
    pub summary_in_progress: bool,
    /// The operator dies right after the `inProgress` patch of each backup job and never
    /// reconciles it again: its status stays as it is.
    pub dies_mid_backup: bool,
    /// `GetBackups` fails on every pod: a sync finishes with an empty `finished` list.
    pub sync_reaches_no_pod: bool,
    /// Pods on which a purge or a prepare_restore fails.
    pub failing_task_pods: BTreeSet<String>,
}

/// When an object is reconciled next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requeue {
    /// At once.
    Now,
    /// After a while.
    After(Duration),
    /// Not until its generation changes.
    Done,
}

/// What one reconcile did.
pub type Reconciled = Result<Requeue, String>;

/// The simulated operator, watching one namespace.
#[derive(Clone)]
pub struct Operator {
    client: kube::Client,
    namespace: String,
    clock: Clock,
    timing: Timing,
    faults: Faults,
    medusa: Arc<Mutex<Medusa>>,
    /// What the operator wrote, in order: `"PATCH medusabackupjobs/nightly/status"`.
    journal: Arc<Mutex<Vec<String>>>,
    /// Datacenters cass-operator is stopping (`true`) or starting, and when it is done.
    transitions: Arc<Mutex<BTreeMap<String, (bool, tokio::time::Instant)>>>,
}

impl std::fmt::Debug for Operator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operator")
            .field("namespace", &self.namespace)
            .field("timing", &self.timing)
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

/// A running simulated operator; it stops when dropped.
#[derive(Debug)]
pub struct Running {
    task: tokio::task::JoinHandle<()>,
    operator: Operator,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Running {
    /// The operator's writes so far.
    pub fn journal(&self) -> Vec<String> {
        self.operator.journal()
    }

    /// Medusa's view of storage, to look at or change while it runs.
    pub fn medusa(&self) -> Arc<Mutex<Medusa>> {
        self.operator.medusa.clone()
    }
}

/// The owner reference the operator's `SetControllerReference` sets to the datacenter.
fn owner_reference(dc: &CassandraDatacenter) -> OwnerReference {
    OwnerReference {
        api_version: "cassandra.datastax.com/v1beta1".into(),
        kind: "CassandraDatacenter".into(),
        name: dc.name_any(),
        uid: dc.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// A kind the operator reconciles.
pub(crate) trait Kind:
    Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + Clone
    + DeserializeOwned
    + Serialize
    + std::fmt::Debug
{
}

impl<K> Kind for K where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Serialize
        + std::fmt::Debug
{
}

impl Operator {
    /// The operator for `namespace`, with Medusa holding no backup yet, its clock at `now`.
    pub fn new(client: kube::Client, namespace: &str, now: DateTime<Utc>) -> Self {
        Self {
            client,
            namespace: namespace.to_owned(),
            clock: Clock::starting_at(now),
            timing: Timing::default(),
            faults: Faults::default(),
            medusa: Arc::new(Mutex::new(Medusa::default())),
            journal: Arc::new(Mutex::new(Vec::new())),
            transitions: Arc::new(Mutex::new(BTreeMap::new())),
        }
    }

    /// With this pace.
    pub fn timing(mut self, timing: Timing) -> Self {
        self.timing = timing;
        self
    }

    /// With these faults.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// With Medusa in this state (backups already in storage, a retention).
    pub fn medusa(mut self, medusa: Medusa) -> Self {
        self.medusa = Arc::new(Mutex::new(medusa));
        self
    }

    /// The operator's writes so far.
    pub fn journal(&self) -> Vec<String> {
        self.journal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Notes a write: `"PATCH medusabackupjobs/nightly/status"`.
    fn record(&self, verb: &str, plural: &str, name: &str, status: bool) {
        let suffix = if status { "/status" } else { "" };
        self.journal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(format!("{verb} {plural}/{name}{suffix}"));
    }

    fn medusa_state(&self) -> std::sync::MutexGuard<'_, Medusa> {
        self.medusa.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts reconciling in the background.
    pub fn spawn(self) -> Running {
        let operator = self.clone();
        Running {
            task: tokio::spawn(async move { operator.run().await }),
            operator: self,
        }
    }

    fn api<K: Kind>(&self) -> Api<K> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    async fn run(self) {
        let mut queue = Queue::default();
        loop {
            let now = tokio::time::Instant::now();
            self.cass_operator().await;
            self.pass::<MedusaBackupJob>(&mut queue, now).await;
            self.pass::<MedusaRestoreJob>(&mut queue, now).await;
            self.pass::<MedusaTask>(&mut queue, now).await;
            self.pass::<MedusaBackupSchedule>(&mut queue, now).await;
            // The next informer resync, or sooner the next requeue that falls due.
            let resync = tokio::time::Instant::now() + self.timing.poll;
            let wake = queue
                .entries
                .values()
                .filter_map(|e| e.due)
                .filter(|due| *due > now)
                .min()
                .map_or(resync, |due| due.min(resync));
            tokio::time::sleep_until(wake).await;
        }
    }

    /// One informer resync of a kind: new objects and new generations are due at once; each
    /// due object is reconciled, and requeued as its reconcile says.
    async fn pass<K>(&self, queue: &mut Queue, now: tokio::time::Instant)
    where
        K: Kind + Reconcile,
    {
        let Ok(list) = self.api::<K>().list(&ListParams::default()).await else {
            return;
        };
        let kind = K::kind(&()).into_owned();
        let names: BTreeSet<String> = list.items.iter().map(ResourceExt::name_any).collect();
        queue
            .entries
            .retain(|(k, name), _| *k != kind || names.contains(name));
        for object in list.items {
            let key = (kind.clone(), object.name_any());
            let generation = object.meta().generation.unwrap_or(0);
            let entry = queue.entries.entry(key).or_insert(Entry {
                generation: -1,
                due: Some(now),
            });
            if entry.generation != generation {
                entry.generation = generation;
                entry.due = Some(now);
            }
            if entry.due.is_none_or(|due| due > now) {
                continue;
            }
            let outcome = object.reconcile(self).await;
            entry.due = match outcome {
                Ok(Requeue::Now) => Some(tokio::time::Instant::now()),
                // controller-runtime's timers fire a little after the delay.
                Ok(Requeue::After(delay)) => {
                    Some(tokio::time::Instant::now() + delay + Duration::from_millis(1))
                }
                Ok(Requeue::Done) => None,
                // controller-runtime retries errors with a backoff.
                Err(_) => Some(tokio::time::Instant::now() + self.timing.requeue),
            };
        }
    }

    // === the writes, as the operator makes them ===

    /// `r.Update(obj)` after `SetControllerReference`: the whole object, with its
    /// resourceVersion; the status in it is not written (a subresource).
    async fn set_owner<K: Kind>(&self, object: &K, dc: &CassandraDatacenter) -> Result<K, String> {
        let mut updated = object.clone();
        updated
            .meta_mut()
            .owner_references
            .get_or_insert_with(Vec::new)
            .push(owner_reference(dc));
        let name = object.name_any();
        self.record("PUT", &K::plural(&()), &name, false);
        self.api::<K>()
            .replace(&name, &post_params(), &updated)
            .await
            .map_err(|e| format!("failed to set controller reference: {e}"))
    }

    /// `r.Status().Patch(ctx, obj, client.MergeFrom(original))`: a merge patch of the status.
    async fn patch_status<K: Kind>(
        &self,
        name: &str,
        status: serde_json::Value,
    ) -> Result<K, String> {
        self.record("PATCH", &K::plural(&()), name, true);
        self.api::<K>()
            .patch_status(
                name,
                &patch_params(),
                &Patch::Merge(serde_json::json!({"status": status})),
            )
            .await
            .map_err(|e| format!("failed to patch status: {e}"))
    }

    /// `r.Status().Update(ctx, obj)`: the whole status, with the object's resourceVersion.
    async fn replace_status<K: Kind>(&self, object: &K) -> Result<K, String> {
        let name = object.name_any();
        self.record("PUT", &K::plural(&()), &name, true);
        self.api::<K>()
            .replace_status(&name, &post_params(), object)
            .await
            .map_err(|e| format!("failed to update status: {e}"))
    }

    /// `r.Create(ctx, obj)`.
    async fn create<K: Kind>(&self, object: &K) -> Result<K, String> {
        self.record("POST", &K::plural(&()), &object.name_any(), false);
        self.api::<K>()
            .create(&post_params(), object)
            .await
            .map_err(|e| format!("failed to create: {e}"))
    }

    async fn get_opt<K: Kind>(&self, name: &str) -> Result<Option<K>, String> {
        self.api::<K>()
            .get_opt(name)
            .await
            .map_err(|e| format!("failed to get {name}: {e}"))
    }

    /// The CassandraDatacenter `<namespace>/<name>` (an error when missing: the operator
    /// retries, writing nothing).
    async fn datacenter(&self, name: &str) -> Result<CassandraDatacenter, String> {
        self.get_opt::<CassandraDatacenter>(name)
            .await?
            .ok_or_else(|| {
                format!("cassandradatacenters.cassandra.datastax.com \"{name}\" not found")
            })
    }

    /// The datacenter's pods, by cass-operator's labels (`GetCassandraDatacenterPods`).
    async fn pods(&self, dc: &CassandraDatacenter) -> Result<Vec<Pod>, String> {
        let selector = crate::operator::datacenter_selector(dc);
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        let mut pods = api
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| format!("failed to list pods: {e}"))?
            .items;
        pods.sort_by_key(ResourceExt::name_any);
        Ok(pods)
    }
}

fn post_params() -> PostParams {
    PostParams {
        dry_run: false,
        field_manager: Some(FIELD_MANAGER.to_owned()),
    }
}

fn patch_params() -> PatchParams {
    PatchParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PatchParams::default()
    }
}

/// A reconcile of one object.
pub(crate) trait Reconcile {
    /// Reconciles it once, as the operator's controller for its kind does.
    fn reconcile(self, operator: &Operator) -> impl Future<Output = Reconciled> + Send;
}

#[derive(Debug)]
struct Entry {
    generation: i64,
    due: Option<tokio::time::Instant>,
}

#[derive(Debug, Default)]
struct Queue {
    entries: BTreeMap<(String, String), Entry>,
}

/// Whether a pod has the `medusa` container (`shared.IsMedusaDeployed`).
fn runs_medusa(pod: &Pod) -> bool {
    pod.spec.as_ref().is_some_and(|s| {
        s.containers
            .iter()
            .any(|c| c.name == crate::types::cassdc::MEDUSA_CONTAINER)
    })
}

/// Sets a list field of a merge patch: a non-empty list, or `null` (Go's `omitempty` drops an
/// empty one, so the operator's merge patch removes the field).
fn list_or_null<T: Serialize>(items: &[T]) -> serde_json::Value {
    if items.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::to_value(items).unwrap_or(serde_json::Value::Null)
    }
}
