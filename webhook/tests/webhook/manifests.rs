//! Renders the kustomize overlays in `manifests/` and checks what they deploy.
//!
//! The overlays use only `resources` and JSON 6902 `patches`, which this test renders itself
//! (and refuses any other kustomize feature). Where `kubectl` is installed, its own kustomize
//! renders them too and must agree.

use crate::kustomize;

use std::collections::BTreeSet;

use clap::Parser;
use kustomize::{manifests, render, render_checked};
use medusa_crds::rules::Policy;
use serde_json::{Value, json};

fn rendered(overlay: &str) -> Vec<Value> {
    render_checked(&manifests().join("overlays").join(overlay))
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
