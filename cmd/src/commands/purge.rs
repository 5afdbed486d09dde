//! `kubectl medusa purge`: a purge task (and its follow-up sync), or with `--preview` what it
//! would delete.

use clap::Args;
use k8s_openapi::api::core::v1::Pod;
use medusa_crds::health::{PurgePreview, Retention, purge_preview};
use medusa_crds::naming::purge_sync_task_name;
use medusa_crds::operator::datacenter_selector;
use medusa_crds::rules::ObjectKey;
use medusa_crds::*;

use super::follow_tasks;
use super::print_object;
use super::tasks::start_task;
use super::timestamped;
use crate::api::{self, Scope};
use crate::checks;
use crate::cli::{CreateArgs, DryRun, ObjectOutput, WaitArgs};
use crate::context::Ctx;
use crate::error::{CliError, Result};
use crate::output::{self, Column, age, table};

// === The command line ===

/// `kubectl medusa purge`.
#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// The datacenter.
    #[arg(long)]
    pub dc: String,
    /// Name of the task (default: `purge-<dc>-<YYYYMMDDHHMMSS>`).
    #[arg(long)]
    pub name: Option<String>,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Show which MedusaBackups the retention in force would delete, and why, following
    /// Medusa's purge rules node by node; create nothing.
    #[arg(long, conflicts_with_all = ["name", "yes", "wait", "dry_run"])]
    pub preview: bool,
    /// Waiting (also follows the automatic `<name>-sync` task).
    #[command(flatten)]
    pub wait: WaitArgs,
    /// Creation.
    #[command(flatten)]
    pub create: CreateArgs,
}

/// The retention in force on a datacenter (the merged storage of its K8ssandraCluster) and
/// where it comes from; `None` when the cluster cannot be read.
async fn retention_in_force(ctx: &Ctx, dc: &CassandraDatacenter) -> Option<(Retention, String)> {
    let owner = checks::owner_storage(ctx, dc).await?;
    let storage = owner.effective?.storage;
    let mut source = format!(
        "K8ssandraCluster {}/{}",
        owner.namespace,
        owner.cluster.metadata.name.unwrap_or_default()
    );
    if let Some(configuration) = owner.configuration.and_then(|c| c.metadata.name) {
        source.push_str(&format!(" merged with MedusaConfiguration {configuration}"));
    }
    Some((
        Retention {
            max_backup_age: storage.max_backup_age.unwrap_or(0),
            max_backup_count: storage.max_backup_count.unwrap_or(0),
        },
        source,
    ))
}

/// One line: the retention a purge applies.
fn retention_line(retention: Option<&(Retention, String)>) -> String {
    match retention {
        Some((r, source)) if r.is_off() => format!(
            "Retention in force ({source}): maxBackupAge 0 and maxBackupCount 0, i.e. unlimited: the purge deletes no backup, only orphaned files older than the grace period."
        ),
        Some((r, source)) => format!(
            "Retention in force ({source}): maxBackupAge {} day(s) (0: unlimited), maxBackupCount {} (0: unlimited).",
            r.max_backup_age, r.max_backup_count
        ),
        None => "Retention in force: unknown (the datacenter's K8ssandraCluster cannot be read)."
            .to_owned(),
    }
}

/// `kubectl medusa purge`.
pub async fn purge(ctx: &Ctx, args: PurgeArgs) -> Result<()> {
    if args.preview {
        return preview(ctx, &args).await;
    }
    let namespace = ctx.namespace().to_owned();
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| timestamped(&format!("purge-{}", args.dc), ctx.now));
    let real = args.create.dry_run().is_none();
    if args.create.dry_run() != Some(DryRun::Client) {
        let dc = checks::datacenter(ctx, &namespace, &args.dc).await?;
        let retention = retention_in_force(ctx, &dc).await;
        ctx.err.line(retention_line(retention.as_ref()))?;
        if real {
            ctx.confirm(
                &format!(
                    "Purge deletes backups of datacenter {} from storage, for good. Continue?",
                    args.dc
                ),
                args.yes,
            )?;
        }
    }
    if !start_task(
        ctx,
        &name,
        &args.dc,
        Operation::Purge,
        &args.create,
        args.wait.wait,
    )
    .await?
    {
        return Ok(());
    }
    let quiet = args.create.output.is_some();
    let purge = follow_tasks(
        ctx,
        vec![ObjectKey::new(namespace.clone(), name.clone())],
        args.wait.timeout,
        "purge",
        quiet,
    )
    .await?;
    let sync_name = purge_sync_task_name(&name);
    let sync = follow_tasks(
        ctx,
        vec![ObjectKey::new(namespace.clone(), sync_name.clone())],
        args.wait.timeout,
        "sync",
        quiet,
    )
    .await?;
    if let Some(format) = args.create.output {
        for task in purge.tasks().iter().chain(sync.tasks().iter()) {
            print_object(ctx, task, format)?;
        }
        return Ok(());
    }
    let totals = purge
        .tasks()
        .first()
        .and_then(|t| t.status.as_ref().map(MedusaTaskStatus::purge_totals))
        .unwrap_or_default();
    ctx.out.line(format!(
        "purge {name} succeeded: {} backup file set(s) purged across pods, {} objects deleted ({}), {} objects kept within the GC grace period; records refreshed by {sync_name}",
        totals.backups_purged,
        totals.objects_purged,
        backup::human_size(u64::try_from(totals.purged_bytes).unwrap_or(0)),
        totals.objects_within_gc_grace
    ))?;
    Ok(())
}

