//! The objects the plugin creates, built from the command line.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use medusa_crds::naming::{
    DATACENTER_LABEL, MANAGED_BY, MANAGED_BY_LABEL, clean_label_value, datacenter_labels,
};
use medusa_crds::operator::CREDENTIALS_KEY;
use medusa_crds::*;

/// Labels every created object carries: the caller's, the datacenter's (so the operator's
/// schedule concurrency policy counts the object) and `app.kubernetes.io/managed-by`.
pub fn labels(
    user: &[(String, String)],
    dc_name: &str,
    dc: Option<&CassandraDatacenter>,
) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = user.iter().cloned().collect();
    match dc {
        Some(dc) => labels.extend(datacenter_labels(dc)),
        // Without the datacenter (a client dry run), its cluster label cannot be known; the
        // webhook's JM mutation adds it at creation.
        None => {
            labels.insert(DATACENTER_LABEL.to_owned(), clean_label_value(dc_name));
        }
    }
    labels.insert(MANAGED_BY_LABEL.to_owned(), MANAGED_BY.to_owned());
    labels
}

fn meta(name: &str, namespace: &str, labels: BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(namespace.to_owned()),
        labels: Some(labels),
        ..ObjectMeta::default()
    }
}

/// A MedusaBackupJob.
pub fn backup_job(
    name: &str,
    namespace: &str,
    dc: &str,
    backup_type: Option<&str>,
    labels: BTreeMap<String, String>,
) -> MedusaBackupJob {
    MedusaBackupJob {
        metadata: meta(name, namespace, labels),
        spec: MedusaBackupJobSpec {
            cassandra_datacenter: dc.to_owned(),
            backup_type: backup_type.map(BackupType::from_wire),
            ..MedusaBackupJobSpec::default()
        },
        status: None,
    }
}

/// A MedusaRestoreJob.
pub fn restore_job(
    name: &str,
    namespace: &str,
    dc: &str,
    backup: &str,
    labels: BTreeMap<String, String>,
) -> MedusaRestoreJob {
    MedusaRestoreJob {
        metadata: meta(name, namespace, labels),
        spec: MedusaRestoreJobSpec {
            backup: backup.to_owned(),
            cassandra_datacenter: dc.to_owned(),
            ..MedusaRestoreJobSpec::default()
        },
        status: None,
    }
}

/// A MedusaTask.
pub fn task(
    name: &str,
    namespace: &str,
    dc: &str,
    operation: Operation,
    labels: BTreeMap<String, String>,
) -> MedusaTask {
    MedusaTask {
        metadata: meta(name, namespace, labels),
        spec: MedusaTaskSpec {
            operation,
            cassandra_datacenter: dc.to_owned(),
            backup_name: None,
            restore_key: None,
            extra: wire::Extra::new(),
        },
        status: None,
    }
}

/// What a schedule does.
#[derive(Clone, Debug)]
pub struct ScheduleSpec<'a> {
    /// The datacenter.
    pub dc: &'a str,
    /// The cron expression.
    pub cron: &'a str,
    /// backup or purge.
    pub operation: &'a str,
    /// differential or full.
    pub backup_type: Option<&'a str>,
    /// Allow or Forbid.
    pub concurrency_policy: Option<&'a str>,
    /// Paused.
    pub disabled: bool,
}

/// A MedusaBackupSchedule.
pub fn schedule(
    name: &str,
    namespace: &str,
    spec: &ScheduleSpec<'_>,
    labels: BTreeMap<String, String>,
) -> MedusaBackupSchedule {
    MedusaBackupSchedule {
        metadata: meta(name, namespace, labels),
        spec: MedusaBackupScheduleSpec {
            cron_schedule: spec.cron.to_owned(),
            disabled: spec.disabled.then_some(true),
            backup_spec: MedusaBackupJobSpec {
                cassandra_datacenter: spec.dc.to_owned(),
                backup_type: spec.backup_type.map(BackupType::from_wire),
                ..MedusaBackupJobSpec::default()
            },
            concurrency_policy: spec.concurrency_policy.map(ConcurrencyPolicy::from_wire),
            operation_type: Some(OperationType::from_wire(spec.operation)),
            ..MedusaBackupScheduleSpec::default()
        },
        status: None,
    }
}

