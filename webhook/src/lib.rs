//! medusa-webhook: validating and mutating admission for k8ssandra-operator's Medusa resources.
//!
//! The rules live in `medusa-crds` as pure functions; this crate serves them over HTTPS with
//! reflector caches, live lookups on cache misses, metrics and certificate management.

pub mod admission;
pub mod args;
pub mod cache;
pub mod decisions;
pub mod engine;
pub mod live;
pub mod metrics;
pub mod selfsigned;
pub mod server;
pub mod tls;
pub mod view;
pub mod watch;
