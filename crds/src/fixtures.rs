//! Fixture builders for every kind, for the tests of every crate (feature `fixtures`).
//!
//! ```
//! # use medusa_crds::*;
//! let job = MedusaBackupJob::test("nightly").dc("dc1").started("2024-05-01T10:00:00Z");
//! assert_eq!(job.spec.cassandra_datacenter, "dc1");
//! ```
//!
//! Builders panic on malformed literals: they only ever see test code.
#![allow(clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

use crate::types::backup::MedusaBackupNode;
use crate::types::cassdc::{
    CassandraDatacenterStatus, DatacenterCondition, NamedContainer, PodSpec, PodTemplate,
};
use crate::types::cluster::{CassandraClusterTemplate, EmbeddedMeta, Rack};
use crate::types::task::TaskResult;
use crate::types::*;

/// The namespace fixtures live in unless told otherwise.
pub const NAMESPACE: &str = "k8ssandra";

/// A Kubernetes time from an RFC 3339 literal.
pub fn time(rfc3339: &str) -> Time {
    serde_json::from_value(serde_json::Value::String(rfc3339.to_owned()))
        .unwrap_or_else(|e| panic!("fixture time {rfc3339:?}: {e}"))
}

/// A chrono instant from an RFC 3339 literal.
pub fn instant(rfc3339: &str) -> chrono::DateTime<chrono::Utc> {
    crate::wire::to_chrono(&time(rfc3339))
}

fn meta(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(NAMESPACE.to_owned()),
        creation_timestamp: Some(time("2024-05-01T09:59:00Z")),
        ..ObjectMeta::default()
    }
}

fn strings(items: &[&str]) -> Option<Vec<String>> {
    Some(items.iter().map(|s| (*s).to_owned()).collect())
}

/// Metadata setters shared by every fixture.
macro_rules! meta_builders {
    ($ty:ty) => {
        impl $ty {
            /// Sets the namespace.
            pub fn namespace(mut self, namespace: &str) -> Self {
                self.metadata.namespace = Some(namespace.to_owned());
                self
            }

            /// Adds a label.
            pub fn label(mut self, key: &str, value: &str) -> Self {
                self.metadata
                    .labels
                    .get_or_insert_with(BTreeMap::new)
                    .insert(key.to_owned(), value.to_owned());
                self
            }

            /// Adds an annotation.
            pub fn annotation(mut self, key: &str, value: &str) -> Self {
                self.metadata
                    .annotations
                    .get_or_insert_with(BTreeMap::new)
                    .insert(key.to_owned(), value.to_owned());
                self
            }

            /// Sets the creation time.
            pub fn created(mut self, at: &str) -> Self {
                self.metadata.creation_timestamp = Some(time(at));
                self
            }

            /// Sets `metadata.generation`.
            pub fn generation(mut self, generation: i64) -> Self {
                self.metadata.generation = Some(generation);
                self
            }
        }
    };
}

meta_builders!(MedusaBackupJob);
meta_builders!(MedusaBackup);
meta_builders!(MedusaRestoreJob);
meta_builders!(MedusaTask);
meta_builders!(MedusaBackupSchedule);
meta_builders!(MedusaConfiguration);
meta_builders!(K8ssandraCluster);
meta_builders!(CassandraDatacenter);

// === impl MedusaBackupJob ===

impl MedusaBackupJob {
    /// A differential backup job of `dc1`.
    pub fn test(name: &str) -> Self {
        Self {
            metadata: meta(name),
            spec: MedusaBackupJobSpec {
                cassandra_datacenter: "dc1".into(),
                ..MedusaBackupJobSpec::default()
            },
            status: None,
        }
    }

    /// Targets a datacenter.
    pub fn dc(mut self, dc: &str) -> Self {
        self.spec.cassandra_datacenter = dc.to_owned();
        self
    }

    /// Asks for a full backup.
    pub fn full(mut self) -> Self {
        self.spec.backup_type = Some(BackupType::Full);
        self
    }

