//! The API model of k8ssandra-operator's Medusa integration, pure and without I/O.
//!
//! * [`types`]: the six `medusa.k8ssandra.io/v1alpha1` kinds, field for field as the operator's
//!   CRDs, plus the parts of K8ssandraCluster and CassandraDatacenter that Medusa needs.

// No panic reachable from input: an admission webhook with `failurePolicy: Fail` that panics
// blocks every Medusa object of the cluster. (Tests may: clippy.toml allows them there.)
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod catalog;
pub mod compat;
pub mod crdgen;
pub mod cron;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod health;
pub mod kinds;
pub mod merge;
pub mod naming;
pub mod operator;
pub mod restore;
pub mod rules;
#[cfg(feature = "simulator")]
pub mod simulator;
pub mod status;
pub mod types;
pub mod wire;

pub use types::*;
