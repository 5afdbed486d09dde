//! The plugin's tests, one binary: each module one subject, against the fake API server
//! ([`support::fake`]) or the built `kubectl-medusa` as users run it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

mod support;

mod as_run;
mod backup;
mod backup_catalog;
mod binary;
mod config;
mod docs;
mod dry_run;
mod fake;
mod follow;
mod health;
mod krew;
mod logs;
mod overview;
mod restore;
mod schedule;
mod session;
mod tasks;
