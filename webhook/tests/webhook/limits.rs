//! The limits a cluster operator relies on, over real TLS on 127.0.0.1: connections beyond
//! `max_connections` are closed at once, a connection older than `max_connection_age` is closed
//! after its request, and reviews beyond `max_in_flight` get a 503 after the wait.

use crate::support;

use std::time::{Duration, Instant};

use medusa_crds::*;
use medusa_webhook::server::Limits;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type Tls = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;

fn world(writers: &mut medusa_webhook::cache::Writers) {
    writers
        .of::<CassandraDatacenter>()
        .fill([CassandraDatacenter::test("dc1")]);
}

async fn with_limits(limits: Limits) -> TestServer {
    start(
        Options {
            limits,
            ..Options::default()
        },
        world,
    )
    .await
    .0
}

async fn connect(server: &TestServer) -> std::io::Result<Tls> {
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(client_config(
        &server.bundle.ca_pem,
        &[b"http/1.1"],
    )));
    let tcp = tokio::net::TcpStream::connect(server.addr).await?;
    connector
        .connect("localhost".try_into().unwrap(), tcp)
        .await
}

fn review_request(uid: &str) -> Vec<u8> {
    let body = serde_json::to_vec(&review(
        uid,
        "CREATE",
        Some(&MedusaBackupJob::test("nightly").dc("dc1")),
        None,
    ))
    .unwrap();
    let mut request = format!(
        "POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend(body);
    request
}

/// Sends one review on a keep-alive connection; the status line of the answer.
async fn send_review(stream: &mut Tls, uid: &str) -> String {
    stream.write_all(&review_request(uid)).await.unwrap();
    let mut answer = vec![0u8; 16 * 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .expect("an answer within 5 s")
        .unwrap();
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

#[tokio::test]
async fn a_connection_beyond_max_connections_is_closed_at_once() {
    let server = with_limits(Limits {
        max_connections: 2,
        ..Limits::default()
    })
    .await;
    let first = connect(&server).await.unwrap();
    let _second = connect(&server).await.unwrap();
    let started = Instant::now();
    let third = tokio::time::timeout(Duration::from_secs(2), connect(&server))
        .await
        .expect("refused at once, not queued");
    assert!(
        third.is_err(),
        "a third connection was served with max_connections 2"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    drop(first);
    // The slot frees when the server sees the first connection end.
    let mut again = None;
    for _ in 0..50 {
        if let Ok(stream) = connect(&server).await {
            again = Some(stream);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut again = again.expect("a connection once one of the two closed");
    assert!(
        send_review(&mut again, "uid-again")
            .await
            .starts_with("HTTP/1.1 200")
    );
    let (_, metrics) = get_plain(&server.health_url("/metrics")).await;
    assert!(
        metrics.contains("medusa_webhook_connections_refused_total 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_connection_past_its_age_is_closed_after_its_request() {
    let server = with_limits(Limits {
        max_connection_age: Duration::from_millis(300),
        ..Limits::default()
    })
    .await;
    let mut stream = connect(&server).await.unwrap();
    assert!(
        send_review(&mut stream, "uid-1")
            .await
            .starts_with("HTTP/1.1 200")
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut buffer = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buffer))
        .await
        .expect("closed by the server, not left open")
        .unwrap_or(0);
    assert_eq!(n, 0, "the server closed the idle connection past its age");
}

#[tokio::test]
async fn a_connection_younger_than_its_age_stays_open() {
    let server = with_limits(Limits {
        max_connection_age: Duration::from_secs(60),
        ..Limits::default()
    })
    .await;
    let mut stream = connect(&server).await.unwrap();
    for uid in ["uid-1", "uid-2", "uid-3"] {
        assert!(
            send_review(&mut stream, uid)
                .await
                .starts_with("HTTP/1.1 200")
        );
    }
}

#[tokio::test]
async fn a_review_beyond_max_in_flight_gets_503_after_the_wait() {
    let server = with_limits(Limits {
        max_in_flight: 1,
        queue_timeout: Duration::from_millis(200),
        ..Limits::default()
    })
    .await;
    // The one place in flight is taken by a review whose body is still arriving.
    let mut slow = connect(&server).await.unwrap();
    slow.write_all(b"POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"apiVersion\":")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut other = connect(&server).await.unwrap();
    let started = Instant::now();
    let answer = send_review(&mut other, "uid-shed").await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("--max-in-flight"), "{answer}");
    assert!(started.elapsed() >= Duration::from_millis(200));
    // The slow review's place frees when its client goes away.
    drop(slow);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut next = connect(&server).await.unwrap();
    assert!(
        send_review(&mut next, "uid-next")
            .await
            .starts_with("HTTP/1.1 200")
    );
    let (_, metrics) = get_plain(&server.health_url("/metrics")).await;
    assert!(
        metrics.contains("medusa_webhook_reviews_shed_total 1"),
        "{metrics}"
    );
}
