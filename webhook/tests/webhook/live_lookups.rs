//! Live lookups as the webhook makes them: where its caches miss an object a rule expects, it
//! asks the API server, inline, within the review's budget; the answers are played by a mock
//! API server that checks each request and refuses any other.

use crate::support;

use std::pin::pin;
use std::time::{Duration, Instant};

use http::{Request, Response};
use kube::client::Body;
use medusa_crds::rules::Policy;
use medusa_crds::*;
use serde_json::{Value, json};
use support::*;

/// One request the API server expects, and its answer.
struct Expected {
    path: &'static str,
    status: u16,
    body: Value,
}

fn get(path: &'static str, status: u16, body: Value) -> Expected {
    Expected { path, status, body }
}

const DC2: &str =
    "/apis/cassandra.datastax.com/v1beta1/namespaces/k8ssandra/cassandradatacenters/dc2";

/// A webhook with datacenter dc1 and configuration s3 in its caches, whose live lookups go to
/// an API server that answers `expected`, in order, and nothing else (or never answers at all).
struct Webhook {
    server: TestServer,
    client: Https,
    api: tokio::task::JoinHandle<()>,
}

enum Api {
    Answers(Vec<Expected>),
    Silent,
}

async fn webhook(api: Api, policy: Policy) -> Webhook {
    let (mock, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let live = kube::Client::new(mock, "default");
    let api = tokio::spawn(async move {
        match api {
            Api::Answers(expected) => answer(handle, expected).await,
            // Holds the handle open without answering.
            Api::Silent => std::future::pending::<()>().await,
        }
    });
    let (server, _writers) = start(
        Options {
            live: Some(live),
            policy,
            ..Options::default()
        },
        dc1_and_s3,
    )
    .await;
    let client = https(&server.bundle.ca_pem, false);
    Webhook {
        server,
        client,
        api,
    }
}

/// Answers the kube client's requests in order, asserting each, then expects no more.
async fn answer(
    handle: tower_test::mock::Handle<Request<Body>, Response<Body>>,
    expected: Vec<Expected>,
) {
    let mut handle = pin!(handle);
    for Expected { path, status, body } in expected {
        let (request, send) = handle
            .next_request()
            .await
            .unwrap_or_else(|| panic!("the webhook never asked for GET {path}"));
        assert_eq!(
            (request.method().as_str(), request.uri().path()),
            ("GET", path),
            "expected the live lookup GET {path}"
        );
        send.send_response(
            Response::builder()
                .status(status)
                .body(Body::from(serde_json::to_vec(&body).unwrap()))
                .unwrap(),
        );
    }
    if let Ok(Some((request, _))) =
        tokio::time::timeout(Duration::from_millis(200), handle.next_request()).await
    {
        panic!(
            "expected no other API call, got {} {}",
            request.method(),
            request.uri()
        );
    }
}

impl Webhook {
    /// The `response` of the review `body` sent to `endpoint`.
    async fn review(&self, endpoint: &str, body: Value) -> Value {
        let (_, _, bytes) = post(
            &self.client,
            &self.server.url(endpoint),
            serde_json::to_vec(&body).unwrap(),
        )
        .await;
        response_of(&bytes)
    }

    /// Waits until the API server has played every answer.
    async fn played(self) {
        self.api.await.unwrap();
    }
}

fn create<T: kube::Resource<DynamicType = ()> + serde::Serialize>(object: &T) -> Value {
    review("uid-live", "CREATE", Some(object), None)
}

#[tokio::test]
async fn a_cache_miss_is_confirmed_by_one_live_get() {
    let webhook = webhook(
        Api::Answers(vec![get(
            DC2,
            200,
            serde_json::to_value(CassandraDatacenter::test("dc2")).unwrap(),
        )]),
        Policy::default(),
    )
    .await;
    // A dry run: answered like any other, and only read.
    let mut body = create(&MedusaBackupJob::test("nightly").dc("dc2"));
    body["request"]["dryRun"] = json!(true);
    let response = webhook.review("/validate", body).await;
    assert_eq!(response["allowed"], true, "{response}");
    webhook.played().await;
}

#[tokio::test]
async fn labelling_a_job_named_like_a_scheduled_one_costs_no_live_lookup() {
    // `dc1-20240501100000` reads as schedule `dc1` and a time: the schedule is looked up in the
    // cache only, so the plugin's default job names never cost an API round trip.
    let webhook = webhook(Api::Answers(Vec::new()), Policy::default()).await;
    let response = webhook
        .review(
            "/mutate",
            create(&MedusaBackupJob::test("dc1-20240501100000")),
        )
        .await;
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!(response["patchType"], "JSONPatch", "{response}");
    webhook.played().await;
}

#[tokio::test]
async fn a_live_miss_confirms_the_denial() {
    let not_found = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404, "message": "cassandradatacenters.cassandra.datastax.com \"dc2\" not found"});
    let webhook = webhook(
        Api::Answers(vec![get(DC2, 404, not_found)]),
        Policy::default(),
    )
    .await;
    let response = webhook
        .review(
            "/validate",
            create(&MedusaBackupJob::test("nightly").dc("dc2")),
        )
        .await;
    assert_eq!(response["allowed"], false, "{response}");
    webhook.played().await;
}

#[tokio::test]
async fn a_slow_live_lookup_is_cut_by_the_budget_and_follows_the_policy() {
    let policy = Policy::from_yaml("lookups:\n  budgetMs: 200\n  onFailure: deny\n").unwrap();
    let webhook = webhook(Api::Silent, policy).await;
    let started = Instant::now();
    let response = webhook
        .review(
            "/validate",
            create(&MedusaBackupJob::test("nightly").dc("dc2")),
        )
        .await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(response["allowed"], false, "{response}");
    assert!(
        response["status"]["message"]
            .as_str()
            .unwrap()
            .contains("did not answer within the 200 ms budget"),
        "{response}"
    );
}

#[tokio::test]
async fn the_credentials_key_is_checked_live_and_the_data_dropped() {
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "medusa-bucket-key", "namespace": "k8ssandra"}, "data": {"not-credentials": "c2VjcmV0"}});
    let webhook = webhook(
        Api::Answers(vec![get(
            "/api/v1/namespaces/k8ssandra/secrets/medusa-bucket-key",
            200,
            secret,
        )]),
        Policy::default(),
    )
    .await;
    let response = webhook
        .review("/validate", create(&MedusaConfiguration::test("s3")))
        .await;
    assert_eq!(response["allowed"], false, "{response}");
    assert!(
        response["status"]["message"]
            .as_str()
            .unwrap()
            .contains("has no `credentials` key"),
        "{response}"
    );
    assert!(!response.to_string().contains("c2VjcmV0"));
    webhook.played().await;
}
