//! `manifests/monitoring`: the kustomize component renders, the ServiceMonitor scrapes the port
//! the webhook serves `/metrics` on, the alerts and the dashboard read only metrics the webhook
//! exports, and the alerts pass `promtool check rules` and `promtool test rules` (where promtool
//! is installed; Debian: `apt-get install prometheus`).

use crate::kustomize;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use kustomize::{manifests, render_checked};
use serde_json::Value;

fn monitoring() -> Vec<Value> {
    render_checked(&manifests().join("monitoring"))
}

fn find<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("manifests/monitoring renders no {kind}"))
}

fn rules() -> Value {
    find(&monitoring(), "PrometheusRule")["spec"].clone()
}

fn dashboard() -> Value {
    let objects = monitoring();
    let map = find(&objects, "ConfigMap");
    serde_json::from_str(map["data"]["medusa-backups.json"].as_str().unwrap())
        .expect("the dashboard is JSON")
}

/// Every expression of the alerts, recording rules and dashboard panels.
fn expressions() -> Vec<(String, String)> {
    let mut all = Vec::new();
    for group in rules()["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            let name = rule.get("alert").or(rule.get("record")).unwrap();
            all.push((
                name.as_str().unwrap().to_owned(),
                rule["expr"].as_str().unwrap().to_owned(),
            ));
        }
    }
    for panel in dashboard()["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            all.push((
                format!("panel {:?}", panel["title"]),
                target["expr"].as_str().unwrap().to_owned(),
            ));
        }
    }
    all
}

/// The metric names an expression reads: `medusa_…` identifiers (recording rules, `medusa:…`,
/// are the rules' own).
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes: Vec<char> = expr.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == '_') {
            i += 1;
        }
        if i > start {
            let word: String = bytes[start..i].iter().collect();
            let preceded_by_colon = start > 0 && bytes[start - 1] == ':';
            if word.starts_with("medusa_") && !preceded_by_colon {
                names.insert(word);
            }
        } else {
            i += 1;
        }
    }
    names
}

#[test]
fn the_component_renders_a_service_monitor_the_rules_and_the_dashboard() {
    let objects = monitoring();
    let kinds: BTreeSet<&str> = objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["ConfigMap", "PrometheusRule", "ServiceMonitor"].into()
    );
    let map = find(&objects, "ConfigMap");
    assert_eq!(
        map["metadata"]["labels"]["grafana_dashboard"], "1",
        "Grafana's sidecar loads dashboards by this label"
    );
}

#[test]
fn the_service_monitor_scrapes_the_services_metrics_port() {
    let monitor = find(&monitoring(), "ServiceMonitor").clone();
    let service: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(manifests().join("base/service.yaml")).unwrap(),
    )
    .unwrap();
    let port = monitor["spec"]["endpoints"][0]["port"].as_str().unwrap();
    let served = service["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == port)
        .unwrap_or_else(|| {
            panic!(
                "ServiceMonitor scrapes port {port:?}, which Service medusa-webhook does not have"
            )
        });
    assert_eq!(
        served["targetPort"], "health",
        "the metrics port must reach the plain health server"
    );
    assert_eq!(monitor["spec"]["endpoints"][0]["path"], "/metrics");
    for (key, value) in monitor["spec"]["selector"]["matchLabels"]
        .as_object()
        .unwrap()
    {
        assert_eq!(
            &service["metadata"]["labels"][key], value,
            "ServiceMonitor selector {key}"
        );
    }
}

#[test]
fn alerts_and_dashboard_read_only_metrics_the_webhook_exports() {
    let exported: BTreeSet<String> = medusa_webhook::metrics::health_metric_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut unknown = Vec::new();
    for (owner, expr) in expressions() {
        for name in metric_names(&expr) {
            if !exported.contains(&name) {
                unknown.push(format!("{owner}: {name}"));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "expressions read metrics the webhook does not export: {unknown:?}"
    );
}

#[test]
fn every_alert_has_a_summary_a_description_naming_the_datacenter_and_a_runbook_section() {
    let runbook = std::fs::read_to_string(manifests().join("../docs/runbook.md")).unwrap();
    let alerts: Vec<Value> = rules()["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap().clone())
        .filter(|r| r.get("alert").is_some())
        .collect();
    let names: BTreeSet<&str> = alerts
        .iter()
        .map(|a| a["alert"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "MedusaBackupFailed",
            "MedusaBackupMissing",
            "MedusaOperationStalled",
            "MedusaSchedulePaused"
        ]
        .into()
    );
    for alert in &alerts {
        let name = alert["alert"].as_str().unwrap();
        let annotations = &alert["annotations"];
        assert!(annotations["summary"].is_string(), "{name}: no summary");
        assert!(
            annotations["description"]
                .as_str()
                .unwrap()
                .contains("{{ $labels.datacenter }}"),
            "{name}: the description must name the datacenter"
        );
        let anchor = format!("#{}", name.to_lowercase());
        assert!(
            annotations["runbook_url"]
                .as_str()
                .unwrap()
                .ends_with(&anchor),
            "{name}: runbook_url must point at docs/runbook.md{anchor}"
        );
        assert!(
            runbook.contains(&format!("\n## {name}\n")),
            "docs/runbook.md has no section {name}"
        );
    }
}

fn promtool() -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("promtool"))
        .find(|p| p.is_file())
}

fn run(promtool: &Path, dir: &Path, args: &[&str]) {
    let out = Command::new(promtool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool {}:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_rules_pass_promtool_check_and_their_unit_tests() {
    let Some(promtool) = promtool() else {
        println!(
            "promtool is not installed (Debian: apt-get install prometheus): the alert rules are not checked"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.yaml"),
        serde_json::to_string_pretty(&rules()).unwrap(),
    )
    .unwrap();
    std::fs::copy(
        manifests().join("monitoring/alerts-test.yaml"),
        dir.path().join("alerts-test.yaml"),
    )
    .unwrap();
    run(&promtool, dir.path(), &["check", "rules", "rules.yaml"]);
    run(
        &promtool,
        dir.path(),
        &["test", "rules", "alerts-test.yaml"],
    );
}

#[test]
fn the_dashboard_queries_are_valid_promql() {
    let Some(promtool) = promtool() else {
        println!(
            "promtool is not installed (Debian: apt-get install prometheus): the dashboard's queries are not checked"
        );
        return;
    };
    // Each query as a recording rule, its variables replaced by what "All" selects.
    let rules: Vec<Value> = expressions()
        .into_iter()
        .filter(|(owner, _)| owner.starts_with("panel"))
        .enumerate()
        .map(|(i, (_, expr))| {
            serde_json::json!({"record": format!("dashboard:query_{i}"), "expr": expr.replace("$namespace", ".*").replace("$datacenter", ".*")})
        })
        .collect();
    let file = serde_json::json!({"groups": [{"name": "dashboard", "rules": rules}]});
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("dashboard.yaml"),
        serde_json::to_string_pretty(&file).unwrap(),
    )
    .unwrap();
    run(&promtool, dir.path(), &["check", "rules", "dashboard.yaml"]);
}
