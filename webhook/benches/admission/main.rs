//! Admission throughput, latency and memory, against a baseline.
//!
//! `cargo bench -p medusa-webhook --bench admission` starts, as child processes, (1) the real
//! webhook server on 127.0.0.1 as deployed (release profile, its JSON decision line per review
//! written to stdout, a pipe this bench drains) with caches holding 10,000 Secret metadata
//! entries, 2,000 MedusaBackups and 200 clusters, and (2) a baseline: an axum and rustls
//! endpoint with the same TLS setup that answers "allowed" with the request's uid, as any webhook
//! the API server accepts must (so it reads the review's uid). It drives each with the same
//! realistic mix of reviews from several concurrent keep-alive HTTPS clients, and prints reviews
//! per second, p50, p99 and p99.9 latency, the server's peak RSS, the decision lines received,
//! and the ratio.
//!
//! The two servers are measured in alternating rounds; the ratio is the median of the rounds'
//! ratios, so that a noisy neighbour on a shared machine does not decide it, and the median
//! round of each server is reported.
//!
//! `MEDUSA_BENCH_ROLE=engine` instead measures the engine alone, in process, per kind of review
//! (`MEDUSA_BENCH_ONLY=<text>` keeps the kinds whose label contains the text, for profiling).
//!
//! `BENCH_LOGS=0` runs the webhook without its decision log, to see what the log costs.
//!
//! Environment: `BENCH_SECONDS` (measured seconds per round, default 5), `BENCH_ROUNDS`
//! (default 9), `BENCH_CLIENTS` (concurrent connections, default 16), `BENCH_REPORT` (also
//! write the report to this file), `BENCH_WRAP` (a command each server runs under, such as
//! `valgrind --tool=callgrind`: the instructions of two runs of different `BENCH_SECONDS`,
//! divided by the reviews between them, are what a review costs each server).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)] // a bench binary

mod engine;
mod load;
mod report;
mod roles;
mod workload;

/// mimalloc: the request path allocates many short-lived objects from several threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    match std::env::var("MEDUSA_BENCH_ROLE").as_deref() {
        Ok("engine") => {
            let (rows, mean) = engine::engine_cost(20_000);
            for (label, micros) in rows {
                println!("{micros:>8.2} µs  {label}");
            }
            println!("{mean:>8.2} µs  weighted mean of the mix");
            return;
        }
        Ok(role) => {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap()
                .block_on(roles::serve_role(role));
            return;
        }
        Err(_) => {}
    }
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        // `cargo test --benches` and IDE discovery: nothing to list.
        return;
    }
    let settings = load::Settings {
        seconds: load::env_or("BENCH_SECONDS", 5),
        clients: load::env_or("BENCH_CLIENTS", 16),
    };
    let rounds: usize = load::env_or("BENCH_ROUNDS", 9).max(1);
    let dir = std::env::temp_dir().join(format!("medusa-webhook-bench-{}", std::process::id()));
    let tls = load::Tls::generate(&dir);
    println!(
        "medusa-webhook admission bench: {} keep-alive HTTPS clients, {rounds} alternating rounds of {} s measured after 2 s warm-up",
        settings.clients, settings.seconds
    );
    println!(
        "caches: {} Secret metadata entries, {} MedusaBackups, {} K8ssandraClusters",
        workload::SECRETS,
        workload::NAMESPACES * workload::CLUSTERS_PER_NAMESPACE * workload::BACKUPS_PER_CLUSTER,
        workload::NAMESPACES * workload::CLUSTERS_PER_NAMESPACE
    );
    let mut webhook_runs = Vec::new();
    let mut baseline_runs = Vec::new();
    for round in 1..=rounds {
        // Each round's two servers run back to back, in turn first, so that neither always
        // meets the host right after the other has warmed (or heated) it.
        let (webhook, baseline) = if round % 2 == 1 {
            let webhook = load::drive("webhook", &tls, &settings);
            (webhook, load::drive("baseline", &tls, &settings))
        } else {
            let baseline = load::drive("baseline", &tls, &settings);
            (load::drive("webhook", &tls, &settings), baseline)
        };
        println!("{}", report::round_line(round, &webhook, &baseline));
        webhook_runs.push(webhook);
        baseline_runs.push(baseline);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let report = report::report(webhook_runs, baseline_runs);
    println!("\n{report}");
    if let Ok(path) = std::env::var("BENCH_REPORT") {
        std::fs::write(&path, &report).unwrap();
    }
}
