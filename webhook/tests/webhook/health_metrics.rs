//! Backup health scraped from the served `/metrics`, as Prometheus would, and checked with
//! promtool where it is installed.

use crate::support;

use chrono::{Duration, Utc};
use medusa_crds::*;
use support::*;

/// A backup of dc1 that finished an hour ago, and a sync running for a minute.
fn world(writers: &mut medusa_webhook::cache::Writers) {
    let started = (Utc::now() - Duration::minutes(70)).to_rfc3339();
    let finished = (Utc::now() - Duration::minutes(60)).to_rfc3339();
    writers
        .of::<CassandraDatacenter>()
        .fill([CassandraDatacenter::test("dc1")]);
    writers
        .of::<MedusaBackupJob>()
        .fill([MedusaBackupJob::test("nightly")
            .started(&started)
            .finished_at(&finished)
            .finished_pods(&["p0", "p1", "p2"])]);
    writers
        .of::<MedusaBackup>()
        .fill([MedusaBackup::test("nightly").times(&started, Some(&finished))]);
    writers
        .of::<MedusaTask>()
        .fill([MedusaTask::test("sync-1", Operation::Sync)
            .started(&(Utc::now() - Duration::minutes(1)).to_rfc3339())
            .in_progress(&["p0"])]);
}

#[tokio::test]
async fn health_is_served_on_the_metrics_endpoint() {
    let (server, _writers) = start(Options::default(), world).await;
    let (status, text) = get_plain(&server.health_url("/metrics")).await;
    assert_eq!(status, 200);
    let last = text
        .lines()
        .find_map(|l| {
            l.strip_prefix(r#"medusa_backup_last_success_timestamp_seconds{namespace="k8ssandra",datacenter="dc1"} "#)
        })
        .unwrap_or_else(|| panic!("GET /metrics: no medusa_backup_last_success_timestamp_seconds for dc1 in:\n{text}"));
    let age = Utc::now().timestamp() as f64 - last.parse::<f64>().unwrap();
    assert!(
        (3590.0..3700.0).contains(&age),
        "the last good backup finished an hour ago, the metric says {age} s"
    );
    assert!(
        text.contains(r#"medusa_operation_stalled{namespace="k8ssandra",datacenter="dc1",kind="sync",name="sync-1"} 0"#),
        "{text}"
    );
    assert!(text.contains(r#"medusa_webhook_cache_objects{cache="MedusaBackup"} 1"#));
}

#[tokio::test]
async fn metrics_are_served_as_openmetrics_the_format_they_are_written_in() {
    let (server, _writers) = start(Options::default(), world).await;
    let response = raw_get(&server.health_url("/metrics")).await;
    assert!(
        response.starts_with("HTTP/1.1 200")
            && response.to_lowercase().contains(
                "content-type: application/openmetrics-text; version=1.0.0; charset=utf-8"
            ),
        "GET /metrics: expected an OpenMetrics content type, got:\n{}",
        response.lines().take(8).collect::<Vec<_>>().join("\n")
    );
    assert!(response.trim_end().ends_with("# EOF"));
}

/// A raw HTTP/1.1 GET: the status line, the headers and the body as sent.
async fn raw_get(url: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    stream
        .write_all(
            format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

/// promtool lints the Prometheus text format; the backup health families are gauges, which
/// read the same in both formats, so they are what it checks.
#[tokio::test]
async fn the_health_families_pass_promtool_check_metrics() {
    let Ok(promtool) = which_promtool() else {
        eprintln!(
            "promtool is not installed (Debian: apt-get install prometheus): the exposition is not linted"
        );
        return;
    };
    let (server, _writers) = start(Options::default(), world).await;
    let (_, text) = get_plain(&server.health_url("/metrics")).await;
    let health: String = text
        .lines()
        .filter(|l| !l.contains("medusa_webhook_") && *l != "# EOF")
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        health.contains("# TYPE medusa_operations gauge"),
        "{health}"
    );
    let mut child = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(health.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics rejected GET /metrics:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn which_promtool() -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("promtool"))
        .find(|p| p.is_file())
        .ok_or(())
}
