//! Following operations to their end: `--wait` and `watch`.
//!
//! A [`Tracker`] turns watch events into the derived status of each followed object; [`drive`]
//! feeds it events and a one-second tick, renders each change (a live per-pod view on a
//! terminal, one plain line per change otherwise), and ends with the operation's outcome, a
//! timeout (exit 2) or an interruption (exit 130). The events come from the watch API in
//! production and from synthetic streams in tests.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use kube::runtime::watcher::Event;
use medusa_crds::status::{
    DerivedStatus, Graces, Phase, backup_job_status, restore_status, task_status,
};
use medusa_crds::{MedusaBackup, MedusaBackupJob, MedusaRestoreJob, MedusaTask};

use crate::context::Ctx;
use crate::error::{ApiError, CallContext, CliError, Result, from_api};
use crate::output::human_duration;
use medusa_crds::rules::ObjectKey;

/// The state of one followed object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// `namespace/name`.
    pub key: ObjectKey,
    /// Its derived status; `None` until it is seen.
    pub status: Option<DerivedStatus>,
    /// Per pod: name and a mark (done, failed, running).
    pub pods: Vec<(String, PodMark)>,
}

/// The state of a pod within an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PodMark {
    /// Finished.
    Done,
    /// Failed.
    Failed,
    /// Working.
    Running,
}

impl PodMark {
    fn symbol(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Failed => "FAILED",
            Self::Running => "running",
        }
    }
}

/// Everything followed, at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// One entry per followed object.
    pub items: Vec<Item>,
}

impl Snapshot {
    /// The overall phase: the worst outcome once every object ended, else Running or Pending.
    pub fn phase(&self) -> Phase {
        let phases: Vec<Phase> = self
            .items
            .iter()
            .map(|i| i.status.as_ref().map_or(Phase::Pending, |s| s.phase))
            .collect();
        if !phases.is_empty() && phases.iter().all(|p| p.is_terminal()) {
            if phases.contains(&Phase::Failed) {
                Phase::Failed
            } else if phases.contains(&Phase::Unknown) {
                Phase::Unknown
            } else {
                Phase::Succeeded
            }
        } else if phases.iter().all(|p| *p == Phase::Pending) {
            Phase::Pending
        } else {
            Phase::Running
        }
    }
}

/// Turns events into snapshots.
pub trait Tracker {
    /// What it consumes.
    type Event;
    /// Takes one event.
    fn apply(&mut self, event: Self::Event);
    /// The state at `now`.
    fn snapshot(&self, now: DateTime<Utc>) -> Snapshot;
}

fn apply_event<K: kube::Resource>(map: &mut BTreeMap<ObjectKey, Option<K>>, event: Event<K>) {
    let key = |o: &K| {
        ObjectKey::new(
            o.meta().namespace.clone().unwrap_or_default(),
            o.meta().name.clone().unwrap_or_default(),
        )
    };
    match event {
        Event::Apply(o) | Event::InitApply(o) => {
            let k = key(&o);
            if let Some(slot) = map.get_mut(&k) {
                *slot = Some(o);
            }
        }
        Event::Delete(o) => {
            let k = key(&o);
            if let Some(slot) = map.get_mut(&k) {
                *slot = None;
            }
        }
        Event::Init | Event::InitDone => {}
    }
}

fn pods_of(finished: &[String], failed: &[String], running: &[String]) -> Vec<(String, PodMark)> {
    let mut pods: Vec<(String, PodMark)> = finished
        .iter()
        .map(|p| (p.clone(), PodMark::Done))
        .chain(failed.iter().map(|p| (p.clone(), PodMark::Failed)))
        .chain(running.iter().map(|p| (p.clone(), PodMark::Running)))
        .collect();
    pods.sort();
    pods
}

// === impl backups ===

/// An event about a backup job or its record.
#[derive(Debug)]
pub enum BackupEvent {
    /// About a MedusaBackupJob.
    Job(Event<MedusaBackupJob>),
    /// About a MedusaBackup.
    Backup(Event<MedusaBackup>),
}

/// Follows backup jobs joined with their MedusaBackup records.
#[derive(Debug, Default)]
pub struct BackupTracker {
    jobs: BTreeMap<ObjectKey, Option<MedusaBackupJob>>,
    backups: BTreeMap<ObjectKey, Option<MedusaBackup>>,
    graces: Graces,
}

