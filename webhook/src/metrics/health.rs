//! Backup health on `/metrics`, computed from the caches at scrape time by
//! [`medusa_crds::health`], the derived status the plugin shows too. Labels stay few: namespace,
//! datacenter and, where named, schedule or operation; a name only for operations running now.

use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use medusa_crds::health::{Health, HealthInput, StallPolicy, health};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;

use crate::cache::Caches;

type Labels = Vec<(&'static str, String)>;

/// The objects of every cache health reads, copied out of the caches.
pub fn input(caches: &Caches) -> HealthInput {
    fn owned<K: Clone>(objects: Vec<std::sync::Arc<K>>) -> Vec<K> {
        objects.into_iter().map(|o| (*o).clone()).collect()
    }
    HealthInput {
        backup_jobs: owned(caches.of().all()),
        backups: owned(caches.of().all()),
        restores: owned(caches.of().all()),
        tasks: owned(caches.of().all()),
        schedules: owned(caches.of().all()),
        datacenters: owned(caches.of().all()),
    }
}

/// One gauge family: its name, help and samples.
struct Family {
    name: &'static str,
    help: &'static str,
    samples: Vec<(Labels, f64)>,
}

fn seconds(t: DateTime<Utc>) -> f64 {
    // Unix seconds fit an f64 exactly for the next 285 million years.
    #[allow(clippy::cast_precision_loss)]
    let s = t.timestamp() as f64;
    s
}

fn duration_seconds(d: chrono::Duration) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let ms = d.num_milliseconds() as f64;
    ms / 1000.0
}

fn dc_labels(namespace: &str, datacenter: &str) -> Labels {
    vec![
        ("namespace", namespace.to_owned()),
        ("datacenter", datacenter.to_owned()),
    ]
}

impl Family {
    fn new(name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            help,
            samples: Vec::new(),
        }
    }

    fn push(&mut self, labels: &Labels, value: f64) {
        self.samples.push((labels.clone(), value));
    }
}

fn flag(on: bool) -> f64 {
    if on { 1.0 } else { 0.0 }
}

/// The families of a health snapshot, in the order the README documents them.
fn families(health: &Health) -> Vec<Family> {
    let mut all = datacenter_families(health);
    all.extend(operation_families(health));
    all.extend(schedule_families(health));
    all
}

/// The newest good backup, the newest finished one, and the datacenter's creation.
#[allow(clippy::cast_precision_loss)] // sizes and file counts far below 2^53
fn datacenter_families(health: &Health) -> Vec<Family> {
    let mut last_success = Family::new(
        "medusa_backup_last_success_timestamp_seconds",
        "Finish time of the newest backup that succeeded on all its nodes",
    );
    let mut size = Family::new(
        "medusa_backup_last_success_size_bytes",
        "Size of that backup (its MedusaBackup's totalSize, parsed); absent for synced backups",
    );
    let mut files = Family::new(
        "medusa_backup_last_success_files",
        "Files of that backup; absent for synced backups",
    );
    let mut duration = Family::new(
        "medusa_backup_last_duration_seconds",
        "Duration of the newest finished backup, succeeded or failed",
    );
    let mut failed = Family::new(
        "medusa_backup_last_failed",
        "1 when the newest finished backup failed or is incomplete, else 0",
    );
    let mut created = Family::new(
        "medusa_datacenter_created_timestamp_seconds",
        "Creation time of each CassandraDatacenter running Medusa, the baseline of a datacenter never backed up",
    );
    for dc in &health.datacenters {
        let labels = dc_labels(&dc.namespace, &dc.datacenter);
        if let Some(success) = &dc.last_success {
            last_success.push(&labels, seconds(success.finished));
            if let Some(bytes) = success.size_bytes {
                size.push(&labels, bytes as f64);
            }
            if let Some(count) = success.files {
                files.push(&labels, count as f64);
            }
        }
        if let Some(d) = dc.last_duration {
            duration.push(&labels, duration_seconds(d));
        }
        if let Some(f) = dc.last_failed {
            failed.push(&labels, flag(f));
        }
        if let Some(c) = dc.created {
            created.push(&labels, seconds(c));
        }
    }
    vec![last_success, size, files, duration, failed, created]
}

/// Operations per phase, and the running ones with their age and stall verdict.
#[allow(clippy::cast_precision_loss)] // counts far below 2^53
fn operation_families(health: &Health) -> Vec<Family> {
    let mut operations = Family::new(
        "medusa_operations",
        "Backup jobs, restores and tasks per derived phase",
    );
    for c in &health.counts {
        let mut labels = dc_labels(&c.namespace, &c.datacenter);
        labels.push(("kind", c.kind.as_str().to_owned()));
        labels.push(("phase", c.phase.as_str().to_owned()));
        operations.push(&labels, c.count as f64);
    }
    let mut running = Family::new(
        "medusa_operation_running_seconds",
        "How long each running operation has run",
    );
    let mut stalled = Family::new(
        "medusa_operation_stalled",
        "1 when a running operation has run past its stall limit, else 0",
    );
    for op in &health.running {
        let mut labels = dc_labels(&op.record.key.namespace, &op.record.datacenter);
        labels.push(("kind", op.record.kind.as_str().to_owned()));
        labels.push(("name", op.record.key.name.clone()));
        running.push(&labels, duration_seconds(op.running_for));
        stalled.push(&labels, flag(op.stall.is_some()));
    }
    vec![operations, running, stalled]
}

