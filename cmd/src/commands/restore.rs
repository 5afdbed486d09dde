//! `kubectl medusa restore ...`.

use crate::cli::CreateArgs;
use crate::cli::OperationListArgs;
use crate::cli::WaitArgs;
use clap::{Args, Subcommand};
use medusa_crds::health::operations;
use medusa_crds::rules::ObjectKey;
use std::time::Duration;

use futures::StreamExt;
use medusa_crds::restore::restore_preflight;
use medusa_crds::rules::ResourceKind;
use medusa_crds::status::Graces;
use medusa_crds::status::{Phase, restore_status};
use medusa_crds::*;

use super::{
    delete_named, fields, list_headers, list_objects, print_as_data, print_object,
    print_unless_table, push_progress_cells, row_start, stalled_keys, submit, timestamped, when,
};
use crate::api::{self, Scope};
use crate::checks;
use crate::cli::{DeleteArgs, DryRun, ListOutput, NameArgs, WatchArgs};
use crate::context::Ctx;
use crate::error::{CliError, Result};
use crate::follow::{RestoreTracker, Subject, drive, watch_named};
use crate::manifest;
use crate::output::{self, Column, table, took};
use medusa_crds::catalog::{backup_rows, latest};

// === The command line ===

/// `kubectl medusa restore`.
#[derive(Debug, Subcommand)]
pub enum RestoreCommand {
    /// Restore a backup into a datacenter (the datacenter is stopped during the restore).
    Create(RestoreCreateArgs),
    /// The operator's restore checks, before anything stops: a PASS/FAIL table.
    Preflight(PreflightArgs),
    /// List restores.
    #[command(alias = "ls")]
    List(OperationListArgs),
    /// Everything about one restore.
    Describe(NameArgs),
    /// Attach to a running restore; the exit code is its outcome.
    Watch(WatchArgs),
    /// Delete a restore record.
    Delete(DeleteArgs),
}

/// `restore create`.
#[derive(Debug, Args)]
pub struct RestoreCreateArgs {
    /// Name of the restore (default: `restore-<backup>-<YYYYMMDDHHMMSS>`).
    pub name: Option<String>,
    /// The CassandraDatacenter to restore into.
    #[arg(long)]
    pub dc: String,
    /// The MedusaBackup to restore.
    #[arg(long, conflicts_with = "latest", required_unless_present = "latest")]
    pub backup: Option<String>,
    /// Restore the newest successful backup of the datacenter.
    #[arg(long)]
    pub latest: bool,
    /// Run a sync first and wait for the backup to appear (a backup taken by another cluster).
    #[arg(long)]
    pub sync_first: bool,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Waiting.
    #[command(flatten)]
    pub wait: WaitArgs,
    /// Creation.
    #[command(flatten)]
    pub create: CreateArgs,
}

/// `restore preflight`.
#[derive(Debug, Args)]
pub struct PreflightArgs {
    /// The target datacenter.
    #[arg(long)]
    pub dc: String,
    /// The MedusaBackup.
    #[arg(long)]
    pub backup: String,
    /// Output format (table or json).
    #[arg(short = 'o', long, value_enum, default_value_t = ListOutput::Table)]
    pub output: ListOutput,
}

/// Runs a restore command.
pub async fn run(ctx: &Ctx, command: RestoreCommand) -> Result<()> {
    match command {
        RestoreCommand::Create(args) => create(ctx, args).await,
        RestoreCommand::Preflight(args) => preflight(ctx, args).await,
        RestoreCommand::List(args) => list(ctx, args).await,
        RestoreCommand::Describe(args) => describe(ctx, args).await,
        RestoreCommand::Watch(args) => watch(ctx, args).await,
        RestoreCommand::Delete(args) => delete(ctx, args).await,
    }
}

