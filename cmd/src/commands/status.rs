//! `kubectl medusa status`: one screen per datacenter.

use chrono::Duration;
use clap::Args;
use k8s_openapi::api::core::v1::Pod;
use medusa_crds::kinds::ViewKind;
use medusa_crds::operator::datacenter_selector;
use medusa_crds::status::Graces;
use medusa_crds::status::{
    Phase, configuration_state, restore_status, schedule_state, task_status,
};
use medusa_crds::types::cassdc::MEDUSA_CONTAINER;
use medusa_crds::*;
use serde::Serialize;

use crate::api::{self, Scope};
use crate::catalog::{backup_rows, latest, schedule_runs};
use crate::cli::ListOutput;
use crate::context::Ctx;
use crate::error::{CliError, Result};
use crate::output::{self, age, until};
use crate::snapshot::Snapshot;

// === The command line ===

/// `kubectl medusa status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// One datacenter.
    #[arg(long, conflicts_with = "k8c")]
    pub dc: Option<String>,
    /// Every datacenter of a K8ssandraCluster.
    #[arg(long)]
    pub k8c: Option<String>,
    /// Output format (table or json).
    #[arg(short = 'o', long, value_enum, default_value_t = ListOutput::Table)]
    pub output: ListOutput,
}

/// The MedusaConfiguration of a datacenter's cluster.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigurationLine {
    /// Its name.
    pub name: String,
    /// Its Ready condition (`None`: not set yet).
    pub ready: Option<bool>,
}

/// A Cassandra pod and its medusa container.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MedusaPod {
    /// The pod.
    pub pod: String,
    /// Whether its medusa container is ready (`None`: it has no medusa container).
    pub ready: Option<bool>,
}

/// A backup named in the report.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupLine {
    /// Its name.
    pub name: String,
    /// When it finished (or started, when the finish is unknown).
    pub finished: Option<chrono::DateTime<chrono::Utc>>,
}

/// An operation (backup, restore, sync, purge...) in the report.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationLine {
    /// backup, restore, sync, purge, prepare_restore.
    pub kind: String,
    /// The object's name.
    pub name: String,
    /// Progress while running, the reason once failed.
    pub detail: String,
}

/// A schedule in the report.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleLine {
    /// Its name.
    pub name: String,
    /// backup or purge.
    pub operation: String,
    /// The cron expression.
    pub cron: String,
    /// Whether it is disabled.
    pub paused: bool,
    /// Its next run.
    pub next_run: Option<chrono::DateTime<chrono::Utc>>,
    /// Its newest run (a backup made by hand under a run's name is not one).
    pub last_run: Option<LastRun>,
}

/// The newest run of a schedule.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LastRun {
    /// The job's or task's name.
    pub name: String,
    /// Its derived phase.
    pub phase: Phase,
}

/// The retention in force (0: unlimited).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Retention {
    /// maxBackupAge, in days.
    pub max_backup_age: i64,
    /// maxBackupCount.
    pub max_backup_count: i64,
}

/// An anomaly and what it means.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnomalyLine {
    /// `backup nightly`.
    pub object: String,
    /// The anomaly's code.
    pub code: String,
    /// What it means.
    pub meaning: String,
}

/// The state of Medusa on one datacenter.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DatacenterReport {
    /// Namespace.
    pub namespace: String,
    /// Datacenter.
    pub datacenter: String,
    /// The K8ssandraCluster, when the datacenter says.
    pub cluster: Option<String>,
    /// The MedusaConfiguration.
    pub configuration: Option<ConfigurationLine>,
    /// Pods and their medusa containers.
    pub medusa_pods: Vec<MedusaPod>,
    /// The newest restorable backup.
    pub last_good_backup: Option<BackupLine>,
    /// Operations under way.
    pub running: Vec<OperationLine>,
    /// Schedules.
    pub schedules: Vec<ScheduleLine>,
    /// Effective retention.
    pub retention: Option<Retention>,
    /// Failures of the last 7 days.
    pub failures: Vec<OperationLine>,
    /// Anomalies.
    pub anomalies: Vec<AnomalyLine>,
}

fn operation(kind: impl Into<String>, name: &str, detail: impl Into<String>) -> OperationLine {
    OperationLine {
        kind: kind.into(),
        name: name.to_owned(),
        detail: detail.into(),
    }
}

fn anomaly_lines<'a>(
    object: String,
    anomalies: impl IntoIterator<Item = &'a status::Anomaly>,
) -> impl Iterator<Item = AnomalyLine> {
    anomalies.into_iter().map(move |a| AnomalyLine {
        object: object.clone(),
        code: a.code().to_owned(),
        meaning: a.to_string(),
    })
}

