//! The state of schedules and configurations.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::*;

use crate::cron::CronSchedule;
use crate::operator::meaningful;
use crate::types::configuration::condition_types;
use crate::types::{ConcurrencyPolicy, MedusaBackupSchedule, MedusaConfiguration};

/// The state of a MedusaBackupSchedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleState {
    /// `spec.disabled`.
    pub paused: bool,
    /// `status.lastExecution`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_execution: Option<DateTime<Utc>>,
    /// The next run, as the operator computes it: the cron's next time after the last
    /// execution (or the creation), or after now when that is already past.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_run: Option<DateTime<Utc>>,
    /// Known quirks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub anomalies: Vec<Anomaly>,
}

/// How late `nextSchedule` may be before the schedule counts as overdue: the operator requeues
/// postponed runs after a minute.
pub const SCHEDULE_OVERDUE_GRACE: Duration = Duration::seconds(180);

/// The state of a schedule at `now`.
pub fn schedule_state(schedule: &MedusaBackupSchedule, now: DateTime<Utc>) -> ScheduleState {
    let status = schedule.status.clone().unwrap_or_default();
    let last_execution = meaningful(status.last_execution.as_ref());
    let paused = schedule.spec.is_disabled();
    let mut anomalies = Vec::new();
    let next_run = match CronSchedule::parse(&schedule.spec.cron_schedule) {
        Ok(cron) if cron.never_runs() => {
            anomalies.push(Anomaly::CronNeverRuns);
            None
        }
        Ok(cron) => {
            let previous = last_execution.or_else(|| created(&schedule.metadata));
            let due = previous.and_then(|p| cron.next_after(p));
            match due {
                Some(due) if due > now => Some(due),
                _ => cron.next_after(now),
            }
        }
        Err(e) => {
            anomalies.push(Anomaly::InvalidCron { error: e.0 });
            None
        }
    };
    let unsupported = match &schedule.spec.concurrency_policy {
        Some(ConcurrencyPolicy::Replace) => Some("Replace".to_owned()),
        Some(ConcurrencyPolicy::Unknown(policy)) if !policy.is_empty() => Some(policy.clone()),
        _ => None,
    };
    if let Some(policy) = unsupported {
        anomalies.push(Anomaly::UnsupportedConcurrencyPolicy { policy });
    }
    if let Some(next_schedule) = meaningful(status.next_schedule.as_ref())
        && now - next_schedule > SCHEDULE_OVERDUE_GRACE
    {
        anomalies.push(Anomaly::ScheduleOverdue { next_schedule });
    }
    ScheduleState {
        paused,
        last_execution,
        next_run,
        anomalies,
    }
}

/// The state of a MedusaConfiguration from its conditions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigurationState {
    /// `Ready`, when reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    /// `SecretAvailable`, when reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_available: Option<bool>,
    /// The GET error the operator recorded when the Secret was not found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_message: Option<String>,
    /// Known quirks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub anomalies: Vec<Anomaly>,
}

/// The state of a MedusaConfiguration.
pub fn configuration_state(configuration: &MedusaConfiguration) -> ConfigurationState {
    let status = configuration.status.clone().unwrap_or_default();
    let ready = status
        .condition(condition_types::READY)
        .map(|c| c.is_true());
    let secret = status.condition(condition_types::SECRET_AVAILABLE);
    let secret_available = secret.map(|c| c.is_true());
    let secret_message = secret
        .filter(|c| !c.is_true() && c.message != c.type_)
        .map(|c| c.message.clone());
    let mut anomalies = Vec::new();
    if ready == Some(true) && secret_available == Some(false) {
        anomalies.push(Anomaly::ReadyButSecretUnavailable);
    }
    ConfigurationState {
        ready,
        secret_available,
        secret_message,
        anomalies,
    }
}
