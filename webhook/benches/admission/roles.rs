//! The two servers the bench measures, each in a child process: the webhook as deployed, and
//! the baseline.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::routing::post;
use bytes::Bytes;
use hyper_util::service::TowerToHyperService;
use medusa_crds::rules::Policy;
use medusa_webhook::args::LogFormat;
use medusa_webhook::cache::Caches;
use medusa_webhook::decisions::DecisionLog;
use medusa_webhook::engine::Engine;
use medusa_webhook::metrics::Metrics;
use medusa_webhook::server::{ConnectionService, Limits, admission_service, serve_tls};
use medusa_webhook::tls::{CertificateStore, load_files, server_config};
use tokio_util::sync::CancellationToken;

use crate::workload::populate;

pub async fn serve_role(role: &str) {
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
    match role {
        "webhook" => {
            let caches = caches();
            let dropped = metrics.decision_lines_dropped();
            let mut engine = Engine::new(caches, None, Arc::new(Policy::default()), metrics);
            if logs {
                medusa_webhook::decisions::widen_pipe(std::io::stdout());
                let (decisions, _writer) = DecisionLog::spawn(
                    LogFormat::Json,
                    std::io::stdout(),
                    8 * 1024 * 1024,
                    dropped,
                )
                .unwrap();
                engine = engine.with_decision_log(decisions);
            }
            serve(admission_service(Arc::new(engine), limits), tls, limits).await;
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
            let router = Router::new()
                .route("/validate", post(handler))
                .route("/mutate", post(handler));
            serve(TowerToHyperService::new(router), tls, limits).await;
        }
    }
}

/// Serves `service` on a port of 127.0.0.1 it prints, until stdin closes.
async fn serve(service: impl ConnectionService, tls: Arc<rustls::ServerConfig>, limits: Limits) {
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
    serve_tls(listener, tls, service, limits, cancel).await;
}

/// The caches of the bench's workload; for the soak (`SOAK_WRITES`), a writer then adds,
/// updates and deletes cached objects as watch events do.
fn caches() -> Arc<Caches> {
    let (caches, mut writers) = Caches::new();
    populate(&mut writers);
    if let Some(rate) = std::env::var("SOAK_WRITES")
        .ok()
        .and_then(|r| r.parse::<u64>().ok())
    {
        tokio::spawn(crate::workload::churn(writers, rate));
    }
    caches
}