    fn status_mut(&mut self) -> &mut MedusaBackupJobStatus {
        self.status
            .get_or_insert_with(MedusaBackupJobStatus::default)
    }

    /// Sets `startTime`.
    pub fn started(mut self, at: &str) -> Self {
        self.status_mut().start_time = Some(time(at));
        self
    }

    /// Sets `finishTime`.
    pub fn finished_at(mut self, at: &str) -> Self {
        self.status_mut().finish_time = Some(time(at));
        self
    }

    /// Sets `inProgress`.
    pub fn in_progress(mut self, pods: &[&str]) -> Self {
        self.status_mut().in_progress = strings(pods);
        self
    }

    /// Sets `finished`.
    pub fn finished_pods(mut self, pods: &[&str]) -> Self {
        self.status_mut().finished = strings(pods);
        self
    }

    /// Sets `failed`.
    pub fn failed_pods(mut self, pods: &[&str]) -> Self {
        self.status_mut().failed = strings(pods);
        self
    }
}

// === impl MedusaBackup ===

impl MedusaBackup {
    /// A successful backup of `dc1` on three nodes of rack `default`.
    pub fn test(name: &str) -> Self {
        Self {
            metadata: meta(name),
            spec: MedusaBackupSpec {
                cassandra_datacenter: "dc1".into(),
                backup_type: Some(BackupType::Differential),
                ..MedusaBackupSpec::default()
            },
            status: Some(MedusaBackupStatus {
                start_time: Some(time("2024-05-01T10:00:00Z")),
                finish_time: Some(time("2024-05-01T10:05:00Z")),
                total_nodes: Some(3),
                finished_nodes: Some(3),
                nodes: Some(
                    (0..3)
                        .map(|i| MedusaBackupNode {
                            host: Some(format!("demo-dc1-default-sts-{i}")),
                            tokens: Some(vec![i64::from(i) * 1000 - 1500]),
                            datacenter: Some("dc1".into()),
                            rack: Some("default".into()),
                            ..MedusaBackupNode::default()
                        })
                        .collect(),
                ),
                total_files: Some(120),
                total_size: Some("127.50 KB".into()),
                status: Some(BackupStatus::Success),
                ..MedusaBackupStatus::default()
            }),
        }
    }

    /// Belongs to a datacenter (spec and node topology).
    pub fn dc(mut self, dc: &str) -> Self {
        self.spec.cassandra_datacenter = dc.to_owned();
        if let Some(nodes) = self.status.as_mut().and_then(|s| s.nodes.as_mut()) {
            for node in nodes {
                node.datacenter = Some(dc.to_owned());
            }
        }
        self
    }

    fn status_mut(&mut self) -> &mut MedusaBackupStatus {
        self.status.get_or_insert_with(MedusaBackupStatus::default)
    }

    /// Sets Medusa's status name.
    pub fn status_name(mut self, status: &str) -> Self {
        self.status_mut().status = Some(BackupStatus::from_wire(status));
        self
    }

    /// Sets `finishedNodes` and `totalNodes`.
    pub fn nodes(mut self, finished: i32, total: i32) -> Self {
        let status = self.status_mut();
        status.finished_nodes = Some(finished);
        status.total_nodes = Some(total);
        self
    }

    /// Replaces the topology with `count` nodes per rack, in the given Cassandra datacenter.
    pub fn topology(mut self, cassandra_dc: &str, racks: &[(&str, usize)]) -> Self {
        let nodes: Vec<MedusaBackupNode> = racks
            .iter()
            .flat_map(|(rack, count)| {
                (0..*count).map(move |i| MedusaBackupNode {
                    host: Some(format!("demo-{cassandra_dc}-{rack}-sts-{i}")),
                    tokens: Some(vec![]),
                    datacenter: Some(cassandra_dc.to_owned()),
                    rack: Some((*rack).to_owned()),
                    ..MedusaBackupNode::default()
                })
            })
            .collect();
        let total = i32::try_from(nodes.len()).unwrap_or(i32::MAX);
        let status = self.status_mut();
        status.nodes = Some(nodes);
        status.total_nodes = Some(total);
        status.finished_nodes = Some(total);
        self
    }

