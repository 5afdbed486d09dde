//! Medusa, as the operator's gRPC calls see it: backups in storage, each node's part of them,
//! and purges by retention.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

/// Where one node's part of a backup stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeState {
    /// Uploading.
    InProgress,
    /// Done.
    Success,
    /// Failed.
    Failed,
}

impl NodeState {
    /// The gRPC `StatusType` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::Success => "SUCCESS",
            Self::Failed => "FAILED",
        }
    }
}

/// One node's part of a backup.
#[derive(Clone, Debug)]
pub struct NodeBackup {
    /// The pod (Medusa's host name on Kubernetes).
    pub host: String,
    /// The Cassandra datacenter name.
    pub datacenter: String,
    /// The rack.
    pub rack: String,
    /// When its upload ends.
    pub ends_at: DateTime<Utc>,
    /// Whether it ends FAILED.
    pub fails: bool,
}

impl NodeBackup {
    fn state(&self, now: DateTime<Utc>) -> NodeState {
        match (now < self.ends_at, self.fails) {
            (true, _) => NodeState::InProgress,
            (false, false) => NodeState::Success,
            (false, true) => NodeState::Failed,
        }
    }
}

/// A backup in storage.
#[derive(Clone, Debug)]
pub struct StoredBackup {
    /// Its name (the MedusaBackupJob's).
    pub name: String,
    /// `differential` or `full`.
    pub backup_type: String,
    /// When it started.
    pub started: DateTime<Utc>,
    /// Each node's part.
    pub nodes: Vec<NodeBackup>,
    /// Files per node.
    pub files_per_node: i64,
    /// Bytes per node.
    pub bytes_per_node: i64,
}

impl StoredBackup {
    /// A finished, successful backup of `nodes` pods named `<prefix>-<i>` in rack `default`
    /// of Cassandra datacenter `datacenter` (one taken by another cluster sharing the bucket).
    pub fn complete(
        name: &str,
        datacenter: &str,
        pod_prefix: &str,
        nodes: usize,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            name: name.to_owned(),
            backup_type: "differential".to_owned(),
            started: at,
            nodes: (0..nodes)
                .map(|i| NodeBackup {
                    host: format!("{pod_prefix}-{i}"),
                    datacenter: datacenter.to_owned(),
                    rack: "default".to_owned(),
                    ends_at: at + Duration::minutes(4),
                    fails: false,
                })
                .collect(),
            files_per_node: 40,
            bytes_per_node: 512 * 1024,
        }
    }

    /// When the last node finished, once every node did.
    pub fn finished(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.nodes
            .iter()
            .all(|n| n.state(now) != NodeState::InProgress)
            .then(|| self.nodes.iter().map(|n| n.ends_at).max())
            .flatten()
    }

    /// Medusa's `BackupSummary` of it.
    pub fn summary(&self, now: DateTime<Utc>, in_progress_bug: bool) -> Summary {
        let states: Vec<NodeState> = self.nodes.iter().map(|n| n.state(now)).collect();
        let finished_nodes = states.iter().filter(|s| **s == NodeState::Success).count();
        let status = if in_progress_bug || states.contains(&NodeState::InProgress) {
            NodeState::InProgress
        } else if states.contains(&NodeState::Failed) {
            NodeState::Failed
        } else {
            NodeState::Success
        };
        let count = i64::try_from(self.nodes.len()).unwrap_or(i64::MAX);
        Summary {
            name: self.name.clone(),
            backup_type: self.backup_type.clone(),
            started: self.started,
            finished: self.finished(now),
            total_nodes: i32::try_from(self.nodes.len()).unwrap_or(i32::MAX),
            finished_nodes: i32::try_from(finished_nodes).unwrap_or(i32::MAX),
            status,
            total_objects: self.files_per_node.saturating_mul(count),
            total_size: self.bytes_per_node.saturating_mul(count),
            nodes: self.nodes.clone(),
        }
    }
}

/// Medusa's `BackupSummary`, as `GetBackups` returns it.
#[derive(Clone, Debug)]
pub struct Summary {
    pub name: String,
    pub backup_type: String,
    pub started: DateTime<Utc>,
    pub finished: Option<DateTime<Utc>>,
    pub total_nodes: i32,
    pub finished_nodes: i32,
    pub status: NodeState,
    pub total_objects: i64,
    pub total_size: i64,
    pub nodes: Vec<NodeBackup>,
}

/// What one pod's `PurgeBackups` reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PurgeResult {
    pub backups_purged: i64,
    pub objects_purged: i64,
    pub purged_size: i64,
    pub objects_within_gc_grace: i64,
}

/// The storage, as every pod's Medusa sees it.
#[derive(Clone, Debug, Default)]
pub struct Medusa {
    /// The backups, by name.
    pub backups: BTreeMap<String, StoredBackup>,
    /// `maxBackupCount` (0: unlimited).
    pub max_backup_count: usize,
    /// `maxBackupAge` in days (0: unlimited).
    pub max_backup_age_days: i64,
}

