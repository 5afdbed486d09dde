//! What the caches hold and the mix of reviews the clients send.

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::PartialObjectMeta;
use medusa_crds::*;
use serde_json::json;

pub const NAMESPACES: usize = 20;
pub const CLUSTERS_PER_NAMESPACE: usize = 10;
pub const BACKUPS_PER_CLUSTER: usize = 10;
pub const SECRETS: usize = 10_000;

pub fn ns(i: usize) -> String {
    format!("team-{i:02}")
}

pub fn populate(writers: &mut medusa_webhook::cache::Writers) {
    let mut clusters = Vec::new();
    let mut datacenters = Vec::new();
    let mut backups = Vec::new();
    let mut configurations = Vec::new();
    for n in 0..NAMESPACES {
        let namespace = ns(n);
        configurations.push(MedusaConfiguration::test("s3").namespace(&namespace));
        for c in 0..CLUSTERS_PER_NAMESPACE {
            let name = format!("c{c}");
            let dc = format!("{name}-dc1");
            let mut cluster = K8ssandraCluster::test(&name)
                .namespace(&namespace)
                .configuration_ref("s3");
            cluster.spec.cassandra = None;
            clusters.push(cluster.add_datacenter(&dc, None, None, 3));
            datacenters.push(
                CassandraDatacenter::test(&dc)
                    .namespace(&namespace)
                    .cluster(&name),
            );
            for b in 0..BACKUPS_PER_CLUSTER {
                backups.push(
                    MedusaBackup::test(&format!("{dc}-backup-{b}"))
                        .namespace(&namespace)
                        .dc(&dc),
                );
            }
        }
    }
    let secrets = (0..SECRETS).map(|i| PartialObjectMeta::<Secret> {
        types: None,
        metadata: ObjectMeta {
            name: Some(if i < NAMESPACES {
                "medusa-bucket-key".into()
            } else {
                format!("secret-{i}")
            }),
            namespace: Some(ns(i % NAMESPACES)),
            uid: Some(format!("00000000-0000-4000-8000-{i:012}")),
            resource_version: Some(format!("{}", 1000 + i)),
            ..ObjectMeta::default()
        },
        _phantom: std::marker::PhantomData,
    });
    writers.of::<MedusaConfiguration>().fill(configurations);
    writers.of::<K8ssandraCluster>().fill(clusters);
    writers.of::<CassandraDatacenter>().fill(datacenters);
    writers.of::<MedusaBackup>().fill(backups);
    writers.of::<MedusaBackupJob>().fill([]);
    writers.of::<MedusaRestoreJob>().fill([]);
    writers.of::<MedusaTask>().fill([]);
    writers
        .of::<MedusaBackupSchedule>()
        .fill([MedusaBackupSchedule::test("nightly")
            .namespace(&ns(0))
            .dc("c0-dc1")]);
    writers.secrets.fill(secrets);
}

pub fn review<T: kube::Resource<DynamicType = ()> + serde::Serialize>(
    operation: &str,
    object: Option<&T>,
    old: Option<&T>,
) -> Vec<u8> {
    let meta = object.or(old).unwrap().meta().clone();
    serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "3f0c8f5e-7a0b-4b7e-9f3a-5d8e2c1b0a99",
            "kind": {"group": T::group(&()), "version": T::version(&()), "kind": T::kind(&())},
            "resource": {"group": T::group(&()), "version": T::version(&()), "resource": T::plural(&())},
            "requestKind": {"group": T::group(&()), "version": T::version(&()), "kind": T::kind(&())},
            "namespace": meta.namespace,
            "name": meta.name,
            "operation": operation,
            "userInfo": {"username": "system:serviceaccount:k8ssandra-operator:k8ssandra-operator", "uid": "a1", "groups": ["system:serviceaccounts", "system:authenticated"]},
            "object": object.map(|o| serde_json::to_value(o).unwrap()),
            "oldObject": old.map(|o| serde_json::to_value(o).unwrap()),
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
        }
    }))
    .unwrap()
}

/// The mix: (weight, path, body); each review has a uid of its own, which the answer must echo.
pub fn workload() -> Vec<(u32, &'static str, Vec<u8>)> {
    let mut mix = reviews();
    for (i, (_, _, body)) in mix.iter_mut().enumerate() {
        let mut value: serde_json::Value = serde_json::from_slice(body).unwrap();
        value["request"]["uid"] = json!(uid_of(i));
        *body = serde_json::to_vec(&value).unwrap();
    }
    mix
}

