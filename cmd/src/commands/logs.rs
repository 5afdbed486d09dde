//! `kubectl medusa logs`: the `medusa` container's logs of the pods an operation ran on (for a
//! restore, also the `medusa-restore` init container), from shortly before it started, each line
//! prefixed with its pod and interleaved by time. On a terminal, errors and Python tracebacks
//! stand out: the status of a failed operation names pods, the logs say why.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use clap::{Args, ValueEnum};
use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::LogParams;
use medusa_crds::operator::{datacenter_selector, meaningful};
use medusa_crds::types::cassdc::MEDUSA_CONTAINER;
use medusa_crds::*;

use crate::api::{self, Scope};
use crate::checks;
use crate::context::Ctx;
use crate::error::{CallContext, CliError, Result, from_api};

/// The restore init container, which downloads the backup before Cassandra starts.
pub const RESTORE_CONTAINER: &str = "medusa-restore";

/// How long before an operation's start its logs are read from: Medusa logs the request it
/// received a moment before the operator records the start.
const LEAD: Duration = Duration::minutes(1);

// === The command line ===

/// What ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogsKind {
    /// A MedusaBackupJob.
    Backup,
    /// A MedusaRestoreJob (also the medusa-restore init container).
    Restore,
    /// A MedusaTask (sync, purge, prepare_restore).
    Task,
}

/// `kubectl medusa logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// What ran: backup, restore or task.
    #[arg(value_enum)]
    pub kind: LogsKind,
    /// Its name.
    pub name: String,
    /// Keep streaming new lines until every container's log ends (or Ctrl-C).
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Only this pod.
    #[arg(long, conflicts_with = "every_pod")]
    pub pod: Option<String>,
    /// Every pod of the datacenter, not only those the operation ran on.
    #[arg(long = "all", id = "every_pod")]
    pub every_pod: bool,
    /// Keep each line's timestamp.
    #[arg(long)]
    pub timestamps: bool,
}

// === The operation ===

/// What the logs are read for: the operation's datacenter, its start and its pods.
#[derive(Debug)]
struct Operation {
    datacenter: String,
    since: Option<DateTime<Utc>>,
    pods: BTreeSet<String>,
    containers: &'static [&'static str],
}

fn names(lists: &[Option<&Vec<String>>]) -> BTreeSet<String> {
    lists
        .iter()
        .flatten()
        .flat_map(|l| l.iter().cloned())
        .collect()
}

async fn operation(ctx: &Ctx, namespace: &str, args: &LogsArgs) -> Result<Operation> {
    let name = args.name.as_str();
    Ok(match args.kind {
        LogsKind::Backup => {
            let job = api::get::<MedusaBackupJob>(ctx, namespace, name).await?;
            let status = job.status.as_ref();
            Operation {
                datacenter: job.spec.cassandra_datacenter.clone(),
                since: meaningful(status.and_then(|s| s.start_time.as_ref()))
                    .or_else(|| meaningful(job.metadata.creation_timestamp.as_ref())),
                pods: names(&[
                    status.and_then(|s| s.in_progress.as_ref()),
                    status.and_then(|s| s.finished.as_ref()),
                    status.and_then(|s| s.failed.as_ref()),
                ]),
                containers: &[MEDUSA_CONTAINER],
            }
        }
        LogsKind::Restore => {
            let job = api::get::<MedusaRestoreJob>(ctx, namespace, name).await?;
            Operation {
                datacenter: job.spec.cassandra_datacenter.clone(),
                since: meaningful(job.status.as_ref().and_then(|s| s.start_time.as_ref()))
                    .or_else(|| meaningful(job.metadata.creation_timestamp.as_ref())),
                // A restore runs on every pod of the datacenter, which it restarts.
                pods: BTreeSet::new(),
                containers: &[RESTORE_CONTAINER, MEDUSA_CONTAINER],
            }
        }
        LogsKind::Task => {
            let task = api::get::<MedusaTask>(ctx, namespace, name).await?;
            let status = task.status.as_ref();
            let finished: Vec<String> = status
                .and_then(|s| s.finished.as_ref())
                .into_iter()
                .flatten()
                .filter_map(|r| r.pod_name.clone())
                .collect();
            Operation {
                datacenter: task.spec.cassandra_datacenter.clone(),
                since: meaningful(status.and_then(|s| s.start_time.as_ref()))
                    .or_else(|| meaningful(task.metadata.creation_timestamp.as_ref())),
                pods: names(&[
                    status.and_then(|s| s.in_progress.as_ref()),
                    Some(&finished),
                    status.and_then(|s| s.failed.as_ref()),
                ]),
                containers: &[MEDUSA_CONTAINER],
            }
        }
    })
}

