//! What a purge would delete, following Medusa's own rules (`medusa/purge.py`,
//! `backups_to_purge_by_age` and `backups_to_purge_by_count`), which every node applies to its
//! own backups:
//!
//! - by age, when `maxBackupAge > 0`: every node backup that started strictly before
//!   `now - maxBackupAge days`, complete or not;
//! - by count, when `maxBackupCount > 0` and the node has more backups than that: of the node
//!   backups whose start is known, sorted oldest first, the first `len - maxBackupCount` go.
//!   Every node backup counts, incomplete ones included; one whose start is unknown counts
//!   toward the total but is never picked, and Python's slice `[:n]` with a negative `n` then
//!   drops from the end instead, which this preview mirrors.
//!
//! A node's backups are the MedusaBackups whose `status.nodes` names it (a backup that names no
//! node is taken to be on every node). So a node that missed a backup keeps one more old backup
//! than its peers, and a backup can go on some nodes only: the preview says so. Only the
//! datacenter's own nodes purge (Medusa lists the backups of its own FQDN): a backup whose nodes
//! are all another cluster's (imported by a sync) is never deleted by this datacenter's purge.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::MedusaBackup;
use crate::operator::meaningful;

/// The retention in force: `maxBackupAge` (days) and `maxBackupCount` of the merged storage;
/// 0 (or less) switches a rule off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Retention {
    /// `maxBackupAge`, in days.
    pub max_backup_age: i64,
    /// `maxBackupCount`.
    pub max_backup_count: i64,
}

impl Retention {
    /// Whether a purge deletes no backup at all (only orphaned files).
    pub fn is_off(self) -> bool {
        self.max_backup_age <= 0 && self.max_backup_count <= 0
    }
}

/// Why a backup goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase", tag = "rule")]
pub enum PurgeReason {
    /// Started more than `days` days ago.
    OlderThan {
        /// `maxBackupAge`.
        days: i64,
    },
    /// Beyond the newest `count` backups of a node.
    BeyondNewest {
        /// `maxBackupCount`.
        count: i64,
    },
}

impl std::fmt::Display for PurgeReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::OlderThan { days } => write!(f, "older than {days} day(s) (maxBackupAge)"),
            Self::BeyondNewest { count } => {
                write!(f, "beyond the newest {count} (maxBackupCount)")
            }
        }
    }
}

/// A backup the purge would delete, on some or all of its nodes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PurgeCandidate {
    /// The MedusaBackup's name (the backup's name in storage).
    pub name: String,
    /// `status.startTime`.
    pub started: Option<DateTime<Utc>>,
    /// Every rule that selects it on at least one node.
    pub reasons: Vec<PurgeReason>,
    /// The nodes it would be deleted from.
    pub nodes: Vec<String>,
    /// The nodes that hold it and keep it (they have fewer backups).
    pub kept_on: Vec<String>,
}

/// What a purge of a datacenter would delete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PurgePreview {
    /// The retention applied.
    pub retention: Retention,
    /// The backups considered.
    pub considered: usize,
    /// What would be deleted, oldest first.
    pub candidates: Vec<PurgeCandidate>,
    /// Backups without a start time: Medusa cannot judge their age.
    pub unknown_start: Vec<String>,
    /// Backups whose nodes are none of the datacenter's: no node of it purges them.
    pub foreign: Vec<String>,
}

/// The backup node name when a MedusaBackup names no node.
const EVERY_NODE: &str = "*";

