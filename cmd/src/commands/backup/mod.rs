//! `kubectl medusa backup ...`.

use crate::cli::CreateArgs;
use crate::cli::RecordGraceArgs;
use crate::cli::WaitArgs;
use crate::cli::WatchArgs;
use crate::cli::parse_duration;
use crate::cli::{phase_values, wire_values};
use clap::{Args, Subcommand, ValueEnum};
use medusa_crds::rules::ObjectKey;
use std::cmp::Reverse;

use chrono::Duration;
use medusa_crds::health::operations;
use medusa_crds::kinds::ViewKind;
use medusa_crds::naming::{default_backup_name, scheduled_job_name};
use medusa_crds::rules::ResourceKind;
use medusa_crds::status::Graces;
use medusa_crds::status::Phase;
use medusa_crds::*;
use serde::Serialize;

use super::{
    anomaly_codes, fields, follow_backups, list_headers, need_targets, nothing_found,
    print_as_data, print_list, row_start, stalled_keys, submit, when,
};
use crate::api::{self, Scope};
use crate::checks;
use crate::cli::{DryRun, ListOutput, NameArgs, ObjectOutput};
use crate::context::Ctx;
use crate::error::{CliError, Result};
use crate::manifest;
use crate::output::{self, Column, age, table, took};
use crate::snapshot::Snapshot;
use medusa_crds::catalog::{self, BackupRow, backup_rows, latest};

mod delete;
mod describe;
mod list;

use delete::{delete, latest_command};
use describe::{describe, watch};
use list::{list, nodes, rows};

// === The command line ===

/// `kubectl medusa backup`.
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Start a backup of a datacenter, or of every datacenter of a K8ssandraCluster.
    Create(BackupCreateArgs),
    /// List backups, joined with their jobs.
    #[command(alias = "ls")]
    List(BackupListArgs),
    /// Everything about one backup: status, pods, nodes, files, size, timings, restores.
    Describe(NameArgs),
    /// Attach to a running backup; the exit code is its outcome.
    Watch(BackupWatchArgs),
    /// Delete backup records (the data stays in the bucket).
    Delete(BackupDeleteArgs),
    /// The newest successful backup of a datacenter.
    Latest(BackupLatestArgs),
}

/// `backup create`.
#[derive(Debug, Args)]
pub struct BackupCreateArgs {
    /// Name of the backup (default: `<dc>-<YYYYMMDDHHMMSS>` in UTC).
    pub name: Option<String>,
    /// The CassandraDatacenter to back up.
    #[arg(long, conflicts_with = "k8c", required_unless_present = "k8c")]
    pub dc: Option<String>,
    /// Back up every datacenter of this K8ssandraCluster (one job each, followed together).
    #[arg(long, value_name = "K8SSANDRACLUSTER")]
    pub k8c: Option<String>,
    /// differential (default) or full.
    #[arg(long = "type", value_parser = wire_values(BackupType::KNOWN, BackupType::from_wire))]
    pub backup_type: Option<BackupType>,
    /// Name it as this schedule's run would be (`<schedule>-<unix seconds>`).
    #[arg(long, value_name = "SCHEDULE")]
    pub from_schedule: Option<String>,
    /// Waiting.
    #[command(flatten)]
    pub wait: WaitArgs,
    /// The record's grace.
    #[command(flatten)]
    pub record: RecordGraceArgs,
    /// Creation.
    #[command(flatten)]
    pub create: CreateArgs,
}

/// `backup list --sort-by`: newest first for times and size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SortBy {
    /// By name.
    Name,
    /// By start, newest first.
    Started,
    /// By end, newest first.
    Finished,
    /// By size, largest first.
    Size,
}

/// `backup list`.
#[derive(Clone, Debug, Args)]
pub struct BackupListArgs {
    /// Only this datacenter.
    #[arg(long)]
    pub dc: Option<String>,
    /// Label selector.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Only backups in this state.
    #[arg(long, value_parser = phase_values())]
    pub status: Option<Phase>,
    /// Only backups started within this duration, e.g. 7d.
    #[arg(long, value_parser = parse_duration)]
    pub since: Option<std::time::Duration>,
    /// Sort order (newest first for times and size).
    #[arg(long, value_enum, default_value_t = SortBy::Started)]
    pub sort_by: SortBy,
    /// At most this many rows.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Keep the table up to date.
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = ListOutput::Table)]
    pub output: ListOutput,
    /// When a running backup looks stalled.
    #[command(flatten)]
    pub stall: crate::cli::StallArgs,
}

/// `backup watch NAME`.
#[derive(Debug, Args)]
pub struct BackupWatchArgs {
    /// What any watch takes.
    #[command(flatten)]
    pub watch: WatchArgs,
    /// The record's grace.
    #[command(flatten)]
    pub record: RecordGraceArgs,
}

/// `backup delete`.
#[derive(Debug, Args)]
pub struct BackupDeleteArgs {
    /// Backups to delete.
    pub names: Vec<String>,
    /// Label selector.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Backups older than this, e.g. 30d.
    #[arg(long, value_parser = parse_duration)]
    pub older_than: Option<std::time::Duration>,
    /// Keep the N newest backups (per datacenter), delete the rest.
    #[arg(long)]
    pub keep_last: Option<usize>,
    /// Only this datacenter.
    #[arg(long)]
    pub dc: Option<String>,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Show what would be deleted.
    #[arg(long)]
    pub dry_run: bool,
}