/// The (pod, container) pairs to read: the operation's pods (all of the datacenter's with
/// `--all`, when it names none, or for a restore), only those that declare the container.
async fn streams(
    ctx: &Ctx,
    namespace: &str,
    args: &LogsArgs,
    operation: &Operation,
) -> Result<Vec<(String, &'static str)>> {
    let dc = checks::datacenter(ctx, namespace, &operation.datacenter).await?;
    let selector = datacenter_selector(&dc);
    let pods = api::list::<Pod>(ctx, Scope::Namespace(namespace), Some(&selector)).await?;
    let wanted = |name: &str| match (&args.pod, args.every_pod || operation.pods.is_empty()) {
        (Some(pod), _) => pod == name,
        (None, true) => true,
        (None, false) => operation.pods.contains(name),
    };
    let mut streams = Vec::new();
    for pod in &pods {
        let name = pod.metadata.name.clone().unwrap_or_default();
        if !wanted(&name) {
            continue;
        }
        let spec = pod.spec.as_ref();
        for container in operation.containers {
            let declared = spec.is_some_and(|s| {
                s.containers.iter().any(|c| c.name == *container)
                    || s.init_containers
                        .iter()
                        .flatten()
                        .any(|c| c.name == *container)
            });
            if declared {
                streams.push((name.clone(), *container));
            }
        }
    }
    if streams.is_empty() {
        let which = match &args.pod {
            Some(pod) => format!(
                "pod {pod} is not a pod of datacenter {} or has no medusa container",
                operation.datacenter
            ),
            None => format!(
                "no pod of datacenter {} (selector {selector}) has a medusa container",
                operation.datacenter
            ),
        };
        return Err(CliError::NotFound(format!(
            "no logs to show for {:?} {}: {which}; list the pods with kubectl get pods -n {namespace} -l {selector}",
            args.kind, args.name
        )));
    }
    Ok(streams)
}

// === Lines ===

/// One log line, with where and when it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// `pod` for the medusa container, `pod/medusa-restore` for the init container.
    pub source: String,
    /// The API server's timestamp (RFC 3339, nanoseconds), kept as text: it sorts as time.
    pub timestamp: String,
    /// The text.
    pub text: String,
}

/// The prefix of a stream's lines.
pub fn source(pod: &str, container: &str) -> String {
    if container == MEDUSA_CONTAINER {
        pod.to_owned()
    } else {
        format!("{pod}/{container}")
    }
}

/// Splits a line of `timestamps=true` output into its timestamp and text.
pub fn split_timestamp(line: &str) -> (String, String) {
    match line.split_once(' ') {
        Some((ts, text)) if ts.len() >= 20 && ts.as_bytes().get(4) == Some(&b'-') => {
            (ts.to_owned(), text.to_owned())
        }
        _ => (String::new(), line.to_owned()),
    }
}

/// Interleaves the lines of several streams by time; lines of the same instant keep their
/// stream's order.
pub fn interleave(streams: Vec<Vec<LogLine>>) -> Vec<LogLine> {
    let mut all: Vec<LogLine> = streams.into_iter().flatten().collect();
    all.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
    all
}

/// Marks the lines that need a reader's eye: ERROR, CRITICAL, and Python tracebacks from their
/// first line to the exception that ends them. Kept per stream: tracebacks do not interleave.
#[derive(Debug, Default)]
pub struct Highlighter {
    in_traceback: BTreeSet<String>,
}