/// The objects of one namespace a report reads, listed at once.
#[derive(Debug)]
pub struct NamespaceObjects {
    jobs: Vec<MedusaBackupJob>,
    backups: Vec<MedusaBackup>,
    tasks: Vec<MedusaTask>,
    restores: Vec<MedusaRestoreJob>,
    schedules: Vec<MedusaBackupSchedule>,
}

impl NamespaceObjects {
    /// Lists them in `namespace`.
    pub async fn fetch(ctx: &Ctx, namespace: &str) -> Result<Self> {
        let mut snapshot = Snapshot::fetch(
            ctx,
            Scope::Namespace(namespace),
            &[
                ViewKind::MedusaBackup,
                ViewKind::MedusaBackupJob,
                ViewKind::MedusaRestoreJob,
                ViewKind::MedusaTask,
                ViewKind::MedusaBackupSchedule,
            ],
            None,
        )
        .await?;
        Ok(Self {
            jobs: snapshot.take()?,
            backups: snapshot.take()?,
            tasks: snapshot.take()?,
            restores: snapshot.take()?,
            schedules: snapshot.take()?,
        })
    }
}

/// Builds the report of a datacenter.
pub async fn report(
    ctx: &Ctx,
    namespace: &str,
    dc: &CassandraDatacenter,
    objects: &NamespaceObjects,
) -> Result<DatacenterReport> {
    let name = dc.metadata.name.clone().unwrap_or_default();
    let owner = crate::checks::owner_storage(ctx, dc).await;
    let retention = owner
        .as_ref()
        .and_then(|o| o.effective.as_ref())
        .map(|effective| Retention {
            max_backup_age: effective.storage.max_backup_age.unwrap_or(0),
            max_backup_count: effective.storage.max_backup_count.unwrap_or(0),
        });
    let (k8c, configuration) = match owner {
        Some(owner) => (Some(owner.cluster), owner.configuration),
        None => (None, None),
    };

    let selector = datacenter_selector(dc);
    let pods = api::list::<Pod>(ctx, Scope::Namespace(namespace), Some(&selector))
        .await
        .unwrap_or_default();
    let medusa_pods = pods
        .iter()
        .map(|p| {
            let declared = p
                .spec
                .as_ref()
                .is_some_and(|s| s.containers.iter().any(|c| c.name == MEDUSA_CONTAINER));
            // A declared container without a status has not started: not ready.
            let ready = declared.then(|| {
                p.status
                    .as_ref()
                    .and_then(|s| s.container_statuses.as_ref())
                    .and_then(|cs| cs.iter().find(|c| c.name == MEDUSA_CONTAINER))
                    .is_some_and(|c| c.ready)
            });
            MedusaPod {
                pod: p.metadata.name.clone().unwrap_or_default(),
                ready,
            }
        })
        .collect();

    let of_dc = |dc_of: &str| dc_of == name;
    let rows: Vec<_> = backup_rows(
        objects
            .jobs
            .iter()
            .filter(|j| of_dc(&j.spec.cassandra_datacenter))
            .cloned()
            .collect(),
        objects
            .backups
            .iter()
            .filter(|b| of_dc(&b.spec.cassandra_datacenter))
            .cloned()
            .collect(),
        ctx.now,
    )
    .into_iter()
    .filter(|r| r.datacenter == name)
    .collect();
    let tasks: Vec<MedusaTask> = objects
        .tasks
        .iter()
        .filter(|t| of_dc(&t.spec.cassandra_datacenter))
        .cloned()
        .collect();
    let restores: Vec<&MedusaRestoreJob> = objects
        .restores
        .iter()
        .filter(|r| of_dc(&r.spec.cassandra_datacenter))
        .collect();
    let schedules: Vec<&MedusaBackupSchedule> = objects
        .schedules
        .iter()
        .filter(|s| of_dc(&s.spec.backup_spec.cassandra_datacenter))
        .collect();

    let week = ctx.now - Duration::days(7);
    let mut running = Vec::new();
    let mut failures = Vec::new();
    let mut anomalies = Vec::new();
    for row in &rows {
        let progress = row.status.progress.map_or(String::new(), |p| p.to_string());
        match row.status.phase {
            Phase::Running | Phase::Pending => {
                running.push(operation("backup", &row.name, progress))
            }
            Phase::Failed if row.started().is_some_and(|t| t >= week) => failures.push(operation(
                "backup",
                &row.name,
                row.status.reason.clone().unwrap_or_default(),
            )),
            _ => {}
        }
        anomalies.extend(anomaly_lines(
            format!("backup {}", row.name),
            &row.status.anomalies,
        ));
    }
    for task in &tasks {
        let status = task_status(task, ctx.now, Graces::default());
        let task_name = task.metadata.name.clone().unwrap_or_default();
        let kind = task.spec.operation.to_string();
        match status.phase {
            Phase::Running | Phase::Pending => running.push(operation(
                kind.clone(),
                &task_name,
                status.progress.map_or(String::new(), |p| p.to_string()),
            )),
            Phase::Failed if status.started.is_some_and(|t| t >= week) => failures.push(operation(
                kind.clone(),
                &task_name,
                status.reason.clone().unwrap_or_default(),
            )),
            _ => {}
        }
        anomalies.extend(anomaly_lines(
            format!("{kind} {task_name}"),
            &status.anomalies,
        ));
    }
    for restore in &restores {
        let status = restore_status(restore, None, ctx.now, Graces::default());
        let restore_name = restore.metadata.name.clone().unwrap_or_default();
        match status.phase {
            Phase::Running | Phase::Pending => running.push(operation(
                "restore",
                &restore_name,
                status.reason.clone().unwrap_or_default(),
            )),
            Phase::Failed if status.started.is_some_and(|t| t >= week) => failures.push(operation(
                "restore",
                &restore_name,
                status.reason.clone().unwrap_or_default(),
            )),
            _ => {}
        }
        anomalies.extend(anomaly_lines(
            format!("restore {restore_name}"),
            &status.anomalies,
        ));
    }
    let schedules = schedules
        .iter()
        .map(|s| {
            let state = schedule_state(s, ctx.now);
            let schedule_name = s.metadata.name.clone().unwrap_or_default();
            anomalies.extend(anomaly_lines(
                format!("schedule {schedule_name}"),
                &state.anomalies,
            ));
            let last_run = schedule_runs(s, &rows, &tasks, ctx.now)
                .into_iter()
                .next()
                .map(|run| LastRun {
                    name: run.name,
                    phase: run.status.phase,
                });
            ScheduleLine {
                name: schedule_name,
                operation: s.spec.operation().to_string(),
                cron: s.spec.cron_schedule.clone(),
                paused: state.paused,
                next_run: state.next_run,
                last_run,
            }
        })
        .collect();
    if let Some(configuration) = &configuration {
        let state = configuration_state(configuration);
        anomalies.extend(anomaly_lines(
            format!(
                "configuration {}",
                configuration.metadata.name.clone().unwrap_or_default()
            ),
            &state.anomalies,
        ));
    }
    Ok(DatacenterReport {
        namespace: namespace.to_owned(),
        datacenter: name.clone(),
        cluster: k8c.as_ref().and_then(|k| k.metadata.name.clone()),
        configuration: configuration.as_ref().map(|c| ConfigurationLine {
            name: c.metadata.name.clone().unwrap_or_default(),
            ready: configuration_state(c).ready,
        }),
        medusa_pods,
        last_good_backup: latest(&rows, &name).map(|r| BackupLine {
            name: r.name.clone(),
            finished: r.finished().or(r.started()),
        }),
        running,
        schedules,
        retention,
        failures,
        anomalies,
    })
}