async fn sync_until_present(
    ctx: &Ctx,
    namespace: &str,
    dc: &str,
    backup: &str,
    timeout: Duration,
) -> Result<()> {
    if api::get_opt::<MedusaBackup>(ctx, namespace, backup)
        .await?
        .is_some()
    {
        ctx.err.line(format!(
            "MedusaBackup {backup} is already here; no sync needed"
        ))?;
        return Ok(());
    }
    let name = timestamped(&format!("sync-{dc}"), ctx.now);
    let datacenter = checks::datacenter(ctx, namespace, dc).await?;
    let task = manifest::task(
        &name,
        namespace,
        dc,
        Operation::Sync,
        manifest::labels(&[], dc, Some(&datacenter)),
    );
    api::create(ctx, namespace, &task, false).await?;
    ctx.err.line(format!(
        "sync {name} started to import backup {backup} from storage"
    ))?;
    super::follow_tasks(
        ctx,
        vec![ObjectKey::new(namespace.to_owned(), name.clone())],
        timeout,
        "sync",
        false,
    )
    .await?;
    if api::get_opt::<MedusaBackup>(ctx, namespace, backup)
        .await?
        .is_none()
    {
        return Err(CliError::NotFound(format!(
            "the sync {name} finished but backup {backup:?} is not in the storage of datacenter {dc}: check the bucket and prefix of the cluster that took it"
        )));
    }
    Ok(())
}

async fn create(ctx: &Ctx, args: RestoreCreateArgs) -> Result<()> {
    let namespace = ctx.namespace().to_owned();
    let client_dry_run = args.create.dry_run() == Some(DryRun::Client);
    let backup = match (&args.backup, args.latest) {
        (Some(backup), _) => backup.clone(),
        (None, true) if client_dry_run => {
            return Err(CliError::usage(
                "--latest needs the cluster; give --backup NAME with --dry-run=client",
            ));
        }
        (None, _) => {
            let jobs =
                api::list::<MedusaBackupJob>(ctx, Scope::Namespace(&namespace), None).await?;
            let backups =
                api::list::<MedusaBackup>(ctx, Scope::Namespace(&namespace), None).await?;
            let rows = backup_rows(jobs, backups, ctx.now);
            latest(&rows, &args.dc)
                .map(|r| r.name.clone())
                .ok_or_else(|| {
                    CliError::NotFound(format!(
                        "no successful backup of datacenter {} in namespace {namespace}",
                        args.dc
                    ))
                })?
        }
    };
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| timestamped(&format!("restore-{backup}"), ctx.now));
    let dc = if client_dry_run {
        None
    } else {
        if args.sync_first {
            sync_until_present(ctx, &namespace, &args.dc, &backup, args.wait.timeout).await?;
        }
        Some(checks::datacenter(ctx, &namespace, &args.dc).await?)
    };
    let job = manifest::restore_job(
        &name,
        &namespace,
        &args.dc,
        &backup,
        manifest::labels(&args.create.labels, &args.dc, dc.as_ref()),
    );
    if !client_dry_run {
        let view = checks::namespace_view(ctx, &namespace, ResourceKind::MedusaRestoreJob).await?;
        checks::run_rules(ctx, &job, &view).await?;
        if args.create.dry_run().is_none() {
            ctx.confirm(
                &format!(
                    "Restoring backup {backup} stops datacenter {} in namespace {namespace}: every Cassandra pod goes down until the data is restored. Continue?",
                    args.dc
                ),
                args.yes,
            )?;
        }
    }
    let Some(created) = submit(ctx, job, &args.create, args.wait.wait).await? else {
        return Ok(());
    };
    let created_name = created.metadata.name.clone().unwrap_or_default();
    if !args.wait.wait {
        if args.create.output.is_none() {
            ctx.err.line(format!(
                "follow it with: kubectl medusa restore watch {created_name} -n {namespace}"
            ))?;
        }
        return Ok(());
    }
    follow_restore(
        ctx,
        &namespace,
        &created_name,
        args.wait.timeout,
        args.create.output,
    )
    .await
}