/// `backup latest`.
#[derive(Debug, Args)]
pub struct BackupLatestArgs {
    /// The datacenter.
    #[arg(long)]
    pub dc: String,
    /// Fail (exit 1) when the newest successful backup is older than this, e.g. 26h.
    #[arg(long, value_parser = parse_duration)]
    pub max_age: Option<std::time::Duration>,
    /// Output format.
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<ObjectOutput>,
}

/// Runs a backup command.
pub async fn run(ctx: &Ctx, command: BackupCommand) -> Result<()> {
    match command {
        BackupCommand::Create(args) => create(ctx, args).await,
        BackupCommand::List(args) => list(ctx, args).await,
        BackupCommand::Describe(args) => describe(ctx, args).await,
        BackupCommand::Watch(args) => watch(ctx, args).await,
        BackupCommand::Delete(args) => delete(ctx, args).await,
        BackupCommand::Latest(args) => latest_command(ctx, args).await,
    }
}

/// The jobs to create: (namespace, datacenter, name).
async fn targets(ctx: &Ctx, args: &BackupCreateArgs) -> Result<Vec<(String, String, String)>> {
    let namespace = ctx.namespace().to_owned();
    let default_name = |dc: &str| match &args.from_schedule {
        Some(schedule) => scheduled_job_name(schedule, ctx.now),
        None => default_backup_name(dc, ctx.now),
    };
    if let Some(dc) = &args.dc {
        let name = args.name.clone().unwrap_or_else(|| default_name(dc));
        return Ok(vec![(namespace, dc.clone(), name)]);
    }
    let Some(k8c) = &args.k8c else {
        return Err(CliError::usage(
            "give --dc DATACENTER or --k8c K8SSANDRACLUSTER",
        ));
    };
    let cluster = api::get::<K8ssandraCluster>(ctx, &namespace, k8c).await?;
    if cluster.spec.medusa.is_none() {
        return Err(CliError::Failed(format!(
            "K8ssandraCluster {namespace}/{k8c} has no spec.medusa: Medusa is not enabled on it"
        )));
    }
    let mut targets = Vec::new();
    for dc in cluster.datacenters() {
        if let Some(context) = dc.context() {
            ctx.err.line(format!(
                "warning: datacenter {} runs in context {context}: back it up there (kubectl medusa backup create --context {context} --dc {} -n {})",
                dc.object_name(),
                dc.object_name(),
                dc.namespace_in(&namespace)
            ))?;
            continue;
        }
        let name = match &args.name {
            Some(name) => format!("{name}-{}", dc.object_name()),
            None => default_name(dc.object_name()),
        };
        targets.push((
            dc.namespace_in(&namespace).to_owned(),
            dc.object_name().to_owned(),
            name,
        ));
    }
    if targets.is_empty() {
        return Err(CliError::Failed(format!(
            "K8ssandraCluster {namespace}/{k8c} has no datacenter in this Kubernetes context"
        )));
    }
    Ok(targets)
}

async fn create(ctx: &Ctx, args: BackupCreateArgs) -> Result<()> {
    let client_dry_run = args.create.dry_run() == Some(DryRun::Client);
    // With --dc this needs no cluster; --k8c reads the cluster's datacenters, dry run or not.
    let targets = targets(ctx, &args).await?;
    let mut created = Vec::new();
    for (namespace, dc_name, name) in targets {
        let dc = if client_dry_run {
            None
        } else {
            let dc = checks::datacenter(ctx, &namespace, &dc_name).await?;
            checks::medusa_pods(ctx, &namespace, &dc).await?;
            Some(dc)
        };
        let labels = manifest::labels(&args.create.labels, &dc_name, dc.as_ref());
        let job = manifest::backup_job(
            &name,
            &namespace,
            &dc_name,
            args.backup_type.as_ref().map(BackupType::as_str),
            labels,
        );
        if !client_dry_run {
            let view =
                checks::namespace_view(ctx, &namespace, ResourceKind::MedusaBackupJob).await?;
            checks::run_rules(ctx, &job, &view).await?;
        }
        if let Some(job) = submit(ctx, job, &args.create, args.wait.wait).await? {
            created.push(ObjectKey::new(
                namespace,
                job.metadata.name.unwrap_or_default(),
            ));
        }
    }
    if created.is_empty() {
        return Ok(());
    }
    if !args.wait.wait {
        if let [ObjectKey { namespace, name }] = created.as_slice()
            && args.create.output.is_none()
        {
            ctx.err.line(format!(
                "follow it with: kubectl medusa backup watch {name} -n {namespace}"
            ))?;
        }
        return Ok(());
    }
    let tracker = follow_backups(
        ctx,
        created,
        args.wait.timeout,
        args.record.graces(),
        args.create.output,
    )
    .await?;
    if args.create.output.is_none() {
        for row in backup_rows(tracker.jobs(), Vec::new(), ctx.now) {
            ctx.out.line(format!(
                "backup {} succeeded on datacenter {}",
                row.name, row.datacenter
            ))?;
        }
    }
    Ok(())
}
