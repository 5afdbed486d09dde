//! The report of one datacenter, from the objects of its namespace.

use chrono::Duration;
use k8s_openapi::api::core::v1::Pod;
use medusa_crds::operator::datacenter_selector;
use medusa_crds::status::{
    DerivedStatus, Graces, Phase, configuration_state, restore_status, schedule_state, task_status,
};
use medusa_crds::types::cassdc::MEDUSA_CONTAINER;
use medusa_crds::*;

use super::*;
use crate::api::{self, Scope};
use medusa_crds::catalog::{BackupRow, backup_rows, latest, schedule_runs};
use medusa_crds::health::{OperationKind, StallPolicy, Stalls, operations};

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

/// What is running, what failed in the last week, and the anomalies, as they are found.
#[derive(Default)]
struct Activity {
    running: Vec<OperationLine>,
    failures: Vec<OperationLine>,
    anomalies: Vec<AnomalyLine>,
}

impl Activity {
    /// One object: running (with `progress`), failed within `since`, and its anomalies.
    fn record(
        &mut self,
        kind: &str,
        name: &str,
        status: &DerivedStatus,
        progress: String,
        since: chrono::DateTime<chrono::Utc>,
    ) {
        match status.phase {
            Phase::Running | Phase::Pending => self.running.push(operation(kind, name, progress)),
            Phase::Failed if status.started.is_some_and(|t| t >= since) => self.failures.push(
                operation(kind, name, status.reason.clone().unwrap_or_default()),
            ),
            _ => {}
        }
        self.anomalies
            .extend(anomaly_lines(format!("{kind} {name}"), &status.anomalies));
    }
}

/// The objects of one datacenter.
struct DatacenterObjects<'a> {
    rows: Vec<BackupRow>,
    tasks: Vec<MedusaTask>,
    restores: Vec<&'a MedusaRestoreJob>,
    schedules: Vec<&'a MedusaBackupSchedule>,
}

impl NamespaceObjects {
    /// The objects of datacenter `name`, backups joined with their jobs.
    fn of_datacenter(
        &self,
        name: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> DatacenterObjects<'_> {
        let rows = backup_rows(
            self.jobs
                .iter()
                .filter(|j| j.spec.cassandra_datacenter == name)
                .cloned()
                .collect(),
            self.backups
                .iter()
                .filter(|b| b.spec.cassandra_datacenter == name)
                .cloned()
                .collect(),
            now,
        );
        DatacenterObjects {
            rows: rows.into_iter().filter(|r| r.datacenter == name).collect(),
            tasks: self
                .tasks
                .iter()
                .filter(|t| t.spec.cassandra_datacenter == name)
                .cloned()
                .collect(),
            restores: self
                .restores
                .iter()
                .filter(|r| r.spec.cassandra_datacenter == name)
                .collect(),
            schedules: self
                .schedules
                .iter()
                .filter(|s| s.spec.backup_spec.cassandra_datacenter == name)
                .collect(),
        }
    }
}

/// The datacenter's pods and their medusa containers; none when they cannot be listed.
async fn medusa_pods(ctx: &Ctx, namespace: &str, dc: &CassandraDatacenter) -> Vec<MedusaPod> {
    let selector = datacenter_selector(dc);
    let pods = api::list::<Pod>(ctx, Scope::Namespace(namespace), Some(&selector))
        .await
        .unwrap_or_default();
    pods.iter()
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
        .collect()
}

/// Builds the report of a datacenter.
pub async fn report(
    ctx: &Ctx,
    namespace: &str,
    dc: &CassandraDatacenter,
    objects: &NamespaceObjects,
    policy: StallPolicy,
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
    let objects = objects.of_datacenter(&name, ctx.now);
    let mut activity = activity(&objects, ctx.now);
    let stalled = stalled_lines(&objects, &name, ctx.now, policy);
    let schedules = schedule_lines(&objects, ctx.now, &mut activity.anomalies);
    if let Some(configuration) = &configuration {
        let name = configuration.metadata.name.clone().unwrap_or_default();
        activity.anomalies.extend(anomaly_lines(
            format!("configuration {name}"),
            &configuration_state(configuration).anomalies,
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
        medusa_pods: medusa_pods(ctx, namespace, dc).await,
        last_good_backup: latest(&objects.rows, &name).map(|r| BackupLine {
            name: r.name.clone(),
            finished: r.finished().or(r.started()),
        }),
        running: activity.running,
        stalled,
        schedules,
        retention,
        failures: activity.failures,
        anomalies: activity.anomalies,
    })
}

/// The backups, tasks and restores of the datacenter: running, failed this week, anomalies.
fn activity(objects: &DatacenterObjects<'_>, now: chrono::DateTime<chrono::Utc>) -> Activity {
    let week = now - Duration::days(7);
    let mut activity = Activity::default();
    for row in &objects.rows {
        let progress = row.status.progress.map_or(String::new(), |p| p.to_string());
        activity.record("backup", &row.name, &row.status, progress, week);
    }
    for task in &objects.tasks {
        let status = task_status(task, now, Graces::default());
        let progress = status.progress.map_or(String::new(), |p| p.to_string());
        let name = task.metadata.name.clone().unwrap_or_default();
        activity.record(
            &task.spec.operation.to_string(),
            &name,
            &status,
            progress,
            week,
        );
    }
    for restore in &objects.restores {
        let status = restore_status(restore, None, now, Graces::default());
        let progress = status.reason.clone().unwrap_or_default();
        let name = restore.metadata.name.clone().unwrap_or_default();
        activity.record("restore", &name, &status, progress, week);
    }
    activity
}

/// The running operations that look stalled, with why and where to look.
fn stalled_lines(
    objects: &DatacenterObjects<'_>,
    datacenter: &str,
    now: chrono::DateTime<chrono::Utc>,
    policy: StallPolicy,
) -> Vec<StalledLine> {
    let restores: Vec<MedusaRestoreJob> = objects.restores.iter().map(|r| (*r).clone()).collect();
    let records = operations(&objects.rows, &restores, &objects.tasks, now);
    let stalls = Stalls::new(&records, policy);
    records
        .iter()
        .filter_map(|record| {
            let stall = stalls.check(record, now)?;
            let noun = match record.kind {
                OperationKind::Backup => "backup",
                OperationKind::Restore => "restore",
                _ => "task",
            };
            Some(StalledLine {
                kind: record.kind.as_str().to_owned(),
                name: record.key.name.clone(),
                detail: stall.explain(record.kind, datacenter),
                logs: format!(
                    "kubectl medusa logs {noun} {} -n {}",
                    record.key.name, record.key.namespace
                ),
            })
        })
        .collect()
}

/// The datacenter's schedules, each with its next and newest run.
fn schedule_lines(
    objects: &DatacenterObjects<'_>,
    now: chrono::DateTime<chrono::Utc>,
    anomalies: &mut Vec<AnomalyLine>,
) -> Vec<ScheduleLine> {
    objects
        .schedules
        .iter()
        .map(|s| {
            let state = schedule_state(s, now);
            let name = s.metadata.name.clone().unwrap_or_default();
            anomalies.extend(anomaly_lines(format!("schedule {name}"), &state.anomalies));
            let last_run = schedule_runs(s, &objects.rows, &objects.tasks, now)
                .into_iter()
                .next()
                .map(|run| LastRun {
                    name: run.name,
                    phase: run.status.phase,
                });
            ScheduleLine {
                name,
                operation: s.spec.operation().to_string(),
                cron: s.spec.cron_schedule.clone(),
                paused: state.paused,
                next_run: state.next_run,
                last_run,
            }
        })
        .collect()
}
