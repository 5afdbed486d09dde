//! The webhook's own API calls, against a mocked API server: the self-signed certificate Secret,
//! the caBundle patches, and the caches' start-up when a CRD is not installed.

use std::pin::pin;
use std::time::Duration;

use base64::Engine as _;
use http::{Request, Response};
use http_body_util::BodyExt;
use kube::client::Body;
use medusa_webhook::cache::{CacheState, Caches};
use medusa_webhook::selfsigned::{ensure_secret, generate, patch_ca_bundles};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;

fn client() -> (kube::Client, Handle) {
    let (mock, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    (kube::Client::new(mock, "default"), handle)
}

fn respond(status: u16, body: Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .body(Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap()
}

fn not_found(what: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404, "message": format!("{what} not found")})
}

async fn body_json(request: Request<Body>) -> Value {
    let bytes = request.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

async fn expect_no_more(mut handle: std::pin::Pin<&mut Handle>) {
    let extra = tokio::time::timeout(Duration::from_millis(200), handle.next_request()).await;
    assert!(
        extra.is_err() || extra.unwrap().is_none(),
        "unexpected extra API call"
    );
}

fn stored_secret(bundle: &medusa_webhook::selfsigned::Bundle) -> Value {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "medusa-webhook-tls", "namespace": "medusa-webhook"},
        "data": {"ca.crt": b64(&bundle.ca_pem), "tls.crt": b64(&bundle.cert_pem), "tls.key": b64(&bundle.key_pem)}
    })
}

#[tokio::test]
async fn self_signed_creates_the_secret_when_absent() {
    let (client, handle) = client();
    let scenario = tokio::spawn(async move {
        let mut handle = pin!(handle);
        let (request, send) = handle.next_request().await.unwrap();
        assert_eq!(request.method(), "GET");
        assert_eq!(
            request.uri().path(),
            "/api/v1/namespaces/medusa-webhook/secrets/medusa-webhook-tls"
        );
        send.send_response(respond(404, not_found("secrets \"medusa-webhook-tls\"")));
        let (request, send) = handle.next_request().await.unwrap();
        assert_eq!(request.method(), "POST");
        assert_eq!(
            request.uri().path(),
            "/api/v1/namespaces/medusa-webhook/secrets"
        );
        let body = body_json(request).await;
        assert_eq!(body["type"], "kubernetes.io/tls");
        let keys: Vec<&String> = body["data"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["ca.crt", "tls.crt", "tls.key"]);
        send.send_response(respond(201, body));
        expect_no_more(handle).await;
    });
    let bundle = ensure_secret(
        &client,
        "medusa-webhook",
        "medusa-webhook-tls",
        "medusa-webhook",
    )
    .await
    .unwrap();
    assert!(bundle.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    scenario.await.unwrap();
}

#[tokio::test]
async fn self_signed_reuses_a_valid_stored_secret() {
    let stored = generate(vec!["medusa-webhook.medusa-webhook.svc".into()]).unwrap();
    let (client, handle) = client();
    let secret = stored_secret(&stored);
    let scenario = tokio::spawn(async move {
        let mut handle = pin!(handle);
        let (request, send) = handle.next_request().await.unwrap();
        assert_eq!(request.method(), "GET");
        send.send_response(respond(200, secret));
        expect_no_more(handle).await;
    });
    let bundle = ensure_secret(
        &client,
        "medusa-webhook",
        "medusa-webhook-tls",
        "medusa-webhook",
    )
    .await
    .unwrap();
    assert_eq!(bundle, stored);
    scenario.await.unwrap();
}

#[tokio::test]
async fn self_signed_replicas_racing_share_the_first_secret() {
    let winner = generate(vec!["medusa-webhook.medusa-webhook.svc".into()]).unwrap();
    let (client, handle) = client();
    let secret = stored_secret(&winner);
    let scenario = tokio::spawn(async move {
        let mut handle = pin!(handle);
        let (_, send) = handle.next_request().await.unwrap();
        send.send_response(respond(404, not_found("secrets \"medusa-webhook-tls\"")));
        let (request, send) = handle.next_request().await.unwrap();
        assert_eq!(request.method(), "POST");
        send.send_response(respond(409, json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "AlreadyExists", "code": 409, "message": "secrets \"medusa-webhook-tls\" already exists"})));
        let (request, send) = handle.next_request().await.unwrap();
        assert_eq!(request.method(), "GET");
        send.send_response(respond(200, secret));
        expect_no_more(handle).await;
    });
    let bundle = ensure_secret(
        &client,
        "medusa-webhook",
        "medusa-webhook-tls",
        "medusa-webhook",
    )
    .await
    .unwrap();
    assert_eq!(bundle, winner);
    scenario.await.unwrap();
}

