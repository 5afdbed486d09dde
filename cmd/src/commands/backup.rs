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
use medusa_crds::kinds::ViewKind;
use medusa_crds::naming::{default_backup_name, scheduled_job_name};
use medusa_crds::rules::ResourceKind;
use medusa_crds::status::Graces;
use medusa_crds::status::Phase;
use medusa_crds::*;
use serde::Serialize;

use super::{
    anomaly_codes, fields, follow_backups, list_headers, need_targets, nothing_found, print_list,
    row_start, submit, when,
};
use crate::api::{self, Scope};
use crate::catalog::{BackupRow, backup_rows, latest};
use crate::checks;
use crate::cli::{DryRun, ListOutput, NameArgs, ObjectOutput};
use crate::context::Ctx;
use crate::error::{CliError, Result};
use crate::manifest;
use crate::output::{self, Column, age, table, took};
use crate::snapshot::Snapshot;

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

async fn rows(ctx: &Ctx, selector: Option<&str>) -> Result<Vec<BackupRow>> {
    // Both lists at once: one round trip of latency instead of two.
    let mut snapshot = Snapshot::fetch(
        ctx,
        ctx.scope(),
        &[ViewKind::MedusaBackup, ViewKind::MedusaBackupJob],
        selector,
    )
    .await?;
    let (jobs, backups) = (snapshot.take()?, snapshot.take()?);
    // A list shows rows: the objects are dropped before the table is drawn.
    let mut rows = backup_rows(jobs, backups, ctx.now);
    for row in &mut rows {
        row.job = None;
        row.backup = None;
    }
    Ok(rows)
}

fn filtered(ctx: &Ctx, mut rows: Vec<BackupRow>, args: &BackupListArgs) -> Result<Vec<BackupRow>> {
    if let Some(dc) = &args.dc {
        rows.retain(|r| &r.datacenter == dc);
    }
    if let Some(phase) = args.status {
        rows.retain(|r| r.status.phase == phase);
    }
    if let Some(since) = args.since {
        let since =
            Duration::from_std(since).map_err(|e| CliError::usage(format!("--since: {e}")))?;
        rows.retain(|r| r.started().is_some_and(|t| ctx.now - t <= since));
    }
    match args.sort_by {
        SortBy::Name => rows.sort_by(|a, b| a.name.cmp(&b.name)),
        SortBy::Finished => rows.sort_by_key(|r| Reverse(r.finished())),
        SortBy::Size => rows.sort_by_key(|r| Reverse(r.size_bytes)),
        SortBy::Started => rows.sort_by_key(|r| Reverse(r.started())),
    }
    if let Some(limit) = args.limit {
        rows.truncate(limit);
    }
    Ok(rows)
}

fn nodes(row: &BackupRow) -> String {
    match (row.nodes, row.status.progress) {
        (Some((done, total)), _) => format!("{done}/{total}"),
        (None, Some(progress)) => format!("{}/{} pods", progress.done, progress.total),
        (None, None) => "<none>".into(),
    }
}

fn table_rows(
    ctx: &Ctx,
    rows: &[BackupRow],
    format: ListOutput,
) -> (Vec<&'static str>, Vec<Vec<Column>>) {
    let wide = format == ListOutput::Wide;
    let headers = list_headers(
        ctx,
        &[
            "name",
            "datacenter",
            "type",
            "status",
            "nodes",
            "size",
            "started",
            "duration",
        ],
        &["files", "origin", "finished", "anomalies"],
        format,
    );
    let body = rows
        .iter()
        .map(|row| {
            let mut cells = row_start(ctx, &row.namespace, &row.name);
            cells.push(row.datacenter.clone().into());
            cells.push(row.backup_type.clone().into());
            cells.push(Column::phase(row.status.phase));
            cells.push(nodes(row).into());
            cells.push(row.size.clone().unwrap_or_else(|| "<none>".into()).into());
            cells.push(age(ctx.now, row.started()).into());
            cells.push(took(row.status.duration()).into());
            if wide {
                cells.push(row.files.map_or("<none>".into(), |f| f.to_string()).into());
                cells.push(format!("{:?}", row.origin).to_lowercase().into());
                cells.push(age(ctx.now, row.finished()).into());
                cells.push(anomaly_codes(&row.status.anomalies).into());
            }
            cells
        })
        .collect();
    (headers, body)
}