impl BackupTracker {
    /// Follows these jobs (namespace, name), giving the operator these graces between writes.
    pub fn new(keys: &[ObjectKey], graces: Graces) -> Self {
        Self {
            jobs: keys.iter().map(|k| (k.clone(), None)).collect(),
            backups: keys.iter().map(|k| (k.clone(), None)).collect(),
            graces,
        }
    }

    /// The jobs as last seen.
    pub fn jobs(&self) -> Vec<MedusaBackupJob> {
        self.jobs.values().flatten().cloned().collect()
    }
}

impl Tracker for BackupTracker {
    type Event = BackupEvent;

    fn apply(&mut self, event: BackupEvent) {
        match event {
            BackupEvent::Job(e) => apply_event(&mut self.jobs, e),
            BackupEvent::Backup(e) => apply_event(&mut self.backups, e),
        }
    }

    fn snapshot(&self, now: DateTime<Utc>) -> Snapshot {
        let items = self
            .jobs
            .iter()
            .map(|(key, job)| {
                let backup = self.backups.get(key).and_then(Option::as_ref);
                let (status, pods) = match job {
                    Some(job) => {
                        let status = job.status.clone().unwrap_or_default();
                        (
                            Some(backup_job_status(job, backup, now, self.graces)),
                            pods_of(status.finished(), status.failed(), status.in_progress()),
                        )
                    }
                    None => (None, Vec::new()),
                };
                Item {
                    key: key.clone(),
                    status,
                    pods,
                }
            })
            .collect();
        Snapshot { items }
    }
}

// === impl restores ===

/// Follows a restore, remembering its first finishTime to notice a rewrite.
#[derive(Debug, Default)]
pub struct RestoreTracker {
    key: ObjectKey,
    job: Option<MedusaRestoreJob>,
    first_finish: Option<DateTime<Utc>>,
}

impl RestoreTracker {
    /// Follows this restore.
    pub fn new(key: ObjectKey) -> Self {
        Self {
            key,
            ..Self::default()
        }
    }

    /// The restore as last seen.
    pub fn job(&self) -> Option<&MedusaRestoreJob> {
        self.job.as_ref()
    }
}

impl Tracker for RestoreTracker {
    type Event = Event<MedusaRestoreJob>;

    fn apply(&mut self, event: Event<MedusaRestoreJob>) {
        let mut map = BTreeMap::from([(self.key.clone(), self.job.take())]);
        apply_event(&mut map, event);
        self.job = map.remove(&self.key).flatten();
        if self.first_finish.is_none() {
            self.first_finish = self
                .job
                .as_ref()
                .and_then(|j| j.status.as_ref())
                .and_then(|s| medusa_crds::operator::meaningful(s.finish_time.as_ref()));
        }
    }

    fn snapshot(&self, now: DateTime<Utc>) -> Snapshot {
        Snapshot {
            items: vec![Item {
                key: self.key.clone(),
                status: self
                    .job
                    .as_ref()
                    .map(|job| restore_status(job, self.first_finish, now, Graces::default())),
                pods: Vec::new(),
            }],
        }
    }
}

// === impl tasks ===

/// Follows MedusaTasks.
#[derive(Debug, Default)]
pub struct TaskTracker {
    tasks: BTreeMap<ObjectKey, Option<MedusaTask>>,
}

impl TaskTracker {
    /// Follows these tasks.
    pub fn new(keys: &[ObjectKey]) -> Self {
        Self {
            tasks: keys.iter().map(|k| (k.clone(), None)).collect(),
        }
    }

    /// The tasks as last seen.
    pub fn tasks(&self) -> Vec<MedusaTask> {
        self.tasks.values().flatten().cloned().collect()
    }
}

impl Tracker for TaskTracker {
    type Event = Event<MedusaTask>;

    fn apply(&mut self, event: Event<MedusaTask>) {
        apply_event(&mut self.tasks, event);
    }

