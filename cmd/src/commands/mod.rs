//! The commands, and what they share: submitting objects, printing objects, following.

pub mod auth;
pub mod backup;
pub mod completion;
pub mod config;
pub mod logs;
pub mod purge;
pub mod restore;
pub mod schedule;
pub mod status;
pub mod tasks;
pub mod validate;
pub mod version;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use kube::Api;
use medusa_crds::wire::to_chrono;
use serde::Serialize;

use crate::api::{self, Kind};
use crate::cli::{CreateArgs, DryRun, ListOutput, ObjectOutput, SimpleListArgs};
use crate::context::Ctx;
use crate::error::{CliError, Result};
use crate::follow::{
    BackupEvent, BackupTracker, Snapshot, Subject, TaskTracker, drive, watch_named,
};
use crate::output::{self, Column, resource_name};
use medusa_crds::rules::ObjectKey;

/// Prints one object as `-o` asks.
pub fn print_object<K: Kind>(ctx: &Ctx, object: &K, format: ObjectOutput) -> Result<()> {
    match format {
        ObjectOutput::Yaml => ctx.out.write(&output::yaml(object)?),
        ObjectOutput::Json => ctx.out.write(&output::json(object)?),
        ObjectOutput::Name => ctx.out.line(resource_name(object)),
    }
}

/// Prints what `describe` shows as data when `-o json|yaml` asks; `false` for the text formats.
pub fn print_as_data<T: Serialize>(ctx: &Ctx, data: &T, format: ListOutput) -> Result<bool> {
    match format {
        ListOutput::Json => ctx.out.write(&output::json(data)?)?,
        ListOutput::Yaml => ctx.out.write(&output::yaml(data)?)?,
        ListOutput::Table | ListOutput::Wide | ListOutput::Name => return Ok(false),
    }
    Ok(true)
}

/// Prints a list of objects as `-o json|yaml|name` asks; `false` for table formats.
pub fn print_list<T: Serialize>(
    ctx: &Ctx,
    items: &[T],
    names: &[String],
    format: ListOutput,
) -> Result<bool> {
    match format {
        ListOutput::Json => ctx.out.write(&output::list_json(items)?)?,
        ListOutput::Yaml => ctx.out.write(&output::list_yaml(items)?)?,
        ListOutput::Name => {
            for name in names {
                ctx.out.line(name)?;
            }
        }
        ListOutput::Table | ListOutput::Wide => return Ok(false),
    }
    Ok(true)
}

/// The objects of a simple list (`-l`, `-A`), limited to `--dc` by `dc_of`.
pub async fn list_objects<K: Kind>(
    ctx: &Ctx,
    args: &SimpleListArgs,
    dc_of: fn(&K) -> &str,
) -> Result<Vec<K>> {
    let mut items = api::list::<K>(ctx, ctx.scope(), args.selector.as_deref()).await?;
    if let Some(dc) = &args.dc {
        items.retain(|item| dc_of(item) == dc);
    }
    Ok(items)
}

/// Says on standard error that there are no `what` here (in any namespace with `-A`).
pub fn nothing_found(ctx: &Ctx, what: &str) -> Result<()> {
    let scope = if ctx.all_namespaces() {
        "any namespace".to_owned()
    } else {
        format!("namespace {}", ctx.namespace())
    };
    ctx.err.line(format!("No {what} found in {scope}."))
}

/// Prints a list as `-o json|yaml|name` asks, or says there is nothing; `true` when no table
/// is left to draw.
pub fn print_unless_table<K: Kind>(
    ctx: &Ctx,
    items: &[K],
    format: ListOutput,
    what: &str,
) -> Result<bool> {
    let names: Vec<String> = items.iter().map(resource_name).collect();
    if print_list(ctx, items, &names, format)? {
        return Ok(true);
    }
    if items.is_empty() {
        nothing_found(ctx, what)?;
        return Ok(true);
    }
    Ok(false)
}

