//! Properties over generated inputs: the storage merge's provenance, cron's runs, and derived
//! status that never leaves a verdict as the operator's writes arrive.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use chrono::{DateTime, Duration, Timelike, Utc};
use medusa_crds::cron::CronSchedule;
use medusa_crds::fixtures::instant;
use medusa_crds::merge::{FieldSource, MergeInput, merge_storage, schema_default};
use medusa_crds::status::{Graces, Phase, backup_job_status};
use medusa_crds::*;
use proptest::prelude::*;
use serde_json::{Value, json};

// === merge ===

fn storage() -> impl Strategy<Value = Storage> {
    (
        proptest::option::of(prop_oneof![
            "s3",
            "s3_compatible",
            "google_storage",
            "local"
        ]),
        proptest::option::of("[a-z]{0,6}"),
        proptest::option::of("[a-z]{0,6}"),
        proptest::option::of("[a-z]{0,4}"),
        proptest::option::of(-1i64..3),
        proptest::option::of(0i64..65_536),
        proptest::option::of(any::<bool>()),
        proptest::option::of(prop_oneof!["", "50MB/s", "100MB/s"]),
    )
        .prop_map(
            |(provider, bucket, prefix, secret, age, port, secure, bandwidth)| {
                let mut s = serde_json::Map::new();
                let mut put = |key: &str, value: Option<Value>| {
                    if let Some(v) = value {
                        s.insert(key.into(), v);
                    }
                };
                put("storageProvider", provider.map(|p| json!(p)));
                put("bucketName", bucket.map(|b| json!(b)));
                put("prefix", prefix.map(|p| json!(p)));
                put("storageSecretRef", secret.map(|n| json!({ "name": n })));
                put("maxBackupAge", age.map(|a| json!(a)));
                put("port", port.map(|p| json!(p)));
                put("secure", secure.map(|b| json!(b)));
                put("transferMaxBandwidth", bandwidth.map(|b| json!(b)));
                serde_json::from_value(Value::Object(s)).expect("a storage")
            },
        )
}

fn at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(value, |v, key| v.get(key))
        .filter(|v| !v.is_null())
}

proptest! {
    #[test]
    fn every_merged_field_comes_from_the_source_it_names(
        cluster in storage(),
        configuration in proptest::option::of(storage()),
        defaulted in any::<bool>(),
    ) {
        let effective = merge_storage(MergeInput {
            cluster_name: "demo",
            cluster: &cluster,
            configuration: configuration.as_ref(),
            cluster_defaulted: defaulted,
        });
        let merged = serde_json::to_value(&effective.storage).unwrap();
        let mut cluster = cluster.clone();
        if !defaulted {
            cluster.apply_schema_defaults();
        }
        let cluster = serde_json::to_value(&cluster).unwrap();
        let configuration = configuration.map(|c| serde_json::to_value(&c).unwrap());
        for (field, source) in &effective.sources {
            let value = at(&merged, field);
            match source {
                FieldSource::Cluster => {
                    prop_assert_eq!(value, at(&cluster, field), "{} from the cluster", field);
                }
                FieldSource::SchemaDefault => {
                    prop_assert_eq!(value.cloned(), schema_default(field), "{} from the schema default", field);
                }
                FieldSource::Configuration => {
                    prop_assert_eq!(value, configuration.as_ref().and_then(|c| at(c, field)));
                }
                FieldSource::ClusterName => prop_assert_eq!(&effective.prefix, "demo"),
                FieldSource::Unset => {}
            }
        }
    }

    #[test]
    fn without_a_configuration_the_merge_keeps_the_clusters_storage(cluster in storage()) {
        let effective = merge_storage(MergeInput {
            cluster_name: "demo",
            cluster: &cluster,
            configuration: None,
            cluster_defaulted: true,
        });
        prop_assert_eq!(effective.storage, cluster);
    }
}

// === cron ===

/// A standard cron field: `*`, `*/n`, a value, or a range, within `low..=high`.
fn field(low: u32, high: u32) -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_owned()),
        (1..=high - low + 1).prop_map(|n| format!("*/{n}")),
        (low..=high).prop_map(|v| v.to_string()),
        (low..=high, low..=high).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))),
    ]
}

