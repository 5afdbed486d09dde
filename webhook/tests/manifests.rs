//! Renders the kustomize overlays in `manifests/` and checks what they deploy.
//!
//! The overlays use only `resources` and JSON 6902 `patches`, which this test renders itself
//! (and refuses any other kustomize feature). Where `kubectl` is installed, its own kustomize
//! renders them too and must agree.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use medusa_crds::rules::Policy;
use serde_json::{Value, json};

fn manifests() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../manifests")
}

fn yaml_documents(text: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(text)
        .unwrap()
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

/// A minimal kustomize: `resources` (files and directories), JSON 6902 `patches` and
/// `images` (new names and tags of container images).
fn render(dir: &Path) -> Vec<Value> {
    let kustomization: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap())
            .unwrap();
    for key in kustomization.as_object().unwrap().keys() {
        assert!(
            ["apiVersion", "kind", "resources", "patches", "images"].contains(&key.as_str()),
            "{}: `{key}` is not supported by the test renderer; keep the overlays simple",
            dir.display()
        );
    }
    let mut objects = Vec::new();
    for resource in kustomization["resources"].as_array().unwrap() {
        let path = dir.join(resource.as_str().unwrap());
        if path.is_dir() {
            objects.extend(render(&path));
        } else {
            objects.extend(yaml_documents(&std::fs::read_to_string(&path).unwrap()));
        }
    }
    for patch in kustomization["patches"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let target = &patch["target"];
        let operations: json_patch::Patch = serde_json::from_value(
            serde_saphyr::from_str::<Value>(patch["patch"].as_str().unwrap()).unwrap(),
        )
        .unwrap();
        let mut matched = 0;
        for object in &mut objects {
            if object["kind"] == target["kind"] && object["metadata"]["name"] == target["name"] {
                json_patch::patch(object, &operations).unwrap();
                matched += 1;
            }
        }
        assert_eq!(
            matched,
            1,
            "{}: patch target {target} matched {matched} objects",
            dir.display()
        );
    }
    for image in kustomization["images"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let name = image["name"].as_str().unwrap();
        for object in &mut objects {
            for container in object
                .pointer_mut("/spec/template/spec/containers")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                let current = container["image"].as_str().unwrap_or_default().to_owned();
                let (current_name, current_tag) = match current.rsplit_once(':') {
                    Some((n, t)) if !t.contains('/') => (n.to_owned(), Some(t.to_owned())),
                    _ => (current.clone(), None),
                };
                if current_name != name {
                    continue;
                }
                let new_name = image["newName"].as_str().unwrap_or(name);
                let tag = image["newTag"].as_str().map(str::to_owned).or(current_tag);
                container["image"] = match tag {
                    Some(tag) => Value::String(format!("{new_name}:{tag}")),
                    None => Value::String(new_name.to_owned()),
                };
            }
        }
    }
    objects
}

