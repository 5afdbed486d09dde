//! A real webhook server on 127.0.0.1 over TLS, and a real HTTPS client that trusts it.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use medusa_crds::rules::Policy;
use medusa_webhook::cache::{Caches, Writers};
use medusa_webhook::engine::Engine;
use medusa_webhook::live::Live;
use medusa_webhook::metrics::Metrics;
use medusa_webhook::selfsigned::{Bundle, generate};
use medusa_webhook::server::{
    Limits, admission_service, health_router, serve_plain, serve_tls_counted,
};
use medusa_webhook::tls::{CertificateStore, load_pem, server_config};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// A running server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub health: SocketAddr,
    pub bundle: Bundle,
    pub store: Arc<CertificateStore>,
    pub cancel: CancellationToken,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }

    pub fn health_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.health.port())
    }
}

/// Options of a test server.
pub struct Options {
    pub policy: Policy,
    pub live: Option<kube::Client>,
    pub limits: Limits,
    pub ready: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            policy: Policy::default(),
            live: None,
            limits: Limits::default(),
            ready: true,
        }
    }
}

/// The usual world of the tests: datacenter dc1 and MedusaConfiguration s3.
pub fn dc1_and_s3(writers: &mut Writers) {
    use medusa_crds::{CassandraDatacenter, MedusaConfiguration};
    writers
        .of::<CassandraDatacenter>()
        .fill([CassandraDatacenter::test("dc1")]);
    writers
        .of::<MedusaConfiguration>()
        .fill([MedusaConfiguration::test("s3")]);
}

/// Starts the webhook with caches fed by `setup`.
pub async fn start(options: Options, setup: impl FnOnce(&mut Writers)) -> (TestServer, Writers) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (caches, mut writers) = Caches::new();
    if options.ready {
        writers.ready_empty();
    }
    setup(&mut writers);
    let metrics = Arc::new(Metrics::new());
    let bundle = generate(vec!["localhost".into()]).unwrap();
    let loaded = load_pem(bundle.cert_pem.as_bytes(), bundle.key_pem.as_bytes(), "").unwrap();
    let store = CertificateStore::new(loaded, metrics.not_after());
    let engine = Arc::new(Engine::new(
        caches,
        options.live.map(Live::new),
        Arc::new(options.policy),
        metrics,
    ));
    let cancel = CancellationToken::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let health_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let health = health_listener.local_addr().unwrap();
    tokio::spawn(serve_tls_counted(
        listener,
        server_config(store.clone()).unwrap(),
        admission_service(engine.clone(), options.limits),
        options.limits,
        cancel.clone(),
        Some(engine.metrics().clone()),
    ));
    tokio::spawn(serve_plain(
        health_listener,
        health_router(engine.clone()),
        cancel.clone(),
    ));
    (
        TestServer {
            addr,
            health,
            bundle,
            store,
            cancel,
        },
        writers,
    )
}

pub type Https = HttpClient<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A client configuration trusting only the test CA.
pub fn client_config(ca_pem: &str, alpn: &[&[u8]]) -> rustls::ClientConfig {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}

/// An HTTPS client; `http2` forces h2 through ALPN.
pub fn https(ca_pem: &str, http2: bool) -> Https {
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(client_config(ca_pem, &[]))
        .https_only();
    let connector = if http2 {
        builder.enable_http2().build()
    } else {
        builder.enable_http1().build()
    };
    let mut client = HttpClient::builder(TokioExecutor::new());
    if http2 {
        client.http2_only(true);
    }
    client.build(connector)
}

/// POSTs a body; returns status, content type and body.
pub async fn post(client: &Https, url: &str, body: Vec<u8>) -> (u16, String, Vec<u8>) {
    let (status, headers, body) = call(client, http::Method::POST, url, body).await;
    let content_type = headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, body)
}

/// Sends a JSON body with `method`; returns status, headers and body.
pub async fn call(
    client: &Https,
    method: http::Method,
    url: &str,
    body: Vec<u8>,
) -> (u16, http::HeaderMap, Vec<u8>) {
    let request = http::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

/// GETs a plain HTTP URL.
pub async fn get_plain(url: &str) -> (u16, String) {
    let client: HttpClient<HttpConnector, Full<Bytes>> =
        HttpClient::builder(TokioExecutor::new()).build(HttpConnector::new());
    let response = client.get(url.parse().unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// An AdmissionReview for a typed object.
pub fn review<T: kube::Resource<DynamicType = ()> + serde::Serialize>(
    uid: &str,
    operation: &str,
    object: Option<&T>,
    old: Option<&T>,
) -> Value {
    let meta = object.or(old).unwrap().meta().clone();
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": T::group(&()), "version": T::version(&()), "kind": T::kind(&())},
            "resource": {"group": T::group(&()), "version": T::version(&()), "resource": T::plural(&())},
            "namespace": meta.namespace,
            "name": meta.name,
            "operation": operation,
            "userInfo": {"username": "tester"},
            "object": object.map(|o| serde_json::to_value(o).unwrap()),
            "oldObject": old.map(|o| serde_json::to_value(o).unwrap()),
            "dryRun": false
        }
    })
}

/// The `response` of a review body.
pub fn response_of(body: &[u8]) -> Value {
    let review: Value = serde_json::from_slice(body).unwrap();
    review["response"].clone()
}