async fn follow_restore(
    ctx: &Ctx,
    namespace: &str,
    name: &str,
    timeout: Duration,
    output: Option<crate::cli::ObjectOutput>,
) -> Result<()> {
    let client = ctx.client().await?.clone();
    let events = watch_named::<MedusaRestoreJob>(
        kube::Api::namespaced(client, namespace),
        &[name.to_owned()],
    )
    .boxed();
    let mut tracker = RestoreTracker::new(ObjectKey::new(namespace, name));
    let subject = Subject {
        noun: "restore",
        resume: format!("kubectl medusa restore watch {name} -n {namespace}"),
    };
    let result = drive(
        ctx,
        &mut tracker,
        events,
        timeout,
        &subject,
        output.is_some(),
    )
    .await;
    if let (Some(format), Some(job)) = (output, tracker.job()) {
        print_object(ctx, job, format)?;
    }
    result?;
    if output.is_none() {
        ctx.out.line(format!(
            "restore {name} succeeded: the datacenter is back up with the restored data"
        ))?;
    }
    Ok(())
}

async fn preflight(ctx: &Ctx, args: PreflightArgs) -> Result<()> {
    let namespace = ctx.namespace().to_owned();
    let backup = api::get_opt::<MedusaBackup>(ctx, &namespace, &args.backup).await?.ok_or_else(|| {
        CliError::NotFound(format!(
            "MedusaBackup {:?} not found in namespace {namespace}: list backups (kubectl medusa backup list) or import them with kubectl medusa sync --dc {}",
            args.backup, args.dc
        ))
    })?;
    let dc = checks::datacenter(ctx, &namespace, &args.dc).await?;
    let result = restore_preflight(&backup, &dc);
    if args.output == ListOutput::Json {
        ctx.out.write(&output::json(&result)?)?;
    } else {
        let rows = result
            .outcomes
            .iter()
            .map(|o| {
                vec![
                    o.check.label().into(),
                    if o.passed {
                        Column::colored("PASS", comfy_table::Color::Green)
                    } else {
                        Column::colored("FAIL", comfy_table::Color::Red)
                    },
                    o.detail.clone().into(),
                ]
            })
            .collect();
        ctx.out
            .write(&table(&["check", "result", "detail"], rows, ctx.color))?;
        if result.skipped_as_legacy {
            ctx.err.line("note: the backup has no node counts (a legacy backup): the operator skips every check")?;
        }
    }
    match result.first_failure() {
        None => {
            if args.output != ListOutput::Json {
                ctx.err.line(format!(
                    "The operator would accept this restore. Start it with: kubectl medusa restore create --dc {} --backup {} -n {namespace}",
                    args.dc, args.backup
                ))?;
            }
            Ok(())
        }
        Some(failure) => Err(CliError::Failed(format!(
            "the operator would refuse this restore, after stopping nothing: {} ({})",
            failure.check.operator_message(),
            failure.detail
        ))),
    }
}

