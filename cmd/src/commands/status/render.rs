//! A report as text: one screen per datacenter.

use super::*;
use crate::output::{age, until};

/// The report of one datacenter, as text.
pub(super) fn render(ctx: &Ctx, report: &DatacenterReport) -> String {
    let mut text = format!(
        "Datacenter {} (namespace {}",
        report.datacenter, report.namespace
    );
    if let Some(cluster) = &report.cluster {
        text.push_str(&format!(", K8ssandraCluster {cluster}"));
    }
    text.push_str(")\n");
    let last_good = match &report.last_good_backup {
        Some(BackupLine { name, finished }) => format!("{name} ({} ago)", age(ctx.now, *finished)),
        None => "none".into(),
    };
    for (label, value) in [
        (
            "Configuration:   ",
            configuration(report.configuration.as_ref()),
        ),
        ("Medusa:          ", medusa(&report.medusa_pods)),
        ("Last good backup:", last_good),
        ("Retention:       ", retention(report.retention.as_ref())),
        (
            "Running:         ",
            running(&report.running, &report.stalled),
        ),
        ("Schedules:       ", schedules(ctx, &report.schedules)),
    ] {
        text.push_str(&format!("  {label} {value}\n"));
    }
    if !report.stalled.is_empty() {
        text.push_str("  Needs attention:\n");
        for stalled in &report.stalled {
            text.push_str(&format!(
                "    - {} {} looks stalled: {}; see why with: {}\n",
                stalled.kind, stalled.name, stalled.detail, stalled.logs
            ));
        }
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

fn configuration(configuration: Option<&ConfigurationLine>) -> String {
    match configuration {
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
    }
}

fn medusa(pods: &[MedusaPod]) -> String {
    let ready = pods.iter().filter(|p| p.ready == Some(true)).count();
    let missing: Vec<&str> = pods
        .iter()
        .filter(|p| p.ready.is_none())
        .map(|p| p.pod.as_str())
        .collect();
    let mut medusa = format!("{ready}/{} pods ready", pods.len());
    if !missing.is_empty() {
        medusa.push_str(&format!("; no medusa container in {}", missing.join(", ")));
    }
    for pod in pods {
        if pod.ready == Some(false) {
            medusa.push_str(&format!("; {} not ready", pod.pod));
        }
    }
    medusa
}

fn retention(retention: Option<&Retention>) -> String {
    match retention {
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
}

fn running(operations: &[OperationLine], stalled: &[StalledLine]) -> String {
    if operations.is_empty() {
        return "nothing".into();
    }
    operations
        .iter()
        .map(|o| {
            let mark = if stalled.iter().any(|s| s.kind == o.kind && s.name == o.name) {
                " (stalled?)"
            } else {
                ""
            };
            format!("{} {} {}", o.kind, o.name, o.detail)
                .trim_end()
                .to_owned()
                + mark
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn schedules(ctx: &Ctx, schedules: &[ScheduleLine]) -> String {
    if schedules.is_empty() {
        return "none".into();
    }
    schedules
        .iter()
        .map(|s| {
            let last = match &s.last_run {
                Some(run) => format!(", last run {} {}", run.name, run.phase),
                None => ", no run yet".to_owned(),
            };
            let next = if s.paused {
                "paused".into()
            } else {
                format!("next {}", until(ctx.now, s.next_run))
            };
            format!("{} ({} {:?}, {next}{last})", s.name, s.operation, s.cron)
        })
        .collect::<Vec<_>>()
        .join("; ")
}