    /// Sets `startTime` and `finishTime`.
    pub fn times(mut self, started: &str, finished: Option<&str>) -> Self {
        let status = self.status_mut();
        status.start_time = Some(time(started));
        status.finish_time = finished.map(time);
        self
    }

    /// Removes files and size, as a backup imported by a sync has none.
    pub fn synced(mut self) -> Self {
        let status = self.status_mut();
        status.total_files = None;
        status.total_size = None;
        self
    }

    /// No status at all: the record as the operator's create leaves it, before its status
    /// patch.
    pub fn without_status(mut self) -> Self {
        self.status = None;
        self
    }

    /// Sets the size.
    pub fn size(mut self, size: &str, files: i64) -> Self {
        let status = self.status_mut();
        status.total_size = Some(size.to_owned());
        status.total_files = Some(files);
        self
    }
}

// === impl MedusaRestoreJob ===

impl MedusaRestoreJob {
    /// A restore of backup `nightly` into `dc1`.
    pub fn test(name: &str) -> Self {
        Self {
            metadata: meta(name),
            spec: MedusaRestoreJobSpec {
                backup: "nightly".into(),
                cassandra_datacenter: "dc1".into(),
                ..MedusaRestoreJobSpec::default()
            },
            status: None,
        }
    }

    /// Targets a datacenter.
    pub fn dc(mut self, dc: &str) -> Self {
        self.spec.cassandra_datacenter = dc.to_owned();
        self
    }

    /// Restores a backup.
    pub fn backup(mut self, backup: &str) -> Self {
        self.spec.backup = backup.to_owned();
        self
    }

    fn status_mut(&mut self) -> &mut MedusaRestoreJobStatus {
        self.status.get_or_insert_with(|| MedusaRestoreJobStatus {
            restore_key: "ec5b35c1-f2fe-4465-a74f-e29aa1d467ff".into(),
            ..MedusaRestoreJobStatus::default()
        })
    }

    /// Sets `startTime`.
    pub fn started(mut self, at: &str) -> Self {
        self.status_mut().start_time = Some(time(at));
        self
    }

    /// Sets `restorePrepared`.
    pub fn prepared(mut self) -> Self {
        self.status_mut().restore_prepared = Some(true);
        self
    }

    /// Sets `datacenterStopped`.
    pub fn datacenter_stopped(mut self, at: &str) -> Self {
        self.status_mut().datacenter_stopped = Some(time(at));
        self
    }

    /// Sets `finishTime`.
    pub fn finished_at(mut self, at: &str) -> Self {
        self.status_mut().finish_time = Some(time(at));
        self
    }

    /// Sets the failure `message`.
    pub fn message(mut self, message: &str) -> Self {
        self.status_mut().message = Some(message.to_owned());
        self
    }
}

// === impl MedusaTask ===

impl MedusaTask {
    /// A task of an operation on `dc1`.
    pub fn test(name: &str, operation: Operation) -> Self {
        Self {
            metadata: meta(name),
            spec: MedusaTaskSpec {
                operation,
                cassandra_datacenter: "dc1".into(),
                backup_name: None,
                restore_key: None,
                extra: crate::wire::Extra::new(),
            },
            status: None,
        }
    }

    /// Targets a datacenter.
    pub fn dc(mut self, dc: &str) -> Self {
        self.spec.cassandra_datacenter = dc.to_owned();
        self
    }

    /// Sets `backupName` and `restoreKey` (prepare_restore).
    pub fn prepare(mut self, backup: &str, key: &str) -> Self {
        self.spec.backup_name = Some(backup.to_owned());
        self.spec.restore_key = Some(key.to_owned());
        self
    }

    fn status_mut(&mut self) -> &mut MedusaTaskStatus {
        self.status.get_or_insert_with(MedusaTaskStatus::default)
    }

    /// Sets `startTime`.
    pub fn started(mut self, at: &str) -> Self {
        self.status_mut().start_time = Some(time(at));
        self
    }