impl Medusa {
    /// With a backup already in storage.
    pub fn with_backup(mut self, backup: StoredBackup) -> Self {
        self.backups.insert(backup.name.clone(), backup);
        self
    }

    /// With this retention.
    pub fn retention(mut self, max_backup_age_days: i64, max_backup_count: usize) -> Self {
        self.max_backup_age_days = max_backup_age_days;
        self.max_backup_count = max_backup_count;
        self
    }

    /// `AsyncBackup` on one node.
    pub fn start_backup(
        &mut self,
        name: &str,
        backup_type: &str,
        node: NodeBackup,
        now: DateTime<Utc>,
    ) {
        let backup = self
            .backups
            .entry(name.to_owned())
            .or_insert_with(|| StoredBackup {
                name: name.to_owned(),
                backup_type: backup_type.to_owned(),
                started: now,
                nodes: Vec::new(),
                files_per_node: 42,
                bytes_per_node: 786_432,
            });
        backup.nodes.retain(|n| n.host != node.host);
        backup.nodes.push(node);
    }

    /// `BackupStatus(name)` on a node; `None` is gRPC's NotFound.
    pub fn backup_status(&self, name: &str, host: &str, now: DateTime<Utc>) -> Option<NodeState> {
        self.backups
            .get(name)?
            .nodes
            .iter()
            .find(|n| n.host == host)
            .map(|n| n.state(now))
    }

    /// `GetBackups`: every backup in storage.
    pub fn summaries(&self, now: DateTime<Utc>, in_progress_bug: bool) -> Vec<Summary> {
        self.backups
            .values()
            .map(|b| b.summary(now, in_progress_bug))
            .collect()
    }

    /// The backups the retention deletes, oldest first: beyond the newest `maxBackupCount`
    /// complete ones, or older than `maxBackupAge` days.
    pub fn expired(&self, now: DateTime<Utc>) -> Vec<String> {
        let mut complete: Vec<&StoredBackup> = self
            .backups
            .values()
            .filter(|b| b.finished(now).is_some())
            .collect();
        complete.sort_by_key(|b| std::cmp::Reverse(b.started));
        complete
            .iter()
            .enumerate()
            .filter(|(i, b)| {
                (self.max_backup_count > 0 && *i >= self.max_backup_count)
                    || (self.max_backup_age_days > 0
                        && now - b.started > Duration::days(self.max_backup_age_days))
            })
            .map(|(_, b)| b.name.clone())
            .rev()
            .collect()
    }

    /// `PurgeBackups` on one node: it deletes its own part of the expired backups; a backup
    /// goes once no node holds a part.
    pub fn purge(&mut self, host: &str, now: DateTime<Utc>) -> PurgeResult {
        let mut result = PurgeResult::default();
        for name in self.expired(now) {
            let Some(backup) = self.backups.get_mut(&name) else {
                continue;
            };
            let before = backup.nodes.len();
            backup.nodes.retain(|n| n.host != host);
            if backup.nodes.len() < before {
                result.backups_purged += 1;
                result.objects_purged += backup.files_per_node;
                result.purged_size += backup.bytes_per_node;
            }
            if backup.nodes.is_empty() {
                self.backups.remove(&name);
            }
        }
        result
    }
}

/// The operator's `humanize`: 1024-based, two decimals, B to PB.
pub fn humanize(bytes: i64) -> String {
    const UNITS: [&str; 6] = ["B", "KB", "MB", "GB", "TB", "PB"];
    #[allow(clippy::cast_precision_loss)] // display only, as the operator's float64
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1024.0 && unit < UNITS.len() - 1 {
        size /= 1024.0;
        unit += 1;
    }
    format!("{size:.2} {}", UNITS.get(unit).copied().unwrap_or("PB"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::instant;

    #[test]
    fn sizes_are_humanized_as_the_operator_does() {
        assert_eq!(humanize(0), "0.00 B");
        assert_eq!(humanize(130_560), "127.50 KB");
        assert_eq!(humanize(2_359_296), "2.25 MB");
    }

    #[test]
    fn the_retention_keeps_the_newest_complete_backups() {
        let at = instant("2024-05-01T00:00:00Z");
        let mut medusa = Medusa::default().retention(0, 2);
        for day in 1..=4 {
            medusa = medusa.with_backup(StoredBackup::complete(
                &format!("b{day}"),
                "dc1",
                "sts",
                1,
                at + Duration::days(day),
            ));
        }
        let now = at + Duration::days(10);
        assert_eq!(medusa.expired(now), ["b1", "b2"]);
        let purged = medusa.purge("sts-0", now);
        assert_eq!(purged.backups_purged, 2);
        assert_eq!(medusa.backups.keys().collect::<Vec<_>>(), ["b3", "b4"]);
    }
}
