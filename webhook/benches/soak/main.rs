//! The soak: the webhook as deployed (a child process serving TLS, its caches holding the
//! bench's realistic numbers of objects, its decision log on and drained) driven at a steady
//! rate with the bench's mix for minutes, while a writer inside it adds, updates and deletes
//! cached objects as watch events do. Each minute prints reviews, errors, p50/p99/p99.9 (from
//! each request's scheduled time, so a stall is not hidden by the requests it delays) and the
//! server's RSS. Targets: 0 errors, p99 under 5 ms in every minute, RSS growth under 10% after
//! the first minute.
//!
//! `SOAK_RATE` (reviews/s, default 2000), `SOAK_MINUTES` (default 10), `SOAK_WRITES` (cache
//! events/s, default 50), `SOAK_REPORT` (also write the report there).
#![allow(
    dead_code, // shares the admission bench's modules, not all of which it uses
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)] // a bench binary

#[path = "../admission/load.rs"]
mod load;
#[path = "../admission/roles.rs"]
mod roles;
#[path = "../admission/workload.rs"]
mod workload;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One minute's answers.
#[derive(Default)]
struct Minute {
    latencies_us: Vec<u32>,
    errors: u64,
    rss_kib: u64,
}

impl Minute {
    fn percentile(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let index = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        f64::from(self.latencies_us[index]) / 1000.0
    }
}

fn main() {
    if let Ok(role) = std::env::var("MEDUSA_BENCH_ROLE") {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(roles::serve_role(&role));
        return;
    }
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let rate: u64 = load::env_or("SOAK_RATE", 2000);
    let minutes: usize = load::env_or("SOAK_MINUTES", 10);
    let writes: u64 = load::env_or("SOAK_WRITES", 50);
    let dir = std::env::temp_dir().join(format!("medusa-webhook-soak-{}", std::process::id()));
    let tls = load::Tls::generate(&dir);
    println!(
        "medusa-webhook soak: {rate} reviews/s for {minutes} min, {writes} cache events/s, caches of {} Secrets, {} MedusaBackups, {} K8ssandraClusters",
        workload::SECRETS,
        workload::NAMESPACES * workload::CLUSTERS_PER_NAMESPACE * workload::BACKUPS_PER_CLUSTER,
        workload::NAMESPACES * workload::CLUSTERS_PER_NAMESPACE
    );
    // The server churns its caches at `writes` events a second.
    let server = load::start_with("webhook", &tls, &[("SOAK_WRITES", writes.to_string())]);
    let pid = server.child.id();
    let port = server.port;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let results = runtime.block_on(drive(&tls, port, pid, rate, minutes));
    let load::Server {
        mut child, drained, ..
    } = server;
    drop(child.stdin.take());
    let _ = child.wait();
    let lines = drained.join().unwrap_or(0);
    let _ = std::fs::remove_dir_all(&dir);
    let report = report(&results, rate, lines);
    println!("\n{report}");
    if let Ok(path) = std::env::var("SOAK_REPORT") {
        std::fs::write(path, &report).unwrap();
    }
}

