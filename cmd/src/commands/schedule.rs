//! `kubectl medusa schedule ...`.

use crate::cli::ObjectOutput;
use crate::cli::RecordGraceArgs;
use crate::cli::WaitArgs;
use crate::cli::wire_values;
use clap::{Args, Subcommand};
use medusa_crds::cron::CronSchedule;
use medusa_crds::naming::{SCHEDULE_LABEL, scheduled_job_name};
use medusa_crds::rules::ObjectKey;
use medusa_crds::rules::ResourceKind;
use medusa_crds::status::{Phase, schedule_state};
use medusa_crds::*;

use super::{
    anomaly_codes, delete_named, fields, follow_backups, follow_tasks, list_headers, list_objects,
    need_targets, print_object, print_unless_table, row_start, submit, when,
};
use crate::api::{self, Scope};
use crate::checks;
use crate::cli::{CreateArgs, DeleteArgs, DryRun, ListOutput, SimpleListArgs};
use crate::context::Ctx;
use crate::error::{CliError, Result};
use crate::manifest::{self, ScheduleSpec};
use crate::output::{self, Column, age, table, until};
use medusa_crds::catalog::{BackupRow, ScheduleRun, backup_rows, schedule_runs};

// === The command line ===

/// `kubectl medusa schedule`.
#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Create a backup or purge schedule (the expression is checked locally).
    Create(ScheduleCreateArgs),
    /// List schedules with their last and next runs and last result.
    #[command(alias = "ls")]
    List(SimpleListArgs),
    /// A schedule and its recent runs.
    Describe(ScheduleDescribeArgs),
    /// Pause schedules.
    Pause(SelectArgs),
    /// Resume schedules.
    Resume(SelectArgs),
    /// Run a schedule now, from its template.
    Run(ScheduleRunArgs),
    /// Delete schedules.
    Delete(DeleteArgs),
}

/// `schedule create`.
#[derive(Debug, Args)]
pub struct ScheduleCreateArgs {
    /// Name of the schedule.
    pub name: String,
    /// The datacenter.
    #[arg(long)]
    pub dc: String,
    /// Cron expression (the help is an attribute: rustdoc would read `<zone>` as HTML).
    #[arg(
        long,
        help = "Cron expression (five fields, or @daily, @every 12h, ...; CRON_TZ=<zone> prefix allowed)"
    )]
    pub cron: String,
    /// backup (default) or purge.
    #[arg(long, value_parser = wire_values(OperationType::KNOWN, OperationType::from_wire), default_value = "backup")]
    pub operation: OperationType,
    /// differential (default) or full.
    #[arg(long = "type", value_parser = wire_values(BackupType::KNOWN, BackupType::from_wire))]
    pub backup_type: Option<BackupType>,
    /// Forbid (default: postpone while a run is active) or Allow.
    #[arg(long, value_parser = wire_values(ConcurrencyPolicy::KNOWN, ConcurrencyPolicy::from_wire))]
    pub concurrency_policy: Option<ConcurrencyPolicy>,
    /// Create it paused.
    #[arg(long)]
    pub disabled: bool,
    /// Creation.
    #[command(flatten)]
    pub create: CreateArgs,
}

/// `schedule describe`.
#[derive(Debug, Args)]
pub struct ScheduleDescribeArgs {
    /// The schedule.
    pub name: String,
    /// How many recent runs to show.
    #[arg(long, default_value_t = 5)]
    pub history: usize,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = ListOutput::Table)]
    pub output: ListOutput,
}

/// Names, a selector, or everything.
#[derive(Debug, Args)]
pub struct SelectArgs {
    /// The names.
    pub names: Vec<String>,
    /// Label selector.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Every schedule of the namespace.
    #[arg(long)]
    pub all: bool,
}

/// `schedule run`.
#[derive(Debug, Args)]
pub struct ScheduleRunArgs {
    /// The schedule.
    pub name: String,
    /// Waiting.
    #[command(flatten)]
    pub wait: WaitArgs,
    /// Output format of the created object.
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<ObjectOutput>,
    /// The record's grace (backup schedules).
    #[command(flatten)]
    pub record: RecordGraceArgs,
}

