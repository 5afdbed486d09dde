//! The operator's restore checks (`validateBackupForRestore`), evaluated up front.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::types::{CassandraDatacenter, MedusaBackup, MedusaBackupStatus};

/// One of the operator's checks, in its order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RestoreCheck {
    /// The backup has a finishTime.
    BackupFinished,
    /// Every node of the backup completed it.
    BackupComplete,
    /// The backup has as many nodes as the datacenter's size.
    NodeCount,
    /// The backup's nodes are in a Cassandra datacenter of the target's name.
    DatacenterName,
    /// Same number of racks.
    RackCount,
    /// Same rack names.
    RackNames,
}

impl RestoreCheck {
    /// The operator's error text when the check fails.
    pub fn operator_message(self) -> &'static str {
        match self {
            Self::BackupFinished => "target backup has not finished",
            Self::BackupComplete => "target backup has not completed successfully",
            Self::NodeCount => "node counts differ for source backup and destination datacenter",
            Self::DatacenterName => "target datacenter has different name than backup",
            Self::RackCount => "amount of racks must match in backup and target datacenter",
            Self::RackNames => "rack names must match in backup and target datacenter",
        }
    }

    /// A short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            Self::BackupFinished => "backup finished",
            Self::BackupComplete => "all nodes finished",
            Self::NodeCount => "node count = datacenter size",
            Self::DatacenterName => "datacenter name",
            Self::RackCount => "rack count",
            Self::RackNames => "rack names",
        }
    }
}

/// The outcome of one check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckOutcome {
    /// The check.
    pub check: RestoreCheck,
    /// Whether it passed.
    pub passed: bool,
    /// What was compared, e.g. `backup 3 nodes, datacenter size 3`.
    pub detail: String,
}

/// All checks, each evaluated on its own (the operator stops at the first failure).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Preflight {
    /// The operator skips every check for legacy backups without node counts.
    pub skipped_as_legacy: bool,
    /// One outcome per check, in the operator's order.
    pub outcomes: Vec<CheckOutcome>,
}

impl Preflight {
    /// The failure the operator would report: the first failing check in its order.
    pub fn first_failure(&self) -> Option<&CheckOutcome> {
        if self.skipped_as_legacy {
            return None;
        }
        self.outcomes.iter().find(|o| !o.passed)
    }

    /// Whether the operator would accept the restore.
    pub fn passes(&self) -> bool {
        self.first_failure().is_none()
    }
}

/// Runs the operator's restore checks of a backup against a datacenter.
pub fn restore_preflight(backup: &MedusaBackup, dc: &CassandraDatacenter) -> Preflight {
    let no_status = MedusaBackupStatus::default();
    let status = backup.status.as_ref().unwrap_or(&no_status);
    let total = status.total_nodes.unwrap_or(0);
    let finished = status.finished_nodes.unwrap_or(0);
    let mut outcomes = vec![
        finished_check(status),
        CheckOutcome {
            check: RestoreCheck::BackupComplete,
            passed: finished == total,
            detail: format!("{finished} of {total} nodes completed"),
        },
        CheckOutcome {
            check: RestoreCheck::NodeCount,
            passed: total == dc.spec.size,
            detail: format!("backup {total} nodes, datacenter size {}", dc.spec.size),
        },
        datacenter_name_check(status, dc),
    ];
    outcomes.extend(rack_checks(status, dc));
    Preflight {
        skipped_as_legacy: total == 0 && finished == 0,
        outcomes,
    }
}