fn expression() -> impl Strategy<Value = String> {
    (
        field(0, 59),
        field(0, 23),
        field(1, 28),
        field(1, 12),
        field(0, 6),
    )
        .prop_map(|(m, h, dom, mon, dow)| format!("{m} {h} {dom} {mon} {dow}"))
}

fn matches(field: &str, value: u32, low: u32) -> bool {
    match field {
        "*" => true,
        f if f.starts_with("*/") => f[2..]
            .parse::<u32>()
            .is_ok_and(|n| (value - low).is_multiple_of(n)),
        f if f.contains('-') => {
            let (a, b) = f.split_once('-').unwrap();
            (a.parse::<u32>().unwrap()..=b.parse::<u32>().unwrap()).contains(&value)
        }
        f => f.parse::<u32>() == Ok(value),
    }
}

proptest! {
    #[test]
    fn runs_are_strictly_increasing_and_match_their_minute_and_hour(
        spec in expression(),
        start in 0i64..4_000_000_000,
    ) {
        let cron = CronSchedule::parse(&spec).unwrap();
        let start = DateTime::<Utc>::from_timestamp(start, 0).unwrap();
        let runs = cron.upcoming(start, 5);
        prop_assert!(!runs.is_empty(), "{spec}: no run after {start}");
        let fields: Vec<&str> = spec.split(' ').collect();
        let mut previous = start;
        for run in runs {
            prop_assert!(run > previous, "{spec}: {run} after {previous}");
            prop_assert_eq!(run.second(), 0);
            prop_assert!(matches(fields[0], run.minute(), 0), "{spec}: minute of {run}");
            prop_assert!(matches(fields[1], run.hour(), 0), "{spec}: hour of {run}");
            previous = run;
        }
    }
}

// === derived status ===

/// The operator's writes to a backup job and its record, in its order: start, each pod's end,
/// `finishTime`, and when every pod succeeded, the record and then its status.
fn writes(pods: &[bool]) -> Vec<(MedusaBackupJob, Option<MedusaBackup>)> {
    let names: Vec<String> = (0..pods.len()).map(|i| format!("p{i}")).collect();
    let mut steps = vec![(MedusaBackupJob::test("b"), None)];
    let started = MedusaBackupJob::test("b").started("2024-05-01T10:00:10Z");
    let mut finished: Vec<&str> = Vec::new();
    let mut failed: Vec<&str> = Vec::new();
    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    steps.push((started.clone().in_progress(&all), None));
    for (i, ok) in pods.iter().enumerate() {
        if *ok {
            finished.push(all[i])
        } else {
            failed.push(all[i])
        }
        let left: Vec<&str> = all[i + 1..].to_vec();
        steps.push((
            started
                .clone()
                .in_progress(&left)
                .finished_pods(&finished)
                .failed_pods(&failed),
            None,
        ));
    }
    let done = started
        .in_progress(&[])
        .finished_pods(&finished)
        .failed_pods(&failed)
        .finished_at("2024-05-01T10:05:00Z");
    steps.push((done.clone(), None));
    if failed.is_empty() {
        steps.push((done.clone(), Some(MedusaBackup::test("b").without_status())));
        steps.push((
            done,
            Some(
                MedusaBackup::test("b").times("2024-05-01T10:00:10Z", Some("2024-05-01T10:05:00Z")),
            ),
        ));
    }
    steps
}

proptest! {
    #[test]
    fn a_backup_never_leaves_a_verdict_as_the_operators_writes_arrive(
        pods in proptest::collection::vec(any::<bool>(), 1..5),
        after_finish in 0i64..900,
    ) {
        let now = instant("2024-05-01T10:05:00Z") + Duration::seconds(after_finish);
        let phases: Vec<Phase> = writes(&pods)
            .iter()
            .map(|(job, record)| backup_job_status(job, record.as_ref(), now, Graces::default()).phase)
            .collect();
        if let Some(first) = phases.iter().position(|p| matches!(p, Phase::Succeeded | Phase::Failed)) {
            for later in &phases[first..] {
                prop_assert!(
                    !matches!(later, Phase::Running | Phase::Pending),
                    "{pods:?} at +{after_finish}s: {phases:?}"
                );
            }
        }
        let last = *phases.last().unwrap();
        let expected = if pods.iter().all(|ok| *ok) { Phase::Succeeded } else { Phase::Failed };
        prop_assert_eq!(last, expected, "{:?}: {:?}", pods, phases);
    }
}