/// Runs a schedule command.
pub async fn run(ctx: &Ctx, command: ScheduleCommand) -> Result<()> {
    match command {
        ScheduleCommand::Create(args) => create(ctx, args).await,
        ScheduleCommand::List(args) => list(ctx, args).await,
        ScheduleCommand::Describe(args) => describe(ctx, args).await,
        ScheduleCommand::Pause(args) => set_disabled(ctx, args, true).await,
        ScheduleCommand::Resume(args) => set_disabled(ctx, args, false).await,
        ScheduleCommand::Run(args) => run_now(ctx, args).await,
        ScheduleCommand::Delete(args) => delete(ctx, args).await,
    }
}

async fn create(ctx: &Ctx, args: ScheduleCreateArgs) -> Result<()> {
    let cron = CronSchedule::parse(&args.cron).map_err(|e| {
        CliError::usage(format!(
            "--cron {:?}: {e} (the operator's parser; five fields minute hour day-of-month month day-of-week, or @daily, @every 12h, optionally after CRON_TZ=<zone>)",
            args.cron
        ))
    })?;
    let runs: Vec<String> = cron
        .upcoming(ctx.now, 3)
        .iter()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .collect();
    if cron.never_runs() {
        ctx.err.line(format!(
            "warning: --cron {:?} {}",
            args.cron,
            CronSchedule::NEVER_RUNS
        ))?;
    } else if runs.is_empty() {
        ctx.err.line(format!(
            "warning: --cron {:?} does not run within the next five years",
            args.cron
        ))?;
    } else {
        ctx.err.line(format!("next runs: {}", runs.join(", ")))?;
    }
    let namespace = ctx.namespace().to_owned();
    let client_dry_run = args.create.dry_run() == Some(DryRun::Client);
    let dc = if client_dry_run {
        None
    } else {
        match api::get_opt::<CassandraDatacenter>(ctx, &namespace, &args.dc).await? {
            Some(dc) => Some(dc),
            None => {
                ctx.err.line(format!(
                    "warning: CassandraDatacenter {:?} does not exist in namespace {namespace} yet: the schedule does nothing until it does",
                    args.dc
                ))?;
                None
            }
        }
    };
    let schedule = manifest::schedule(
        &args.name,
        &namespace,
        &ScheduleSpec {
            dc: &args.dc,
            cron: &args.cron,
            operation: args.operation.as_str(),
            backup_type: args.backup_type.as_ref().map(BackupType::as_str),
            concurrency_policy: args
                .concurrency_policy
                .as_ref()
                .map(ConcurrencyPolicy::as_str),
            disabled: args.disabled,
        },
        manifest::labels(&args.create.labels, &args.dc, dc.as_ref()),
    );
    if !client_dry_run {
        let view =
            checks::namespace_view(ctx, &namespace, ResourceKind::MedusaBackupSchedule).await?;
        checks::run_rules(ctx, &schedule, &view).await?;
    }
    submit(ctx, schedule, &args.create, false).await.map(|_| ())
}

/// What the runs of schedules are found in: the backups (jobs joined with their records) and
/// the tasks, fetched once for every schedule shown.
struct History {
    backups: Vec<BackupRow>,
    tasks: Vec<MedusaTask>,
}

impl History {
    /// Fetches the backups and, when a purge schedule is shown, the tasks.
    async fn fetch(
        ctx: &Ctx,
        scope: Scope<'_>,
        schedules: &[MedusaBackupSchedule],
    ) -> Result<Self> {
        let mut history = Self {
            backups: Vec::new(),
            tasks: Vec::new(),
        };
        if schedules
            .iter()
            .any(|s| s.spec.operation() == OperationType::Purge)
        {
            history.tasks = api::list::<MedusaTask>(ctx, scope, None).await?;
        }
        if schedules
            .iter()
            .any(|s| s.spec.operation() != OperationType::Purge)
        {
            let jobs = api::list::<MedusaBackupJob>(ctx, scope, None).await?;
            let backups = api::list::<MedusaBackup>(ctx, scope, None).await?;
            history.backups = backup_rows(jobs, backups, ctx.now);
        }
        Ok(history)
    }