async fn drive(tls: &load::Tls, port: u16, pid: u32, rate: u64, minutes: usize) -> Vec<Minute> {
    let https = load::https(&tls.ca_pem, 64);
    let mix = load::mix();
    let results: Arc<Mutex<Vec<Minute>>> = Arc::new(Mutex::new(
        (0..minutes).map(|_| Minute::default()).collect(),
    ));
    let start = Instant::now();
    let end = start + Duration::from_secs(60 * minutes as u64);
    let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut i = 0usize;
    let mut next_minute = 1;
    loop {
        let scheduled = tick.tick().await.into_std();
        if scheduled >= end {
            break;
        }
        let minute = (scheduled - start).as_secs() as usize / 60;
        if minute >= next_minute {
            let rss = load::status_kib(pid, "VmRSS");
            let mut all = results.lock().unwrap();
            all[next_minute - 1].rss_kib = rss;
            print_minute(next_minute, &mut all[next_minute - 1]);
            next_minute += 1;
        }
        let (path, body, echo): (&'static str, Bytes, Vec<u8>) = mix[i % mix.len()].clone();
        i += 1;
        let https = https.clone();
        let results = results.clone();
        tokio::spawn(async move {
            let request = http::Request::post(format!("https://localhost:{port}{path}"))
                .header("content-type", "application/json")
                .body(Full::new(body))
                .unwrap();
            let ok = match https.request(request).await {
                Ok(response) => {
                    let status = response.status();
                    let body = response.into_body().collect().await.map(|b| b.to_bytes());
                    status.is_success()
                        && body.is_ok_and(|b| memchr::memmem::find(&b, &echo).is_some())
                }
                Err(_) => false,
            };
            let latency = u32::try_from(scheduled.elapsed().as_micros()).unwrap_or(u32::MAX);
            let mut all = results.lock().unwrap();
            if let Some(m) = all.get_mut(minute) {
                if ok {
                    m.latencies_us.push(latency);
                } else {
                    m.errors += 1;
                }
            }
        });
    }
    // Let the last requests land.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut all = results.lock().unwrap();
    // A minute printed as the next began may have had answers still on their way.
    for minute in all.iter_mut() {
        minute.latencies_us.sort_unstable();
    }
    let last = all.len();
    all[last - 1].rss_kib = load::status_kib(pid, "VmRSS");
    print_minute(last, &mut all[last - 1]);
    std::mem::take(&mut *all)
}

fn print_minute(n: usize, m: &mut Minute) {
    m.latencies_us.sort_unstable();
    println!(
        "minute {n:>2}: {:>7} reviews, {} errors, p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, RSS {:.1} MiB",
        m.latencies_us.len(),
        m.errors,
        m.percentile(0.5),
        m.percentile(0.99),
        m.percentile(0.999),
        m.rss_kib as f64 / 1024.0
    );
}

fn report(minutes: &[Minute], rate: u64, lines: u64) -> String {
    let reviews: usize = minutes.iter().map(|m| m.latencies_us.len()).sum();
    let errors: u64 = minutes.iter().map(|m| m.errors).sum();
    let worst_p99 = minutes
        .iter()
        .map(|m| m.percentile(0.99))
        .fold(0.0, f64::max);
    let first = minutes.first().map_or(0, |m| m.rss_kib);
    let middle = minutes.get(minutes.len() / 2).map_or(0, |m| m.rss_kib);
    let last = minutes.last().map_or(0, |m| m.rss_kib);
    let growth = if first > 0 {
        (last as f64 - first as f64) / first as f64 * 100.0
    } else {
        0.0
    };
    let mut out = format!(
        "| minutes | rate/s | reviews | errors | worst p99 ms | RSS MiB after minute 1 / middle / end | growth |\n|---|---|---|---|---|---|---|\n| {} | {rate} | {reviews} | {errors} | {worst_p99:.3} | {:.1} / {:.1} / {:.1} | {growth:+.1}% |\n",
        minutes.len(),
        first as f64 / 1024.0,
        middle as f64 / 1024.0,
        last as f64 / 1024.0,
    );
    out.push_str("\n| minute | reviews | errors | p50 ms | p99 ms | p99.9 ms | RSS MiB |\n|---|---|---|---|---|---|---|\n");
    for (i, m) in minutes.iter().enumerate() {
        out.push_str(&format!(
            "| {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.1} |\n",
            i + 1,
            m.latencies_us.len(),
            m.errors,
            m.percentile(0.5),
            m.percentile(0.99),
            m.percentile(0.999),
            m.rss_kib as f64 / 1024.0
        ));
    }
    out.push_str(&format!(
        "\ndecision log: {lines} lines for {reviews} reviews\n"
    ));
    for (target, met) in [
        ("0 errors", errors == 0),
        ("p99 under 5 ms in every minute", worst_p99 < 5.0),
        ("RSS growth under 10% after the first minute", growth < 10.0),
    ] {
        out.push_str(&format!(
            "- {target}: {}\n",
            if met { "met" } else { "NOT met" }
        ));
    }
    out
}
