//! Stall detection: an operation is stalled when it has run longer than `factor` times the
//! median duration of the last `history` successful operations of the same kind on the same
//! datacenter, or longer than `without_history` when there is no such history
//! (k8ssandra-operator#1767: a purge hung for days and blocked its schedule).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::operations::{OperationKind, OperationRecord};
use crate::status::Phase;

/// When a running operation counts as stalled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StallPolicy {
    /// How many times the median duration (default 3).
    pub factor: u32,
    /// How many of the newest successful operations make the history (default 10).
    pub history: usize,
    /// The limit when there is no history (default 6 hours).
    pub without_history: Duration,
}

impl Default for StallPolicy {
    fn default() -> Self {
        Self {
            factor: 3,
            history: 10,
            without_history: Duration::hours(6),
        }
    }
}

/// What a stall limit was computed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "basis")]
pub enum StallBasis {
    /// `factor` times the median of the newest successful operations.
    #[serde(rename_all = "camelCase")]
    Median {
        /// The median duration.
        #[serde(with = "seconds")]
        median: Duration,
        /// How many operations it is the median of.
        samples: usize,
        /// The factor.
        factor: u32,
    },
    /// No successful operation to compare with: the fixed limit.
    NoHistory,
}

mod seconds {
    use chrono::Duration;
    use serde::Serializer;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(d.num_seconds())
    }
}

/// A running operation that has run past its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stall {
    /// How long it has run.
    #[serde(with = "seconds")]
    pub running_for: Duration,
    /// The limit it passed.
    #[serde(with = "seconds")]
    pub limit: Duration,
    /// Where the limit comes from.
    #[serde(flatten)]
    pub basis: StallBasis,
}

impl Stall {
    /// One sentence: how long, against what.
    pub fn explain(&self, kind: OperationKind, datacenter: &str) -> String {
        let running = short(self.running_for);
        match self.basis {
            StallBasis::Median {
                median,
                samples,
                factor,
            } => format!(
                "running for {running}, over {factor} times the median {} of the last {samples} successful {} of datacenter {datacenter}",
                short(median),
                kind.plural()
            ),
            StallBasis::NoHistory => format!(
                "running for {running}, over {} with no successful {} of datacenter {datacenter} to compare with",
                short(self.limit),
                kind.plural()
            ),
        }
    }
}

/// `2h5m`, `40m`, `3d4h`: durations the way kubectl shows ages.
fn short(d: Duration) -> String {
    let s = d.num_seconds().max(0);
    let (days, hours, minutes, secs) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h{m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d{h}h"),
    }
}

type HistoryKey = (String, String, OperationKind);

/// The stall limits of every (namespace, datacenter, kind), from the operations' history.
#[derive(Clone, Debug)]
pub struct Stalls {
    policy: StallPolicy,
    limits: BTreeMap<HistoryKey, (Duration, StallBasis)>,
}

impl Stalls {
    /// Learns the limits from these operations' successes.
    pub fn new(records: &[OperationRecord], policy: StallPolicy) -> Self {
        let mut successes: BTreeMap<HistoryKey, Vec<(DateTime<Utc>, Duration)>> = BTreeMap::new();
        for record in records {
            if record.status.phase != Phase::Succeeded {
                continue;
            }
            let (Some(finished), Some(duration)) =
                (record.status.finished, record.status.duration())
            else {
                continue;
            };
            successes
                .entry(history_key(record))
                .or_default()
                .push((finished, duration));
        }
        let limits = successes
            .into_iter()
            .filter_map(|(key, mut runs)| {
                runs.sort_by_key(|(finished, _)| std::cmp::Reverse(*finished));
                runs.truncate(policy.history.max(1));
                let median = median(runs.iter().map(|(_, d)| *d).collect())?;
                let basis = StallBasis::Median {
                    median,
                    samples: runs.len(),
                    factor: policy.factor,
                };
                Some((
                    key,
                    (
                        median * i32::try_from(policy.factor).unwrap_or(i32::MAX),
                        basis,
                    ),
                ))
            })
            .collect();
        Self { policy, limits }
    }

    /// The limit for operations of this kind on this datacenter.
    pub fn limit(
        &self,
        namespace: &str,
        datacenter: &str,
        kind: OperationKind,
    ) -> (Duration, StallBasis) {
        self.limits
            .get(&(namespace.to_owned(), datacenter.to_owned(), kind))
            .copied()
            .unwrap_or((self.policy.without_history, StallBasis::NoHistory))
    }

    /// Whether this operation is running past its limit.
    pub fn check(&self, record: &OperationRecord, now: DateTime<Utc>) -> Option<Stall> {
        if record.status.phase != Phase::Running {
            return None;
        }
        let running_for = now - record.status.started?;
        let (limit, basis) = self.limit(&record.key.namespace, &record.datacenter, record.kind);
        (running_for > limit).then_some(Stall {
            running_for,
            limit,
            basis,
        })
    }
}

fn history_key(record: &OperationRecord) -> HistoryKey {
    (
        record.key.namespace.clone(),
        record.datacenter.clone(),
        record.kind,
    )
}

/// The median; of an even count, the mean of the two middle values.
fn median(mut durations: Vec<Duration>) -> Option<Duration> {
    durations.sort();
    let middle = durations.len() / 2;
    match durations.len() {
        0 => None,
        n if n % 2 == 1 => durations.get(middle).copied(),
        _ => {
            let (low, high) = (durations.get(middle - 1)?, durations.get(middle)?);
            Some((*low + *high) / 2)
        }
    }
}