    /// The runs of one schedule, newest first.
    fn runs(&self, ctx: &Ctx, schedule: &MedusaBackupSchedule) -> Vec<ScheduleRun> {
        schedule_runs(schedule, &self.backups, &self.tasks, ctx.now)
    }
}

async fn list(ctx: &Ctx, args: SimpleListArgs) -> Result<()> {
    let mut schedules = list_objects::<MedusaBackupSchedule>(ctx, &args, |s| {
        &s.spec.backup_spec.cassandra_datacenter
    })
    .await?;
    schedules.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    if print_unless_table(ctx, &schedules, args.output, "schedules")? {
        return Ok(());
    }
    let headers = list_headers(
        ctx,
        &[
            "name",
            "dc",
            "operation",
            "cron",
            "disabled",
            "last",
            "next",
            "last-result",
        ],
        &["anomalies"],
        args.output,
    );
    // The last results are a convenience: without the right to list jobs, they show <none>.
    let history = History::fetch(ctx, ctx.scope(), &schedules)
        .await
        .unwrap_or(History {
            backups: Vec::new(),
            tasks: Vec::new(),
        });
    let mut rows = Vec::new();
    for schedule in &schedules {
        let state = schedule_state(schedule, ctx.now);
        let last = history.runs(ctx, schedule);
        let mut cells = row_start(
            ctx,
            schedule.metadata.namespace.as_deref().unwrap_or_default(),
            schedule.metadata.name.as_deref().unwrap_or_default(),
        );
        cells.push(
            schedule
                .spec
                .backup_spec
                .cassandra_datacenter
                .clone()
                .into(),
        );
        cells.push(schedule.spec.operation().to_string().into());
        cells.push(schedule.spec.cron_schedule.clone().into());
        cells.push(state.paused.to_string().into());
        cells.push(age(ctx.now, state.last_execution).into());
        cells.push(
            if state.paused {
                "paused".to_owned()
            } else {
                until(ctx.now, state.next_run)
            }
            .into(),
        );
        cells.push(match last.first() {
            Some(run) => Column::phase(run.status.phase),
            None => "<none>".into(),
        });
        if args.output == ListOutput::Wide {
            cells.push(anomaly_codes(&state.anomalies).into());
        }
        rows.push(cells);
    }
    ctx.out.write(&table(&headers, rows, ctx.color))
}