/// A MedusaConfiguration.
pub fn configuration(
    name: &str,
    namespace: &str,
    storage: Storage,
    labels: BTreeMap<String, String>,
) -> MedusaConfiguration {
    MedusaConfiguration {
        metadata: meta(name, namespace, labels),
        spec: MedusaConfigurationSpec {
            storage_properties: Some(storage),
            ..MedusaConfigurationSpec::default()
        },
        status: None,
    }
}

/// Why a credentials file does not suit a provider.
pub fn credentials_problem(provider: &StorageProvider, contents: &str) -> Option<String> {
    let trimmed = contents.trim();
    match provider {
        StorageProvider::S3 | StorageProvider::S3Compatible | StorageProvider::S3Rgw | StorageProvider::IbmStorage => {
            let has = |key: &str| trimmed.lines().any(|l| l.trim_start().starts_with(key));
            (!(trimmed.contains('[') && has("aws_access_key_id") && has("aws_secret_access_key"))).then(|| {
                "an S3 credentials file is an INI file: a [default] section with aws_access_key_id and aws_secret_access_key".to_owned()
            })
        }
        StorageProvider::GoogleStorage => match serde_json::from_str::<serde_json::Value>(trimmed) {
            Ok(v) if v.get("type").is_some() && v.get("private_key").is_some() => None,
            _ => Some("a Google Cloud Storage credentials file is a service account key in JSON (with type and private_key)".to_owned()),
        },
        StorageProvider::AzureBlobs => match serde_json::from_str::<serde_json::Value>(trimmed) {
            Ok(v) if v.get("storage_account").is_some() && v.get("key").is_some() => None,
            _ => Some("an Azure credentials file is JSON with storage_account and key".to_owned()),
        },
        StorageProvider::Unknown(_) => None,
    }
}

/// The Secret Medusa reads: the whole credentials file under the key `credentials`.
pub fn credentials_secret(
    name: &str,
    namespace: &str,
    contents: &str,
    labels: BTreeMap<String, String>,
) -> Secret {
    Secret {
        metadata: meta(name, namespace, labels),
        type_: Some("Opaque".into()),
        data: Some(BTreeMap::from([(
            CREDENTIALS_KEY.to_owned(),
            ByteString(contents.as_bytes().to_vec()),
        )])),
        ..Secret::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_objects_carry_the_datacenter_and_managed_by_labels() {
        let labels = labels(
            &[("team".into(), "data".into())],
            "dc1",
            Some(&CassandraDatacenter::test("dc1")),
        );
        assert_eq!(labels["cassandra.datastax.com/cluster"], "demo");
        assert_eq!(labels["cassandra.datastax.com/datacenter"], "dc1");
        assert_eq!(labels["app.kubernetes.io/managed-by"], "kubectl-medusa");
        assert_eq!(labels["team"], "data");
    }

    #[test]
    fn without_the_datacenter_only_its_label_is_known() {
        let labels = labels(&[], "dc1", None);
        assert!(!labels.contains_key("cassandra.datastax.com/cluster"));
        assert_eq!(labels["cassandra.datastax.com/datacenter"], "dc1");
    }

    #[test]
    fn s3_credentials_must_be_an_ini_profile() {
        assert!(
            credentials_problem(
                &StorageProvider::S3,
                "[default]\naws_access_key_id = a\naws_secret_access_key = b\n"
            )
            .is_none()
        );
        assert!(credentials_problem(&StorageProvider::S3, "key=value").is_some());
    }

    #[test]
    fn gcs_and_azure_credentials_must_be_json() {
        assert!(
            credentials_problem(
                &StorageProvider::GoogleStorage,
                r#"{"type": "service_account", "private_key": "k"}"#
            )
            .is_none()
        );
        assert!(credentials_problem(&StorageProvider::GoogleStorage, "[default]").is_some());
        assert!(
            credentials_problem(
                &StorageProvider::AzureBlobs,
                r#"{"storage_account": "a", "key": "k"}"#
            )
            .is_none()
        );
        assert!(credentials_problem(&StorageProvider::AzureBlobs, "{}").is_some());
    }
}
