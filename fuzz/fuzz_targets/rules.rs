//! Structured: `arbitrary` K8ssandraCluster `spec.medusa`, MedusaConfiguration and job objects
//! through every rule, over a cluster view with a datacenter, a cluster, a configuration and
//! a backup. Invariants: a denial always has a message naming the object; a mutation's patch
//! always applies to the object it was computed for.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use medusa_crds::rules::{
    self, AdmissionInput, AdmissionOperation, MemoryView, ObjectText, Policy, ResourceKind,
    Severity,
};
use medusa_crds::*;
use serde_json::{Value, json};

/// A small name: mostly valid, sometimes not.
#[derive(Arbitrary, Debug)]
enum Name {
    Dc1,
    Demo,
    S3,
    Nightly,
    Empty,
    Other(String),
}

impl Name {
    fn text(&self) -> String {
        match self {
            Self::Dc1 => "dc1".into(),
            Self::Demo => "demo".into(),
            Self::S3 => "s3".into(),
            Self::Nightly => "nightly".into(),
            Self::Empty => String::new(),
            Self::Other(s) => s.chars().take(70).collect(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Provider {
    S3,
    S3Compatible,
    GoogleStorage,
    AzureBlobs,
    Local,
    Other(String),
}

#[derive(Arbitrary, Debug)]
struct StorageInput {
    provider: Option<Provider>,
    secret: Option<Name>,
    bucket: Option<Name>,
    prefix: Option<Name>,
    host: Option<String>,
    port: Option<i64>,
    secure: Option<bool>,
    region: Option<String>,
    credentials_type: Option<bool>,
    max_backup_age: Option<i64>,
    max_backup_count: Option<i64>,
    bandwidth: Option<String>,
    concurrent: Option<i64>,
    extra: Option<(String, i64)>,
}

impl StorageInput {
    fn json(&self) -> Value {
        let mut s = serde_json::Map::new();
        if let Some(p) = &self.provider {
            let text = match p {
                Provider::S3 => "s3".to_owned(),
                Provider::S3Compatible => "s3_compatible".to_owned(),
                Provider::GoogleStorage => "google_storage".to_owned(),
                Provider::AzureBlobs => "azure_blobs".to_owned(),
                Provider::Local => "local".to_owned(),
                Provider::Other(o) => o.clone(),
            };
            s.insert("storageProvider".into(), json!(text));
        }
        if let Some(n) = &self.secret {
            s.insert("storageSecretRef".into(), json!({"name": n.text()}));
        }
        if let Some(n) = &self.bucket {
            s.insert("bucketName".into(), json!(n.text()));
        }
        if let Some(n) = &self.prefix {
            s.insert("prefix".into(), json!(n.text()));
        }
        for (key, value) in [
            ("host", self.host.as_ref().map(|v| json!(v))),
            ("port", self.port.map(|v| json!(v))),
            ("secure", self.secure.map(|v| json!(v))),
            ("region", self.region.as_ref().map(|v| json!(v))),
            (
                "credentialsType",
                self.credentials_type
                    .map(|r| json!(if r { "role-based" } else { "credential-based" })),
            ),
            ("maxBackupAge", self.max_backup_age.map(|v| json!(v))),
            ("maxBackupCount", self.max_backup_count.map(|v| json!(v))),
            ("transferMaxBandwidth", self.bandwidth.as_ref().map(|v| json!(v))),
            ("concurrentTransfers", self.concurrent.map(|v| json!(v))),
        ] {
            if let Some(value) = value {
                s.insert(key.into(), value);
            }
        }
        if let Some((key, value)) = &self.extra {
            s.insert(key.clone(), json!(value));
        }
        Value::Object(s)
    }
}

#[derive(Arbitrary, Debug)]
enum Object {
    Cluster {
        storage: Option<StorageInput>,
        configuration: Option<Name>,
        datacenters: Vec<Name>,
    },
    Configuration {
        storage: StorageInput,
    },
    BackupJob {
        dc: Name,
        full: bool,
    },
    RestoreJob {
        dc: Name,
        backup: Name,
    },
    Task {
        dc: Name,
        operation: u8,
        backup: Option<Name>,
        restore_key: Option<String>,
    },
    Schedule {
        dc: Name,
        cron: String,
        policy: Option<String>,
        purge: bool,
        disabled: Option<bool>,
    },
    Backup,
}

#[derive(Arbitrary, Debug)]
struct Input {
    object: Object,
    old: Option<Object>,
    name: Name,
    namespace: bool,
    operation: u8,
}

fn object(o: &Object, name: &str, namespace: &str) -> (ResourceKind, Value) {
    let meta = json!({"name": name, "namespace": namespace});
    let (kind, api, body) = match o {
        Object::Cluster { storage, configuration, datacenters } => {
            let mut medusa = serde_json::Map::new();
            if let Some(s) = storage {
                medusa.insert("storageProperties".into(), s.json());
            }
            if let Some(c) = configuration {
                medusa.insert("medusaConfigurationRef".into(), json!({"name": c.text()}));
            }
            let dcs: Vec<Value> = datacenters
                .iter()
                .take(4)
                .map(|d| json!({"metadata": {"name": d.text()}, "size": 3}))
                .collect();
            (
                ResourceKind::K8ssandraCluster,
                "k8ssandra.io/v1alpha1",
                json!({"spec": {"medusa": medusa, "cassandra": {"datacenters": dcs}}}),
            )
        }
        Object::Configuration { storage } => (
            ResourceKind::MedusaConfiguration,
            "medusa.k8ssandra.io/v1alpha1",
            json!({"spec": {"storageProperties": storage.json()}}),
        ),
        Object::BackupJob { dc, full } => (
            ResourceKind::MedusaBackupJob,
            "medusa.k8ssandra.io/v1alpha1",
            json!({"spec": {"cassandraDatacenter": dc.text(), "backupType": if *full { "full" } else { "differential" }}}),
        ),
        Object::RestoreJob { dc, backup } => (
            ResourceKind::MedusaRestoreJob,
            "medusa.k8ssandra.io/v1alpha1",
            json!({"spec": {"cassandraDatacenter": dc.text(), "backup": backup.text()}}),
        ),
        Object::Task { dc, operation, backup, restore_key } => {
            let operation = ["sync", "purge", "prepare_restore", "other"][usize::from(*operation % 4)];
            let mut spec = json!({"cassandraDatacenter": dc.text(), "operation": operation});
            if let Some(b) = backup {
                spec["backupName"] = json!(b.text());
            }
            if let Some(k) = restore_key {
                spec["restoreKey"] = json!(k);
            }
            (ResourceKind::MedusaTask, "medusa.k8ssandra.io/v1alpha1", json!({"spec": spec}))
        }
        Object::Schedule { dc, cron, policy, purge, disabled } => {
            let mut spec = json!({"cronSchedule": cron, "backupSpec": {"cassandraDatacenter": dc.text()}});
            if let Some(p) = policy {
                spec["concurrencyPolicy"] = json!(p);
            }
            if *purge {
                spec["operationType"] = json!("purge");
            }
            if let Some(d) = disabled {
                spec["disabled"] = json!(d);
            }
            (ResourceKind::MedusaBackupSchedule, "medusa.k8ssandra.io/v1alpha1", json!({"spec": spec}))
        }
        Object::Backup => (
            ResourceKind::MedusaBackup,
            "medusa.k8ssandra.io/v1alpha1",
            json!({"spec": {"cassandraDatacenter": "dc1"}}),
        ),
    };
    let mut value = body;
    value["apiVersion"] = json!(api);
    value["kind"] = json!(kind.as_str());
    value["metadata"] = meta;
    (kind, value)
}

fn view() -> MemoryView {
    MemoryView::empty()
        .with(CassandraDatacenter::test("dc1"))
        .with(K8ssandraCluster::test("demo"))
        .with(MedusaConfiguration::test("s3"))
        .with(MedusaBackup::test("nightly"))
        .with_secret(medusa_crds::fixtures::NAMESPACE, "medusa-bucket-key", true)
}

fuzz_target!(|input: Input| {
    let name = input.name.text();
    let namespace = if input.namespace { medusa_crds::fixtures::NAMESPACE } else { "other" };
    let (kind, mut value) = object(&input.object, &name, namespace);
    let old = input.old.as_ref().map(|o| object(o, &name, namespace).1);
    let operation = match input.operation % 3 {
        0 => AdmissionOperation::Create,
        1 => AdmissionOperation::Update,
        _ => AdmissionOperation::Delete,
    };
    let raw = serde_json::value::to_raw_value(&value).expect("JSON");
    let old_raw = old.as_ref().map(|o| serde_json::value::to_raw_value(o).expect("JSON"));
    // Generated objects are JSON objects whose metadata is an object's: always readable.
    let text = ObjectText::parse(raw.get()).expect("an object");
    let old_text = old_raw.as_ref().map(|o| ObjectText::parse(o.get()).expect("an object"));
    let admission = AdmissionInput {
        operation,
        kind,
        namespace,
        name: &name,
        object: (operation != AdmissionOperation::Delete).then_some(&text),
        old_object: old_text.as_ref(),
        defaulted: input.operation % 2 == 0,
    };
    let who = admission.who().to_string();
    let policy = Policy::default();
    let view = view();
    let decision = futures::executor::block_on(rules::validate(&admission, &view, &policy));
    for finding in decision.findings.iter().filter(|f| f.severity == Severity::Deny) {
        assert!(
            finding.message.contains(&who),
            "a denial must name {who}: {:?} {}",
            finding.rule,
            finding.message
        );
    }
    let mutation = futures::executor::block_on(rules::mutate(&admission, &view, &policy));
    if !mutation.patch.is_empty() && operation != AdmissionOperation::Delete {
        mutation
            .apply(&mut value)
            .unwrap_or_else(|e| panic!("{:?}'s patch {:?} does not apply to {value}: {e}", mutation.fired, mutation.patch));
    }
});