/// Each schedule's next run, last execution, interval and pause.
fn schedule_families(health: &Health) -> Vec<Family> {
    let mut next_run = Family::new(
        "medusa_schedule_next_run_timestamp_seconds",
        "Next run of each schedule, as the operator computes it",
    );
    let mut last_execution = Family::new(
        "medusa_schedule_last_execution_timestamp_seconds",
        "Last run of each schedule (status.lastExecution)",
    );
    let mut interval = Family::new(
        "medusa_schedule_interval_seconds",
        "Time between the next two runs of each schedule",
    );
    let mut paused = Family::new(
        "medusa_schedule_paused",
        "1 when a schedule is disabled, else 0",
    );
    for s in &health.schedules {
        let labels: Labels = vec![
            ("namespace", s.namespace.clone()),
            ("schedule", s.schedule.clone()),
            ("datacenter", s.datacenter.clone()),
            ("operation", s.operation.to_owned()),
        ];
        if let Some(t) = s.next_run {
            next_run.push(&labels, seconds(t));
        }
        if let Some(t) = s.last_execution {
            last_execution.push(&labels, seconds(t));
        }
        if let Some(d) = s.interval {
            interval.push(&labels, duration_seconds(d));
        }
        paused.push(&labels, flag(s.paused));
    }
    vec![next_run, last_execution, interval, paused]
}

/// The names of the backup health metrics, as exported.
pub fn metric_names() -> Vec<&'static str> {
    families(&Health::default())
        .iter()
        .map(|f| f.name)
        .collect()
}

/// Backup health as a collector: [`HealthCollector::refresh`] computes it from the caches just
/// before an exposition encodes it.
#[derive(Debug)]
pub struct HealthCollector {
    policy: StallPolicy,
    latest: Mutex<Option<Health>>,
}

impl HealthCollector {
    /// A collector with this stall policy.
    pub fn new(policy: StallPolicy) -> Self {
        Self {
            policy,
            latest: Mutex::new(None),
        }
    }

    /// Computes health from the caches at `now`.
    pub fn refresh(&self, caches: &Caches, now: DateTime<Utc>) {
        let computed = health(input(caches), now, self.policy);
        *self.latest.lock().unwrap_or_else(PoisonError::into_inner) = Some(computed);
    }
}