async fn list(ctx: &Ctx, args: BackupListArgs) -> Result<()> {
    let rows = filtered(ctx, rows(ctx, args.selector.as_deref()).await?, &args)?;
    let names: Vec<String> = rows
        .iter()
        .map(|r| format!("medusabackup.medusa.k8ssandra.io/{}", r.name))
        .collect();
    if print_list(ctx, &rows, &names, args.output)? {
        return Ok(());
    }
    if rows.is_empty() && !args.watch {
        return nothing_found(ctx, "backups");
    }
    let (headers, body) = table_rows(ctx, &rows, args.output);
    ctx.out.write(&table(&headers, body, ctx.color))?;
    if args.watch {
        watch_list(ctx, &args, rows).await?;
    }
    Ok(())
}

/// `-w`: prints each backup again when it changes, as `kubectl get -w` does.
async fn watch_list(ctx: &Ctx, args: &BackupListArgs, mut shown: Vec<BackupRow>) -> Result<()> {
    use futures::StreamExt;
    use kube::runtime::{WatchStreamExt, watcher};
    let client = ctx.client().await?.clone();
    let (jobs_api, backups_api) = if ctx.all_namespaces() {
        (
            kube::Api::<MedusaBackupJob>::all(client.clone()),
            kube::Api::<MedusaBackup>::all(client),
        )
    } else {
        (
            kube::Api::namespaced(client.clone(), ctx.namespace()),
            kube::Api::namespaced(client, ctx.namespace()),
        )
    };
    let mut config = watcher::Config::default();
    if let Some(selector) = &args.selector {
        config = config.labels(selector);
    }
    let jobs = watcher(jobs_api, config.clone())
        .default_backoff()
        .touched_objects()
        .map(|r| r.map(|_| ()));
    let backups = watcher(backups_api, config)
        .default_backoff()
        .touched_objects()
        .map(|r| r.map(|_| ()));
    let mut changes = futures::stream::select(jobs.boxed(), backups.boxed());
    while let Some(change) = changes.next().await {
        if change.is_err() {
            continue;
        }
        let unlimited = BackupListArgs {
            limit: None,
            ..args.clone()
        };
        let current = filtered(ctx, rows(ctx, args.selector.as_deref()).await?, &unlimited)?;
        let changed: Vec<BackupRow> = current
            .iter()
            .filter(|row| {
                !shown.iter().any(|s| {
                    s.name == row.name
                        && s.namespace == row.namespace
                        && s.status == row.status
                        && s.size == row.size
                })
            })
            .cloned()
            .collect();
        if !changed.is_empty() {
            let (headers, body) = table_rows(ctx, &changed, args.output);
            let text = table(&headers, body, ctx.color);
            // Only the rows: the header was printed once.
            for line in text.lines().skip(1) {
                ctx.out.line(line)?;
            }
        }
        shown = current;
    }
    Ok(())
}

/// What `describe -o json` prints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Description<'a> {
    backup: &'a BackupRow,
    job: Option<&'a MedusaBackupJob>,
    record: Option<&'a MedusaBackup>,
    restores: Vec<&'a MedusaRestoreJob>,
}

