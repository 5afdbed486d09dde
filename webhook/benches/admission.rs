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
//! The two servers are measured in alternating rounds and the median round of each is reported,
//! so that a noisy neighbour on a shared machine does not decide the ratio.
//!
//! `MEDUSA_BENCH_ROLE=engine` instead measures the engine alone, in process, per kind of review
//! (`MEDUSA_BENCH_ONLY=<text>` keeps the kinds whose label contains the text, for profiling).
//!
//! `BENCH_LOGS=0` runs the webhook without its decision log, to see what the log costs.
//!
//! Environment: `BENCH_SECONDS` (measured seconds per round, default 5), `BENCH_ROUNDS`
//! (default 5), `BENCH_CLIENTS` (concurrent connections, default 16), `BENCH_REPORT` (also
//! write the report to this file).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)] // a bench binary

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::TokioExecutor;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::PartialObjectMeta;
use medusa_crds::rules::Policy;
use medusa_crds::*;
use medusa_webhook::args::LogFormat;
use medusa_webhook::cache::Caches;
use medusa_webhook::decisions::DecisionLog;
use medusa_webhook::engine::Engine;
use medusa_webhook::metrics::Metrics;
use medusa_webhook::server::{Limits, admission_router, serve_tls};
use medusa_webhook::tls::{CertificateStore, load_files, server_config};
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// mimalloc: the request path allocates many short-lived objects from several threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const NAMESPACES: usize = 20;
const CLUSTERS_PER_NAMESPACE: usize = 10;
const BACKUPS_PER_CLUSTER: usize = 10;
const SECRETS: usize = 10_000;

fn ns(i: usize) -> String {
    format!("team-{i:02}")
}

fn populate(writers: &mut medusa_webhook::cache::Writers) {
    let mut clusters = Vec::new();
    let mut datacenters = Vec::new();
    let mut backups = Vec::new();
    let mut configurations = Vec::new();
    for n in 0..NAMESPACES {
        let namespace = ns(n);
        configurations.push(MedusaConfiguration::test("s3").namespace(&namespace));
        for c in 0..CLUSTERS_PER_NAMESPACE {
            let name = format!("c{c}");
            let dc = format!("{name}-dc1");
            let mut cluster = K8ssandraCluster::test(&name)
                .namespace(&namespace)
                .configuration_ref("s3");
            cluster.spec.cassandra = None;
            clusters.push(cluster.add_datacenter(&dc, None, None, 3));
            datacenters.push(
                CassandraDatacenter::test(&dc)
                    .namespace(&namespace)
                    .cluster(&name),
            );
            for b in 0..BACKUPS_PER_CLUSTER {
                backups.push(
                    MedusaBackup::test(&format!("{dc}-backup-{b}"))
                        .namespace(&namespace)
                        .dc(&dc),
                );
            }
        }
    }
    let secrets = (0..SECRETS).map(|i| PartialObjectMeta::<Secret> {
        types: None,
        metadata: ObjectMeta {
            name: Some(if i < NAMESPACES {
                "medusa-bucket-key".into()
            } else {
                format!("secret-{i}")
            }),
            namespace: Some(ns(i % NAMESPACES)),
            uid: Some(format!("00000000-0000-4000-8000-{i:012}")),
            resource_version: Some(format!("{}", 1000 + i)),
            ..ObjectMeta::default()
        },
        _phantom: std::marker::PhantomData,
    });
    writers.of::<MedusaConfiguration>().fill(configurations);
    writers.of::<K8ssandraCluster>().fill(clusters);
    writers.of::<CassandraDatacenter>().fill(datacenters);
    writers.of::<MedusaBackup>().fill(backups);
    writers.of::<MedusaBackupJob>().fill([]);
    writers.of::<MedusaRestoreJob>().fill([]);
    writers.of::<MedusaTask>().fill([]);
    writers
        .of::<MedusaBackupSchedule>()
        .fill([MedusaBackupSchedule::test("nightly")
            .namespace(&ns(0))
            .dc("c0-dc1")]);
    writers.secrets.fill(secrets);
}