// === --preview ===

/// `purge --preview`: what the retention in force would delete.
async fn preview(ctx: &Ctx, args: &PurgeArgs) -> Result<()> {
    let namespace = ctx.namespace().to_owned();
    let dc = checks::datacenter(ctx, &namespace, &args.dc).await?;
    let Some((retention, source)) = retention_in_force(ctx, &dc).await else {
        return Err(CliError::Failed(format!(
            "cannot preview the purge of datacenter {namespace}/{}: the K8ssandraCluster that owns it (or its spec.medusa) cannot be read, so the retention in force is unknown; check it with kubectl medusa status --dc {}",
            args.dc, args.dc
        )));
    };
    let backups: Vec<MedusaBackup> =
        api::list::<MedusaBackup>(ctx, Scope::Namespace(&namespace), None)
            .await?
            .into_iter()
            .filter(|b| b.spec.cassandra_datacenter == args.dc)
            .collect();
    let unrecorded: Vec<String> =
        api::list::<MedusaBackupJob>(ctx, Scope::Namespace(&namespace), None)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|j| j.spec.cassandra_datacenter == args.dc)
            .filter_map(|j| j.metadata.name)
            .filter(|name| {
                !backups
                    .iter()
                    .any(|b| b.metadata.name.as_ref() == Some(name))
            })
            .collect();
    // The nodes that purge: the datacenter's pods (none readable: every node named counts).
    let selector = datacenter_selector(&dc);
    let pods: Vec<String> = api::list::<Pod>(ctx, Scope::Namespace(&namespace), Some(&selector))
        .await
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    let preview = purge_preview(&backups, retention, ctx.now, &pods);
    match args.create.output {
        Some(ObjectOutput::Json) => return ctx.out.write(&output::json(&preview)?),
        Some(ObjectOutput::Yaml) => return ctx.out.write(&output::yaml(&preview)?),
        Some(ObjectOutput::Name) => {
            for candidate in &preview.candidates {
                ctx.out.line(format!(
                    "medusabackup.medusa.k8ssandra.io/{}",
                    candidate.name
                ))?;
            }
            return Ok(());
        }
        None => {}
    }
    ctx.out.line(retention_line(Some(&(retention, source))))?;
    if !preview.candidates.is_empty() {
        ctx.out.write(&preview_table(ctx, &preview))?;
    }
    ctx.out.line(format!(
        "A purge of datacenter {} would delete {} of its {} MedusaBackup(s); nothing was created.",
        args.dc,
        preview.candidates.len(),
        preview.considered
    ))?;
    for line in caveats(&preview, &unrecorded, &args.dc) {
        ctx.out.line(line)?;
    }
    Ok(())
}

fn preview_table(ctx: &Ctx, preview: &PurgePreview) -> String {
    let rows = preview
        .candidates
        .iter()
        .map(|c| {
            let nodes = match (c.nodes.is_empty(), c.kept_on.is_empty()) {
                (_, true) => "all".to_owned(),
                (_, false) => format!(
                    "{} (kept on {}: fewer backups there)",
                    c.nodes.join(","),
                    c.kept_on.join(",")
                ),
            };
            let reasons: Vec<String> = c.reasons.iter().map(ToString::to_string).collect();
            vec![
                Column::from(c.name.as_str()),
                age(ctx.now, c.started).into(),
                nodes.into(),
                reasons.join("; ").into(),
            ]
        })
        .collect();
    table(&["NAME", "STARTED", "NODES", "REASON"], rows, ctx.color)
}

/// What the cluster cannot tell, said plainly.
fn caveats(preview: &PurgePreview, unrecorded: &[String], dc: &str) -> Vec<String> {
    let mut lines = Vec::new();
    if !preview.unknown_start.is_empty() {
        lines.push(format!(
            "Without a start time, Medusa cannot judge the age of {}: it counts toward maxBackupCount but is never picked by it.",
            preview.unknown_start.join(", ")
        ));
    }
    if !preview.foreign.is_empty() {
        lines.push(format!(
            "Kept whatever the retention: {}, whose nodes are not pods of datacenter {dc} (taken by another cluster and imported by a sync): no node of {dc} purges them.",
            preview.foreign.join(", ")
        ));
    }
    if !unrecorded.is_empty() {
        lines.push(format!(
            "Backup jobs without a MedusaBackup ({}): nodes that wrote part of them count those toward maxBackupCount too, so they may keep one backup fewer than shown.",
            unrecorded.join(", ")
        ));
    }
    lines.push(format!(
        "Not known from the cluster: files in the bucket that no MedusaBackup describes (backups of other clusters under the same prefix, backups not synced yet, orphaned files older than the grace period, which the purge also deletes); kubectl medusa sync --dc {dc} first makes the MedusaBackups match the bucket."
    ));
    lines
}