#[tokio::test]
async fn the_ca_bundle_is_patched_into_both_configurations() {
    let (client, handle) = client();
    let scenario = tokio::spawn(async move {
        let mut handle = pin!(handle);
        for (plural, kind) in [
            (
                "validatingwebhookconfigurations",
                "ValidatingWebhookConfiguration",
            ),
            (
                "mutatingwebhookconfigurations",
                "MutatingWebhookConfiguration",
            ),
        ] {
            let path = format!("/apis/admissionregistration.k8s.io/v1/{plural}/medusa-webhook");
            let (request, send) = handle.next_request().await.unwrap();
            assert_eq!(
                (request.method().as_str(), request.uri().path()),
                ("GET", path.as_str())
            );
            send.send_response(respond(200, json!({
                "apiVersion": "admissionregistration.k8s.io/v1", "kind": kind,
                "metadata": {"name": "medusa-webhook"},
                "webhooks": [{"name": "hook.medusa.k8ssandra.io", "admissionReviewVersions": ["v1"], "sideEffects": "None", "clientConfig": {}}]
            })));
            let (request, send) = handle.next_request().await.unwrap();
            assert_eq!(
                (request.method().as_str(), request.uri().path()),
                ("PATCH", path.as_str())
            );
            assert_eq!(
                request.headers()["content-type"],
                "application/json-patch+json"
            );
            let body = body_json(request).await;
            assert_eq!(
                body[0],
                json!({"op": "test", "path": "/webhooks/0/name", "value": "hook.medusa.k8ssandra.io"})
            );
            assert_eq!(body[1]["path"], "/webhooks/0/clientConfig/caBundle");
            assert_eq!(
                body[1]["value"],
                base64::engine::general_purpose::STANDARD.encode("CA PEM")
            );
            send.send_response(respond(200, json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": {"name": "medusa-webhook"}})));
        }
        expect_no_more(handle).await;
    });
    patch_ca_bundles(&client, "medusa-webhook", "medusa-webhook", "CA PEM")
        .await
        .unwrap();
    scenario.await.unwrap();
}

#[tokio::test]
async fn a_missing_crd_disables_its_cache_and_the_others_sync() {
    let (client, handle) = client();
    let (caches, writers) = Caches::new();
    let cancel = CancellationToken::new();
    let _tasks = medusa_webhook::watch::spawn_all(client, writers, cancel.clone());
    let api = tokio::spawn(async move {
        let mut handle = pin!(handle);
        while let Some((request, send)) = handle.next_request().await {
            let path = request.uri().path().to_owned();
            let query = request.uri().query().unwrap_or("").to_owned();
            if path.contains("cassandradatacenters") {
                send.send_response(respond(
                    404,
                    not_found("the server could not find the requested resource"),
                ));
            } else if query.contains("watch=true") || query.contains("watch=1") {
                // Watches stay open.
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    drop(send);
                });
            } else {
                let kind = if path.ends_with("/secrets") {
                    "PartialObjectMetadataList"
                } else {
                    "List"
                };
                send.send_response(respond(200, json!({"apiVersion": "v1", "kind": kind, "metadata": {"resourceVersion": "1"}, "items": []})));
            }
        }
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !caches.pending().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "caches still pending: {:?}",
            caches.pending()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        caches.of::<medusa_crds::CassandraDatacenter>().state(),
        CacheState::Disabled
    );
    assert_eq!(
        caches
            .of::<medusa_crds::CassandraDatacenter>()
            .disabled_reason()
            .unwrap(),
        "the CassandraDatacenter CRD is not installed"
    );
    assert_eq!(
        caches.of::<medusa_crds::MedusaBackup>().state(),
        CacheState::Ready
    );
    assert_eq!(caches.secrets.state(), CacheState::Ready);
    cancel.cancel();
    api.abort();
}