    fn snapshot(&self, now: DateTime<Utc>) -> Snapshot {
        let items = self
            .tasks
            .iter()
            .map(|(key, task)| {
                let (status, pods) = match task {
                    Some(task) => {
                        let s = task.status.clone().unwrap_or_default();
                        let finished: Vec<String> = s
                            .finished()
                            .iter()
                            .filter_map(|r| r.pod_name.clone())
                            .collect();
                        (
                            Some(task_status(task, now, Graces::default())),
                            pods_of(&finished, s.failed(), s.in_progress()),
                        )
                    }
                    None => (None, Vec::new()),
                };
                Item {
                    key: key.clone(),
                    status,
                    pods,
                }
            })
            .collect();
        Snapshot { items }
    }
}

// === impl the driver ===

/// What is being followed, for messages: `backup`, `restore`, `purge`...
#[derive(Clone, Debug)]
pub struct Subject {
    /// `backup`.
    pub noun: &'static str,
    /// How to resume following: `kubectl medusa backup watch nightly`.
    pub resume: String,
}

fn status_line(item: &Item) -> String {
    let name = &item.key.name;
    match &item.status {
        None => format!("{name}  Pending  (not seen yet)"),
        Some(status) => {
            let mut line = format!("{name}  {}", status.phase);
            if let Some(progress) = status.progress {
                line.push_str(&format!("  {progress}"));
            }
            if let Some(reason) = &status.reason {
                line.push_str(&format!("  {reason}"));
            }
            line
        }
    }
}

fn live_block(snapshot: &Snapshot, elapsed: Duration) -> Vec<String> {
    let mut lines = Vec::new();
    for item in &snapshot.items {
        lines.push(format!(
            "{}   [{}]",
            status_line(item),
            human_duration(chrono::Duration::from_std(elapsed).unwrap_or_default())
        ));
        for (pod, mark) in &item.pods {
            lines.push(format!("    {:<8} {pod}", mark.symbol()));
        }
    }
    lines
}

/// Renders changes as they come.
struct Renderer<'a> {
    ctx: &'a Ctx,
    live_lines: usize,
    last_lines: Vec<String>,
    quiet: bool,
}

impl Renderer<'_> {
    fn show(&mut self, snapshot: &Snapshot, now: DateTime<Utc>, elapsed: Duration) -> Result<()> {
        if self.quiet {
            return Ok(());
        }
        if self.ctx.terminal {
            let block = live_block(snapshot, elapsed);
            let mut text = String::new();
            if self.live_lines > 0 {
                text.push_str(&format!("\u{1b}[{}A", self.live_lines));
            }
            for line in &block {
                text.push_str("\u{1b}[2K");
                text.push_str(line);
                text.push('\n');
            }
            self.live_lines = block.len();
            self.ctx.err.write(&text)
        } else {
            // One plain line per change of state (the elapsed time does not count).
            let lines: Vec<String> = snapshot.items.iter().map(status_line).collect();
            for (i, line) in lines.iter().enumerate() {
                if self.last_lines.get(i) != Some(line) {
                    self.ctx
                        .err
                        .line(format!("{}  {line}", now.format("%H:%M:%S")))?;
                }
            }
            self.last_lines = lines;
            Ok(())
        }
    }
}