impl Collector for HealthCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(health) = latest.as_ref() else {
            return Ok(());
        };
        for family in families(health) {
            let mut metric =
                encoder.encode_descriptor(family.name, family.help, None, MetricType::Gauge)?;
            for (labels, value) in family.samples {
                ConstGauge::new(value).encode(metric.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use medusa_crds::fixtures::instant;
    use medusa_crds::*;

    use crate::cache::Caches;
    use crate::metrics::Metrics;

    fn now() -> chrono::DateTime<chrono::Utc> {
        instant("2024-05-10T12:00:00Z")
    }

    /// dc1 backed up twice (the newest failed), a purge running for seven hours, a schedule.
    fn caches() -> std::sync::Arc<Caches> {
        let (caches, mut writers) = Caches::new();
        writers.ready_empty();
        writers.of::<MedusaBackupJob>().fill([
            MedusaBackupJob::test("good")
                .started("2024-05-09T01:00:00Z")
                .finished_at("2024-05-09T01:10:00Z")
                .finished_pods(&["p0"]),
            MedusaBackupJob::test("bad")
                .started("2024-05-10T01:00:00Z")
                .finished_at("2024-05-10T01:04:00Z")
                .failed_pods(&["p0"]),
        ]);
        writers
            .of::<MedusaBackup>()
            .fill([MedusaBackup::test("good")
                .times("2024-05-09T01:00:00Z", Some("2024-05-09T01:10:00Z"))]);
        writers
            .of::<MedusaTask>()
            .fill([MedusaTask::test("purge-1", Operation::Purge)
                .started("2024-05-10T05:00:00Z")
                .in_progress(&["p0"])]);
        writers.of::<MedusaBackupSchedule>().fill([
            MedusaBackupSchedule::test("nightly").executed(Some("2024-05-10T01:30:00Z"), None)
        ]);
        writers
            .of::<CassandraDatacenter>()
            .fill([CassandraDatacenter::test("dc1")]);
        caches
    }

    fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    const DC1: &str = r#"{namespace="k8ssandra",datacenter="dc1"}"#;

    #[test]
    fn the_last_good_backup_is_exported_with_its_size_and_files() {
        let text = Metrics::new().encode_at(&caches(), now());
        let series = |name: &str| sample(&text, &format!("{name}{DC1}"));
        assert_eq!(
            series("medusa_backup_last_success_timestamp_seconds"),
            Some(1_715_217_000.0),
            "{text}"
        );
        assert_eq!(
            series("medusa_backup_last_success_size_bytes"),
            Some(130_560.0)
        );
        assert_eq!(series("medusa_backup_last_success_files"), Some(120.0));
    }

    #[test]
    fn the_newest_finished_backup_gives_duration_and_failure() {
        let text = Metrics::new().encode_at(&caches(), now());
        assert_eq!(
            sample(&text, &format!("medusa_backup_last_duration_seconds{DC1}")),
            Some(240.0),
            "{text}"
        );
        assert_eq!(
            sample(&text, &format!("medusa_backup_last_failed{DC1}")),
            Some(1.0)
        );
    }

    #[test]
    fn operations_are_counted_per_kind_and_phase() {
        let text = Metrics::new().encode_at(&caches(), now());
        let series = |kind: &str, phase: &str| {
            sample(
                &text,
                &format!(
                    r#"medusa_operations{{namespace="k8ssandra",datacenter="dc1",kind="{kind}",phase="{phase}"}}"#
                ),
            )
        };
        assert_eq!(series("backup", "succeeded"), Some(1.0), "{text}");
        assert_eq!(series("backup", "failed"), Some(1.0));
        assert_eq!(series("purge", "running"), Some(1.0));
    }

    #[test]
    fn a_running_operation_has_its_age_and_stall_verdict() {
        let text = Metrics::new().encode_at(&caches(), now());
        let labels = r#"{namespace="k8ssandra",datacenter="dc1",kind="purge",name="purge-1"}"#;
        assert_eq!(
            sample(&text, &format!("medusa_operation_running_seconds{labels}")),
            Some(25_200.0),
            "{text}"
        );
        assert_eq!(
            sample(&text, &format!("medusa_operation_stalled{labels}")),
            Some(1.0)
        );
    }

    #[test]
    fn the_stall_policy_is_the_webhooks_setting() {
        let relaxed = health::StallPolicy {
            without_history: chrono::Duration::hours(8),
            ..health::StallPolicy::default()
        };
        let text = Metrics::with_stall_policy(relaxed).encode_at(&caches(), now());
        let labels = r#"{namespace="k8ssandra",datacenter="dc1",kind="purge",name="purge-1"}"#;
        assert_eq!(
            sample(&text, &format!("medusa_operation_stalled{labels}")),
            Some(0.0),
            "{text}"
        );
    }

    #[test]
    fn schedules_export_next_run_last_execution_interval_and_pause() {
        let text = Metrics::new().encode_at(&caches(), now());
        let labels =
            r#"{namespace="k8ssandra",schedule="nightly",datacenter="dc1",operation="backup"}"#;
        assert_eq!(
            sample(
                &text,
                &format!("medusa_schedule_last_execution_timestamp_seconds{labels}")
            ),
            Some(1_715_304_600.0),
            "{text}"
        );
        assert_eq!(
            sample(
                &text,
                &format!("medusa_schedule_next_run_timestamp_seconds{labels}")
            ),
            Some(1_715_391_000.0)
        );
        assert_eq!(
            sample(&text, &format!("medusa_schedule_interval_seconds{labels}")),
            Some(86_400.0)
        );
        assert_eq!(
            sample(&text, &format!("medusa_schedule_paused{labels}")),
            Some(0.0)
        );
    }

    #[test]
    fn every_health_metric_is_a_documented_gauge() {
        let text = Metrics::new().encode_at(&caches(), now());
        for name in super::families(&health::Health::default())
            .iter()
            .map(|f| f.name)
        {
            assert!(
                text.contains(&format!("# TYPE {name} gauge")),
                "{name} missing from:\n{text}"
            );
        }
    }

    #[test]
    fn an_operation_that_ended_leaves_no_series_behind() {
        let (caches, mut writers) = Caches::new();
        writers.ready_empty();
        writers
            .of::<MedusaTask>()
            .fill([MedusaTask::test("purge-1", Operation::Purge)
                .started("2024-05-10T05:00:00Z")
                .in_progress(&["p0"])]);
        let metrics = Metrics::new();
        assert!(
            metrics
                .encode_at(&caches, now())
                .contains(r#"name="purge-1""#)
        );
        writers
            .of::<MedusaTask>()
            .fill([MedusaTask::test("purge-1", Operation::Purge)
                .started("2024-05-10T05:00:00Z")
                .finished_pod("p0")
                .finished_at("2024-05-10T06:00:00Z")]);
        assert!(
            !metrics
                .encode_at(&caches, now())
                .contains(r#"name="purge-1""#)
        );
    }
}