fn render(ctx: &Ctx, report: &DatacenterReport) -> String {
    let mut text = format!(
        "Datacenter {} (namespace {}",
        report.datacenter, report.namespace
    );
    if let Some(cluster) = &report.cluster {
        text.push_str(&format!(", K8ssandraCluster {cluster}"));
    }
    text.push_str(")\n");
    let configuration = match &report.configuration {
        Some(ConfigurationLine {
            name,
            ready: Some(true),
        }) => format!("{name} (Ready)"),
        Some(ConfigurationLine {
            name,
            ready: Some(false),
        }) => format!("{name} (NOT ready)"),
        Some(ConfigurationLine { name, ready: None }) => {
            format!("{name} (no Ready condition yet)")
        }
        None => "none (storage in the K8ssandraCluster)".into(),
    };
    text.push_str(&format!("  Configuration:    {configuration}\n"));
    let ready = report
        .medusa_pods
        .iter()
        .filter(|p| p.ready == Some(true))
        .count();
    let missing: Vec<&str> = report
        .medusa_pods
        .iter()
        .filter(|p| p.ready.is_none())
        .map(|p| p.pod.as_str())
        .collect();
    let mut medusa = format!("{ready}/{} pods ready", report.medusa_pods.len());
    if !missing.is_empty() {
        medusa.push_str(&format!("; no medusa container in {}", missing.join(", ")));
    }
    for pod in &report.medusa_pods {
        if pod.ready == Some(false) {
            medusa.push_str(&format!("; {} not ready", pod.pod));
        }
    }
    text.push_str(&format!("  Medusa:           {medusa}\n"));
    text.push_str(&format!(
        "  Last good backup: {}\n",
        match &report.last_good_backup {
            Some(BackupLine { name, finished }) => {
                format!("{name} ({} ago)", age(ctx.now, *finished))
            }
            None => "none".into(),
        }
    ));
    text.push_str(&format!(
        "  Retention:        {}\n",
        match &report.retention {
            Some(Retention {
                max_backup_age: 0,
                max_backup_count: 0,
            }) => "unlimited (maxBackupAge 0, maxBackupCount 0)".into(),
            Some(r) => format!(
                "maxBackupAge {} day(s), maxBackupCount {} (0: unlimited)",
                r.max_backup_age, r.max_backup_count
            ),
            None => "unknown".into(),
        }
    ));
    text.push_str("  Running:          ");
    if report.running.is_empty() {
        text.push_str("nothing\n");
    } else {
        text.push_str(
            &report
                .running
                .iter()
                .map(|o| {
                    format!("{} {} {}", o.kind, o.name, o.detail)
                        .trim_end()
                        .to_owned()
                })
                .collect::<Vec<_>>()
                .join("; "),
        );
        text.push('\n');
    }
    text.push_str("  Schedules:        ");
    if report.schedules.is_empty() {
        text.push_str("none\n");
    } else {
        text.push_str(
            &report
                .schedules
                .iter()
                .map(|s| {
                    let last = match &s.last_run {
                        Some(run) => format!(", last run {} {}", run.name, run.phase),
                        None => ", no run yet".to_owned(),
                    };
                    format!(
                        "{} ({} {:?}, {}{last})",
                        s.name,
                        s.operation,
                        s.cron,
                        if s.paused {
                            "paused".into()
                        } else {
                            format!("next {}", until(ctx.now, s.next_run))
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        );
        text.push('\n');
    }
    text.push_str(&format!("  Failures (7d):    {}\n", report.failures.len()));
    for failure in &report.failures {
        text.push_str(&format!(
            "    - {} {}: {}\n",
            failure.kind, failure.name, failure.detail
        ));
    }
    if !report.anomalies.is_empty() {
        text.push_str("  Anomalies:\n");
        for anomaly in &report.anomalies {
            text.push_str(&format!(
                "    - {} ({}): {}\n",
                anomaly.object, anomaly.code, anomaly.meaning
            ));
        }
    }
    text
}

/// Runs `status`.
pub async fn run(ctx: &Ctx, args: StatusArgs) -> Result<()> {
    let namespace = ctx.namespace().to_owned();
    let mut datacenters: Vec<(String, CassandraDatacenter)> = Vec::new();
    if let Some(dc) = &args.dc {
        datacenters.push((
            namespace.clone(),
            crate::checks::datacenter(ctx, &namespace, dc).await?,
        ));
    } else if let Some(k8c) = &args.k8c {
        let cluster = api::get::<K8ssandraCluster>(ctx, &namespace, k8c).await?;
        for dc in cluster.datacenters() {
            if let Some(context) = dc.context() {
                ctx.err.line(format!("note: datacenter {} runs in context {context}; see it with --context {context}", dc.object_name()))?;
                continue;
            }
            let dc_ns = dc.namespace_in(&namespace).to_owned();
            datacenters.push((
                dc_ns.clone(),
                crate::checks::datacenter(ctx, &dc_ns, dc.object_name()).await?,
            ));
        }
    } else {
        for dc in api::list::<CassandraDatacenter>(ctx, Scope::Namespace(&namespace), None).await? {
            datacenters.push((namespace.clone(), dc));
        }
    }
    if datacenters.is_empty() {
        return Err(CliError::NotFound(format!(
            "no CassandraDatacenter in namespace {namespace}: use -n with your datacenters' namespace"
        )));
    }
    let mut reports = Vec::new();
    let mut objects: Option<(String, NamespaceObjects)> = None;
    for (dc_ns, dc) in &datacenters {
        // Datacenters come grouped by namespace: each namespace is listed once.
        if objects.as_ref().is_none_or(|(listed, _)| listed != dc_ns) {
            objects = Some((dc_ns.clone(), NamespaceObjects::fetch(ctx, dc_ns).await?));
        }
        if let Some((_, objects)) = &objects {
            reports.push(report(ctx, dc_ns, dc, objects).await?);
        }
    }
    if args.output == ListOutput::Json {
        return ctx.out.write(&output::json(&reports)?);
    }
    let text: Vec<String> = reports.iter().map(|r| render(ctx, r)).collect();
    ctx.out.write(&text.join("\n"))
}
