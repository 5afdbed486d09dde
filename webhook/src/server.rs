//! The HTTPS admission server and the plain health server.
//!
//! Admission: `/validate` and `/mutate` over TLS (HTTP/1.1 and h2), with a body limit (413), a
//! body read timeout (408), a TLS handshake and header timeout for slow clients, and 400 for
//! bodies that are not AdmissionReviews. Health: `/healthz`, `/readyz` (503 until every cache
//! synced) and `/metrics`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::{BodyExt, Limited};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::admission::{parse_review, review_body};
use crate::engine::{Endpoint, Engine};

/// Limits that protect the server from large and slow requests.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest accepted body (the API server caps objects at 3 MiB).
    pub max_body_bytes: usize,
    /// Time for a client to finish the TLS handshake.
    pub handshake_timeout: Duration,
    /// Time for a client to send the request headers.
    pub header_timeout: Duration,
    /// Time for a client to send the request body.
    pub body_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 3 * 1024 * 1024,
            handshake_timeout: Duration::from_secs(5),
            header_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Clone)]
struct AppState {
    engine: Arc<Engine>,
    limits: Limits,
}

fn text(status: StatusCode, message: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message,
    )
        .into_response()
}

async fn admit(state: AppState, endpoint: Endpoint, request: Request) -> Response {
    let body = Limited::new(request.into_body(), state.limits.max_body_bytes);
    let bytes = match tokio::time::timeout(state.limits.body_timeout, body.collect()).await {
        Err(_) => {
            return text(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} s",
                    state.limits.body_timeout.as_secs()
                ),
            );
        }
        Ok(Err(e))
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the AdmissionReview is larger than {} bytes",
                    state.limits.max_body_bytes
                ),
            );
        }
        Ok(Err(e)) => {
            return text(
                StatusCode::BAD_REQUEST,
                format!("cannot read the request body: {e}"),
            );
        }
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    let review = match parse_review(&bytes) {
        Ok(review) => review,
        Err(e) => {
            tracing::warn!(error = %e, "malformed admission request");
            return text(StatusCode::BAD_REQUEST, e.to_string());
        }
    };
    let response = state.engine.review(endpoint, &review.request).await;
    match review_body(&review.api_version, &response) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode the response: {e}"),
        ),
    }
}

/// The admission routes.
pub fn admission_router(engine: Arc<Engine>, limits: Limits) -> Router {
    let state = AppState { engine, limits };
    Router::new()
        .route(
            "/validate",
            post(|State(state): State<AppState>, request: Request| {
                admit(state, Endpoint::Validate, request)
            }),
        )
        .route(
            "/mutate",
            post(|State(state): State<AppState>, request: Request| {
                admit(state, Endpoint::Mutate, request)
            }),
        )
        .with_state(state)
}

/// The health routes.
pub fn health_router(engine: Arc<Engine>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(|State(engine): State<Arc<Engine>>| async move {
                let pending = engine.caches().pending();
                if pending.is_empty() {
                    text(StatusCode::OK, "ok".into())
                } else {
                    text(
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!("caches still syncing: {}", pending.join(", ")),
                    )
                }
            }),
        )
        .route(
            "/metrics",
            get(|State(engine): State<Arc<Engine>>| async move {
                let body = engine.metrics().encode(engine.caches());
                (
                    [(
                        header::CONTENT_TYPE,
                        // prometheus-client writes OpenMetrics (`_total` counters, `# EOF`).
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    body,
                )
            }),
        )
        .with_state(engine)
}

/// Serves a router over TLS until cancelled; connections in flight are allowed to finish.
pub async fn serve_tls(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    router: Router,
    limits: Limits,
    cancel: CancellationToken,
) {
    let acceptor = TlsAcceptor::from(tls);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let (stream, peer) = tokio::select! {
            () = cancel.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(router.clone());
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let tls_stream =
                match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(stream)).await
                {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake timed out");
                        return;
                    }
                };
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .keep_alive(true);
            builder
                .http2()
                .timer(hyper_util::rt::TokioTimer::new())
                .keep_alive_interval(Some(Duration::from_secs(30)))
                .max_concurrent_streams(256);
            let connection = builder.serve_connection(TokioIo::new(tls_stream), service);
            if let Err(e) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(10), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after 10 s; closing");
    }
}

/// Serves a router over plain HTTP until cancelled.
pub async fn serve_plain(listener: TcpListener, router: Router, cancel: CancellationToken) {
    let result = axum::serve(listener, router)
        .with_graceful_shutdown(async move { cancel.cancelled().await })
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "health server failed");
    }
}

/// Binds a TCP listener, naming the address on failure.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))
}