pub fn uid_of(index: usize) -> String {
    format!("3f0c8f5e-7a0b-4b7e-9f3a-{index:012}")
}

pub fn reviews() -> Vec<(u32, &'static str, Vec<u8>)> {
    let namespace = ns(3);
    let job = MedusaBackupJob::test("c4-dc1-20240501100000")
        .namespace(&namespace)
        .dc("c4-dc1");
    let scheduled = MedusaBackupJob::test("nightly-1714528800")
        .namespace(&ns(0))
        .dc("c0-dc1");
    let sync = MedusaTask::test("sync-1", Operation::Sync)
        .namespace(&namespace)
        .dc("c4-dc1");
    let purge = MedusaTask::test("purge-1", Operation::Purge)
        .namespace(&namespace)
        .dc("c4-dc1");
    let restore = MedusaRestoreJob::test("restore-1")
        .namespace(&namespace)
        .dc("c4-dc1")
        .backup("c4-dc1-backup-3");
    let schedule = MedusaBackupSchedule::test("nightly")
        .namespace(&ns(0))
        .dc("c0-dc1");
    let backup = MedusaBackup::test("c4-dc1-backup-1")
        .namespace(&namespace)
        .dc("c4-dc1");
    let mut cluster = K8ssandraCluster::test("c5")
        .namespace(&namespace)
        .configuration_ref("s3");
    cluster.spec.cassandra = None;
    let cluster = cluster.add_datacenter("c5-dc1", None, None, 3);
    let mut new_cluster = K8ssandraCluster::test("fresh")
        .namespace(&namespace)
        .configuration_ref("s3");
    new_cluster.spec.cassandra = None;
    let new_cluster = new_cluster.add_datacenter("fresh-dc1", None, None, 3);
    vec![
        (30, "/validate", review("CREATE", Some(&job), None)),
        (15, "/mutate", review("CREATE", Some(&job), None)),
        (5, "/mutate", review("CREATE", Some(&scheduled), None)),
        (10, "/validate", review("CREATE", Some(&sync), None)),
        (5, "/validate", review("CREATE", Some(&purge), None)),
        (10, "/validate", review("DELETE", None, Some(&backup))),
        (5, "/validate", review("CREATE", Some(&restore), None)),
        (
            5,
            "/validate",
            review(
                "UPDATE",
                Some(&schedule.clone().disabled()),
                Some(&schedule),
            ),
        ),
        (
            10,
            "/validate",
            review(
                "UPDATE",
                Some(&cluster.clone().label("team", "x")),
                Some(&cluster),
            ),
        ),
        (5, "/validate", review("CREATE", Some(&new_cluster), None)),
    ]
}

/// Watch events without end, `per_second` of them: backup jobs created, their status updated,
/// then deleted, and MedusaBackups added and removed, so that the caches keep a steady size
/// while every entry keeps changing (what a busy cluster's watches deliver).
pub async fn churn(mut writers: medusa_webhook::cache::Writers, per_second: u64) {
    use kube::runtime::watcher::Event;
    let period = std::time::Duration::from_micros(1_000_000 / per_second.max(1));
    let mut tick = tokio::time::interval(period);
    let mut i: u64 = 0;
    loop {
        tick.tick().await;
        let namespace = ns((i as usize) % NAMESPACES);
        let dc = format!("c{}-dc1", i as usize % CLUSTERS_PER_NAMESPACE);
        let job = format!("soak-{}", i % 500);
        match i % 4 {
            0 => writers.of::<MedusaBackupJob>().apply(Event::Apply(
                MedusaBackupJob::test(&job).namespace(&namespace).dc(&dc),
            )),
            1 => writers.of::<MedusaBackupJob>().apply(Event::Apply(
                MedusaBackupJob::test(&job)
                    .namespace(&namespace)
                    .dc(&dc)
                    .started("2024-05-01T10:00:00Z")
                    .in_progress(&["p0", "p1", "p2"]),
            )),
            2 => writers.of::<MedusaBackup>().apply(Event::Apply(
                MedusaBackup::test(&job).namespace(&namespace).dc(&dc),
            )),
            _ => {
                writers.of::<MedusaBackupJob>().apply(Event::Delete(
                    MedusaBackupJob::test(&job).namespace(&namespace).dc(&dc),
                ));
                writers.of::<MedusaBackup>().apply(Event::Delete(
                    MedusaBackup::test(&job).namespace(&namespace).dc(&dc),
                ));
            }
        }
        i = i.wrapping_add(1);
    }
}