/// Follows until every object ended, the timeout, or Ctrl-C. Anomalies are printed once, with
/// their meaning. Returns the final snapshot when everything succeeded.
pub async fn drive<T, S>(
    ctx: &Ctx,
    tracker: &mut T,
    events: S,
    timeout: Duration,
    subject: &Subject,
    quiet: bool,
) -> Result<Snapshot>
where
    T: Tracker,
    S: Stream<Item = std::result::Result<T::Event, ApiError>> + Unpin,
{
    let started = tokio::time::Instant::now();
    // The command's clock moves on with the monotonic clock (paused in tests).
    let base = ctx.now;
    let now = || base + chrono::Duration::from_std(started.elapsed()).unwrap_or_default();
    let deadline = started + timeout;
    let mut events = events.fuse();
    let mut renderer = Renderer {
        ctx,
        live_lines: 0,
        last_lines: Vec::new(),
        quiet,
    };
    let mut previous: Option<Snapshot> = None;
    let mut reported: Vec<(String, &'static str)> = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut last_error: Option<String> = None;
    loop {
        tokio::select! {
            biased;
            _ = &mut ctrl_c => {
                return Err(CliError::Interrupted(format!(
                    "interrupted: the {} goes on in the cluster; follow it again with {}",
                    subject.noun, subject.resume
                )));
            }
            () = tokio::time::sleep_until(deadline) => {
                return Err(timed_out(&tracker.snapshot(now()), timeout, subject));
            }
            event = events.next() => match event {
                Some(Ok(event)) => tracker.apply(event),
                Some(Err(error)) => watch_failed(ctx, error, subject, &mut last_error)?,
                None => {
                    return Err(CliError::Failed(format!(
                        "the watch of the {} ended unexpectedly; follow it with {}",
                        subject.noun, subject.resume
                    )));
                }
            },
            _ = tick.tick() => {}
        }
        let snapshot = tracker.snapshot(now());
        if previous.as_ref() != Some(&snapshot) {
            renderer.show(&snapshot, now(), started.elapsed())?;
            report_anomalies(ctx, &snapshot, &mut reported)?;
            previous = Some(snapshot.clone());
        }
        match snapshot.phase() {
            Phase::Succeeded => return Ok(snapshot),
            Phase::Failed | Phase::Unknown => return Err(failed(&snapshot, subject)),
            Phase::Running | Phase::Pending => {}
        }
    }
}

/// The error of a wait that ran out of time, with where each object stands.
fn timed_out(snapshot: &Snapshot, timeout: Duration, subject: &Subject) -> CliError {
    let state = snapshot
        .items
        .iter()
        .map(status_line)
        .collect::<Vec<_>>()
        .join("; ");
    CliError::TimedOut(format!(
        "timed out after {}: {state}; the {} goes on in the cluster; follow it with {}",
        humantime::format_duration(timeout),
        subject.noun,
        subject.resume
    ))
}

/// A failed watch: a 403 ends the wait (exit 5); anything else is said once, and retried.
fn watch_failed(
    ctx: &Ctx,
    error: ApiError,
    subject: &Subject,
    last_error: &mut Option<String>,
) -> Result<()> {
    if error.status_code() == Some(403) {
        return Err(from_api(
            error,
            CallContext {
                verb: "watch",
                resource: format!("the {}", subject.noun),
                namespace: ctx.namespace(),
                object: None,
            },
        ));
    }
    let cause = root_cause(&error);
    if last_error.as_deref() != Some(cause.as_str()) {
        ctx.err
            .line(format!("warning: watch interrupted ({cause}); retrying"))?;
    }
    *last_error = Some(cause);
    Ok(())
}

/// Says each anomaly once per object and code (their text may change, e.g. a wait).
fn report_anomalies(
    ctx: &Ctx,
    snapshot: &Snapshot,
    reported: &mut Vec<(String, &'static str)>,
) -> Result<()> {
    for item in &snapshot.items {
        for anomaly in item.status.iter().flat_map(|s| &s.anomalies) {
            let key = (item.key.name.clone(), anomaly.code());
            if !reported.contains(&key) {
                ctx.err
                    .line(format!("warning: {}: {anomaly}", item.key.name))?;
                reported.push(key);
            }
        }
    }
    Ok(())
}

/// The error of a wait that ended in a failure: the reason of each object that did not succeed.
fn failed(snapshot: &Snapshot, subject: &Subject) -> CliError {
    let reasons: Vec<String> = snapshot
        .items
        .iter()
        .filter_map(|i| {
            let status = i.status.as_ref()?;
            (status.phase != Phase::Succeeded).then(|| {
                format!(
                    "{} {}: {}",
                    subject.noun,
                    i.key.name,
                    status
                        .reason
                        .clone()
                        .unwrap_or_else(|| status.phase.to_string())
                )
            })
        })
        .collect();
    CliError::Failed(reasons.join("; "))
}

/// The innermost cause of an error: what actually went wrong, without the layers' prefixes.
fn root_cause(error: &dyn std::error::Error) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// Watch events of named objects of one kind in one namespace, as a stream the driver takes.
pub fn watch_named<K>(
    api: kube::Api<K>,
    names: &[String],
) -> impl Stream<Item = std::result::Result<Event<K>, ApiError>> + Unpin + Send + use<K>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    use kube::runtime::{WatchStreamExt, watcher};
    let config = match names {
        [one] => watcher::Config::default().fields(&format!("metadata.name={one}")),
        _ => watcher::Config::default(),
    };
    watcher(api, config)
        .default_backoff()
        .map(|e| e.map_err(ApiError::from))
        .boxed()
}
