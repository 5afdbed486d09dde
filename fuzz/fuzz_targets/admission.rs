//! The whole admission path: arbitrary bytes as a request body, through review parsing, the
//! engine over populated caches, and the answer's encoding. The answer is a well-formed
//! AdmissionReview with the request's uid, or a 4xx; never a panic.
#![no_main]

use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use medusa_crds::rules::Policy;
use medusa_crds::*;
use medusa_webhook::admission::parse_review;
use medusa_webhook::cache::Caches;
use medusa_webhook::engine::Engine;
use medusa_webhook::labels::Endpoint;
use medusa_webhook::metrics::Metrics;
use medusa_webhook::server::{Answer, answer};
use serde_json::Value;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let (caches, mut writers) = Caches::new();
        writers.ready_empty();
        writers.of::<CassandraDatacenter>().fill([CassandraDatacenter::test("dc1")]);
        writers.of::<MedusaConfiguration>().fill([MedusaConfiguration::test("s3")]);
        writers.of::<K8ssandraCluster>().fill([K8ssandraCluster::test("demo")]);
        writers.of::<MedusaBackup>().fill([MedusaBackup::test("nightly")]);
        writers
            .of::<MedusaBackupJob>()
            .fill([MedusaBackupJob::test("nightly").started("2024-05-01T10:00:00Z")]);
        writers.of::<MedusaBackupSchedule>().fill([MedusaBackupSchedule::test("dc1")]);
        Engine::new(caches, None, Arc::new(Policy::default()), Arc::new(Metrics::new()))
    })
}

fuzz_target!(|data: &[u8]| {
    let endpoint = if data.len() % 2 == 0 { Endpoint::Validate } else { Endpoint::Mutate };
    match futures::executor::block_on(answer(engine(), endpoint, data)) {
        Answer::Review(body) => {
            let request = parse_review(data).expect("answered with a review, so the body parsed");
            let out: Value = serde_json::from_slice(&body).expect("the answer is JSON");
            assert_eq!(out["kind"], "AdmissionReview");
            assert_eq!(out["apiVersion"].as_str(), Some(request.api_version.as_ref()));
            let response = &out["response"];
            assert_eq!(response["uid"].as_str(), Some(request.request.uid.as_ref()));
            let allowed = response["allowed"].as_bool().expect("allowed is a boolean");
            if !allowed {
                let message = response["status"]["message"].as_str().unwrap_or_default();
                assert!(!message.is_empty(), "a denial says why");
                assert_eq!(response["status"]["code"], 403);
            }
            if let Some(patch) = response["patch"].as_str() {
                assert_eq!(response["patchType"], "JSONPatch");
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(patch)
                    .expect("the patch is base64");
                let operations: Value = serde_json::from_slice(&bytes).expect("the patch is JSON");
                assert!(operations.is_array(), "the patch is a list of operations");
            }
        }
        Answer::Refused(status, message) => {
            assert!(status.is_client_error(), "{status}: {message}");
            assert!(!message.is_empty());
        }
    }
});