impl Highlighter {
    /// Whether this line stands out.
    pub fn stands_out(&mut self, line: &LogLine) -> bool {
        let text = line.text.as_str();
        if text.starts_with("Traceback (most recent call last)") {
            self.in_traceback.insert(line.source.clone());
            return true;
        }
        if self.in_traceback.contains(&line.source) {
            // Frames are indented; the exception line that ends the traceback is not.
            if !text.starts_with(' ') && !text.starts_with('\t') {
                self.in_traceback.remove(&line.source);
            }
            return true;
        }
        text.contains("ERROR") || text.contains("CRITICAL")
    }
}

/// A line as printed: `[source] text`, in bold red when it stands out on a terminal.
pub fn render(line: &LogLine, timestamps: bool, stands_out: bool, color: bool) -> String {
    let text = if timestamps && !line.timestamp.is_empty() {
        format!("[{}] {} {}", line.source, line.timestamp, line.text)
    } else {
        format!("[{}] {}", line.source, line.text)
    };
    if stands_out && color {
        format!("\u{1b}[1;31m{text}\u{1b}[0m")
    } else {
        text
    }
}

// === Reading ===

fn log_params(container: &str, since: Option<DateTime<Utc>>, follow: bool) -> LogParams {
    LogParams {
        container: Some(container.to_owned()),
        since_time: since
            .map(|t| t - LEAD)
            .and_then(|t| jiff::Timestamp::from_second(t.timestamp()).ok()),
        timestamps: true,
        follow,
        ..LogParams::default()
    }
}

fn log_call<'a>(namespace: &'a str, pod: &str, container: &str) -> CallContext<'a> {
    CallContext {
        verb: "get",
        resource: "pods/log".to_owned(),
        namespace,
        object: Some(format!("the {container} container's log of Pod {pod:?}")),
    }
}

/// Runs `logs`.
pub async fn run(ctx: &Ctx, args: LogsArgs) -> Result<()> {
    let namespace = ctx.namespace().to_owned();
    let operation = operation(ctx, &namespace, &args).await?;
    let streams = streams(ctx, &namespace, &args, &operation).await?;
    let pods: kube::Api<Pod> = kube::Api::namespaced(ctx.client().await?.clone(), &namespace);
    if args.follow {
        return follow(ctx, &pods, &namespace, &args, &operation, streams).await;
    }
    let reads = streams.iter().map(|(pod, container)| {
        let pods = pods.clone();
        let params = log_params(container, operation.since, false);
        async move { (pod, *container, pods.logs(pod, &params).await) }
    });
    let mut read = Vec::new();
    for (pod, container, result) in futures::future::join_all(reads).await {
        match result {
            Ok(text) => read.push(
                text.lines()
                    .map(|l| {
                        let (timestamp, text) = split_timestamp(l);
                        LogLine {
                            source: source(pod, container),
                            timestamp,
                            text,
                        }
                    })
                    .collect(),
            ),
            Err(e) => unreadable(ctx, &namespace, pod, container, e)?,
        }
    }
    let mut highlighter = Highlighter::default();
    for line in interleave(read) {
        let out = highlighter.stands_out(&line);
        ctx.out
            .line(render(&line, args.timestamps, out, ctx.color))?;
    }
    Ok(())
}

/// A stream that cannot be read: a note when the container has not started (or is gone), a
/// failure otherwise.
fn unreadable(
    ctx: &Ctx,
    namespace: &str,
    pod: &str,
    container: &str,
    error: kube::Error,
) -> Result<()> {
    match &error {
        kube::Error::Api(status) if matches!(status.code, 400 | 404) => ctx.err.line(format!(
            "note: no log of the {container} container of pod {pod}: it has not started, or the pod was replaced since the operation ran ({})",
            status.message
        )),
        _ => Err(from_api(error, log_call(namespace, pod, container))),
    }
}