    /// Sets `finishTime`.
    pub fn finished_at(mut self, at: &str) -> Self {
        self.status_mut().finish_time = Some(time(at));
        self
    }

    /// Sets `inProgress`.
    pub fn in_progress(mut self, pods: &[&str]) -> Self {
        self.status_mut().in_progress = strings(pods);
        self
    }

    /// Sets `failed`.
    pub fn failed_pods(mut self, pods: &[&str]) -> Self {
        self.status_mut().failed = strings(pods);
        self
    }

    /// Adds a plain result for a pod (sync, prepare_restore).
    pub fn finished_pod(mut self, pod: &str) -> Self {
        self.status_mut()
            .finished
            .get_or_insert_with(Vec::new)
            .push(TaskResult {
                pod_name: Some(pod.to_owned()),
                ..TaskResult::default()
            });
        self
    }

    /// Adds a purge result for a pod: backups, objects, bytes, objects within GC grace.
    pub fn purged(
        mut self,
        pod: &str,
        backups: i64,
        objects: i64,
        bytes: i64,
        gc_grace: i64,
    ) -> Self {
        self.status_mut()
            .finished
            .get_or_insert_with(Vec::new)
            .push(TaskResult {
                pod_name: Some(pod.to_owned()),
                nb_backups_purged: Some(backups),
                nb_objects_purged: Some(objects),
                total_purged_size: Some(bytes),
                total_objects_within_gc_grace: Some(gc_grace),
                ..TaskResult::default()
            });
        self
    }
}

// === impl MedusaBackupSchedule ===

impl MedusaBackupSchedule {
    /// A nightly differential backup schedule of `dc1` at 01:30.
    pub fn test(name: &str) -> Self {
        Self {
            metadata: meta(name),
            spec: MedusaBackupScheduleSpec {
                cron_schedule: "30 1 * * *".into(),
                backup_spec: MedusaBackupJobSpec {
                    cassandra_datacenter: "dc1".into(),
                    backup_type: Some(BackupType::Differential),
                    ..MedusaBackupJobSpec::default()
                },
                ..MedusaBackupScheduleSpec::default()
            },
            status: None,
        }
    }

    /// Sets the cron expression.
    pub fn cron(mut self, cron: &str) -> Self {
        self.spec.cron_schedule = cron.to_owned();
        self
    }

    /// Targets a datacenter.
    pub fn dc(mut self, dc: &str) -> Self {
        self.spec.backup_spec.cassandra_datacenter = dc.to_owned();
        self
    }

    /// Schedules purges instead of backups.
    pub fn purge(mut self) -> Self {
        self.spec.operation_type = Some(OperationType::Purge);
        self
    }

    /// Pauses the schedule.
    pub fn disabled(mut self) -> Self {
        self.spec.disabled = Some(true);
        self
    }

    /// Sets `concurrencyPolicy`.
    pub fn policy(mut self, policy: &str) -> Self {
        self.spec.concurrency_policy = Some(ConcurrencyPolicy::from_wire(policy));
        self
    }

    /// Sets the status times.
    pub fn executed(mut self, last: Option<&str>, next: Option<&str>) -> Self {
        self.status = Some(MedusaBackupScheduleStatus {
            last_execution: last.map(time),
            next_schedule: next.map(time),
            ..MedusaBackupScheduleStatus::default()
        });
        self
    }
}

// === impl MedusaConfiguration ===

impl MedusaConfiguration {
    /// An S3 configuration with secret `medusa-bucket-key`, as in the operator docs.
    pub fn test(name: &str) -> Self {
        Self {
            metadata: meta(name),
            spec: MedusaConfigurationSpec {
                storage_properties: Some(Storage::test()),
                ..MedusaConfigurationSpec::default()
            },
            status: None,
        }
    }

    /// Replaces the storage properties.
    pub fn with_storage(mut self, storage: Storage) -> Self {
        self.spec.storage_properties = Some(storage);
        self
    }

