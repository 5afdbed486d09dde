//! MedusaBackupSchedule rules S1 to S3, and MedusaBackup deletion (B1).

use std::borrow::Cow;

use serde::Deserialize;

use super::{
    AdmissionInput, AdmissionOperation, Checks, ClusterView, Expect, Finding, Lookup, RuleId,
};
use crate::cron::CronSchedule;
use crate::types::{CassandraDatacenter, ConcurrencyPolicy};

/// What S1 to S3 read of a MedusaBackupSchedule's spec, with the model's field types.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScheduleSpec<'a> {
    #[serde(borrow)]
    cron_schedule: Cow<'a, str>,
    #[serde(default)]
    concurrency_policy: Option<ConcurrencyPolicy>,
    #[serde(borrow)]
    backup_spec: BackupSpec<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BackupSpec<'a> {
    #[serde(borrow)]
    cassandra_datacenter: Cow<'a, str>,
}

pub(super) async fn validate_schedule<V: ClusterView>(
    input: &AdmissionInput<'_>,
    checks: &mut Checks<'_, V>,
) -> Result<(), Finding> {
    if !matches!(
        input.operation,
        AdmissionOperation::Create | AdmissionOperation::Update
    ) {
        return Ok(());
    }
    let schedule: ScheduleSpec = input.spec()?;
    let who = input.who();
    match CronSchedule::parse(&schedule.cron_schedule) {
        Err(error) => checks.deny(
            RuleId::S1,
            format!(
                "{who}: {error}: spec.cronSchedule takes five fields (minute hour day-of-month month day-of-week), such as \"30 1 * * *\", or a descriptor such as @daily or @every 12h, optionally after CRON_TZ=<zone>"
            ),
        ),
        Ok(cron) if cron.never_runs() => checks.warn(
            RuleId::S1,
            format!(
                "{who}: spec.cronSchedule {:?} {}; check each of the five fields, such as \"30 1 * * *\"",
                schedule.cron_schedule,
                CronSchedule::NEVER_RUNS
            ),
        ),
        Ok(_) => {}
    }
    match &schedule.concurrency_policy {
        None | Some(ConcurrencyPolicy::Allow | ConcurrencyPolicy::Forbid) => {}
        Some(ConcurrencyPolicy::Unknown(empty)) if empty.is_empty() => {}
        Some(other) => checks.deny(
            RuleId::S2,
            format!(
                "{who}: concurrencyPolicy {:?} is accepted by the schema but not implemented by the operator, which would then run backups concurrently; use Forbid (the default) or Allow",
                other.as_str()
            ),
        ),
    }
    if checks.enabled(RuleId::S3) {
        let dc = schedule.backup_spec.cassandra_datacenter.as_ref();
        match checks
            .view
            .get::<CassandraDatacenter>(input.namespace, dc, Expect::Exists)
            .await
        {
            Lookup::Found(_) => {}
            Lookup::Missing => checks.warn(
                RuleId::S3,
                format!(
                    "{who}: CassandraDatacenter {dc:?} does not exist in namespace {} yet: the schedule does nothing until it does",
                    input.namespace
                ),
            ),
            Lookup::Unavailable(why) | Lookup::Failed(why) => checks.warn(
                RuleId::S3,
                format!("{who}: could not check that CassandraDatacenter {dc:?} exists: {why}"),
            ),
        }
    }
    Ok(())
}

pub(super) fn validate_backup<V: ClusterView>(
    input: &AdmissionInput<'_>,
    checks: &mut Checks<'_, V>,
) -> Result<(), Finding> {
    if input.operation != AdmissionOperation::Delete {
        return Ok(());
    }
    // Only the datacenter is read: a MedusaBackup's status can be large.
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Spec {
        #[serde(default)]
        cassandra_datacenter: String,
    }
    let dc = input
        .old_spec::<Spec>()
        .ok()
        .map(|spec| spec.cassandra_datacenter)
        .filter(|dc| !dc.is_empty())
        .unwrap_or_else(|| "<datacenter>".into());
    checks.warn(
        RuleId::B1,
        format!(
            "{}: deleting the MedusaBackup removes only the record: the backup stays in the bucket, and the next sync brings the record back; to delete backups from storage, set maxBackupCount or maxBackupAge and run a purge (kubectl medusa purge --dc {dc})",
            input.describe()
        ),
    );
    Ok(())
}
