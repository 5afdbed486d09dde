//! `kubectl medusa backup list` against `kubectl get medusabackups`, start-up time and memory.
//!
//! `cargo bench -p kubectl-medusa --bench list` serves, from a local HTTP server that answers
//! like the API server (discovery, paginated lists with `limit`/`continue`, server-side
//! Tables for kubectl with the CRD's printer columns, managedFields in every object), 2,000
//! MedusaBackups and their 2,000 MedusaBackupJobs, each backup with a three-node topology of 16
//! tokens per node. It then runs, as separate processes and in alternating rounds:
//!
//! - `kubectl-medusa backup list` (which lists the jobs and the backups and joins them), and
//! - `kubectl get medusabackups`, when kubectl is on the PATH (with a warm discovery cache);
//!
//! and prints the median and spread of each, the start-up time of `kubectl-medusa --help`, and
//! the peak RSS of `kubectl-medusa backup list`, against the targets: no slower than kubectl,
//! under 10 ms, under 30 MiB.
//!
//! Environment: `BENCH_RUNS` (list runs per client, default 15), `BENCH_REPORT` (also write the
//! report to this file), `BENCH_SERVE_ONLY` (only serve, and print the kubeconfig, to profile
//! by hand).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)] // a bench binary

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

const BACKUPS: usize = 2_000;
const NAMESPACE: &str = "k8ssandra";
const GROUP_VERSION: &str = "medusa.k8ssandra.io/v1alpha1";

// === the objects ===