async fn list(ctx: &Ctx, OperationListArgs { list: args, stall }: OperationListArgs) -> Result<()> {
    let mut restores =
        list_objects::<MedusaRestoreJob>(ctx, &args, |r| &r.spec.cassandra_datacenter).await?;
    let stalled = stalled_keys(
        &operations(&[], &restores, &[], ctx.now),
        stall.policy(),
        ctx.now,
    );
    restores.sort_by_key(|r| std::cmp::Reverse(super::created_at(&r.metadata)));
    if print_unless_table(ctx, &restores, args.output, "restores")? {
        return Ok(());
    }
    let headers = list_headers(
        ctx,
        &[
            "name",
            "datacenter",
            "backup",
            "status",
            "stage",
            "started",
            "duration",
        ],
        &["message"],
        args.output,
    );
    let rows = restores
        .iter()
        .map(|r| {
            let status = restore_status(r, None, ctx.now, Graces::default());
            let mut cells = row_start(
                ctx,
                r.metadata.namespace.as_deref().unwrap_or_default(),
                r.metadata.name.as_deref().unwrap_or_default(),
            );
            cells.push(r.spec.cassandra_datacenter.clone().into());
            cells.push(r.spec.backup.clone().into());
            let stalled = stalled.contains(&ObjectKey::of(r));
            push_progress_cells(&mut cells, &status, stalled, ctx.now);
            if args.output == ListOutput::Wide {
                cells.push(
                    r.status
                        .as_ref()
                        .and_then(|s| s.message())
                        .unwrap_or("<none>")
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
    let job = api::get::<MedusaRestoreJob>(ctx, &namespace, &args.name).await?;
    if print_as_data(ctx, &job, args.output)? {
        return Ok(());
    }
    let status = restore_status(&job, None, ctx.now, Graces::default());
    let raw = job.status.clone().unwrap_or_default();
    let mut text = fields(&[
        ("Name", args.name.clone()),
        ("Namespace", namespace.clone()),
        ("Datacenter", job.spec.cassandra_datacenter.clone()),
        ("Backup", job.spec.backup.clone()),
        ("Status", status.phase.to_string()),
        (
            "Reason",
            status.reason.clone().unwrap_or_else(|| "<none>".into()),
        ),
        (
            "Restore key",
            if raw.restore_key.is_empty() {
                "<none>".into()
            } else {
                raw.restore_key.clone()
            },
        ),
        ("Started", when(ctx.now, status.started)),
        (
            "Prepared",
            if raw.restore_prepared == Some(true) {
                "yes".into()
            } else {
                "no".into()
            },
        ),
        (
            "Datacenter stopped",
            when(
                ctx.now,
                operator::meaningful(raw.datacenter_stopped.as_ref()),
            ),
        ),
        ("Finished", when(ctx.now, status.finished)),
        ("Duration", took(status.duration())),
    ]);
    text.push_str(&host_mapping(ctx, &raw));
    if !status.anomalies.is_empty() {
        text.push_str("\nAnomalies:\n");
        for anomaly in &status.anomalies {
            text.push_str(&format!("  - {}: {anomaly}\n", anomaly.code()));
        }
    }
    if status.phase == Phase::Failed {
        text.push_str(&format!(
            "\nNext steps:\n  - see why the operator refused it: kubectl medusa restore preflight --dc {} --backup {} -n {namespace}\n  - see what Medusa logged: kubectl medusa logs restore {} -n {namespace}\n",
            job.spec.cassandra_datacenter, job.spec.backup, args.name
        ));
    }
    ctx.out.write(&text)
}

/// The pods the restore maps the backup's nodes to.
fn host_mapping(ctx: &Ctx, raw: &MedusaRestoreJobStatus) -> String {
    let Some(mapping) = raw
        .restore_mapping
        .as_ref()
        .and_then(|m| m.host_map.as_ref())
    else {
        return String::new();
    };
    let rows = mapping
        .iter()
        .map(|(target, source)| {
            vec![
                target.clone().into(),
                source.source.join(", ").into(),
                source.seed.to_string().into(),
            ]
        })
        .collect();
    let table = table(&["target pod", "source", "seed"], rows, ctx.color);
    let indented: String = table.lines().map(|l| format!("  {l}\n")).collect();
    format!("\nHost mapping:\n{indented}")
}

async fn watch(ctx: &Ctx, args: WatchArgs) -> Result<()> {
    let namespace = ctx.namespace().to_owned();
    api::get::<MedusaRestoreJob>(ctx, &namespace, &args.name).await?;
    follow_restore(ctx, &namespace, &args.name, args.timeout, args.output).await
}

async fn delete(ctx: &Ctx, args: DeleteArgs) -> Result<()> {
    let namespace = ctx.namespace().to_owned();
    let mut unfinished = Vec::new();
    for name in &args.names {
        let job = api::get::<MedusaRestoreJob>(ctx, &namespace, name).await?;
        if restore_status(&job, None, ctx.now, Graces::default()).phase == Phase::Running {
            unfinished.push(name.clone());
        }
    }
    let warning = if unfinished.is_empty() {
        String::new()
    } else {
        format!(
            " Restores {} are still running: deleting them leaves the datacenter as it is now (possibly stopped).",
            unfinished.join(", ")
        )
    };
    delete_named::<MedusaRestoreJob>(
        ctx,
        &args.names,
        &format!(
            "Delete restore record(s) {} in namespace {namespace}?{warning}",
            args.names.join(", ")
        ),
        args.yes,
    )
    .await
}
