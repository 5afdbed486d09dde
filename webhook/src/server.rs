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
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::routing::get;
use futures::future::{self, BoxFuture, FutureExt};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body, Bytes, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
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

/// The admission endpoints, `POST /validate` and `POST /mutate`, served without a router: two
/// fixed paths need no path matching, URL parameters or boxed services, and a review's body is
/// read and answered as it is, unboxed. Anything else is a 404, and another method a 405.
#[derive(Clone)]
pub struct Admission {
    state: Arc<AppState>,
}

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admission")
            .field("limits", &self.state.limits)
            .finish_non_exhaustive()
    }
}

struct AppState {
    engine: Arc<Engine>,
    limits: Limits,
    in_flight: Semaphore,
}

/// The admission endpoints of `engine`, under `limits`.
pub fn admission_service(engine: Arc<Engine>, limits: Limits) -> Admission {
    Admission {
        state: Arc::new(AppState {
            engine,
            limits,
            in_flight: Semaphore::new(limits.max_in_flight),
        }),
    }
}

/// A response of the admission server.
pub type Reply = http::Response<Full<Bytes>>;

/// The future of a [`Reply`]: a review's work is large, and is moved once, into its box.
pub type ReplyFuture = BoxFuture<'static, Result<Reply, Infallible>>;

impl hyper::service::Service<http::Request<Incoming>> for Admission {
    type Response = Reply;
    type Error = Infallible;
    type Future = ReplyFuture;

    fn call(&self, request: http::Request<Incoming>) -> ReplyFuture {
        let endpoint = match request.uri().path() {
            "/validate" => Endpoint::Validate,
            "/mutate" => Endpoint::Mutate,
            path => {
                let message = format!(
                    "medusa-webhook serves POST /validate and POST /mutate, not {path}: check the path of the webhook configuration's clientConfig"
                );
                return future::ready(Ok(text(StatusCode::NOT_FOUND, message))).boxed();
            }
        };
        if request.method() != Method::POST {
            let mut refused = text(
                StatusCode::METHOD_NOT_ALLOWED,
                format!(
                    "{} accepts only POST (an AdmissionReview), not {}",
                    request.uri().path(),
                    request.method()
                ),
            );
            refused
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return future::ready(Ok(refused)).boxed();
        }
        admit(self.state.clone(), endpoint, request.into_body())
            .map(Ok)
            .boxed()
    }
}

const TEXT: &str = "text/plain; charset=utf-8";

/// A response with this status, content type and body (the content type is a constant header:
/// nothing to parse or hash).
fn reply(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    let mut response = http::Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn text(status: StatusCode, message: String) -> Reply {
    reply(status, TEXT, message)
}

async fn admit(state: Arc<AppState>, endpoint: Endpoint, body: Incoming) -> Reply {
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
    let body = Limited::new(body, state.limits.max_body_bytes);
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
        Answer::Review(body) => reply(StatusCode::OK, "application/json", body),
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

/// What [`serve_tls`] serves on each connection: [`Admission`], or a router wrapped in
/// `hyper_util::service::TowerToHyperService`.
pub trait ConnectionService:
    hyper::service::Service<
        http::Request<Incoming>,
        Response = http::Response<Self::Body>,
        Error = Infallible,
        Future: Send + 'static,
    > + Clone
    + Send
    + 'static
{
    /// The body of its responses.
    type Body: Body<Data = Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>>
        + Send
        + 'static;
}

impl<S, B> ConnectionService for S
where
    S: hyper::service::Service<
            http::Request<Incoming>,
            Response = http::Response<B>,
            Error = Infallible,
            Future: Send + 'static,
        > + Clone
        + Send
        + 'static,
    B: Body<Data = Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>> + Send + 'static,
{
    type Body = B;
}

/// Serves `service` over TLS until cancelled; connections in flight are allowed to finish.
pub async fn serve_tls(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    service: impl ConnectionService,
    limits: Limits,
    cancel: CancellationToken,
) {
    serve_tls_counted(listener, tls, service, limits, cancel, None).await;
}

/// [`serve_tls`], counting the connections refused past `max_connections` in `metrics`.
pub async fn serve_tls_counted(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    service: impl ConnectionService,
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
        let service = service.clone();
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
    service: impl ConnectionService,
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
