//! Backup health, computed in one place from the objects of the cluster: the operations with
//! their derived status ([`operations()`]), which running ones look stalled ([`stall`]), what a
//! purge would delete ([`retention`]) and the per-datacenter summary the webhook exports as
//! metrics ([`summary`]). The plugin's lists, `status` and `purge --preview`, and the webhook's
//! `/metrics`, all read it from here, so they never disagree.

pub mod operations;
pub mod retention;
pub mod stall;
pub mod summary;

pub use operations::{OperationKind, OperationRecord, operations};
pub use retention::{PurgeCandidate, PurgePreview, PurgeReason, Retention, purge_preview};
pub use stall::{Stall, StallBasis, StallPolicy, Stalls};
pub use summary::{
    DatacenterBackups, Health, HealthInput, OperationCount, RunningOperation, ScheduleHealth,
    health,
};

#[cfg(test)]
mod tests;
