//! The end-to-end suite: our CRDs, medusa-webhook and kubectl medusa against a real API server,
//! with k8ssandra-operator's Medusa controllers played write by write by `medusa-crds`'
//! simulator.
//!
//! `cargo test -p medusa-e2e` runs it against the etcd and kube-apiserver binaries of
//! `KUBEBUILDER_ASSETS`, else against the cluster of `KUBECONFIG`, and otherwise prints one
//! line saying why it skips. On a cluster it works in namespaces of its own, installs only the
//! CRDs the cluster lacks, limits its webhook registrations to its namespaces, and removes all
//! of it at the end. For a remote cluster, `MEDUSA_E2E_WEBHOOK_HOST` names this machine as the
//! API server reaches it. `MEDUSA_REFERENCE_CRDS` (the operator's CRD folder) makes it install
//! the operator's own K8ssandraCluster and CassandraDatacenter CRDs instead of stand-ins. No
//! k8ssandra-operator may watch the suite's namespaces: the simulator plays it.
//!
//! Scenarios run four at a time, then the exclusive ones (that restart the API server) alone.
//! Arguments: a substring selects scenarios by name; `--list` lists them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)] // a test runner

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures::StreamExt;
use medusa_e2e::cluster::{Detection, Source, detect};
use medusa_e2e::{Failure, Harness, Outcome};

/// A scenario.
type Scenario = for<'a> fn(&'a Harness) -> Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// Lists scenario functions as `(name, Scenario)`.
macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        pub const SCENARIOS: &[(&str, crate::Scenario)] = &[
            $((stringify!($name), |h| Box::pin($name(h)))),*
        ];
    };
}

mod admission;
mod cluster_rules;
mod configuration_rules;
mod job_rules;
mod model;
mod plugin_backups;
mod plugin_health;
mod plugin_operations;
mod plugin_setup;
mod support;

/// Every scenario that may run beside others.
fn parallel() -> Vec<(&'static str, Scenario)> {
    [
        model::SCENARIOS,
        cluster_rules::SCENARIOS,
        configuration_rules::SCENARIOS,
        job_rules::SCENARIOS,
        admission::SCENARIOS,
        plugin_backups::SCENARIOS,
        plugin_health::SCENARIOS,
        plugin_operations::SCENARIOS,
        plugin_setup::SCENARIOS,
    ]
    .concat()
}

async fn run_one(harness: &Harness, name: &str, scenario: Scenario) -> (String, Outcome) {
    let begun = Instant::now();
    let outcome = match tokio::time::timeout(Duration::from_secs(150), scenario(harness)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(Failure::new("did not finish in 150 s")),
    };
    let seconds = begun.elapsed().as_secs_f64();
    match &outcome {
        Ok(()) => println!("test {name} ... ok ({seconds:.1}s)"),
        Err(_) => println!("test {name} ... FAILED ({seconds:.1}s)"),
    }
    (name.to_owned(), outcome)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filter = args.iter().find(|a| !a.starts_with('-')).cloned();
    let keep = |name: &&str| filter.as_deref().is_none_or(|f| name.contains(f));
    let parallel: Vec<(&str, Scenario)> = parallel().into_iter().filter(|(n, _)| keep(n)).collect();
    let exclusive: Vec<(&str, Scenario)> = admission::EXCLUSIVE
        .iter()
        .copied()
        .filter(|(n, _)| keep(n))
        .collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in parallel.iter().chain(&exclusive) {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }
    println!("e2e: {} scenario(s)", parallel.len() + exclusive.len());
    let source = match detect() {
        Detection::Skip(why) => {
            println!("e2e: skipped: {why}");
            return ExitCode::SUCCESS;
        }
        Detection::Run(source) => source,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            println!("e2e: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run_all(source, parallel, exclusive))
}

/// Starts the harness, runs the parallel scenarios four at a time and the exclusive ones one by
/// one, reports the failures and cleans up.
async fn run_all(
    source: Source,
    parallel: Vec<(&'static str, Scenario)>,
    exclusive: Vec<(&'static str, Scenario)>,
) -> ExitCode {
    let started = Instant::now();
    let harness =
        match tokio::time::timeout(Duration::from_secs(180), Harness::start(&source)).await {
            Ok(Ok(harness)) => harness,
            Ok(Err(e)) => {
                println!("e2e: set-up failed: {e}");
                return ExitCode::FAILURE;
            }
            Err(_) => {
                println!("e2e: set-up did not finish in 180 s");
                return ExitCode::FAILURE;
            }
        };
    println!("e2e: against {} (run {})", harness.description, harness.run);
    let harness_ref = &harness;
    let mut results: Vec<(String, Outcome)> = futures::stream::iter(parallel)
        .map(|(name, scenario)| run_one(harness_ref, name, scenario))
        .buffer_unordered(4)
        .collect()
        .await;
    for (name, scenario) in exclusive {
        results.push(run_one(harness_ref, name, scenario).await);
    }
    let total = results.len();
    let failures: Vec<(String, Failure)> = results
        .into_iter()
        .filter_map(|(name, outcome)| outcome.err().map(|e| (name, e)))
        .collect();
    for (name, failure) in &failures {
        println!("\n---- {name} ----\n{failure}");
    }
    let problems = harness.cleanup().await;
    for problem in &problems {
        println!("e2e: cleanup: cannot remove {problem}");
    }
    println!(
        "\ne2e: {} failed, {} passed in {:.1}s",
        failures.len(),
        total - failures.len(),
        started.elapsed().as_secs_f64()
    );
    if failures.is_empty() && problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