fn kubectl_render(dir: &Path) -> Option<Vec<Value>> {
    let output = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .ok()?;
    if !output.status.success() {
        panic!(
            "kubectl kustomize {} failed: {}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Some(yaml_documents(&String::from_utf8(output.stdout).unwrap()))
}

fn rendered(overlay: &str) -> Vec<Value> {
    let dir = manifests().join("overlays").join(overlay);
    let ours = render(&dir);
    match kubectl_render(&dir) {
        Some(theirs) => {
            let key = |objects: &[Value]| -> BTreeSet<String> {
                objects.iter().map(|o| o.to_string()).collect()
            };
            assert_eq!(
                key(&ours),
                key(&theirs),
                "the test renderer and kubectl kustomize disagree on {overlay}"
            );
        }
        None => println!("kubectl not found: {overlay} rendered by the test renderer only"),
    }
    ours
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn container(objects: &[Value]) -> &Value {
    &find(objects, "Deployment", "medusa-webhook")["spec"]["template"]["spec"]["containers"][0]
}

fn args(objects: &[Value]) -> Vec<String> {
    container(objects)["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

const OVERLAYS: [&str; 2] = ["cert-manager", "self-signed"];

#[test]
fn every_overlay_deploys_the_whole_webhook() {
    for overlay in OVERLAYS {
        let objects = rendered(overlay);
        for (kind, name) in [
            ("Namespace", "medusa-webhook"),
            ("ServiceAccount", "medusa-webhook"),
            ("ClusterRole", "medusa-webhook"),
            ("ClusterRoleBinding", "medusa-webhook"),
            ("ConfigMap", "medusa-webhook-policy"),
            ("Deployment", "medusa-webhook"),
            ("PodDisruptionBudget", "medusa-webhook"),
            ("Service", "medusa-webhook"),
            ("NetworkPolicy", "medusa-webhook"),
            ("ValidatingWebhookConfiguration", "medusa-webhook"),
            ("MutatingWebhookConfiguration", "medusa-webhook"),
        ] {
            find(&objects, kind, name);
        }
    }
}

#[test]
fn the_shipped_policy_is_the_default_policy() {
    let objects = rendered("cert-manager");
    let text = find(&objects, "ConfigMap", "medusa-webhook-policy")["data"]["policy.yaml"]
        .as_str()
        .unwrap();
    assert_eq!(
        text,
        Policy::default_yaml(),
        "regenerate manifests/base/policy.yaml from `medusa-webhook --print-default-policy`"
    );
    Policy::from_yaml(text).unwrap();
}

#[test]
fn the_container_arguments_are_ones_the_binary_accepts() {
    for overlay in OVERLAYS {
        let objects = rendered(overlay);
        let mut argv = vec!["medusa-webhook".to_owned()];
        argv.extend(args(&objects));
        medusa_webhook::args::Args::try_parse_from(&argv)
            .unwrap_or_else(|e| panic!("{overlay}: {e}"));
    }
}

#[test]
fn the_deployment_is_hardened_and_highly_available() {
    for overlay in OVERLAYS {
        let objects = rendered(overlay);
        let deployment = find(&objects, "Deployment", "medusa-webhook");
        let pod = &deployment["spec"]["template"]["spec"];
        assert_eq!(deployment["spec"]["replicas"], 2);
        assert_eq!(
            pod["topologySpreadConstraints"][0]["topologyKey"],
            "kubernetes.io/hostname"
        );
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        let c = container(&objects);
        assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
        assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
        assert_eq!(c["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
        assert_eq!(
            c["readinessProbe"]["httpGet"],
            json!({"path": "/readyz", "port": "health"})
        );
        assert_eq!(
            c["livenessProbe"]["httpGet"],
            json!({"path": "/healthz", "port": "health"})
        );
        for key in ["requests", "limits"] {
            assert!(
                c["resources"][key]["cpu"].is_string() && c["resources"][key]["memory"].is_string()
            );
        }
        let pdb = find(&objects, "PodDisruptionBudget", "medusa-webhook");
        assert_eq!(pdb["spec"]["minAvailable"], 1);
    }
}

#[test]
fn the_webhook_registrations_match_the_rules() {
    let objects = rendered("cert-manager");
    let validating =
        &find(&objects, "ValidatingWebhookConfiguration", "medusa-webhook")["webhooks"][0];
    let mutating = &find(&objects, "MutatingWebhookConfiguration", "medusa-webhook")["webhooks"][0];
    for (webhook, failure, path) in [
        (validating, "Fail", "/validate"),
        (mutating, "Ignore", "/mutate"),
    ] {
        assert_eq!(webhook["admissionReviewVersions"], json!(["v1"]));
        assert_eq!(webhook["sideEffects"], "None");
        assert_eq!(webhook["timeoutSeconds"], 5);
        assert_eq!(webhook["failurePolicy"], failure);
        assert_eq!(webhook["clientConfig"]["service"]["path"], path);
        assert_eq!(webhook["clientConfig"]["service"]["name"], "medusa-webhook");
        let excluded = &webhook["namespaceSelector"]["matchExpressions"][0];
        assert_eq!(
            (excluded["operator"].as_str(), &excluded["values"]),
            (Some("NotIn"), &json!(["medusa-webhook"]))
        );
    }
    let registered = |webhook: &Value| -> BTreeSet<(String, String)> {
        webhook["rules"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|rule| {
                let operations: Vec<String> = rule["operations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o.as_str().unwrap().to_owned())
                    .collect();
                rule["resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(move |r| {
                        let resource = r.as_str().unwrap().to_owned();
                        operations
                            .clone()
                            .into_iter()
                            .map(move |o| (resource.clone(), o))
                    })
            })
            .collect()
    };
    let pairs = |list: &[(&str, &str)]| -> BTreeSet<(String, String)> {
        list.iter()
            .map(|(r, o)| ((*r).to_owned(), (*o).to_owned()))
            .collect()
    };
    assert_eq!(
        registered(validating),
        pairs(&[
            ("k8ssandraclusters", "CREATE"),
            ("k8ssandraclusters", "UPDATE"),
            ("medusaconfigurations", "CREATE"),
            ("medusaconfigurations", "UPDATE"),
            ("medusaconfigurations", "DELETE"),
            ("medusabackupjobs", "CREATE"),
            ("medusabackupjobs", "UPDATE"),
            ("medusarestorejobs", "CREATE"),
            ("medusarestorejobs", "UPDATE"),
            ("medusabackupschedules", "CREATE"),
            ("medusabackupschedules", "UPDATE"),
            ("medusatasks", "CREATE"),
            ("medusabackups", "DELETE"),
        ])
    );
    assert_eq!(
        registered(mutating),
        pairs(&[
            ("k8ssandraclusters", "CREATE"),
            ("k8ssandraclusters", "UPDATE"),
            ("medusabackupjobs", "CREATE"),
            ("medusatasks", "CREATE"),
        ])
    );
}

#[test]
fn rbac_is_read_only_except_what_self_signed_needs() {
    let objects = rendered("cert-manager");
    let role = find(&objects, "ClusterRole", "medusa-webhook");
    for rule in role["rules"].as_array().unwrap() {
        assert_eq!(rule["verbs"], json!(["get", "list", "watch"]), "{rule}");
        assert!(!rule.to_string().contains('*'), "{rule}");
    }
    assert!(
        !objects.iter().any(|o| o["kind"] == "Role"),
        "cert-manager needs no write access"
    );

    let objects = rendered("self-signed");
    let injector = find(&objects, "ClusterRole", "medusa-webhook-ca-injector");
    assert_eq!(
        injector["rules"][0]["resourceNames"],
        json!(["medusa-webhook"])
    );
    assert_eq!(injector["rules"][0]["verbs"], json!(["get", "patch"]));
    let tls = find(&objects, "Role", "medusa-webhook-tls");
    assert_eq!(tls["metadata"]["namespace"], "medusa-webhook");
    assert_eq!(
        tls["rules"][1]["resourceNames"],
        json!(["medusa-webhook-tls"])
    );
}

#[test]
fn cert_manager_issues_the_certificate_the_pods_mount_and_injects_its_ca() {
    let objects = rendered("cert-manager");
    let certificate = find(&objects, "Certificate", "medusa-webhook");
    let deployment = find(&objects, "Deployment", "medusa-webhook");
    let volumes = deployment["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .unwrap();
    assert!(
        volumes
            .iter()
            .any(|v| v["secret"]["secretName"] == certificate["spec"]["secretName"])
    );
    assert!(
        certificate["spec"]["dnsNames"]
            .as_array()
            .unwrap()
            .contains(&json!("medusa-webhook.medusa-webhook.svc"))
    );
    for kind in [
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
    ] {
        let annotation = &find(&objects, kind, "medusa-webhook")["metadata"]["annotations"]["cert-manager.io/inject-ca-from"];
        assert_eq!(annotation, "medusa-webhook/medusa-webhook");
    }
}

#[test]
fn self_signed_generates_its_certificate_instead_of_mounting_one() {
    let objects = rendered("self-signed");
    assert!(args(&objects).contains(&"--self-signed".to_owned()));
    let deployment = find(&objects, "Deployment", "medusa-webhook");
    let volumes = deployment["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .unwrap();
    assert!(volumes.iter().all(|v| v["secret"].is_null()), "{volumes:?}");
    assert!(!objects.iter().any(|o| o["kind"] == "Certificate"));
}

#[test]
fn the_service_and_network_policy_expose_only_the_webhook_ports() {
    let objects = rendered("cert-manager");
    let service = find(&objects, "Service", "medusa-webhook");
    assert_eq!(
        service["spec"]["ports"][0],
        json!({"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"})
    );
    let policy = find(&objects, "NetworkPolicy", "medusa-webhook");
    let ports: BTreeSet<i64> = policy["spec"]["ingress"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|rule| {
            rule["ports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["port"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(ports, BTreeSet::from([8080, 8443]));
}

#[test]
fn the_default_kustomization_is_the_cert_manager_overlay() {
    let root = render(&manifests());
    let overlay = render(&manifests().join("overlays/cert-manager"));
    assert_eq!(root, overlay);
}

#[test]
fn the_image_is_named_in_one_place_and_tagged_with_the_crates_version() {
    let deployment = std::fs::read_to_string(manifests().join("base/deployment.yaml")).unwrap();
    assert!(
        !deployment.contains("ghcr.io"),
        "base/deployment.yaml names the image: it belongs in base/kustomization.yaml"
    );
    for overlay in OVERLAYS {
        assert_eq!(
            container(&rendered(overlay))["image"],
            format!(
                "ghcr.io/k8ssandra/medusa-webhook:{}",
                env!("CARGO_PKG_VERSION")
            ),
            "{overlay}"
        );
    }
}

#[test]
fn a_users_kustomization_can_point_at_another_image() {
    let dir = tempfile::tempdir().unwrap();
    let overlay = manifests().join("overlays/cert-manager");
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - {}\nimages:\n  - name: ghcr.io/k8ssandra/medusa-webhook\n    newName: registry.example.com/medusa-webhook\n    newTag: 9.9.9\n",
            overlay.display()
        ),
    )
    .unwrap();
    let objects = render(dir.path());
    assert_eq!(
        container(&objects)["image"],
        "registry.example.com/medusa-webhook:9.9.9"
    );
}
