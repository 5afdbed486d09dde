//! The HTTPS admission server and the plain health server.
//!
//! Admission: `/validate` and `/mutate` over TLS (HTTP/1.1 and h2), with a body limit (413), a
//! body read timeout (408), a TLS handshake and header timeout for slow clients, and 400 for
//! bodies that are not AdmissionReviews. Health: `/healthz`, `/readyz` (503 until every cache
//! synced) and `/metrics`.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post_service};
use http_body_util::{BodyExt, Limited};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::admission::{parse_review, review_body};
use crate::engine::{Endpoint, Engine};
use crate::metrics::Metrics;

/// Limits that protect the server from large and slow requests, and that a cluster operator
/// can rely on under load.
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
    /// Connections served at once; a new one beyond is closed at once (the API server then
    /// retries, reaching another replica through the Service).
    pub max_connections: usize,
    /// Age after which a connection is closed gracefully (HTTP/1.1: after its current request;
    /// h2: GOAWAY), so that load spreads over replicas added since.
    pub max_connection_age: Duration,
    /// Reviews in flight at once (from the first byte of the body to the answer).
    pub max_in_flight: usize,
    /// How long a review may wait for a place in flight before a 503.
    pub queue_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 3 * 1024 * 1024,
            handshake_timeout: Duration::from_secs(5),
            header_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(10),
            max_connections: 1024,
            max_connection_age: Duration::from_secs(300),
            max_in_flight: 256,
            queue_timeout: Duration::from_secs(2),
        }
    }
}

struct AppState {
    engine: Arc<Engine>,
    limits: Limits,
    in_flight: Arc<Semaphore>,
}

fn text(status: StatusCode, message: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message,
    )
        .into_response()
}

/// A 200 with a JSON body (the content type is a constant header: nothing to parse or hash).
fn json(body: Vec<u8>) -> Response {
    let mut response = Response::new(axum::body::Body::from(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

async fn admit(state: Arc<AppState>, endpoint: Endpoint, request: Request) -> Response {
    // A free place is taken at once; only a full server starts the queue's timer.
    let permit = match state.in_flight.try_acquire() {
        Ok(permit) => Ok(Ok(permit)),
        Err(_) => tokio::time::timeout(state.limits.queue_timeout, state.in_flight.acquire()).await,
    };
    let Ok(Ok(_permit)) = permit else {
        state.engine.metrics().review_shed();
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "medusa-webhook has {} reviews in flight (--max-in-flight) and none ended within {} ms; the API server retries on another replica",
                state.limits.max_in_flight,
                state.limits.queue_timeout.as_millis()
            ),
        );
    };
    let body = Limited::new(request.into_body(), state.limits.max_body_bytes);
    // A body that arrived with its headers (the usual review) is taken at once; only one still
    // on its way starts the read timer.
    let mut collect = std::pin::pin!(body.collect());
    let collected = match std::future::poll_fn(|cx| Poll::Ready(collect.as_mut().poll(cx))).await {
        Poll::Ready(collected) => Ok(collected),
        Poll::Pending => tokio::time::timeout(state.limits.body_timeout, collect).await,
    };
    let bytes = match collected {
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
    match answer(&state.engine, endpoint, &bytes).await {
        Answer::Review(body) => json(body),
        Answer::Refused(status, message) => text(status, message),
    }
}

/// What the server answers to a request body.
#[derive(Debug)]
pub enum Answer {
    /// 200 with this AdmissionReview.
    Review(Vec<u8>),
    /// A 400 with this message.
    Refused(StatusCode, String),
}

/// The whole admission path of one body, from its bytes to the answer's: parsing, the rules
/// over the caches, and the encoding (the server adds only HTTP; the fuzz target calls this).
pub async fn answer(engine: &Engine, endpoint: Endpoint, body: &[u8]) -> Answer {
    let review = match parse_review(body) {
        Ok(review) => review,
        Err(e) => {
            tracing::warn!(error = %e, "malformed admission request");
            return Answer::Refused(StatusCode::BAD_REQUEST, e.to_string());
        }
    };
    let response = engine.review(endpoint, &review.request).await;
    Answer::Review(review_body(&review.api_version, &response))
}

/// The admission routes.
pub fn admission_router(engine: Arc<Engine>, limits: Limits) -> Router {
    let state = Arc::new(AppState {
        engine,
        limits,
        in_flight: Arc::new(Semaphore::new(limits.max_in_flight)),
    });
    // Services rather than handlers: a review needs no extractor, and each layer a handler
    // adds (its state's clone, its boxed future) is paid by every review.
    let endpoint = |endpoint: Endpoint| {
        let state = state.clone();
        post_service(tower::service_fn(move |request: Request| {
            let state = state.clone();
            async move { Ok::<_, Infallible>(admit(state, endpoint, request).await) }
        }))
    };
    Router::new()
        .route("/validate", endpoint(Endpoint::Validate))
        .route("/mutate", endpoint(Endpoint::Mutate))
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
    serve_tls_counted(listener, tls, router, limits, cancel, None).await;
}

/// [`serve_tls`], counting the connections refused past `max_connections` in `metrics`.
pub async fn serve_tls_counted(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    router: Router,
    limits: Limits,
    cancel: CancellationToken,
    metrics: Option<Arc<Metrics>>,
) {
    let acceptor = TlsAcceptor::from(tls);
    let connections = TaskTracker::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
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
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Closed at once rather than queued: the client retries elsewhere.
            tracing::warn!(%peer, max = limits.max_connections, "connection refused: --max-connections reached");
            if let Some(metrics) = &metrics {
                metrics.connection_refused();
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(router.clone());
        let cancel = cancel.clone();
        connections.spawn(async move {
            let _slot = slot;
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
            serve_connection(tls_stream, service, limits, cancel, peer).await;
        });
    }
    drop(listener);
    connections.close();
    if tokio::time::timeout(Duration::from_secs(10), connections.wait())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after 10 s; closing");
    }
}

/// Serves one connection until it ends, is older than `max_connection_age`, or the server
/// stops; the last two close it gracefully.
async fn serve_connection(
    stream: tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
    service: TowerToHyperService<Router>,
    limits: Limits,
    cancel: CancellationToken,
    peer: SocketAddr,
) {
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
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = tokio::time::sleep(limits.max_connection_age) => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
        () = cancel.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
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