/// The backup finished (1970 counts as finished, as for the operator).
fn finished_check(status: &MedusaBackupStatus) -> CheckOutcome {
    let finish_time = status.finish_time.as_ref();
    let not_finished = crate::operator::still_running(finish_time);
    CheckOutcome {
        check: RestoreCheck::BackupFinished,
        passed: !not_finished,
        detail: match finish_time {
            Some(t) if !not_finished => {
                format!(
                    "finished {}",
                    crate::wire::to_chrono(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                )
            }
            _ => "no finishTime".into(),
        },
    }
}

/// Every node of the backup is in a datacenter of the target's Cassandra name.
fn datacenter_name_check(status: &MedusaBackupStatus, dc: &CassandraDatacenter) -> CheckOutcome {
    let target_name = dc.datacenter_name();
    let foreign: Vec<&str> = status
        .nodes()
        .iter()
        .filter_map(|n| {
            let name = n.datacenter.as_deref().unwrap_or("");
            (name != target_name).then_some(name)
        })
        .collect();
    CheckOutcome {
        check: RestoreCheck::DatacenterName,
        passed: foreign.is_empty(),
        detail: match foreign.first() {
            None => format!("backup nodes in {target_name:?}"),
            Some(other) => format!("backup nodes in {other:?}, datacenter named {target_name:?}"),
        },
    }
}

/// The backup's racks against the datacenter's: as many, with the same names.
fn rack_checks(status: &MedusaBackupStatus, dc: &CassandraDatacenter) -> [CheckOutcome; 2] {
    let nodes = status.nodes();
    let mut backup_racks: BTreeMap<&str, usize> = BTreeMap::new();
    for node in nodes {
        *backup_racks
            .entry(node.rack.as_deref().unwrap_or(""))
            .or_default() += 1;
    }
    let dc_racks: Vec<&str> = dc
        .spec
        .racks
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    let backup_rack_names: Vec<&str> = backup_racks.keys().copied().collect();
    let (count_ok, names_ok) = if dc_racks.is_empty() {
        // cass-operator treats no racks as one rack named "default".
        (
            backup_racks.len() <= 1,
            nodes.first().and_then(|n| n.rack.as_deref()) == Some("default"),
        )
    } else {
        (
            backup_racks.len() == dc_racks.len(),
            dc_racks.iter().all(|r| backup_racks.contains_key(r)),
        )
    };
    let dc_rack_names = if dc_racks.is_empty() {
        vec!["default"]
    } else {
        dc_racks
    };
    [
        CheckOutcome {
            check: RestoreCheck::RackCount,
            passed: count_ok,
            detail: format!(
                "backup {} rack(s), datacenter {} rack(s)",
                backup_racks.len(),
                dc_rack_names.len()
            ),
        },
        CheckOutcome {
            check: RestoreCheck::RackNames,
            passed: names_ok,
            detail: format!(
                "backup racks [{}], datacenter racks [{}]",
                backup_rack_names.join(", "),
                dc_rack_names.join(", ")
            ),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(backup: &MedusaBackup, dc: &CassandraDatacenter) -> Option<RestoreCheck> {
        restore_preflight(backup, dc)
            .first_failure()
            .map(|o| o.check)
    }

    #[test]
    fn a_matching_backup_passes_every_check() {
        let preflight =
            restore_preflight(&MedusaBackup::test("b"), &CassandraDatacenter::test("dc1"));
        assert!(preflight.passes());
        assert_eq!(preflight.outcomes.len(), 6);
    }

    #[test]
    fn an_unfinished_backup_fails_first() {
        let backup = MedusaBackup::test("b")
            .times("2024-05-01T10:00:00Z", None)
            .nodes(1, 3);
        assert_eq!(
            first(&backup, &CassandraDatacenter::test("dc1")),
            Some(RestoreCheck::BackupFinished)
        );
    }

    #[test]
    fn a_1970_finish_time_counts_as_finished_like_the_operator() {
        let backup =
            MedusaBackup::test("b").times("1970-01-01T00:00:00Z", Some("1970-01-01T00:00:00Z"));
        assert_eq!(first(&backup, &CassandraDatacenter::test("dc1")), None);
    }

    #[test]
    fn an_incomplete_backup_fails() {
        let backup = MedusaBackup::test("b").nodes(2, 3);
        assert_eq!(
            first(&backup, &CassandraDatacenter::test("dc1")),
            Some(RestoreCheck::BackupComplete)
        );
    }

    #[test]
    fn a_size_mismatch_fails() {
        let dc = CassandraDatacenter::test("dc1").size(6);
        assert_eq!(
            first(&MedusaBackup::test("b"), &dc),
            Some(RestoreCheck::NodeCount)
        );
        assert_eq!(
            restore_preflight(&MedusaBackup::test("b"), &dc).outcomes[2].detail,
            "backup 3 nodes, datacenter size 6"
        );
    }

    #[test]
    fn a_datacenter_name_mismatch_fails() {
        let dc = CassandraDatacenter::test("dc1").with_datacenter_name("DC1");
        assert_eq!(
            first(&MedusaBackup::test("b"), &dc),
            Some(RestoreCheck::DatacenterName)
        );
    }

    #[test]
    fn the_cassandra_name_override_is_what_must_match() {
        let dc = CassandraDatacenter::test("dc1").with_datacenter_name("east");
        let backup = MedusaBackup::test("b").topology("east", &[("default", 3)]);
        assert_eq!(first(&backup, &dc), None);
    }

    #[test]
    fn a_rack_count_mismatch_fails() {
        let dc = CassandraDatacenter::test("dc1").racks(&["r1", "r2"]);
        let backup = MedusaBackup::test("b").topology("dc1", &[("r1", 1), ("r2", 1), ("r3", 1)]);
        assert_eq!(first(&backup, &dc), Some(RestoreCheck::RackCount));
    }

    #[test]
    fn rack_names_must_match() {
        let dc = CassandraDatacenter::test("dc1").racks(&["r1", "r2", "r4"]);
        let backup = MedusaBackup::test("b").topology("dc1", &[("r1", 1), ("r2", 1), ("r3", 1)]);
        assert_eq!(first(&backup, &dc), Some(RestoreCheck::RackNames));
    }

    #[test]
    fn a_datacenter_without_racks_needs_the_default_rack() {
        let backup = MedusaBackup::test("b").topology("dc1", &[("r1", 3)]);
        assert_eq!(
            first(&backup, &CassandraDatacenter::test("dc1")),
            Some(RestoreCheck::RackNames)
        );
        let backup = MedusaBackup::test("b").topology("dc1", &[("r1", 2), ("r2", 1)]);
        assert_eq!(
            first(&backup, &CassandraDatacenter::test("dc1")),
            Some(RestoreCheck::RackCount)
        );
    }

    #[test]
    fn legacy_backups_without_node_counts_skip_every_check() {
        let backup = MedusaBackup::test("b")
            .nodes(0, 0)
            .times("2024-05-01T10:00:00Z", None);
        let preflight = restore_preflight(&backup, &CassandraDatacenter::test("dc1"));
        assert!(preflight.skipped_as_legacy);
        assert!(preflight.passes());
    }
}