fn review<T: kube::Resource<DynamicType = ()> + serde::Serialize>(
    operation: &str,
    object: Option<&T>,
    old: Option<&T>,
) -> Vec<u8> {
    let meta = object.or(old).unwrap().meta().clone();
    serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "3f0c8f5e-7a0b-4b7e-9f3a-5d8e2c1b0a99",
            "kind": {"group": T::group(&()), "version": T::version(&()), "kind": T::kind(&())},
            "resource": {"group": T::group(&()), "version": T::version(&()), "resource": T::plural(&())},
            "requestKind": {"group": T::group(&()), "version": T::version(&()), "kind": T::kind(&())},
            "namespace": meta.namespace,
            "name": meta.name,
            "operation": operation,
            "userInfo": {"username": "system:serviceaccount:k8ssandra-operator:k8ssandra-operator", "uid": "a1", "groups": ["system:serviceaccounts", "system:authenticated"]},
            "object": object.map(|o| serde_json::to_value(o).unwrap()),
            "oldObject": old.map(|o| serde_json::to_value(o).unwrap()),
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
        }
    }))
    .unwrap()
}

/// The mix: (weight, path, body); each review has a uid of its own, which the answer must echo.
fn workload() -> Vec<(u32, &'static str, Vec<u8>)> {
    let mut mix = reviews();
    for (i, (_, _, body)) in mix.iter_mut().enumerate() {
        let mut value: serde_json::Value = serde_json::from_slice(body).unwrap();
        value["request"]["uid"] = json!(uid_of(i));
        *body = serde_json::to_vec(&value).unwrap();
    }
    mix
}

fn uid_of(index: usize) -> String {
    format!("3f0c8f5e-7a0b-4b7e-9f3a-{index:012}")
}

fn reviews() -> Vec<(u32, &'static str, Vec<u8>)> {
    let namespace = ns(3);
    let job = MedusaBackupJob::test("c4-dc1-20240501100000")
        .namespace(&namespace)
        .dc("c4-dc1");
    let scheduled = MedusaBackupJob::test("nightly-1714528800")
        .namespace(&ns(0))
        .dc("c0-dc1");
    let sync = MedusaTask::test("sync-1", Operation::Sync)
        .namespace(&namespace)
        .dc("c4-dc1");
    let purge = MedusaTask::test("purge-1", Operation::Purge)
        .namespace(&namespace)
        .dc("c4-dc1");
    let restore = MedusaRestoreJob::test("restore-1")
        .namespace(&namespace)
        .dc("c4-dc1")
        .backup("c4-dc1-backup-3");
    let schedule = MedusaBackupSchedule::test("nightly")
        .namespace(&ns(0))
        .dc("c0-dc1");
    let backup = MedusaBackup::test("c4-dc1-backup-1")
        .namespace(&namespace)
        .dc("c4-dc1");
    let mut cluster = K8ssandraCluster::test("c5")
        .namespace(&namespace)
        .configuration_ref("s3");
    cluster.spec.cassandra = None;
    let cluster = cluster.add_datacenter("c5-dc1", None, None, 3);
    let mut new_cluster = K8ssandraCluster::test("fresh")
        .namespace(&namespace)
        .configuration_ref("s3");
    new_cluster.spec.cassandra = None;
    let new_cluster = new_cluster.add_datacenter("fresh-dc1", None, None, 3);
    vec![
        (30, "/validate", review("CREATE", Some(&job), None)),
        (15, "/mutate", review("CREATE", Some(&job), None)),
        (5, "/mutate", review("CREATE", Some(&scheduled), None)),
        (10, "/validate", review("CREATE", Some(&sync), None)),
        (5, "/validate", review("CREATE", Some(&purge), None)),
        (10, "/validate", review("DELETE", None, Some(&backup))),
        (5, "/validate", review("CREATE", Some(&restore), None)),
        (
            5,
            "/validate",
            review(
                "UPDATE",
                Some(&schedule.clone().disabled()),
                Some(&schedule),
            ),
        ),
        (
            10,
            "/validate",
            review(
                "UPDATE",
                Some(&cluster.clone().label("team", "x")),
                Some(&cluster),
            ),
        ),
        (5, "/validate", review("CREATE", Some(&new_cluster), None)),
    ]
}

// === server roles ===

