//! The engine alone, in process: CPU time per review of each kind, without TLS or HTTP.

use std::sync::Arc;
use std::time::Instant;

use medusa_crds::rules::Policy;
use medusa_webhook::cache::Caches;
use medusa_webhook::engine::Engine;
use medusa_webhook::metrics::Metrics;

use crate::workload::{populate, workload};

/// The engine alone, in process: CPU time per review of each kind in the mix, without TLS or
/// HTTP. Returns (label, µs per review) and the weighted mean.
pub fn engine_cost(iterations: usize) -> (Vec<(String, f64)>, f64) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (caches, mut writers) = Caches::new();
        populate(&mut writers);
        let engine = Engine::new(
            caches,
            None,
            Arc::new(Policy::default()),
            Arc::new(Metrics::new()),
        );
        let mut rows = Vec::new();
        let mut weighted = 0.0;
        let mut weights = 0.0;
        let only = std::env::var("MEDUSA_BENCH_ONLY").ok();
        for (weight, path, body) in workload() {
            let review: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let label = format!(
                "{} {} {} ({} bytes)",
                path,
                review["request"]["operation"].as_str().unwrap(),
                review["request"]["kind"]["kind"].as_str().unwrap(),
                body.len()
            );
            if only.as_deref().is_some_and(|only| !label.contains(only)) {
                continue;
            }
            let endpoint = if path == "/mutate" {
                medusa_webhook::engine::Endpoint::Mutate
            } else {
                medusa_webhook::engine::Endpoint::Validate
            };
            let started = Instant::now();
            for _ in 0..iterations {
                let review = medusa_webhook::admission::parse_review(&body).unwrap();
                let response = engine.review(endpoint, &review.request).await;
                std::hint::black_box(medusa_webhook::admission::review_body(
                    &review.api_version,
                    &response,
                ));
            }
            let micros = started.elapsed().as_secs_f64() * 1e6 / iterations as f64;
            rows.push((label, micros));
            weighted += micros * f64::from(weight);
            weights += f64::from(weight);
        }
        if only.is_none() {
            // The same mix, interleaved as the server sees it: no kind stays hot in the caches.
            let mix: Vec<(medusa_webhook::engine::Endpoint, Vec<u8>)> = workload()
                .into_iter()
                .flat_map(|(weight, path, body)| {
                    let endpoint = if path == "/mutate" {
                        medusa_webhook::engine::Endpoint::Mutate
                    } else {
                        medusa_webhook::engine::Endpoint::Validate
                    };
                    (0..weight).map(move |_| (endpoint, body.clone()))
                })
                .collect();
            let rounds = iterations / 10;
            let started = Instant::now();
            for round in 0..rounds {
                for i in 0..mix.len() {
                    // A stride co-prime with the mix's length visits every review in a shuffled order.
                    let (endpoint, body) = &mix[(i * 7 + round) % mix.len()];
                    let review = medusa_webhook::admission::parse_review(body).unwrap();
                    let response = engine.review(*endpoint, &review.request).await;
                    std::hint::black_box(medusa_webhook::admission::review_body(
                        &review.api_version,
                        &response,
                    ));
                }
            }
            let micros = started.elapsed().as_secs_f64() * 1e6 / (rounds * mix.len()) as f64;
            rows.push(("the mix, interleaved".to_owned(), micros));
            rows.extend(reading_cost(&mix, rounds));
        }
        (rows, weighted / weights)
    })
}

/// What reading the mix's reviews costs on its own: as the webhook reads them (every field the
/// rules use, each object split into its metadata and the text of its spec), and as the
/// baseline does (only the uid, the rest skipped), both with `serde_json`.
fn reading_cost(
    mix: &[(medusa_webhook::engine::Endpoint, Vec<u8>)],
    rounds: usize,
) -> Vec<(String, f64)> {
    #[derive(serde::Deserialize)]
    struct UidOnly<'a> {
        #[serde(borrow)]
        request: Uid<'a>,
    }
    #[derive(serde::Deserialize)]
    struct Uid<'a> {
        uid: &'a str,
    }
    let per_review = |read: &dyn Fn(&[u8]) -> usize| {
        let started = Instant::now();
        let mut sum = 0;
        for _ in 0..rounds {
            for (_, body) in mix {
                sum += read(body);
            }
        }
        std::hint::black_box(sum);
        started.elapsed().as_secs_f64() * 1e6 / (rounds * mix.len()) as f64
    };
    vec![
        (
            "reading a review as the webhook does".to_owned(),
            per_review(&|body| {
                medusa_webhook::admission::parse_review(body)
                    .unwrap()
                    .request
                    .uid
                    .len()
            }),
        ),
        (
            "reading only the uid, as the baseline does".to_owned(),
            per_review(&|body| {
                serde_json::from_slice::<UidOnly<'_>>(body)
                    .unwrap()
                    .request
                    .uid
                    .len()
            }),
        ),
    ]
}