async fn describe(ctx: &Ctx, args: ScheduleDescribeArgs) -> Result<()> {
    let namespace = ctx.namespace().to_owned();
    let schedule = api::get::<MedusaBackupSchedule>(ctx, &namespace, &args.name).await?;
    let state = schedule_state(&schedule, ctx.now);
    let mut history = History::fetch(
        ctx,
        Scope::Namespace(&namespace),
        std::slice::from_ref(&schedule),
    )
    .await?
    .runs(ctx, &schedule);
    history.truncate(args.history);
    if matches!(args.output, ListOutput::Json | ListOutput::Yaml) {
        let value = serde_json::json!({"schedule": schedule, "state": state, "runs": history});
        return ctx.out.write(&if args.output == ListOutput::Json {
            output::json(&value)?
        } else {
            output::yaml(&value)?
        });
    }
    let mut text = schedule_fields(ctx, &schedule, &state);
    text.push_str(&recent_runs(ctx, &history, args.history));
    if !state.anomalies.is_empty() {
        text.push_str("\nAnomalies:\n");
        for anomaly in &state.anomalies {
            text.push_str(&format!("  - {}: {anomaly}\n", anomaly.code()));
        }
    }
    let stuck: Vec<&ScheduleRun> = history
        .iter()
        .filter(|r| matches!(r.status.phase, Phase::Running | Phase::Pending))
        .collect();
    if schedule.spec.effective_concurrency_policy() == ConcurrencyPolicy::Forbid
        && !stuck.is_empty()
    {
        text.push_str(&format!(
            "\nNote: with concurrencyPolicy Forbid, runs are postponed while {} is unfinished.\n",
            stuck
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    ctx.out.write(&text)
}

/// The fields of `schedule describe`.
fn schedule_fields(
    ctx: &Ctx,
    schedule: &MedusaBackupSchedule,
    state: &status::ScheduleState,
) -> String {
    let upcoming: Vec<String> = CronSchedule::parse(&schedule.spec.cron_schedule)
        .map(|c| {
            c.upcoming(ctx.now, 3)
                .iter()
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .collect()
        })
        .unwrap_or_default();
    fields(&[
        ("Name", schedule.metadata.name.clone().unwrap_or_default()),
        (
            "Namespace",
            schedule.metadata.namespace.clone().unwrap_or_default(),
        ),
        (
            "Datacenter",
            schedule.spec.backup_spec.cassandra_datacenter.clone(),
        ),
        ("Operation", schedule.spec.operation().to_string()),
        (
            "Backup type",
            schedule.spec.backup_spec.backup_type().to_string(),
        ),
        ("Cron", schedule.spec.cron_schedule.clone()),
        (
            "Concurrency policy",
            schedule.spec.effective_concurrency_policy().to_string(),
        ),
        ("Paused", state.paused.to_string()),
        ("Last execution", when(ctx.now, state.last_execution)),
        (
            "Next run",
            if state.paused {
                "paused".into()
            } else {
                until(ctx.now, state.next_run)
            },
        ),
        (
            "Upcoming",
            if upcoming.is_empty() {
                "<none>".into()
            } else {
                upcoming.join(", ")
            },
        ),
    ])
}

/// The newest runs, at most `limit`.
fn recent_runs(ctx: &Ctx, history: &[ScheduleRun], limit: usize) -> String {
    let mut text = String::new();
    text.push_str(&format!("\nRecent runs (last {}):\n", limit));
    if history.is_empty() {
        text.push_str("  <none>\n");
    } else {
        let rows = history
            .iter()
            .map(|r| {
                vec![
                    r.name.clone().into(),
                    Column::phase(r.status.phase),
                    age(ctx.now, r.status.started).into(),
                    output::took(r.status.duration()).into(),
                ]
            })
            .collect();
        text.push_str(
            &table(&["name", "status", "started", "duration"], rows, ctx.color)
                .lines()
                .map(|l| format!("  {l}\n"))
                .collect::<String>(),
        );
    }
    text
}

async fn selected(ctx: &Ctx, args: &SelectArgs) -> Result<Vec<MedusaBackupSchedule>> {
    need_targets(
        !args.names.is_empty() || args.selector.is_some() || args.all,
        "schedules (or --all)",
    )?;
    let namespace = ctx.namespace();
    let schedules = api::list::<MedusaBackupSchedule>(
        ctx,
        Scope::Namespace(namespace),
        args.selector.as_deref(),
    )
    .await?;
    for name in &args.names {
        if !schedules
            .iter()
            .any(|s| s.metadata.name.as_ref() == Some(name))
        {
            return Err(CliError::NotFound(format!(
                "MedusaBackupSchedule {name:?} not found in namespace {namespace}"
            )));
        }
    }
    Ok(schedules
        .into_iter()
        .filter(|s| {
            args.names.is_empty()
                || args
                    .names
                    .iter()
                    .any(|n| s.metadata.name.as_ref() == Some(n))
        })
        .collect())
}

async fn set_disabled(ctx: &Ctx, args: SelectArgs, disabled: bool) -> Result<()> {
    let namespace = ctx.namespace().to_owned();
    let schedules = selected(ctx, &args).await?;
    if schedules.is_empty() {
        ctx.err.line("No schedule matches: nothing to change.")?;
    }
    for schedule in schedules {
        let name = schedule.metadata.name.clone().unwrap_or_default();
        if schedule
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(naming::CLEANED_UP_BY_LABEL))
            .is_some()
        {
            ctx.err.line(format!(
                "warning: {name} is maintained by the operator (purgeBackups), which reverts edits; set spec.medusa.purgeBackups: false in the K8ssandraCluster instead"
            ))?;
        }
        api::merge_patch::<MedusaBackupSchedule>(
            ctx,
            &namespace,
            &name,
            &serde_json::json!({"spec": {"disabled": disabled}}),
        )
        .await?;
        ctx.out.line(format!(
            "medusabackupschedule.medusa.k8ssandra.io/{name} {}",
            if disabled { "paused" } else { "resumed" }
        ))?;
    }
    Ok(())
}

async fn run_now(ctx: &Ctx, args: ScheduleRunArgs) -> Result<()> {
    let namespace = ctx.namespace().to_owned();
    let schedule = api::get::<MedusaBackupSchedule>(ctx, &namespace, &args.name).await?;
    let dc_name = schedule.spec.backup_spec.cassandra_datacenter.clone();
    let dc = checks::datacenter(ctx, &namespace, &dc_name).await?;
    checks::medusa_pods(ctx, &namespace, &dc).await?;
    let name = scheduled_job_name(&args.name, ctx.now);
    let labels = manifest::labels(
        &[(SCHEDULE_LABEL.to_owned(), args.name.clone())],
        &dc_name,
        Some(&dc),
    );
    let create = CreateArgs {
        dry_run: None,
        output: args.output,
        labels: Vec::new(),
    };
    match schedule.spec.operation() {
        OperationType::Purge => {
            let task = manifest::task(&name, &namespace, &dc_name, Operation::Purge, labels);
            let Some(_) = submit(ctx, task, &create, args.wait.wait).await? else {
                return Ok(());
            };
            if args.wait.wait {
                let tracker = follow_tasks(
                    ctx,
                    vec![ObjectKey::new(namespace.clone(), name.clone())],
                    args.wait.timeout,
                    "purge",
                    args.output.is_some(),
                )
                .await?;
                if let Some(format) = args.output {
                    for task in tracker.tasks() {
                        print_object(ctx, &task, format)?;
                    }
                } else {
                    ctx.out.line(format!("purge {name} succeeded"))?;
                }
            }
        }
        _ => {
            let mut job = manifest::backup_job(&name, &namespace, &dc_name, None, labels);
            job.spec = schedule.spec.backup_spec.clone();
            let view =
                checks::namespace_view(ctx, &namespace, ResourceKind::MedusaBackupJob).await?;
            checks::run_rules(ctx, &job, &view).await?;
            let Some(_) = submit(ctx, job, &create, args.wait.wait).await? else {
                return Ok(());
            };
            if args.wait.wait {
                follow_backups(
                    ctx,
                    vec![ObjectKey::new(namespace.clone(), name.clone())],
                    args.wait.timeout,
                    args.record.graces(),
                    args.output,
                )
                .await?;
                if args.output.is_none() {
                    ctx.out.line(format!("backup {name} succeeded"))?;
                }
            } else if args.output.is_none() {
                ctx.err.line(format!(
                    "follow it with: kubectl medusa backup watch {name} -n {namespace}"
                ))?;
            }
        }
    }
    Ok(())
}

async fn delete(ctx: &Ctx, args: DeleteArgs) -> Result<()> {
    let namespace = ctx.namespace().to_owned();
    for name in &args.names {
        api::get::<MedusaBackupSchedule>(ctx, &namespace, name).await?;
    }
    delete_named::<MedusaBackupSchedule>(
        ctx,
        &args.names,
        &format!(
            "Delete schedule(s) {} in namespace {namespace}? Backups already taken are kept.",
            args.names.join(", ")
        ),
        args.yes,
    )
    .await
}