async fn describe(ctx: &Ctx, args: NameArgs) -> Result<()> {
    let namespace = ctx.namespace().to_owned();
    let job = api::get_opt::<MedusaBackupJob>(ctx, &namespace, &args.name).await?;
    let record = api::get_opt::<MedusaBackup>(ctx, &namespace, &args.name).await?;
    if job.is_none() && record.is_none() {
        return Err(CliError::NotFound(format!(
            "backup {:?} not found in namespace {namespace}: no MedusaBackupJob or MedusaBackup of that name; list them with kubectl medusa backup list",
            args.name
        )));
    }
    let row = backup_rows(
        job.clone().into_iter().collect(),
        record.clone().into_iter().collect(),
        ctx.now,
    )
    .into_iter()
    .next()
    .ok_or_else(|| CliError::NotFound(format!("backup {:?} not found", args.name)))?;
    let restores: Vec<MedusaRestoreJob> =
        api::list::<MedusaRestoreJob>(ctx, Scope::Namespace(&namespace), None)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.spec.backup == args.name)
            .collect();
    match args.output {
        ListOutput::Json => {
            return ctx.out.write(&output::json(&Description {
                backup: &row,
                job: job.as_ref(),
                record: record.as_ref(),
                restores: restores.iter().collect(),
            })?);
        }
        ListOutput::Yaml => {
            return ctx.out.write(&output::yaml(&Description {
                backup: &row,
                job: job.as_ref(),
                record: record.as_ref(),
                restores: restores.iter().collect(),
            })?);
        }
        _ => {}
    }
    ctx.out.write(&describe_text(ctx, &row, &restores))
}

