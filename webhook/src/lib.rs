//! medusa-webhook: validating and mutating admission for k8ssandra-operator's Medusa resources.
//!
//! The rules live in `medusa-crds` as pure functions; this crate serves them over HTTPS with
//! reflector caches, live lookups on cache misses, metrics and certificate management.

// No panic reachable from input: an admission webhook with `failurePolicy: Fail` that panics
// blocks every Medusa object of the cluster. (Tests may: clippy.toml allows them there.)
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

/// The git commit built (`0123456789ab`, with `-modified` for a work tree with changes).
pub const COMMIT: &str = git_version::git_version!(
    args = [
        "--always",
        "--exclude=*",
        "--abbrev=12",
        "--dirty=-modified"
    ],
    fallback = "unknown"
);

/// `0.1.0 (commit 0123456789ab)`: the version and the git commit built.
pub fn version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| format!("{} (commit {COMMIT})", env!("CARGO_PKG_VERSION")))
}

pub mod admission;
pub mod args;
pub mod cache;
pub mod decisions;
pub mod engine;
pub mod json;
pub mod labels;
pub mod live;
pub mod metrics;
pub mod selfsigned;
pub mod server;
pub mod store;
pub mod tls;
pub mod view;
pub mod watch;
