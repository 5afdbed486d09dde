//! The webhook's tests, one binary: each module one subject, from the engine on a real TLS
//! server to the manifests it ships in and the image it runs from.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

mod kustomize;
mod support;

mod binary;
mod health_metrics;
mod image;
mod kube_api;
mod limits;
mod live_lookups;
mod manifests;
mod monitoring;
mod readme;
mod routes;
mod server;
