//! `kubectl medusa sync`, `purge` and `task ...`.

use crate::cli::CreateArgs;
use crate::cli::OperationListArgs;
use crate::cli::WaitArgs;
use clap::{Args, Subcommand};
use medusa_crds::health::operations;
use medusa_crds::rules::ObjectKey;
use std::collections::BTreeSet;

use medusa_crds::rules::ResourceKind;
use medusa_crds::status::Graces;
use medusa_crds::status::task_status;
use medusa_crds::*;

use super::{
    delete_named, fields, follow_tasks, list_headers, list_objects, print_as_data, print_object,
    print_unless_table, push_progress_cells, row_start, stalled_keys, submit, timestamped, when,
};
use crate::api::{self, Scope};
use crate::checks;
use crate::cli::{DeleteArgs, DryRun, ListOutput, NameArgs, WatchArgs};
use crate::context::Ctx;
use crate::error::Result;
use crate::manifest;
use crate::output::{Column, table, took};

// === The command line ===

/// `kubectl medusa sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The datacenter whose Medusa lists the storage.
    #[arg(long)]
    pub dc: String,
    /// Name of the task (default: `sync-<dc>-<YYYYMMDDHHMMSS>`).
    #[arg(long)]
    pub name: Option<String>,
    /// Waiting.
    #[command(flatten)]
    pub wait: WaitArgs,
    /// Creation.
    #[command(flatten)]
    pub create: CreateArgs,
}

/// `kubectl medusa task`.
#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// List MedusaTasks.
    #[command(alias = "ls")]
    List(OperationListArgs),
    /// Everything about one task.
    Describe(NameArgs),
    /// Attach to a running task; the exit code is its outcome.
    Watch(WatchArgs),
    /// Delete tasks.
    Delete(DeleteArgs),
}

async fn backup_names(ctx: &Ctx, namespace: &str, dc: &str) -> Result<BTreeSet<String>> {
    Ok(
        api::list::<MedusaBackup>(ctx, Scope::Namespace(namespace), None)
            .await?
            .into_iter()
            .filter(|b| b.spec.cassandra_datacenter == dc)
            .filter_map(|b| b.metadata.name)
            .collect(),
    )
}

/// Creates a task (checked first, unless a client dry run), or prints it; `true` when it was
/// created and is to be followed (`--wait`).
pub(super) async fn start_task(
    ctx: &Ctx,
    name: &str,
    dc_name: &str,
    operation: Operation,
    create: &CreateArgs,
    wait: bool,
) -> Result<bool> {
    let namespace = ctx.namespace().to_owned();
    let client_dry_run = create.dry_run() == Some(DryRun::Client);
    let dc = if client_dry_run {
        None
    } else {
        let dc = checks::datacenter(ctx, &namespace, dc_name).await?;
        checks::medusa_pods(ctx, &namespace, &dc).await?;
        Some(dc)
    };
    let task = manifest::task(
        name,
        &namespace,
        dc_name,
        operation,
        manifest::labels(&create.labels, dc_name, dc.as_ref()),
    );
    if !client_dry_run {
        let view = checks::namespace_view(ctx, &namespace, ResourceKind::MedusaTask).await?;
        checks::run_rules(ctx, &task, &view).await?;
    }
    let created = submit(ctx, task, create, wait).await?.is_some();
    if created && !wait {
        ctx.err.line(format!(
            "follow it with: kubectl medusa task watch {name} -n {namespace}"
        ))?;
    }
    Ok(created && wait)
}