    /// Adds a condition.
    pub fn condition(mut self, type_: &str, status: &str, message: &str) -> Self {
        self.status
            .get_or_insert_with(MedusaConfigurationStatus::default)
            .conditions
            .get_or_insert_with(Vec::new)
            .push(Condition {
                last_transition_time: Some(time("2024-05-01T09:00:00Z")),
                message: message.to_owned(),
                reason: type_.to_owned(),
                status: ConditionStatus::from_wire(status),
                type_: type_.to_owned(),
                ..Condition::default()
            });
        self
    }
}

// === impl Storage ===

impl Storage {
    /// S3 in us-west-2, bucket `k8ssandra-medusa`, secret `medusa-bucket-key`.
    pub fn test() -> Self {
        Self {
            storage_provider: Some(StorageProvider::S3),
            region: Some("us-west-2".into()),
            bucket_name: Some("k8ssandra-medusa".into()),
            storage_secret_ref: Some(SecretRef::named("medusa-bucket-key")),
            ..Self::default()
        }
    }

    /// Only a prefix, as a cluster referencing a configuration writes it.
    pub fn prefix_only(prefix: &str) -> Self {
        Self {
            prefix: Some(prefix.to_owned()),
            ..Self::default()
        }
    }

    /// Sets the provider.
    pub fn provider(mut self, provider: StorageProvider) -> Self {
        self.storage_provider = Some(provider);
        self
    }

    /// Sets the bucket.
    pub fn with_bucket(mut self, bucket: &str) -> Self {
        self.bucket_name = Some(bucket.to_owned());
        self
    }

    /// Sets the prefix.
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.prefix = Some(prefix.to_owned());
        self
    }

    /// Sets the host.
    pub fn with_host(mut self, host: &str) -> Self {
        self.host = Some(host.to_owned());
        self
    }

    /// Sets the port.
    pub fn with_port(mut self, port: i64) -> Self {
        self.port = Some(port);
        self
    }

    /// Sets the storage Secret name (`""` for none).
    pub fn with_secret(mut self, secret: &str) -> Self {
        self.storage_secret_ref = Some(SecretRef::named(secret));
        self
    }

    /// Removes the storage Secret reference.
    pub fn without_secret(mut self) -> Self {
        self.storage_secret_ref = None;
        self
    }

    /// Uses role-based credentials.
    pub fn role_based(mut self) -> Self {
        self.credentials_type = Some(CredentialsType::RoleBased);
        self
    }
}

// === impl K8ssandraCluster ===

impl K8ssandraCluster {
    /// Cluster `name` with datacenter `dc1` (3 nodes) and Medusa on S3 with prefix `name`.
    pub fn test(name: &str) -> Self {
        Self {
            metadata: meta(name),
            spec: K8ssandraClusterSpec {
                cassandra: Some(CassandraClusterTemplate {
                    datacenters: Some(vec![DatacenterTemplate {
                        metadata: Some(EmbeddedMeta {
                            name: "dc1".into(),
                            ..EmbeddedMeta::default()
                        }),
                        size: 3,
                        ..DatacenterTemplate::default()
                    }]),
                    ..CassandraClusterTemplate::default()
                }),
                medusa: Some(MedusaClusterTemplate {
                    storage_properties: Some(Storage::test().with_prefix(name)),
                    ..MedusaClusterTemplate::default()
                }),
                ..K8ssandraClusterSpec::default()
            },
            status: None,
        }
    }

    fn medusa_mut(&mut self) -> &mut MedusaClusterTemplate {
        self.spec
            .medusa
            .get_or_insert_with(MedusaClusterTemplate::default)
    }

    /// Replaces the cluster's storage properties.
    pub fn with_storage(mut self, storage: Storage) -> Self {
        self.medusa_mut().storage_properties = Some(storage);
        self
    }

    /// References a MedusaConfiguration by name, with a prefix-only storage section.
    pub fn configuration_ref(mut self, name: &str) -> Self {
        let prefix = self.metadata.name.clone().unwrap_or_default();
        let medusa = self.medusa_mut();
        medusa.medusa_configuration_ref = Some(ConfigurationRef::named(name));
        medusa.storage_properties = Some(Storage::prefix_only(&prefix));
        self
    }

