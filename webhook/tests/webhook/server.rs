//! The webhook served with TLS on 127.0.0.1 and called by a real HTTPS client: the admission
//! contract on the wire, bad inputs, slow clients, certificate reload and readiness.

use crate::support;

use std::time::{Duration, Instant};

use base64::Engine as _;
use medusa_crds::*;
use medusa_webhook::server::Limits;
use serde_json::{Value, json};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn a_denial_is_403_and_echoes_uid_and_api_version() {
    let (server, _writers) = start(Options::default(), dc1_and_s3).await;
    let client = https(&server.bundle.ca_pem, false);
    let body = review(
        "uid-1",
        "CREATE",
        Some(&MedusaBackupJob::test("nightly").dc("dc9")),
        None,
    );
    let (status, content_type, bytes) = post(
        &client,
        &server.url("/validate"),
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    let review: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(review["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(review["kind"], "AdmissionReview");
    let response = &review["response"];
    assert_eq!(response["uid"], "uid-1");
    assert_eq!(response["allowed"], false);
    assert_eq!(response["status"]["code"], 403);
    assert_eq!(response["status"]["reason"], "Forbidden");
    assert!(response["status"]["message"].as_str().unwrap().starts_with(
        "[J1] MedusaBackupJob k8ssandra/nightly: CassandraDatacenter \"dc9\" not found"
    ));
}

#[tokio::test]
async fn a_v1beta1_review_is_answered_as_v1beta1() {
    let (server, _writers) = start(Options::default(), dc1_and_s3).await;
    let client = https(&server.bundle.ca_pem, false);
    let mut body = review(
        "uid-2",
        "CREATE",
        Some(&MedusaBackupJob::test("nightly")),
        None,
    );
    body["apiVersion"] = json!("admission.k8s.io/v1beta1");
    let (_, _, bytes) = post(
        &client,
        &server.url("/validate"),
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    let review: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(review["apiVersion"], "admission.k8s.io/v1beta1");
    assert_eq!(review["response"]["allowed"], true);
}

#[tokio::test]
async fn warnings_are_returned_with_an_allowed_response() {
    let (server, _writers) = start(Options::default(), dc1_and_s3).await;
    let client = https(&server.bundle.ca_pem, false);
    let body = review(
        "uid-3",
        "DELETE",
        None,
        Some(&MedusaBackup::test("nightly")),
    );
    let (_, _, bytes) = post(
        &client,
        &server.url("/validate"),
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    let response = response_of(&bytes);
    assert_eq!(response["allowed"], true);
    assert!(response.get("status").is_none());
    assert!(response["warnings"][0].as_str().unwrap().starts_with(
        "[B1] MedusaBackup k8ssandra/nightly: deleting the MedusaBackup removes only the record"
    ));
}

#[tokio::test]
async fn the_patch_is_a_base64_json_patch_string_on_the_wire() {
    let (server, _writers) = start(Options::default(), dc1_and_s3).await;
    let client = https(&server.bundle.ca_pem, false);
    let body = review(
        "uid-4",
        "CREATE",
        Some(&MedusaBackupJob::test("nightly")),
        None,
    );
    let (_, _, bytes) = post(
        &client,
        &server.url("/mutate"),
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    // The bytes themselves: a JSON string, not kube-rs's array of numbers (kube-rs #1781).
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.contains(r#""patch":""#), "{text}");
    assert!(text.contains(r#""patchType":"JSONPatch""#), "{text}");
    let response = response_of(&bytes);
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(response["patch"].as_str().unwrap())
        .unwrap();
    let patch: Value = serde_json::from_slice(&decoded).unwrap();
    assert_eq!(
        patch,
        json!([{"op": "add", "path": "/metadata/labels", "value": {"cassandra.datastax.com/cluster": "demo", "cassandra.datastax.com/datacenter": "dc1"}}])
    );
    assert_eq!(response["allowed"], true);
    assert_eq!(response["uid"], "uid-4");
}

#[tokio::test]
async fn mutate_without_changes_has_no_patch() {
    let (server, _writers) = start(Options::default(), dc1_and_s3).await;
    let client = https(&server.bundle.ca_pem, false);
    let body = review(
        "uid-5",
        "CREATE",
        Some(&MedusaBackupSchedule::test("nightly")),
        None,
    );
    let (_, _, bytes) = post(
        &client,
        &server.url("/mutate"),
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    let response = response_of(&bytes);
    assert!(
        response.get("patch").is_none() && response.get("patchType").is_none(),
        "{response}"
    );
}

#[tokio::test]
async fn h2_is_served_through_alpn() {
    let (server, _writers) = start(Options::default(), dc1_and_s3).await;
    let client = https(&server.bundle.ca_pem, true);
    let body = review(
        "uid-6",
        "CREATE",
        Some(&MedusaBackupJob::test("nightly")),
        None,
    );
    let (status, _, bytes) = post(
        &client,
        &server.url("/validate"),
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(response_of(&bytes)["allowed"], true);
}

#[tokio::test]
async fn a_malformed_body_is_400_with_a_clear_message() {
    let (server, _writers) = start(Options::default(), dc1_and_s3).await;
    let client = https(&server.bundle.ca_pem, false);
    let (status, _, bytes) = post(
        &client,
        &server.url("/validate"),
        b"{\"apiVersion\":".to_vec(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        String::from_utf8(bytes)
            .unwrap()
            .starts_with("the body is not an AdmissionReview:")
    );
    let (status, _, bytes) = post(
        &client,
        &server.url("/validate"),
        br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        "the AdmissionReview has no request"
    );
}

#[tokio::test]
async fn an_object_that_is_not_an_object_is_denied_at_validate_and_left_alone_at_mutate() {
    let (server, _writers) = start(Options::default(), dc1_and_s3).await;
    let client = https(&server.bundle.ca_pem, false);
    let mut body = review(
        "uid-7",
        "CREATE",
        Some(&MedusaBackupJob::test("nightly").dc("dc1")),
        None,
    );
    body["request"]["object"] = json!(["not", "an", "object"]);
    let bytes = serde_json::to_vec(&body).unwrap();
    let (status, _, answer) = post(&client, &server.url("/validate"), bytes.clone()).await;
    assert_eq!(
        status, 200,
        "POST /validate of an array object: expected 200"
    );
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(answer["response"]["uid"], "uid-7");
    assert_eq!(answer["response"]["allowed"], false);
    let message = answer["response"]["status"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "MedusaBackupJob k8ssandra/nightly: cannot read the object: invalid type: sequence"
        ),
        "POST /validate of an array object: expected a denial naming it, got {message:?}"
    );
    let (status, _, answer) = post(&client, &server.url("/mutate"), bytes).await;
    assert_eq!(status, 200, "POST /mutate of an array object: expected 200");
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(answer["response"]["allowed"], true);
    assert!(answer["response"].get("patch").is_none(), "{answer}");
}

#[tokio::test]
async fn hostile_bodies_never_break_the_server() {
    let (server, _writers) = start(Options::default(), dc1_and_s3).await;
    let client = https(&server.bundle.ca_pem, false);
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let valid_shell = |request: Value| {
        serde_json::to_vec(&json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request})).unwrap()
    };
    let bodies: Vec<Vec<u8>> = vec![
        deep.into_bytes(),
        b"\xff\xfe\x00".to_vec(),
        valid_shell(
            json!({"uid": "x", "kind": {"group": "medusa.k8ssandra.io", "kind": "MedusaBackupJob"}, "operation": "CREATE", "object": {"spec": 5}}),
        ),
        valid_shell(
            json!({"uid": "x", "kind": {"group": "medusa.k8ssandra.io", "kind": "MedusaRestoreJob"}, "operation": "CREATE"}),
        ),
        valid_shell(
            json!({"uid": "x", "kind": {"group": "k8ssandra.io", "kind": "K8ssandraCluster"}, "operation": "UPDATE", "object": {"metadata": {}, "spec": {"medusa": {"storageProperties": {"port": 1e300}}}}, "oldObject": null}),
        ),
        valid_shell(
            json!({"uid": "x", "kind": {"group": "medusa.k8ssandra.io", "kind": "MedusaBackupSchedule"}, "operation": "CREATE", "object": {"metadata": {"name": "s"}, "spec": {"cronSchedule": "TZ=", "backupSpec": {"cassandraDatacenter": "d"}}}}),
        ),
        valid_shell(
            json!({"uid": "x", "kind": {"group": "", "kind": "Pod"}, "operation": "PATCH"}),
        ),
    ];
    for body in bodies {
        let (status, _, _) = post(&client, &server.url("/validate"), body.clone()).await;
        assert!(status == 200 || status == 400, "status {status}");
        let (status, _, _) = post(&client, &server.url("/mutate"), body).await;
        assert!(status == 200 || status == 400, "status {status}");
    }
    // Still serving.
    let body = review(
        "after",
        "CREATE",
        Some(&MedusaBackupJob::test("nightly")),
        None,
    );
    let (status, _, _) = post(
        &client,
        &server.url("/validate"),
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_body_over_3_mib_is_413() {
    let (server, _writers) = start(Options::default(), dc1_and_s3).await;
    let client = https(&server.bundle.ca_pem, false);
    let (status, _, bytes) = post(
        &client,
        &server.url("/validate"),
        vec![b' '; 3 * 1024 * 1024 + 1],
    )
    .await;
    assert_eq!(status, 413);
    assert!(
        String::from_utf8(bytes)
            .unwrap()
            .contains("larger than 3145728 bytes")
    );
}

async fn tls_stream(server: &TestServer) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(client_config(
        &server.bundle.ca_pem,
        &[b"http/1.1"],
    )));
    let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    connector
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_client_that_stalls_its_body_gets_408() {
    let limits = Limits {
        body_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let (server, _writers) = start(
        Options {
            limits,
            ..Options::default()
        },
        dc1_and_s3,
    )
    .await;
    let mut stream = tls_stream(&server).await;
    stream
        .write_all(b"POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"apiVersion\":")
        .await
        .unwrap();
    let started = Instant::now();
    let mut answer = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer[..n])
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_client_that_never_sends_headers_is_disconnected() {
    let limits = Limits {
        header_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let (server, _writers) = start(
        Options {
            limits,
            ..Options::default()
        },
        dc1_and_s3,
    )
    .await;
    let mut stream = tls_stream(&server).await;
    stream
        .write_all(b"POST /validate HTTP/1.1\r\nhost: loc")
        .await
        .unwrap();
    let mut answer = vec![0u8; 512];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .unwrap();
    // hyper answers 408 or closes the connection; either way it does not wait forever.
    match read {
        Ok(0) | Err(_) => {}
        Ok(n) => assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 408")),
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_the_handshake_is_disconnected() {
    let limits = Limits {
        handshake_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let (server, _writers) = start(
        Options {
            limits,
            ..Options::default()
        },
        dc1_and_s3,
    )
    .await;
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut answer = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut answer))
        .await
        .unwrap();
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
}

#[tokio::test]
async fn readiness_waits_for_every_cache() {
    let (server, mut writers) = start(
        Options {
            ready: false,
            ..Options::default()
        },
        |_| {},
    )
    .await;
    let (status, body) = get_plain(&server.health_url("/readyz")).await;
    assert_eq!(status, 503);
    assert!(
        body.contains("caches still syncing: MedusaConfiguration, K8ssandraCluster"),
        "{body}"
    );
    assert_eq!(get_plain(&server.health_url("/healthz")).await.0, 200);
    writers
        .of::<CassandraDatacenter>()
        .disable("the CassandraDatacenter CRD is not installed".into());
    writers.ready_empty();
    assert_eq!(
        get_plain(&server.health_url("/readyz")).await,
        (200, "ok".into())
    );
}

#[tokio::test]
async fn metrics_count_reviews_and_report_cache_sizes_and_expiry() {
    let (server, _writers) = start(Options::default(), dc1_and_s3).await;
    let client = https(&server.bundle.ca_pem, false);
    let body = review(
        "uid-m",
        "CREATE",
        Some(&MedusaBackupJob::test("nightly").dc("dc9")),
        None,
    );
    post(
        &client,
        &server.url("/validate"),
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    let (status, text) = get_plain(&server.health_url("/metrics")).await;
    assert_eq!(status, 200);
    assert!(text.contains(r#"medusa_webhook_reviews_total{endpoint="validate",kind="MedusaBackupJob",operation="CREATE",decision="denied"} 1"#), "{text}");
    assert!(text.contains(r#"medusa_webhook_rule_findings_total{kind="MedusaBackupJob",operation="CREATE",rule="J1",decision="deny"} 1"#));
    assert!(text.contains(r#"medusa_webhook_cache_objects{cache="CassandraDatacenter"} 1"#));
    assert!(text.contains("medusa_webhook_certificate_expiry_seconds "));
    assert!(text.contains(
        r#"medusa_webhook_review_duration_seconds_bucket{le="0.00005",endpoint="validate"}"#
    ));
}

#[tokio::test]
async fn a_disabled_crd_turns_denials_into_warnings() {
    let (server, _writers) = start(Options::default(), |w| {
        w.of::<CassandraDatacenter>()
            .disable("the CassandraDatacenter CRD is not installed".into());
    })
    .await;
    let client = https(&server.bundle.ca_pem, false);
    let body = review(
        "uid-d",
        "CREATE",
        Some(&MedusaBackupJob::test("nightly").dc("dc9")),
        None,
    );
    let (_, _, bytes) = post(
        &client,
        &server.url("/validate"),
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    let response = response_of(&bytes);
    assert_eq!(response["allowed"], true);
    assert!(
        response["warnings"][0]
            .as_str()
            .unwrap()
            .contains("the CassandraDatacenter CRD is not installed")
    );
}

#[tokio::test]
async fn the_certificate_reloads_without_dropping_connections() {
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    let (server, _writers) = start(Options::default(), dc1_and_s3).await;
    std::fs::write(&cert_path, &server.bundle.cert_pem).unwrap();
    std::fs::write(&key_path, &server.bundle.key_pem).unwrap();
    tokio::spawn(medusa_webhook::tls::watch_files(
        server.store.clone(),
        cert_path.clone(),
        key_path.clone(),
        Duration::from_millis(50),
        server.cancel.clone(),
    ));
    // A kept-alive connection opened before the swap.
    let mut before = tls_stream(&server).await;
    let old_leaf = before.get_ref().1.peer_certificates().unwrap()[0].clone();

    // Replace the files with a certificate from another CA, as a mounted Secret update would.
    let next = medusa_webhook::selfsigned::generate(vec!["localhost".into()]).unwrap();
    let staging = dir.path().join("staging");
    std::fs::create_dir(&staging).unwrap();
    std::fs::write(staging.join("tls.key"), &next.key_pem).unwrap();
    std::fs::write(staging.join("tls.crt"), &next.cert_pem).unwrap();
    std::fs::rename(staging.join("tls.key"), &key_path).unwrap();
    std::fs::rename(staging.join("tls.crt"), &cert_path).unwrap();

    // New handshakes get the new certificate.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(client_config(
            &next.ca_pem,
            &[b"http/1.1"],
        )));
        let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        if connector
            .connect("localhost".try_into().unwrap(), tcp)
            .await
            .is_ok()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate was not served in time"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The old connection still answers, with its old session.
    let body = serde_json::to_vec(&review(
        "uid-r",
        "CREATE",
        Some(&MedusaBackupJob::test("nightly")),
        None,
    ))
    .unwrap();
    let head = format!(
        "POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    before.write_all(head.as_bytes()).await.unwrap();
    before.write_all(&body).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), before.read(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 200"));
    assert_eq!(before.get_ref().1.peer_certificates().unwrap()[0], old_leaf);
    assert!(server.store.not_after() > 0);
}

#[tokio::test]
async fn a_broken_certificate_swap_keeps_the_current_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    let (server, _writers) = start(Options::default(), dc1_and_s3).await;
    std::fs::write(&cert_path, &server.bundle.cert_pem).unwrap();
    std::fs::write(&key_path, &server.bundle.key_pem).unwrap();
    tokio::spawn(medusa_webhook::tls::watch_files(
        server.store.clone(),
        cert_path.clone(),
        key_path.clone(),
        Duration::from_millis(50),
        server.cancel.clone(),
    ));
    let other = medusa_webhook::selfsigned::generate(vec!["localhost".into()]).unwrap();
    // A key that does not match the certificate.
    std::fs::write(&key_path, &other.key_pem).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let client = https(&server.bundle.ca_pem, false);
    let body = review(
        "uid-b",
        "CREATE",
        Some(&MedusaBackupJob::test("nightly")),
        None,
    );
    let (status, _, _) = post(
        &client,
        &server.url("/validate"),
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    assert_eq!(status, 200);
}