/// `kubectl medusa sync`.
pub async fn sync(ctx: &Ctx, args: SyncArgs) -> Result<()> {
    let namespace = ctx.namespace().to_owned();
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| timestamped(&format!("sync-{}", args.dc), ctx.now));
    let before = if args.wait.wait && args.create.dry_run().is_none() {
        Some(backup_names(ctx, &namespace, &args.dc).await?)
    } else {
        None
    };
    if !start_task(
        ctx,
        &name,
        &args.dc,
        Operation::Sync,
        &args.create,
        args.wait.wait,
    )
    .await?
    {
        return Ok(());
    }
    let tracker = follow_tasks(
        ctx,
        vec![ObjectKey::new(namespace.clone(), name.clone())],
        args.wait.timeout,
        "sync",
        args.create.output.is_some(),
    )
    .await?;
    if let Some(format) = args.create.output {
        for task in tracker.tasks() {
            print_object(ctx, &task, format)?;
        }
        return Ok(());
    }
    let after = backup_names(ctx, &namespace, &args.dc).await?;
    let before = before.unwrap_or_default();
    let added: Vec<&String> = after.difference(&before).collect();
    let removed: Vec<&String> = before.difference(&after).collect();
    ctx.out.line(format!(
        "sync {name} succeeded: {} backup record(s) for datacenter {}",
        after.len(),
        args.dc
    ))?;
    ctx.out.line(format!(
        "added ({}): {}",
        added.len(),
        if added.is_empty() {
            "none".into()
        } else {
            added
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    ))?;
    ctx.out.line(format!(
        "removed ({}): {}",
        removed.len(),
        if removed.is_empty() {
            "none".into()
        } else {
            removed
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    ))?;
    Ok(())
}

/// Runs a task command.
pub async fn run(ctx: &Ctx, command: TaskCommand) -> Result<()> {
    match command {
        TaskCommand::List(args) => list(ctx, args).await,
        TaskCommand::Describe(args) => describe(ctx, args).await,
        TaskCommand::Watch(args) => watch(ctx, args).await,
        TaskCommand::Delete(args) => delete(ctx, args).await,
    }
}

async fn list(ctx: &Ctx, OperationListArgs { list: args, stall }: OperationListArgs) -> Result<()> {
    let mut tasks =
        list_objects::<MedusaTask>(ctx, &args, |t| &t.spec.cassandra_datacenter).await?;
    let stalled = stalled_keys(
        &operations(&[], &[], &tasks, ctx.now),
        stall.policy(),
        ctx.now,
    );
    tasks.sort_by_key(|t| std::cmp::Reverse(super::created_at(&t.metadata)));
    if print_unless_table(ctx, &tasks, args.output, "tasks")? {
        return Ok(());
    }
    let headers = list_headers(
        ctx,
        &[
            "name",
            "datacenter",
            "operation",
            "status",
            "pods",
            "started",
            "duration",
        ],
        &["reason"],
        args.output,
    );
    let rows = tasks
        .iter()
        .map(|t| {
            let status = task_status(t, ctx.now, Graces::default());
            let mut cells = row_start(
                ctx,
                t.metadata.namespace.as_deref().unwrap_or_default(),
                t.metadata.name.as_deref().unwrap_or_default(),
            );
            cells.push(t.spec.cassandra_datacenter.clone().into());
            cells.push(t.spec.operation.to_string().into());
            let stalled = stalled.contains(&ObjectKey::of(t));
            push_progress_cells(&mut cells, &status, stalled, ctx.now);
            if args.output == ListOutput::Wide {
                cells.push(
                    status
                        .reason
                        .clone()
                        .unwrap_or_else(|| "<none>".into())
                        .into(),
                );
            }
            cells
        })
        .collect();
    ctx.out.write(&table(&headers, rows, ctx.color))
}

async fn describe(ctx: &Ctx, args: NameArgs) -> Result<()> {
    let namespace = ctx.namespace().to_owned();
    let task = api::get::<MedusaTask>(ctx, &namespace, &args.name).await?;
    if print_as_data(ctx, &task, args.output)? {
        return Ok(());
    }
    let status = task_status(&task, ctx.now, Graces::default());
    let raw = task.status.clone().unwrap_or_default();
    let mut rows = vec![
        ("Name", args.name.clone()),
        ("Namespace", namespace.clone()),
        ("Datacenter", task.spec.cassandra_datacenter.clone()),
        ("Operation", task.spec.operation.to_string()),
        ("Status", status.phase.to_string()),
        (
            "Reason",
            status.reason.clone().unwrap_or_else(|| "<none>".into()),
        ),
        (
            "Progress",
            status.progress.map_or("<none>".into(), |p| p.to_string()),
        ),
        ("Started", when(ctx.now, status.started)),
        ("Finished", when(ctx.now, status.finished)),
        ("Duration", took(status.duration())),
    ];
    if let Some(backup) = &task.spec.backup_name {
        rows.push(("Backup", backup.clone()));
    }
    let mut text = fields(&rows);
    text.push_str(&pods_section(ctx, &raw));
    if !status.anomalies.is_empty() {
        text.push_str("\nAnomalies:\n");
        for anomaly in &status.anomalies {
            text.push_str(&format!("  - {}: {anomaly}\n", anomaly.code()));
        }
    }
    if status.phase == status::Phase::Failed {
        text.push_str(&format!(
            "\nSee why in Medusa's logs: kubectl medusa logs task {} -n {namespace}\n",
            args.name
        ));
    }
    ctx.out.write(&text)
}

/// The task's pods, with what each purged.
fn pods_section(ctx: &Ctx, raw: &MedusaTaskStatus) -> String {
    let mut pods: Vec<Vec<Column>> = raw
        .finished()
        .iter()
        .map(|r| {
            vec![
                r.pod_name.clone().unwrap_or_default().into(),
                Column::phase(status::Phase::Succeeded),
                r.nb_backups_purged
                    .map_or("".into(), |n| n.to_string())
                    .into(),
                r.nb_objects_purged
                    .map_or("".into(), |n| n.to_string())
                    .into(),
                r.total_purged_size
                    .map_or("".into(), |n| {
                        backup::human_size(u64::try_from(n).unwrap_or(0))
                    })
                    .into(),
            ]
        })
        .collect();
    pods.extend(raw.failed().iter().map(|p| {
        vec![
            p.clone().into(),
            Column::phase(status::Phase::Failed),
            "".into(),
            "".into(),
            "".into(),
        ]
    }));
    pods.extend(raw.in_progress().iter().map(|p| {
        vec![
            p.clone().into(),
            Column::phase(status::Phase::Running),
            "".into(),
            "".into(),
            "".into(),
        ]
    }));
    if pods.is_empty() {
        return String::new();
    }
    let mut text = "\nPods:\n".to_owned();
    text.push_str(
        &table(
            &[
                "pod",
                "state",
                "backups purged",
                "objects purged",
                "size purged",
            ],
            pods,
            ctx.color,
        )
        .lines()
        .map(|l| format!("  {}\n", l.trim_end()))
        .collect::<String>(),
    );
    text
}

async fn watch(ctx: &Ctx, args: WatchArgs) -> Result<()> {
    let namespace = ctx.namespace().to_owned();
    let task = api::get::<MedusaTask>(ctx, &namespace, &args.name).await?;
    let noun = match task.spec.operation {
        Operation::Sync => "sync",
        Operation::Purge => "purge",
        _ => "task",
    };
    let tracker = follow_tasks(
        ctx,
        vec![ObjectKey::new(namespace, args.name.clone())],
        args.timeout,
        noun,
        args.output.is_some(),
    )
    .await?;
    match args.output {
        Some(format) => {
            for task in tracker.tasks() {
                print_object(ctx, &task, format)?;
            }
        }
        None => ctx.out.line(format!("{noun} {} succeeded", args.name))?,
    }
    Ok(())
}

async fn delete(ctx: &Ctx, args: DeleteArgs) -> Result<()> {
    let namespace = ctx.namespace().to_owned();
    for name in &args.names {
        api::get::<MedusaTask>(ctx, &namespace, name).await?;
    }
    delete_named::<MedusaTask>(
        ctx,
        &args.names,
        &format!(
            "Delete task record(s) {} in namespace {namespace}?",
            args.names.join(", ")
        ),
        args.yes,
    )
    .await
}