    /// Replaces the whole configuration reference.
    pub fn raw_configuration_ref(mut self, reference: ConfigurationRef) -> Self {
        self.medusa_mut().medusa_configuration_ref = Some(reference);
        self
    }

    /// Removes Medusa.
    pub fn without_medusa(mut self) -> Self {
        self.spec.medusa = None;
        self
    }

    /// Adds a datacenter: object name, namespace (None: the cluster's), context, size.
    pub fn add_datacenter(
        mut self,
        name: &str,
        namespace: Option<&str>,
        context: Option<&str>,
        size: i32,
    ) -> Self {
        self.spec
            .cassandra
            .get_or_insert_with(CassandraClusterTemplate::default)
            .datacenters
            .get_or_insert_with(Vec::new)
            .push(DatacenterTemplate {
                metadata: Some(EmbeddedMeta {
                    name: name.to_owned(),
                    namespace: namespace.map(str::to_owned),
                    ..EmbeddedMeta::default()
                }),
                k8s_context: context.map(str::to_owned),
                size,
                ..DatacenterTemplate::default()
            });
        self
    }

    /// Sets the Cassandra cluster name override.
    pub fn cassandra_cluster_name(mut self, name: &str) -> Self {
        self.spec
            .cassandra
            .get_or_insert_with(CassandraClusterTemplate::default)
            .cluster_name = Some(name.to_owned());
        self
    }
}

// === impl CassandraDatacenter ===

impl CassandraDatacenter {
    /// Datacenter `name` of cluster `demo`, 3 nodes, a `medusa` container and `medusa-restore`
    /// init container, Ready.
    pub fn test(name: &str) -> Self {
        Self {
            metadata: meta(name),
            spec: CassandraDatacenterSpec {
                cluster_name: "demo".into(),
                size: 3,
                pod_template_spec: Some(PodTemplate {
                    spec: Some(PodSpec {
                        containers: Some(vec![
                            NamedContainer {
                                name: "cassandra".into(),
                                ..NamedContainer::default()
                            },
                            NamedContainer {
                                name: "medusa".into(),
                                ..NamedContainer::default()
                            },
                        ]),
                        init_containers: Some(vec![NamedContainer {
                            name: "medusa-restore".into(),
                            ..NamedContainer::default()
                        }]),
                        ..PodSpec::default()
                    }),
                    ..PodTemplate::default()
                }),
                ..CassandraDatacenterSpec::default()
            },
            status: Some(CassandraDatacenterStatus {
                conditions: Some(vec![DatacenterCondition {
                    type_: "Ready".into(),
                    status: "True".into(),
                    last_transition_time: Some(time("2024-05-01T08:00:00Z")),
                    ..DatacenterCondition::default()
                }]),
                cassandra_operator_progress: Some("Ready".into()),
                ..CassandraDatacenterStatus::default()
            }),
        }
    }

    /// Sets the Cassandra cluster name.
    pub fn cluster(mut self, cluster: &str) -> Self {
        self.spec.cluster_name = cluster.to_owned();
        self
    }

    /// Sets the size.
    pub fn size(mut self, size: i32) -> Self {
        self.spec.size = size;
        self
    }

    /// Sets the racks.
    pub fn racks(mut self, racks: &[&str]) -> Self {
        self.spec.racks = Some(
            racks
                .iter()
                .map(|r| Rack {
                    name: (*r).to_owned(),
                    ..Rack::default()
                })
                .collect(),
        );
        self
    }

    /// Sets the Cassandra datacenter name override.
    pub fn with_datacenter_name(mut self, name: &str) -> Self {
        self.spec.datacenter_name = Some(name.to_owned());
        self
    }

    /// Removes the Medusa containers from the pod template.
    pub fn without_medusa(mut self) -> Self {
        self.spec.pod_template_spec = None;
        self
    }

    /// Sets `spec.stopped`.
    pub fn stopped(mut self) -> Self {
        self.spec.stopped = Some(true);
        self
    }
}