async fn serve(role: &str) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cert = std::env::var("BENCH_CERT").unwrap();
    let key = std::env::var("BENCH_KEY").unwrap();
    let metrics = Arc::new(Metrics::new());
    let store = CertificateStore::new(
        load_files(Path::new(&cert), Path::new(&key)).unwrap(),
        metrics.not_after(),
    );
    let tls = server_config(store).unwrap();
    let limits = Limits::default();
    let logs = role == "webhook" && std::env::var("BENCH_LOGS").as_deref() != Ok("0");
    if logs {
        // As deployed: the other log lines through tracing, JSON to stdout.
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
            .with_target(false)
            .with_ansi(false)
            .json()
            .flatten_event(true)
            .init();
    }
    let router = match role {
        "webhook" => {
            let (caches, mut writers) = Caches::new();
            populate(&mut writers);
            let dropped = metrics.decision_lines_dropped();
            let mut engine = Engine::new(caches, None, Arc::new(Policy::default()), metrics);
            if logs {
                let (decisions, _writer) = DecisionLog::spawn(
                    LogFormat::Json,
                    std::io::stdout(),
                    8 * 1024 * 1024,
                    dropped,
                )
                .unwrap();
                engine = engine.with_decision_log(decisions);
            }
            admission_router(Arc::new(engine), limits)
        }
        _ => {
            // What any webhook must do: read the request's uid and answer with it.
            #[derive(serde::Deserialize)]
            struct Review<'a> {
                #[serde(borrow)]
                request: Request<'a>,
            }
            #[derive(serde::Deserialize)]
            struct Request<'a> {
                uid: &'a str,
            }
            let handler = |body: Bytes| async move {
                let answer = match serde_json::from_slice::<Review<'_>>(&body) {
                    Ok(review) => format!(
                        "{{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"response\":{{\"uid\":{},\"allowed\":true}}}}",
                        serde_json::to_string(review.request.uid).unwrap()
                    ),
                    Err(_) => String::new(),
                };
                ([(http::header::CONTENT_TYPE, "application/json")], answer)
            };
            Router::new()
                .route("/validate", post(handler))
                .route("/mutate", post(handler))
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("PORT {}", listener.local_addr().unwrap().port());
    std::io::stdout().flush().unwrap();
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    // Serve until the orchestrator closes our stdin.
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        stop.cancel();
    });
    serve_tls(listener, tls, router, limits, cancel).await;
}

// === load ===

struct Run {
    reviews: usize,
    seconds: f64,
    latencies_us: Vec<u32>,
    peak_rss_kib: u64,
    errors: usize,
    /// CPU seconds the server process used during the measured window.
    server_cpu: f64,
    /// CPU seconds the load generator used during the measured window.
    client_cpu: f64,
    /// Reviews answered, warm-up included.
    answered: u64,
    /// Decision lines the server wrote to its stdout.
    decision_lines: u64,
}

impl Run {
    fn per_second(&self) -> f64 {
        self.reviews as f64 / self.seconds
    }
    fn percentile(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let index = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        f64::from(self.latencies_us[index]) / 1000.0
    }
}

