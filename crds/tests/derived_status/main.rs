//! The derived status of every kind, computed as section 6 of the operator notes describes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use medusa_crds::fixtures::instant;
use medusa_crds::status::*;
use medusa_crds::*;

const NOW: &str = "2024-05-01T12:00:00Z";

fn now() -> chrono::DateTime<chrono::Utc> {
    instant(NOW)
}

fn codes(anomalies: &[Anomaly]) -> Vec<&'static str> {
    anomalies.iter().map(Anomaly::code).collect()
}

mod backup_job;

mod backup;

mod restore;

mod task;

mod schedule;

mod configuration;
