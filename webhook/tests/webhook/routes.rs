//! The admission port serves `POST /validate` and `POST /mutate` and nothing else: another
//! path is a 404 that names the two, another method a 405 that names POST, over HTTP/1.1 and
//! h2 alike.

use crate::support::*;

use http::Method;
use medusa_crds::*;

fn text(body: Vec<u8>) -> String {
    String::from_utf8(body).unwrap()
}

/// POSTs a review of a new MedusaBackupJob to `url`: a 200 that echoes `uid`.
async fn assert_answers_its_review(client: &Https, url: &str, uid: &str) {
    let body = review(
        uid,
        "CREATE",
        Some(&MedusaBackupJob::test("nightly").dc("dc1")),
        None,
    );
    let (status, _, answer) = call(
        client,
        Method::POST,
        url,
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    assert_eq!(status, 200, "POST {url}: {}", text(answer));
    assert_eq!(response_of(&answer)["uid"], uid, "POST {url}");
}

#[tokio::test]
async fn an_unknown_path_is_404_naming_the_served_paths() {
    let (server, _writers) = start(Options::default(), dc1_and_s3).await;
    let client = https(&server.bundle.ca_pem, false);
    let (status, headers, body) =
        call(&client, Method::POST, &server.url("/admit"), b"{}".to_vec()).await;
    assert_eq!(status, 404, "POST /admit: {}", text(body));
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(
        text(body),
        "medusa-webhook serves POST /validate and POST /mutate, not /admit: check the path of the webhook configuration's clientConfig"
    );
}

#[tokio::test]
async fn another_method_on_an_endpoint_is_405_allowing_post() {
    let (server, _writers) = start(Options::default(), dc1_and_s3).await;
    let client = https(&server.bundle.ca_pem, false);
    for path in ["/validate", "/mutate"] {
        let (status, headers, body) =
            call(&client, Method::GET, &server.url(path), Vec::new()).await;
        assert_eq!(status, 405, "GET {path}: {}", text(body));
        assert_eq!(headers["allow"], "POST", "GET {path}");
        assert_eq!(
            text(body),
            format!("{path} accepts only POST (an AdmissionReview), not GET")
        );
    }
}

#[tokio::test]
async fn h2_is_routed_like_http1() {
    let (server, _writers) = start(Options::default(), dc1_and_s3).await;
    let client = https(&server.bundle.ca_pem, true);
    let (status, _, _) = call(&client, Method::PUT, &server.url("/mutate"), Vec::new()).await;
    assert_eq!(status, 405, "PUT /mutate over h2");
    let (status, _, _) = call(&client, Method::POST, &server.url("/"), Vec::new()).await;
    assert_eq!(status, 404, "POST / over h2");
    assert_answers_its_review(&client, &server.url("/validate"), "uid-h2").await;
}

#[tokio::test]
async fn the_api_servers_timeout_query_is_ignored() {
    // The API server calls `<path>?timeout=10s`: the query is not part of the route.
    let (server, _writers) = start(Options::default(), dc1_and_s3).await;
    let client = https(&server.bundle.ca_pem, false);
    assert_answers_its_review(&client, &server.url("/validate?timeout=10s"), "uid-timeout").await;
}