fn time(base: i64, offset_minutes: i64) -> String {
    chrono::DateTime::from_timestamp(base + offset_minutes * 60, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn managed_fields(manager: &str, at: &str) -> Value {
    json!([{
        "apiVersion": GROUP_VERSION, "fieldsType": "FieldsV1", "manager": manager,
        "operation": "Update", "subresource": "status", "time": at,
        "fieldsV1": {"f:status": {".": {}, "f:finishTime": {}, "f:finished": {}, "f:startTime": {},
                     "f:status": {}, "f:totalNodes": {}, "f:finishedNodes": {}, "f:nodes": {},
                     "f:totalFiles": {}, "f:totalSize": {}}}
    }])
}

/// 2,000 backups of two datacenters over ~83 days, one every hour, and their jobs.
fn objects() -> (Vec<Value>, Vec<Value>) {
    let base = 1_714_521_600; // 2024-05-01T00:00:00Z
    let mut backups = Vec::with_capacity(BACKUPS);
    let mut jobs = Vec::with_capacity(BACKUPS);
    for i in 0..BACKUPS {
        let dc = if i % 2 == 0 { "dc1" } else { "dc2" };
        let name = format!(
            "{dc}-{}",
            time(base, -60 * i as i64)
                .replace([':', '-'], "")
                .to_lowercase()
        );
        let started = time(base, -60 * i as i64);
        let finished = time(base, -60 * i as i64 + 4);
        let uid = format!("5f0c8c1e-0000-4000-8000-{i:012}");
        let labels = json!({"app.kubernetes.io/managed-by": "kubectl-medusa",
                            "cassandra.datastax.com/cluster": "demo",
                            "cassandra.datastax.com/datacenter": dc});
        let nodes: Vec<Value> = (0..3)
            .map(|n| {
                let tokens: Vec<i64> = (0..16)
                    .map(|t| -9_223_372_036_854_775_807 + (t * 3 + n) * 384_307_168_202_282_325)
                    .collect();
                json!({"host": format!("demo-{dc}-default-sts-{n}"), "datacenter": dc, "rack": "default",
                       "tokens": tokens})
            })
            .collect();
        backups.push(json!({
            "apiVersion": GROUP_VERSION, "kind": "MedusaBackup",
            "metadata": {"name": name, "namespace": NAMESPACE, "uid": uid, "resourceVersion": (10_000 + i).to_string(),
                         "generation": 1, "creationTimestamp": finished, "labels": labels,
                         "managedFields": managed_fields("manager", &finished)},
            "spec": {"cassandraDatacenter": dc, "backupType": if i % 7 == 0 { "full" } else { "differential" }},
            "status": {"startTime": started, "finishTime": finished, "totalNodes": 3, "finishedNodes": 3,
                       "nodes": nodes, "status": "SUCCESS", "totalFiles": 1200 + i, "totalSize": format!("{}.{:02} GB", 2 + i % 5, i % 100)}
        }));
        jobs.push(json!({
            "apiVersion": GROUP_VERSION, "kind": "MedusaBackupJob",
            "metadata": {"name": name, "namespace": NAMESPACE, "uid": format!("6f0c8c1e-0000-4000-8000-{i:012}"),
                         "resourceVersion": (20_000 + i).to_string(), "generation": 1,
                         "creationTimestamp": started, "labels": labels,
                         "managedFields": managed_fields("manager", &finished)},
            "spec": {"cassandraDatacenter": dc},
            "status": {"startTime": started, "finishTime": finished,
                       "finished": [format!("demo-{dc}-default-sts-0"), format!("demo-{dc}-default-sts-1"), format!("demo-{dc}-default-sts-2")]}
        }));
    }
    (backups, jobs)
}

/// The printer columns of our generated CRD (the operator's, field for field).
fn printer_columns() -> Vec<(String, String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crds/yaml/medusa.k8ssandra.io_medusabackups.yaml");
    let crd: Value = serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    crd["spec"]["versions"][0]["additionalPrinterColumns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["type"].as_str().unwrap().to_owned(),
                c["jsonPath"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// A server-side Table row, as the API server renders CRDs for kubectl.
fn table_row(object: &Value, columns: &[(String, String, String)]) -> Value {
    let mut cells = vec![object["metadata"]["name"].clone()];
    for (_, _, path) in columns {
        let pointer = path.replace('.', "/");
        cells.push(object.pointer(&pointer).cloned().unwrap_or(Value::Null));
    }
    json!({"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                      "metadata": object["metadata"]}})
}

// === the API server ===

/// Pre-rendered items, assembled into pages on request.
struct Served {
    backups: Vec<String>,
    jobs: Vec<String>,
    backup_rows: Vec<String>,
    table_columns: String,
}

fn page(items: &[String], query: &HashMap<String, String>) -> (String, String, usize) {
    let start: usize = query
        .get("continue")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(items.len());
    let end = (start + limit).min(items.len());
    let next = if end < items.len() {
        end.to_string()
    } else {
        String::new()
    };
    (items[start..end].join(","), next, items.len() - end)
}

fn list_body(kind: &str, items: &[String], query: &HashMap<String, String>) -> String {
    let (joined, next, remaining) = page(items, query);
    let mut metadata = json!({"resourceVersion": "99999"});
    if !next.is_empty() {
        metadata["continue"] = json!(next);
        metadata["remainingItemCount"] = json!(remaining);
    }
    format!(
        "{{\"apiVersion\":\"{GROUP_VERSION}\",\"kind\":\"{kind}\",\"metadata\":{metadata},\"items\":[{joined}]}}"
    )
}

fn table_body(served: &Served, query: &HashMap<String, String>) -> String {
    let (joined, next, remaining) = page(&served.backup_rows, query);
    let mut metadata = json!({"resourceVersion": "99999"});
    if !next.is_empty() {
        metadata["continue"] = json!(next);
        metadata["remainingItemCount"] = json!(remaining);
    }
    format!(
        "{{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":{metadata},\"columnDefinitions\":{},\"rows\":[{joined}]}}",
        served.table_columns
    )
}

fn discovery(path: &str) -> Option<Value> {
    Some(match path {
        "/api" => json!({"kind": "APIVersions", "versions": ["v1"],
                         "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}),
        "/apis" => json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [{
            "name": "medusa.k8ssandra.io",
            "versions": [{"groupVersion": GROUP_VERSION, "version": "v1alpha1"}],
            "preferredVersion": {"groupVersion": GROUP_VERSION, "version": "v1alpha1"}}]}),
        "/api/v1" => json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": [
            {"name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod", "verbs": ["get", "list"]}]}),
        "/apis/medusa.k8ssandra.io/v1alpha1" => {
            json!({"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": GROUP_VERSION, "resources": [
            {"name": "medusabackups", "singularName": "medusabackup", "namespaced": true, "kind": "MedusaBackup",
             "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]},
            {"name": "medusabackupjobs", "singularName": "medusabackupjob", "namespaced": true, "kind": "MedusaBackupJob",
             "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}]})
        }
        _ => return None,
    })
}

fn respond(served: &Served, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path();
    let query: HashMap<String, String> = request
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let table = request
        .headers()
        .get("accept")
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("as=Table"));
    let prefix = format!("/apis/{GROUP_VERSION}/namespaces/{NAMESPACE}");
    let body = if let Some(found) = discovery(path) {
        found.to_string()
    } else if path == format!("{prefix}/medusabackups") && table {
        table_body(served, &query)
    } else if path == format!("{prefix}/medusabackups") {
        list_body("MedusaBackupList", &served.backups, &query)
    } else if path == format!("{prefix}/medusabackupjobs") {
        list_body("MedusaBackupJobList", &served.jobs, &query)
    } else {
        return Response::builder()
            .status(404)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(
                json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
                       "code": 404, "message": "the server could not find the requested resource"})
                .to_string(),
            )))
            .unwrap();
    };
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

/// Serves on 127.0.0.1 from a background thread; returns the port.
fn start_server() -> u16 {
    let (backups, jobs) = objects();
    let columns = printer_columns();
    let mut definitions = vec![json!({"name": "Name", "type": "string", "format": "name",
                                      "description": "Name must be unique within a namespace.", "priority": 0})];
    definitions.extend(columns.iter().map(|(name, kind, _)| {
        json!({"name": name, "type": kind, "format": "", "description": "", "priority": 0})
    }));
    let served = Arc::new(Served {
        backup_rows: backups
            .iter()
            .map(|b| table_row(b, &columns).to_string())
            .collect(),
        backups: backups.iter().map(Value::to_string).collect(),
        jobs: jobs.iter().map(Value::to_string).collect(),
        table_columns: Value::Array(definitions).to_string(),
    });
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            port_tx.send(listener.local_addr().unwrap().port()).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let served = served.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let response = respond(&served, &request);
                        async move { Ok::<_, Infallible>(response) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    port_rx.recv().unwrap()
}

// === measuring ===

fn kubeconfig(dir: &Path, port: u16) -> PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: bench\ncontexts:\n- name: bench\n  context: {{cluster: bench, user: bench, namespace: {NAMESPACE}}}\nclusters:\n- name: bench\n  cluster: {{server: 'http://127.0.0.1:{port}'}}\nusers:\n- name: bench\n  user: {{token: bench}}\n"
        ),
    )
    .unwrap();
    path
}

fn command(program: &str, args: &[&str], home: &Path, kubeconfig: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("KUBECONFIG", kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// Runs once; the wall time from spawn to exit.
fn timed(mut command: Command) -> Duration {
    let started = Instant::now();
    let output = command.output().unwrap();
    let elapsed = started.elapsed();
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    elapsed
}

struct Stats {
    runs: Vec<Duration>,
}

impl Stats {
    fn sorted(&self) -> Vec<f64> {
        let mut ms: Vec<f64> = self.runs.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        ms.sort_by(f64::total_cmp);
        ms
    }

    fn median(&self) -> f64 {
        let ms = self.sorted();
        ms[ms.len() / 2]
    }

    fn line(&self, label: &str) -> String {
        let ms = self.sorted();
        format!(
            "{label:<34} median {:>8.1} ms   min {:>8.1} ms   max {:>8.1} ms   ({} runs)",
            self.median(),
            ms[0],
            ms[ms.len() - 1],
            ms.len()
        )
    }
}

/// In a child of its own (role `rss`): runs the command once and prints the peak RSS of its
/// only child, in KiB.
fn rss_role() {
    let args: Vec<String> = std::env::args().skip_while(|a| a != "--").skip(1).collect();
    let status = Command::new(&args[0])
        .args(&args[1..])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let usage =
        nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN).unwrap();
    println!("{}", usage.max_rss());
}

fn peak_rss_kib(program: &str, args: &[&str], home: &Path, kubeconfig: &Path) -> i64 {
    let exe = std::env::current_exe().unwrap();
    let mut all = vec!["--"];
    all.push(program);
    all.extend_from_slice(args);
    let output = command(exe.to_str().unwrap(), &all, home, kubeconfig)
        .env("MEDUSA_BENCH_ROLE", "rss")
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}

fn kubectl_present() -> bool {
    Command::new("kubectl")
        .args(["version", "--client"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn main() {
    if std::env::var("MEDUSA_BENCH_ROLE").as_deref() == Ok("rss") {
        return rss_role();
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` runs us to check we start.
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(15);
    let port = start_server();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let config = kubeconfig(dir.path(), port);
    if std::env::var_os("BENCH_SERVE_ONLY").is_some() {
        // For profiling by hand: the server stays up with its kubeconfig.
        println!(
            "serving on 127.0.0.1:{port}; KUBECONFIG={}",
            config.display()
        );
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    let text = measure(runs, &home, &config);
    print!("{text}");
    if let Ok(path) = std::env::var("BENCH_REPORT") {
        std::fs::write(path, &text).unwrap();
    }
}

/// The timings and memory of both commands, as the report's lines.
fn measure(runs: usize, home: &Path, config: &Path) -> String {
    let medusa = env!("CARGO_BIN_EXE_kubectl-medusa");
    let medusa_list = ["backup", "list"];
    let kubectl_get = ["get", "medusabackups"];
    let with_kubectl = kubectl_present();

    // Warm up both, and kubectl's discovery cache.
    timed(command(medusa, &medusa_list, home, config));
    if with_kubectl {
        timed(command("kubectl", &kubectl_get, home, config));
    }
    let mut ours = Stats { runs: Vec::new() };
    let mut theirs = Stats { runs: Vec::new() };
    for _ in 0..runs {
        ours.runs
            .push(timed(command(medusa, &medusa_list, home, config)));
        if with_kubectl {
            theirs
                .runs
                .push(timed(command("kubectl", &kubectl_get, home, config)));
        }
    }
    let mut help = Stats { runs: Vec::new() };
    for _ in 0..50 {
        help.runs
            .push(timed(command(medusa, &["--help"], home, config)));
    }
    let rss = peak_rss_kib(medusa, &medusa_list, home, config);
    let mut report = vec![
        format!(
            "kubectl-medusa list bench: {BACKUPS} MedusaBackups and {BACKUPS} MedusaBackupJobs from a local API server (HTTP on 127.0.0.1)"
        ),
        ours.line("kubectl-medusa backup list"),
    ];
    if with_kubectl {
        report.push(theirs.line("kubectl get medusabackups"));
        let ratio = ours.median() / theirs.median();
        report.push(format!(
            "{:<34} {ratio:.2} (target: at most 1.00) {}",
            "ratio (ours / kubectl)",
            if ratio <= 1.0 { "MET" } else { "NOT MET" }
        ));
    } else {
        report.push(
            "kubectl get medusabackups          not measured: kubectl is not on the PATH".into(),
        );
    }
    let help_ms = help.median();
    report.push(format!(
        "{} (target: under 10 ms) {}",
        help.line("kubectl-medusa --help"),
        if help_ms < 10.0 { "MET" } else { "NOT MET" }
    ));
    #[allow(clippy::cast_precision_loss)]
    let rss_mib = rss as f64 / 1024.0;
    report.push(format!(
        "{:<34} {rss_mib:.1} MiB (target: under 30 MiB) {}",
        "peak RSS of backup list",
        if rss_mib < 30.0 { "MET" } else { "NOT MET" }
    ));
    report.join("\n") + "\n"
}