/// CPU seconds (user + system) a process has used so far, from `/proc/<pid>/stat`.
fn cpu_seconds(pid: u32) -> f64 {
    let ticks_per_second = 100.0; // USER_HZ, fixed at 100 on Linux
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the command name, which is in parentheses and may hold spaces.
            let rest = &s[s.rfind(')')? + 2..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = fields.get(11)?.parse().ok()?;
            let stime: f64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) / ticks_per_second)
        })
        .unwrap_or(0.0)
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn drive(role: &str, cert: &Path, key: &Path, ca_pem: &str, seconds: u64, clients: usize) -> Run {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .env("MEDUSA_BENCH_ROLE", role)
        .env("BENCH_CERT", cert)
        .env("BENCH_KEY", key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let port: u16 = loop {
        line.clear();
        stdout.read_line(&mut line).unwrap();
        if let Some(port) = line.trim().strip_prefix("PORT ") {
            break port.parse().unwrap();
        }
    };
    // The decision lines (the webhook writes no other line once serving), read in large chunks
    // as a log collector reads a container's stdout.
    let drained = std::thread::spawn(move || {
        use std::io::Read;
        let mut lines = 0u64;
        let mut buffer = vec![0u8; 256 * 1024];
        while let Ok(n) = stdout.read(&mut buffer) {
            if n == 0 {
                break;
            }
            lines += memchr::memchr_iter(b'\n', &buffer[..n]).count() as u64;
        }
        lines
    });
    let child_pid = child.id();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let run = runtime.block_on(async move {
        let mut roots = rustls::RootCertStore::empty();
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1()
            .build();
        let client: HttpClient<_, Full<Bytes>> = HttpClient::builder(TokioExecutor::new())
            .pool_max_idle_per_host(clients * 2)
            .build(connector);
        // Each review with the `"uid":"..."` its answer must carry.
        let mix: Vec<(&'static str, Bytes, Vec<u8>)> = workload()
            .into_iter()
            .enumerate()
            .flat_map(|(i, (weight, path, body))| {
                let body = Bytes::from(body);
                let echo = format!("\"uid\":\"{}\"", uid_of(i)).into_bytes();
                (0..weight).map(move |_| (path, body.clone(), echo.clone()))
            })
            .collect();
        let mix = Arc::new(mix);
        let warmup = Duration::from_secs(2);
        let start = Instant::now();
        let measure_from = start + warmup;
        let end = measure_from + Duration::from_secs(seconds);
        let server_pid = child_pid;
        let cpu_window = tokio::spawn(async move {
            tokio::time::sleep_until(measure_from.into()).await;
            let (server, client) = (cpu_seconds(server_pid), cpu_seconds(std::process::id()));
            tokio::time::sleep_until(end.into()).await;
            (
                cpu_seconds(server_pid) - server,
                cpu_seconds(std::process::id()) - client,
            )
        });
        let mut tasks = Vec::new();
        for c in 0..clients {
            let client = client.clone();
            let mix = mix.clone();
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(200_000);
                let mut errors = 0usize;
                let mut answered = 0u64;
                let mut i = c * 7;
                loop {
                    let now = Instant::now();
                    if now >= end {
                        break;
                    }
                    let (path, body, echo) = &mix[i % mix.len()];
                    i += 1;
                    let request = http::Request::post(format!("https://localhost:{port}{path}"))
                        .header("content-type", "application/json")
                        .body(Full::new(body.clone()))
                        .unwrap();
                    let sent = Instant::now();
                    let ok = match client.request(request).await {
                        Ok(response) => {
                            let status = response.status();
                            let body = response.into_body().collect().await.map(|b| b.to_bytes());
                            // An answer the API server takes: its request's uid, and a verdict.
                            status.is_success()
                                && body.is_ok_and(|b| {
                                    memchr::memmem::find(&b, echo).is_some()
                                        && memchr::memmem::find(&b, b"\"allowed\"").is_some()
                                })
                        }
                        Err(_) => false,
                    };
                    answered += u64::from(ok);
                    if sent >= measure_from {
                        if ok {
                            latencies.push(
                                u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX),
                            );
                        } else {
                            errors += 1;
                        }
                    }
                }
                (latencies, errors, answered)
            }));
        }
        let mut latencies = Vec::new();
        let mut errors = 0;
        let mut answered = 0;
        for task in tasks {
            let (l, e, a) = task.await.unwrap();
            latencies.extend(l);
            errors += e;
            answered += a;
        }
        latencies.sort_unstable();
        let (server_cpu, client_cpu) = cpu_window.await.unwrap();
        Run {
            reviews: latencies.len(),
            seconds: seconds as f64,
            latencies_us: latencies,
            peak_rss_kib: 0,
            errors,
            server_cpu,
            client_cpu,
            answered,
            decision_lines: 0,
        }
    });
    let mut run = run;
    run.peak_rss_kib = peak_rss_kib(child.id());
    drop(child.stdin.take());
    let _ = child.wait();
    run.decision_lines = drained.join().unwrap_or(0);
    run
}