/// `--follow`: every stream at once, each line printed as it arrives.
async fn follow(
    ctx: &Ctx,
    pods: &kube::Api<Pod>,
    namespace: &str,
    args: &LogsArgs,
    operation: &Operation,
    streams: Vec<(String, &'static str)>,
) -> Result<()> {
    let mut lines = futures::stream::SelectAll::new();
    for (pod, container) in streams {
        let params = log_params(container, operation.since, true);
        match pods.log_stream(&pod, &params).await {
            Ok(stream) => {
                let source = source(&pod, container);
                lines.push(
                    stream
                        .lines()
                        .map_ok(move |l| {
                            let (timestamp, text) = split_timestamp(&l);
                            LogLine {
                                source: source.clone(),
                                timestamp,
                                text,
                            }
                        })
                        .boxed(),
                );
            }
            Err(e) => unreadable(ctx, namespace, &pod, container, e)?,
        }
    }
    let mut highlighter = Highlighter::default();
    while let Some(line) = lines.next().await {
        match line {
            Ok(line) => {
                let out = highlighter.stands_out(&line);
                ctx.out
                    .line(render(&line, args.timestamps, out, ctx.color))?;
            }
            Err(e) => {
                ctx.err
                    .line(format!("note: a log stream ended with an error: {e}"))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(source: &str, timestamp: &str, text: &str) -> LogLine {
        LogLine {
            source: source.into(),
            timestamp: timestamp.into(),
            text: text.into(),
        }
    }

    #[test]
    fn a_timestamped_line_splits_into_time_and_text() {
        assert_eq!(
            split_timestamp("2024-05-01T10:00:00.123456789Z INFO Starting backup"),
            (
                "2024-05-01T10:00:00.123456789Z".to_owned(),
                "INFO Starting backup".to_owned()
            )
        );
        assert_eq!(
            split_timestamp("no timestamp here"),
            (String::new(), "no timestamp here".to_owned())
        );
    }

    #[test]
    fn streams_interleave_by_time() {
        let merged = interleave(vec![
            vec![
                line("a", "2024-05-01T10:00:01Z", "a1"),
                line("a", "2024-05-01T10:00:03Z", "a2"),
            ],
            vec![line("b", "2024-05-01T10:00:02Z", "b1")],
        ]);
        let texts: Vec<&str> = merged.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["a1", "b1", "a2"]);
    }

    #[test]
    fn a_traceback_stands_out_from_its_first_line_to_its_exception() {
        let mut h = Highlighter::default();
        let verdicts: Vec<bool> = [
            "INFO Uploading",
            "Traceback (most recent call last):",
            "  File \"/home/cassandra/medusa/backup_node.py\", line 42, in main",
            "    raise e",
            "botocore.exceptions.ClientError: AccessDenied",
            "INFO next",
        ]
        .iter()
        .map(|t| h.stands_out(&line("p", "", t)))
        .collect();
        assert_eq!(verdicts, [false, true, true, true, true, false]);
    }

    #[test]
    fn error_lines_stand_out() {
        let mut h = Highlighter::default();
        assert!(h.stands_out(&line(
            "p",
            "",
            "[2024-05-01 10:00:00] ERROR: This error happened during the backup"
        )));
        assert!(!h.stands_out(&line("p", "", "[2024-05-01 10:00:00] INFO: done")));
    }

    #[test]
    fn standing_out_is_bold_red_only_in_color() {
        let l = line("p0", "2024-05-01T10:00:00Z", "ERROR x");
        assert_eq!(render(&l, false, true, false), "[p0] ERROR x");
        assert_eq!(
            render(&l, false, true, true),
            "\u{1b}[1;31m[p0] ERROR x\u{1b}[0m"
        );
        assert_eq!(
            render(&l, true, false, false),
            "[p0] 2024-05-01T10:00:00Z ERROR x"
        );
    }

    #[test]
    fn the_init_container_is_named_in_the_prefix() {
        assert_eq!(source("p0", MEDUSA_CONTAINER), "p0");
        assert_eq!(source("p0", RESTORE_CONTAINER), "p0/medusa-restore");
    }
}