/// The text of `backup describe`.
pub fn describe_text(ctx: &Ctx, row: &BackupRow, restores: &[MedusaRestoreJob]) -> String {
    let status = &row.status;
    let mut text = fields(&[
        ("Name", row.name.clone()),
        ("Namespace", row.namespace.clone()),
        ("Datacenter", row.datacenter.clone()),
        ("Type", row.backup_type.clone()),
        ("Origin", format!("{:?}", row.origin).to_lowercase()),
        ("Status", status.phase.to_string()),
        (
            "Reason",
            status.reason.clone().unwrap_or_else(|| "<none>".into()),
        ),
        (
            "Progress",
            status.progress.map_or("<none>".into(), |p| p.to_string()),
        ),
        ("Started", when(ctx.now, row.started())),
        ("Finished", when(ctx.now, row.finished())),
        ("Duration", took(status.duration())),
        (
            "Nodes",
            row.nodes
                .map_or("<none>".into(), |(d, t)| format!("{d}/{t} completed")),
        ),
        (
            "Files",
            row.files.map_or("<none>".into(), |f| f.to_string()),
        ),
        (
            "Size",
            match (&row.size, &row.backup, row.origin) {
                (Some(size), _, _) => size.clone(),
                (None, None, _) => "<none> (no MedusaBackup record)".into(),
                (None, Some(_), crate::catalog::Origin::Sync) => {
                    "<none> (imported by a sync: Medusa's summary has no size)".into()
                }
                (None, Some(_), crate::catalog::Origin::Job) => "<none>".into(),
            },
        ),
    ]);
    if let Some(job) = &row.job {
        let s = job.status.clone().unwrap_or_default();
        let mut pods: Vec<Vec<Column>> = Vec::new();
        for p in s.finished() {
            pods.push(vec![p.clone().into(), Column::phase(Phase::Succeeded)]);
        }
        for p in s.failed() {
            pods.push(vec![p.clone().into(), Column::phase(Phase::Failed)]);
        }
        for p in s.in_progress() {
            pods.push(vec![p.clone().into(), Column::phase(Phase::Running)]);
        }
        if !pods.is_empty() {
            text.push_str("\nPods:\n");
            text.push_str(&indent(&table(&["pod", "state"], pods, ctx.color)));
        }
    }
    if let Some(record) = row.backup.as_ref().and_then(|b| b.status.as_ref()) {
        let nodes: Vec<Vec<Column>> = record
            .nodes()
            .iter()
            .map(|n| {
                vec![
                    n.host.clone().unwrap_or_default().into(),
                    n.rack.clone().unwrap_or_default().into(),
                    n.datacenter.clone().unwrap_or_default().into(),
                    n.tokens.as_ref().map_or(0, Vec::len).to_string().into(),
                ]
            })
            .collect();
        if !nodes.is_empty() {
            text.push_str("\nTopology:\n");
            text.push_str(&indent(&table(
                &["host", "rack", "datacenter", "tokens"],
                nodes,
                ctx.color,
            )));
        }
    }
    text.push_str("\nRestores from this backup:\n");
    if restores.is_empty() {
        text.push_str("  <none>\n");
    } else {
        let rows = restores
            .iter()
            .map(|r| {
                let s = status::restore_status(r, None, ctx.now, Graces::default());
                vec![
                    r.metadata.name.clone().unwrap_or_default().into(),
                    r.spec.cassandra_datacenter.clone().into(),
                    Column::phase(s.phase),
                    age(ctx.now, s.started).into(),
                ]
            })
            .collect();
        text.push_str(&indent(&table(
            &["name", "datacenter", "status", "started"],
            rows,
            ctx.color,
        )));
    }
    if !status.anomalies.is_empty() {
        text.push_str("\nAnomalies:\n");
        for anomaly in &status.anomalies {
            text.push_str(&format!("  - {}: {anomaly}\n", anomaly.code()));
        }
    }
    text.push_str("\nNext steps:\n");
    for step in next_steps(row) {
        text.push_str(&format!("  - {step}\n"));
    }
    text
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

fn next_steps(row: &BackupRow) -> Vec<String> {
    let ns = &row.namespace;
    match row.status.phase {
        Phase::Succeeded if row.restorable() => vec![
            format!(
                "check a restore first: kubectl medusa restore preflight --dc {} --backup {} -n {ns}",
                row.datacenter, row.name
            ),
            format!(
                "restore it: kubectl medusa restore create --dc {} --backup {} -n {ns}",
                row.datacenter, row.name
            ),
        ],
        Phase::Succeeded => {
            vec!["not every node completed this backup: restore another one".into()]
        }
        Phase::Running | Phase::Pending => vec![format!(
            "follow it: kubectl medusa backup watch {} -n {ns}",
            row.name
        )],
        Phase::Failed => {
            let mut steps = Vec::new();
            if !row.status.pods.is_empty() {
                steps.push(format!(
                    "look at the medusa container logs of the failed pods ({}): kubectl logs POD -c medusa -n {ns}",
                    row.status.pods.join(", ")
                ));
            }
            steps.push(format!(
                "take another backup: kubectl medusa backup create --dc {} -n {ns}",
                row.datacenter
            ));
            steps
        }
        Phase::Unknown => vec![format!(
            "see whether a restore would accept it: kubectl medusa restore preflight --dc {} --backup {} -n {ns}",
            row.datacenter, row.name
        )],
    }
}

async fn watch(ctx: &Ctx, args: BackupWatchArgs) -> Result<()> {
    let BackupWatchArgs {
        watch: args,
        record,
    } = args;
    let namespace = ctx.namespace().to_owned();
    if api::get_opt::<MedusaBackupJob>(ctx, &namespace, &args.name)
        .await?
        .is_none()
    {
        return Err(CliError::NotFound(format!(
            "MedusaBackupJob {:?} not found in namespace {namespace}; list backups with kubectl medusa backup list",
            args.name
        )));
    }
    follow_backups(
        ctx,
        vec![ObjectKey::new(namespace, args.name.clone())],
        args.timeout,
        record.graces(),
        args.output,
    )
    .await?;
    if args.output.is_none() {
        ctx.out.line(format!("backup {} succeeded", args.name))?;
    }
    Ok(())
}

/// The backups a delete selects.
fn select_for_delete(
    ctx: &Ctx,
    backups: Vec<MedusaBackup>,
    args: &BackupDeleteArgs,
) -> Result<Vec<MedusaBackup>> {
    let mut selected: Vec<MedusaBackup> = backups
        .into_iter()
        .filter(|b| {
            args.names.is_empty()
                || args
                    .names
                    .iter()
                    .any(|n| b.metadata.name.as_ref() == Some(n))
        })
        .filter(|b| {
            args.dc
                .as_ref()
                .is_none_or(|dc| &b.spec.cassandra_datacenter == dc)
        })
        .collect();
    if let Some(older) = args.older_than {
        let older =
            Duration::from_std(older).map_err(|e| CliError::usage(format!("--older-than: {e}")))?;
        selected.retain(|b| crate::catalog::record_started(b).is_some_and(|t| ctx.now - t > older));
    }
    if let Some(keep) = args.keep_last {
        // Per datacenter: keep the newest `keep`.
        let mut by_dc: std::collections::BTreeMap<String, Vec<MedusaBackup>> = Default::default();
        for b in selected {
            by_dc
                .entry(b.spec.cassandra_datacenter.clone())
                .or_default()
                .push(b);
        }
        selected = by_dc
            .into_values()
            .flat_map(|mut list| {
                list.sort_by_key(|b| Reverse(crate::catalog::record_started(b)));
                list.into_iter().skip(keep)
            })
            .collect();
    }
    Ok(selected)
}

async fn delete(ctx: &Ctx, args: BackupDeleteArgs) -> Result<()> {
    need_targets(
        !args.names.is_empty()
            || args.selector.is_some()
            || args.older_than.is_some()
            || args.keep_last.is_some(),
        "backups to delete",
    )?;
    let namespace = ctx.namespace().to_owned();
    let backups =
        api::list::<MedusaBackup>(ctx, Scope::Namespace(&namespace), args.selector.as_deref())
            .await?;
    for name in &args.names {
        if !backups
            .iter()
            .any(|b| b.metadata.name.as_ref() == Some(name))
        {
            return Err(CliError::NotFound(format!(
                "MedusaBackup {name:?} not found in namespace {namespace}"
            )));
        }
    }
    let selected = select_for_delete(ctx, backups, &args)?;
    let names: Vec<String> = selected
        .iter()
        .filter_map(|b| b.metadata.name.clone())
        .collect();
    if names.is_empty() {
        ctx.err.line("No backup matches: nothing to delete.")?;
        return Ok(());
    }
    let explanation = "This deletes the MedusaBackup records (and their MedusaBackupJobs) only: the backups stay in the bucket, and the next sync brings the records back. To delete backups from storage, set maxBackupCount or maxBackupAge and run kubectl medusa purge.";
    ctx.err.line(explanation)?;
    if args.dry_run {
        for name in &names {
            ctx.out.line(format!(
                "medusabackup.medusa.k8ssandra.io/{name} would be deleted (dry run)"
            ))?;
        }
        return Ok(());
    }
    ctx.confirm(
        &format!(
            "Delete {} backup record(s) in namespace {namespace}: {}?",
            names.len(),
            names.join(", ")
        ),
        args.yes,
    )?;
    for name in &names {
        api::delete::<MedusaBackup>(ctx, &namespace, name).await?;
        match api::delete::<MedusaBackupJob>(ctx, &namespace, name).await {
            Err(e) if !e.is_not_found() => return Err(e),
            _ => {}
        }
        ctx.out
            .line(format!("medusabackup.medusa.k8ssandra.io/{name} deleted"))?;
    }
    Ok(())
}

async fn latest_command(ctx: &Ctx, args: BackupLatestArgs) -> Result<()> {
    let namespace = ctx.namespace().to_owned();
    let all = rows(ctx, None).await?;
    let Some(row) = latest(&all, &args.dc) else {
        return Err(CliError::NotFound(format!(
            "no successful backup of datacenter {} in namespace {namespace}; take one with kubectl medusa backup create --dc {}",
            args.dc, args.dc
        )));
    };
    let finished = row.finished().or(row.started());
    match args.output {
        Some(ObjectOutput::Name) => ctx
            .out
            .line(format!("medusabackup.medusa.k8ssandra.io/{}", row.name))?,
        Some(ObjectOutput::Json) => ctx.out.write(&output::json(row)?)?,
        Some(ObjectOutput::Yaml) => ctx.out.write(&output::yaml(row)?)?,
        None => ctx.out.line(format!(
            "{}   finished {} ago   {}   {}",
            row.name,
            finished.map_or("<unknown>".into(), |t| output::human_duration(ctx.now - t)),
            nodes(row),
            row.size.clone().unwrap_or_else(|| "size unknown".into())
        ))?,
    }
    if let (Some(max_age), Some(finished)) = (args.max_age, finished) {
        let max =
            Duration::from_std(max_age).map_err(|e| CliError::usage(format!("--max-age: {e}")))?;
        if ctx.now - finished > max {
            return Err(CliError::Failed(format!(
                "the newest successful backup of datacenter {} ({}) is {} old, more than --max-age {}",
                args.dc,
                row.name,
                output::human_duration(ctx.now - finished),
                humantime::format_duration(max_age)
            )));
        }
    }
    Ok(())
}
