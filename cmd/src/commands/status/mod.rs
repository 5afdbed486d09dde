//! `kubectl medusa status`: one screen per datacenter.

use clap::Args;
use medusa_crds::health::Retention;
use medusa_crds::kinds::ViewKind;
use medusa_crds::status::Phase;
use medusa_crds::*;
use serde::Serialize;

use crate::api::{self, Scope};
use crate::cli::ListOutput;
use crate::context::Ctx;
use crate::error::{CliError, Result};
use crate::output;
use crate::snapshot::Snapshot;

mod render;
mod report;

use render::render;
use report::report;

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
    /// When an operation looks stalled.
    #[command(flatten)]
    pub stall: crate::cli::StallArgs,
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

/// An operation that has run far longer than its kind usually takes on this datacenter.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StalledLine {
    /// backup, restore, sync, purge, prepare_restore.
    pub kind: String,
    /// The object's name.
    pub name: String,
    /// How long it has run, against what.
    pub detail: String,
    /// The command that shows its logs.
    pub logs: String,
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
    /// Running operations that look stalled: they need attention.
    pub stalled: Vec<StalledLine>,
    /// Schedules.
    pub schedules: Vec<ScheduleLine>,
    /// Effective retention.
    pub retention: Option<Retention>,
    /// Failures of the last 7 days.
    pub failures: Vec<OperationLine>,
    /// Anomalies.
    pub anomalies: Vec<AnomalyLine>,
}

/// The objects of one namespace a report reads, listed at once.
#[derive(Debug)]
pub struct NamespaceObjects {
    pub(super) jobs: Vec<MedusaBackupJob>,
    pub(super) backups: Vec<MedusaBackup>,
    pub(super) tasks: Vec<MedusaTask>,
    pub(super) restores: Vec<MedusaRestoreJob>,
    pub(super) schedules: Vec<MedusaBackupSchedule>,
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
            reports.push(report(ctx, dc_ns, dc, objects, args.stall.policy()).await?);
        }
    }
    if args.output == ListOutput::Json {
        return ctx.out.write(&output::json(&reports)?);
    }
    let text: Vec<String> = reports.iter().map(|r| render(ctx, r)).collect();
    ctx.out.write(&text.join("\n"))
}