/// A table's headers: NAMESPACE first with `-A`, then `columns`, then `wide` with `-o wide`.
pub fn list_headers(
    ctx: &Ctx,
    columns: &[&'static str],
    wide: &[&'static str],
    format: ListOutput,
) -> Vec<&'static str> {
    let mut headers = Vec::new();
    if ctx.all_namespaces() {
        headers.push("namespace");
    }
    headers.extend_from_slice(columns);
    if format == ListOutput::Wide {
        headers.extend_from_slice(wide);
    }
    headers
}

/// A row's first cells, matching [`list_headers`]: the namespace with `-A`, then the name.
pub fn row_start(ctx: &Ctx, namespace: &str, name: &str) -> Vec<Column> {
    let mut cells = Vec::new();
    if ctx.all_namespaces() {
        cells.push(namespace.into());
    }
    cells.push(name.into());
    cells
}

/// The operations among these that look stalled.
pub fn stalled_keys(
    records: &[medusa_crds::health::OperationRecord],
    policy: medusa_crds::health::StallPolicy,
    now: DateTime<Utc>,
) -> std::collections::BTreeSet<ObjectKey> {
    let stalls = medusa_crds::health::Stalls::new(records, policy);
    records
        .iter()
        .filter(|r| stalls.check(r, now).is_some())
        .map(|r| r.key.clone())
        .collect()
}

/// The cells a restore or task row shares after its own: phase, progress, age and duration.
pub fn push_progress_cells(
    cells: &mut Vec<Column>,
    status: &medusa_crds::status::DerivedStatus,
    stalled: bool,
    now: DateTime<Utc>,
) {
    cells.push(Column::operation_phase(status.phase, stalled));
    cells.push(
        status
            .progress
            .map_or("<none>".into(), |p| format!("{}/{}", p.done, p.total))
            .into(),
    );
    cells.push(output::age(now, status.started).into());
    cells.push(output::took(status.duration()).into());
}

/// Anomaly codes, comma-separated, or `<none>`.
pub fn anomaly_codes(anomalies: &[medusa_crds::status::Anomaly]) -> String {
    if anomalies.is_empty() {
        "<none>".to_owned()
    } else {
        anomalies
            .iter()
            .map(|a| a.code())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Creates an object, or prints it for a client dry run. Returns the created object when it
/// was really created.
pub async fn submit<K: Kind>(
    ctx: &Ctx,
    object: K,
    create: &CreateArgs,
    hold_output: bool,
) -> Result<Option<K>> {
    let namespace = object
        .meta()
        .namespace
        .clone()
        .unwrap_or_else(|| ctx.namespace().to_owned());
    match create.dry_run() {
        Some(DryRun::Client) => {
            let labels = object.meta().labels.clone().unwrap_or_default();
            // The operator's schedule concurrency policy finds jobs and tasks by these labels.
            let counted = matches!(K::kind(&()).as_ref(), "MedusaBackupJob" | "MedusaTask");
            if counted
                && labels.contains_key(medusa_crds::naming::DATACENTER_LABEL)
                && !labels.contains_key(medusa_crds::naming::CLUSTER_LABEL)
            {
                ctx.err.line(format!(
                    "note: without the cluster, the label {} (the Cassandra cluster name) is not set; medusa-webhook adds it at admission, or pass --label {}=NAME so the operator's schedule concurrency policy counts this job",
                    medusa_crds::naming::CLUSTER_LABEL,
                    medusa_crds::naming::CLUSTER_LABEL
                ))?;
            }
            print_object(ctx, &object, create.output.unwrap_or(ObjectOutput::Yaml))?;
            Ok(None)
        }
        Some(DryRun::Server) => {
            let judged = api::create(ctx, &namespace, &object, true).await?;
            match create.output {
                Some(format) => print_object(ctx, &judged, format)?,
                None => ctx.out.line(format!(
                    "{} created (server dry run)",
                    resource_name(&judged)
                ))?,
            }
            Ok(None)
        }
        Some(DryRun::None) | None => {
            let created = api::create(ctx, &namespace, &object, false).await?;
            match create.output {
                Some(format) if !hold_output => print_object(ctx, &created, format)?,
                Some(_) => {}
                None => ctx
                    .out
                    .line(format!("{} created", resource_name(&created)))?,
            }
            Ok(Some(created))
        }
    }
}

/// Asks `question` (see [`Ctx::confirm`]), then deletes each named object of kind `K` in the
/// command's namespace, saying so for each, as `kubectl delete` does.
pub async fn delete_named<K: Kind>(
    ctx: &Ctx,
    names: &[String],
    question: &str,
    yes: bool,
) -> Result<()> {
    ctx.confirm(question, yes)?;
    for name in names {
        api::delete::<K>(ctx, ctx.namespace(), name).await?;
        ctx.out
            .line(format!("{} deleted", output::qualified_name::<K>(name)))?;
    }
    Ok(())
}

/// `<prefix>-<YYYYMMDDHHMMSS>` in UTC.
pub fn timestamped(prefix: &str, now: DateTime<Utc>) -> String {
    format!("{prefix}-{}", now.format("%Y%m%d%H%M%S"))
}

/// Groups keys by namespace.
fn by_namespace(keys: &[ObjectKey]) -> BTreeMap<String, Vec<String>> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for ObjectKey { namespace, name } in keys {
        groups
            .entry(namespace.clone())
            .or_default()
            .push(name.clone());
    }
    groups
}

/// Follows backup jobs (and their records) to the end.
pub async fn follow_backups(
    ctx: &Ctx,
    keys: Vec<ObjectKey>,
    timeout: Duration,
    graces: medusa_crds::status::Graces,
    output: Option<ObjectOutput>,
) -> Result<BackupTracker> {
    let client = ctx.client().await?.clone();
    let mut streams = Vec::new();
    for (namespace, names) in by_namespace(&keys) {
        streams.push(
            watch_named::<medusa_crds::MedusaBackupJob>(
                Api::namespaced(client.clone(), &namespace),
                &names,
            )
            .map(|e| e.map(BackupEvent::Job))
            .boxed(),
        );
        streams.push(
            watch_named::<medusa_crds::MedusaBackup>(
                Api::namespaced(client.clone(), &namespace),
                &names,
            )
            .map(|e| e.map(BackupEvent::Backup))
            .boxed(),
        );
    }
    let subject = Subject {
        noun: "backup",
        resume: match keys.as_slice() {
            [ObjectKey { namespace, name }] => {
                format!("kubectl medusa backup watch {name} -n {namespace}")
            }
            _ => "kubectl medusa backup list".to_owned(),
        },
    };
    let mut tracker = BackupTracker::new(&keys, graces);
    let result = drive(
        ctx,
        &mut tracker,
        futures::stream::select_all(streams),
        timeout,
        &subject,
        output.is_some(),
    )
    .await;
    if let Some(format) = output {
        for job in tracker.jobs() {
            print_object(ctx, &job, format)?;
        }
    }
    result.map(|_| tracker)
}

/// Follows tasks to the end; returns the tracker with their final state.
pub async fn follow_tasks(
    ctx: &Ctx,
    keys: Vec<ObjectKey>,
    timeout: Duration,
    noun: &'static str,
    quiet: bool,
) -> Result<TaskTracker> {
    let client = ctx.client().await?.clone();
    let streams: Vec<_> = by_namespace(&keys)
        .into_iter()
        .map(|(namespace, names)| {
            watch_named::<medusa_crds::MedusaTask>(
                Api::namespaced(client.clone(), &namespace),
                &names,
            )
        })
        .collect();
    let subject = Subject {
        noun,
        resume: match keys.as_slice() {
            [ObjectKey { namespace, name }] => {
                format!("kubectl medusa task watch {name} -n {namespace}")
            }
            _ => "kubectl medusa task list".to_owned(),
        },
    };
    let mut tracker = TaskTracker::new(&keys);
    drive(
        ctx,
        &mut tracker,
        futures::stream::select_all(streams),
        timeout,
        &subject,
        quiet,
    )
    .await?;
    Ok(tracker)
}

/// A one-line summary of a successful follow.
pub fn succeeded(snapshot: &Snapshot, noun: &str) -> String {
    let names: Vec<&str> = snapshot.items.iter().map(|i| i.key.name.as_str()).collect();
    format!("{noun} {} succeeded", names.join(", "))
}

/// A time as RFC 3339 with its age: `2024-05-01T10:00:00Z (2h ago)`.
pub fn when(now: DateTime<Utc>, time: Option<DateTime<Utc>>) -> String {
    match time {
        Some(t) => format!(
            "{} ({} ago)",
            t.format("%Y-%m-%dT%H:%M:%SZ"),
            output::human_duration(now - t)
        ),
        None => "<none>".into(),
    }
}

/// The creation time of an object.
pub fn created_at(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Option<DateTime<Utc>> {
    meta.creation_timestamp.as_ref().map(to_chrono)
}

/// Refuses a destructive command without names, a selector or a filter.
pub fn need_targets(given: bool, what: &str) -> Result<()> {
    if given {
        Ok(())
    } else {
        Err(CliError::usage(format!(
            "say which {what}: give names, -l SELECTOR or a filter"
        )))
    }
}

/// `key: value` lines, aligned.
pub fn fields(rows: &[(&str, String)]) -> String {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 2;
    rows.iter()
        .map(|(k, v)| format!("{:<width$}{v}\n", format!("{k}:")))
        .collect()
}