/// The engine alone, in process: CPU time per review of each kind in the mix, without TLS or
/// HTTP. Returns (label, µs per review) and the weighted mean.
fn engine_cost(iterations: usize) -> (Vec<(String, f64)>, f64) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (caches, mut writers) = Caches::new();
        populate(&mut writers);
        let engine = Engine::new(
            caches,
            None,
            Arc::new(Policy::default()),
            Arc::new(Metrics::new()),
        );
        let mut rows = Vec::new();
        let mut weighted = 0.0;
        let mut weights = 0.0;
        let only = std::env::var("MEDUSA_BENCH_ONLY").ok();
        for (weight, path, body) in workload() {
            let review: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let label = format!(
                "{} {} {} ({} bytes)",
                path,
                review["request"]["operation"].as_str().unwrap(),
                review["request"]["kind"]["kind"].as_str().unwrap(),
                body.len()
            );
            if only.as_deref().is_some_and(|only| !label.contains(only)) {
                continue;
            }
            let endpoint = if path == "/mutate" {
                medusa_webhook::engine::Endpoint::Mutate
            } else {
                medusa_webhook::engine::Endpoint::Validate
            };
            let started = Instant::now();
            for _ in 0..iterations {
                let review = medusa_webhook::admission::parse_review(&body).unwrap();
                let response = engine.review(endpoint, &review.request).await;
                std::hint::black_box(
                    medusa_webhook::admission::review_body(&review.api_version, &response).unwrap(),
                );
            }
            let micros = started.elapsed().as_secs_f64() * 1e6 / iterations as f64;
            rows.push((label, micros));
            weighted += micros * f64::from(weight);
            weights += f64::from(weight);
        }
        if only.is_none() {
            // The same mix, interleaved as the server sees it: no kind stays hot in the caches.
            let mix: Vec<(medusa_webhook::engine::Endpoint, Vec<u8>)> = workload()
                .into_iter()
                .flat_map(|(weight, path, body)| {
                    let endpoint = if path == "/mutate" {
                        medusa_webhook::engine::Endpoint::Mutate
                    } else {
                        medusa_webhook::engine::Endpoint::Validate
                    };
                    (0..weight).map(move |_| (endpoint, body.clone()))
                })
                .collect();
            let rounds = iterations / 10;
            let started = Instant::now();
            for round in 0..rounds {
                for i in 0..mix.len() {
                    // A stride co-prime with the mix's length visits every review in a shuffled order.
                    let (endpoint, body) = &mix[(i * 7 + round) % mix.len()];
                    let review = medusa_webhook::admission::parse_review(body).unwrap();
                    let response = engine.review(*endpoint, &review.request).await;
                    std::hint::black_box(
                        medusa_webhook::admission::review_body(&review.api_version, &response)
                            .unwrap(),
                    );
                }
            }
            let micros = started.elapsed().as_secs_f64() * 1e6 / (rounds * mix.len()) as f64;
            rows.push(("the mix, interleaved".to_owned(), micros));
        }
        (rows, weighted / weights)
    })
}