/// What a purge with this retention would delete among these MedusaBackups (one datacenter's),
/// run by the nodes of these pods (a node's host is its pod's name or FQDN `pod.…`; no pods:
/// every node named counts as the datacenter's).
pub fn purge_preview(
    backups: &[MedusaBackup],
    retention: Retention,
    now: DateTime<Utc>,
    pods: &[String],
) -> PurgePreview {
    let started: Vec<(String, Option<DateTime<Utc>>)> = backups
        .iter()
        .map(|b| {
            (
                b.metadata.name.clone().unwrap_or_default(),
                meaningful(b.status.as_ref().and_then(|s| s.start_time.as_ref())),
            )
        })
        .collect();
    let local = |host: &str| {
        pods.is_empty()
            || pods.iter().any(|p| {
                host == p
                    || host
                        .strip_prefix(p.as_str())
                        .is_some_and(|r| r.starts_with('.'))
            })
    };
    let holders = holders(backups, local);
    let mut deleted: BTreeMap<usize, (BTreeSet<PurgeReason>, BTreeSet<String>)> = BTreeMap::new();
    for (node, indices) in per_node(&holders) {
        for (index, reason) in node_purge(&indices, &started, retention, now) {
            let entry = deleted.entry(index).or_default();
            entry.0.insert(reason);
            entry.1.insert(node.clone());
        }
    }
    let mut candidates: Vec<PurgeCandidate> = deleted
        .into_iter()
        .filter_map(|(index, (reasons, nodes))| {
            let (name, started) = started.get(index)?.clone();
            let kept_on = holders
                .get(index)
                .map(|all| {
                    all.iter()
                        .filter(|n| !nodes.contains(*n))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            Some(PurgeCandidate {
                name,
                started,
                reasons: reasons.into_iter().collect(),
                nodes: nodes.into_iter().filter(|n| n != EVERY_NODE).collect(),
                kept_on,
            })
        })
        .collect();
    candidates.sort_by(|a, b| (a.started, &a.name).cmp(&(b.started, &b.name)));
    PurgePreview {
        retention,
        considered: backups.len(),
        candidates,
        unknown_start: started
            .iter()
            .filter(|(_, s)| s.is_none())
            .map(|(n, _)| n.clone())
            .collect(),
        foreign: holders
            .iter()
            .zip(&started)
            .filter(|(hosts, _)| hosts.is_empty())
            .map(|(_, (name, _))| name.clone())
            .collect(),
    }
}

/// The datacenter's nodes holding each backup: its `status.nodes` hosts that are local, or
/// every known local node when it names none (or, when no backup names a local node, one node
/// standing for all). A backup that names only other nodes has none.
fn holders(backups: &[MedusaBackup], local: impl Fn(&str) -> bool) -> Vec<Vec<String>> {
    let named: Vec<Option<Vec<String>>> = backups
        .iter()
        .map(|b| {
            let mut hosts: Vec<String> = b
                .status
                .iter()
                .flat_map(|s| s.nodes.iter().flatten())
                .filter_map(|n| n.host.clone())
                .collect();
            if hosts.is_empty() {
                return None;
            }
            hosts.retain(|h| local(h));
            hosts.sort();
            hosts.dedup();
            Some(hosts)
        })
        .collect();
    let every: Vec<String> = named
        .iter()
        .flatten()
        .flatten()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let every = if every.is_empty() {
        vec![EVERY_NODE.to_owned()]
    } else {
        every
    };
    named
        .into_iter()
        .map(|hosts| hosts.unwrap_or_else(|| every.clone()))
        .collect()
}

/// Each node's backups, as indices into the list.
fn per_node(holders: &[Vec<String>]) -> BTreeMap<String, Vec<usize>> {
    let mut nodes: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, hosts) in holders.iter().enumerate() {
        for host in hosts {
            nodes.entry(host.clone()).or_default().push(index);
        }
    }
    nodes
}

/// One node's purge: `backups_to_purge_by_age` and `backups_to_purge_by_count`.
fn node_purge(
    indices: &[usize],
    started: &[(String, Option<DateTime<Utc>>)],
    retention: Retention,
    now: DateTime<Utc>,
) -> Vec<(usize, PurgeReason)> {
    let start = |i: &usize| started.get(*i).and_then(|(_, s)| *s);
    let mut out = Vec::new();
    if retention.max_backup_age > 0 {
        let limit = now - Duration::days(retention.max_backup_age);
        out.extend(
            indices
                .iter()
                .filter(|i| start(i).is_some_and(|s| s < limit))
                .map(|i| {
                    (
                        *i,
                        PurgeReason::OlderThan {
                            days: retention.max_backup_age,
                        },
                    )
                }),
        );
    }
    let count = retention.max_backup_count;
    if count > 0 && i64::try_from(indices.len()).unwrap_or(i64::MAX) > count {
        let mut known: Vec<(DateTime<Utc>, usize)> = indices
            .iter()
            .filter_map(|i| Some((start(i)?, *i)))
            .collect();
        known.sort();
        let remove = i64::try_from(known.len()).unwrap_or(i64::MAX) - count;
        let take = python_prefix_len(known.len(), remove);
        out.extend(
            known
                .iter()
                .take(take)
                .map(|(_, i)| (*i, PurgeReason::BeyondNewest { count })),
        );
    }
    out
}

/// How many items Python's `items[:n]` keeps from a list of `len`: a negative `n` counts from
/// the end.
fn python_prefix_len(len: usize, n: i64) -> usize {
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let kept = if n >= 0 {
        n.min(len_i)
    } else {
        (len_i + n).max(0)
    };
    usize::try_from(kept).unwrap_or(0)
}