fn main() {
    if std::env::var("MEDUSA_BENCH_ROLE").as_deref() == Ok("engine") {
        let (rows, mean) = engine_cost(20_000);
        for (label, micros) in rows {
            println!("{micros:>8.2} µs  {label}");
        }
        println!("{mean:>8.2} µs  weighted mean of the mix");
        return;
    }
    if let Ok(role) = std::env::var("MEDUSA_BENCH_ROLE") {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(serve(&role));
        return;
    }
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        // `cargo test --benches` and IDE discovery: nothing to list.
        return;
    }
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5)
        .max(1);
    let clients: usize = std::env::var("BENCH_CLIENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    let dir = std::env::temp_dir().join(format!("medusa-webhook-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bundle = medusa_webhook::selfsigned::generate(vec!["localhost".into()]).unwrap();
    let (cert, key) = (dir.join("tls.crt"), dir.join("tls.key"));
    std::fs::write(&cert, &bundle.cert_pem).unwrap();
    std::fs::write(&key, &bundle.key_pem).unwrap();

    println!(
        "medusa-webhook admission bench: {clients} keep-alive HTTPS clients, {rounds} alternating rounds of {seconds} s measured after 2 s warm-up"
    );
    println!(
        "caches: {SECRETS} Secret metadata entries, {} MedusaBackups, {} K8ssandraClusters",
        NAMESPACES * CLUSTERS_PER_NAMESPACE * BACKUPS_PER_CLUSTER,
        NAMESPACES * CLUSTERS_PER_NAMESPACE
    );
    let mut webhook_runs = Vec::new();
    let mut baseline_runs = Vec::new();
    for round in 1..=rounds {
        webhook_runs.push(drive(
            "webhook",
            &cert,
            &key,
            &bundle.ca_pem,
            seconds,
            clients,
        ));
        baseline_runs.push(drive(
            "baseline",
            &cert,
            &key,
            &bundle.ca_pem,
            seconds,
            clients,
        ));
        let (w, b) = (&webhook_runs[round - 1], &baseline_runs[round - 1]);
        println!(
            "round {round}: webhook {:.0}/s (server {:.1} µs CPU/review, {} decision lines for {} reviews), baseline {:.0}/s (server {:.1} µs CPU/review)",
            w.per_second(),
            w.server_cpu * 1e6 / w.reviews.max(1) as f64,
            w.decision_lines,
            w.answered,
            b.per_second(),
            b.server_cpu * 1e6 / b.reviews.max(1) as f64,
        );
    }
    let round_ratios: Vec<f64> = webhook_runs
        .iter()
        .zip(&baseline_runs)
        .map(|(w, b)| w.per_second() / b.per_second().max(1.0))
        .collect();
    let lowest = round_ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let highest = round_ratios.iter().copied().fold(0.0, f64::max);
    let median = |mut runs: Vec<Run>| -> Run {
        runs.sort_by(|a, b| a.per_second().total_cmp(&b.per_second()));
        let peak = runs.iter().map(|r| r.peak_rss_kib).max().unwrap_or(0);
        let mut middle = runs.swap_remove(runs.len() / 2);
        middle.peak_rss_kib = peak;
        middle
    };
    let webhook = median(webhook_runs);
    let baseline = median(baseline_runs);
    let _ = std::fs::remove_dir_all(&dir);

    let mut report = String::new();
    report.push_str("| server | reviews/s | p50 ms | p99 ms | p99.9 ms | peak RSS MiB | server CPU µs/review | load CPU µs/review | errors |\n|---|---|---|---|---|---|---|---|---|\n");
    for (name, run) in [
        ("medusa-webhook", &webhook),
        ("baseline (reads the uid, allows)", &baseline),
    ] {
        report.push_str(&format!(
            "| {name} | {:.0} | {:.3} | {:.3} | {:.3} | {:.1} | {:.1} | {:.1} | {} |\n",
            run.per_second(),
            run.percentile(0.50),
            run.percentile(0.99),
            run.percentile(0.999),
            run.peak_rss_kib as f64 / 1024.0,
            run.server_cpu * 1e6 / run.reviews.max(1) as f64,
            run.client_cpu * 1e6 / run.reviews.max(1) as f64,
            run.errors
        ));
    }
    let ratio = webhook.per_second() / baseline.per_second().max(1.0);
    let logs = std::env::var("BENCH_LOGS").as_deref() != Ok("0");
    report.push_str(&format!(
        "\nthroughput ratio webhook/baseline: {ratio:.2} (medians of {rounds} rounds; single rounds from {lowest:.2} to {highest:.2})\n"
    ));
    report.push_str(&if logs {
        format!(
            "decision log: on, as deployed; {} lines received for {} reviews answered in the median round ({} dropped)\n",
            webhook.decision_lines,
            webhook.answered,
            webhook.answered.saturating_sub(webhook.decision_lines)
        )
    } else {
        "decision log: off (BENCH_LOGS=0)\n".to_owned()
    });
    let targets = [
        (
            "at least 10,000 reviews/s",
            webhook.per_second() >= 10_000.0,
        ),
        ("p99 under 2 ms", webhook.percentile(0.99) < 2.0),
        ("at least 0.9 of the baseline's throughput", ratio >= 0.9),
        ("peak RSS under 64 MiB", webhook.peak_rss_kib < 64 * 1024),
    ];
    for (target, met) in targets {
        report.push_str(&format!(
            "- {target}: {}\n",
            if met { "met" } else { "NOT met" }
        ));
    }
    println!("\n{report}");
    if let Ok(path) = std::env::var("BENCH_REPORT") {
        std::fs::write(&path, &report).unwrap();
    }
}
