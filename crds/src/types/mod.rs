//! The resource types, field for field as the operator's CRDs.

pub mod backup;
pub mod backup_job;
pub mod cassdc;
pub mod cluster;
pub mod condition;
pub mod configuration;
pub mod restore_job;
pub mod schedule;
pub mod storage;
pub mod task;

pub use backup::{
    BackupStatus, MedusaBackup, MedusaBackupNode, MedusaBackupSpec, MedusaBackupStatus,
};
pub use backup_job::{BackupType, MedusaBackupJob, MedusaBackupJobSpec, MedusaBackupJobStatus};
pub use cassdc::{CassandraDatacenter, CassandraDatacenterSpec, CassandraDatacenterStatus};
pub use cluster::{
    ConfigurationRef, DatacenterTemplate, K8ssandraCluster, K8ssandraClusterSpec,
    MedusaClusterTemplate,
};
pub use condition::{Condition, ConditionStatus};
pub use configuration::{MedusaConfiguration, MedusaConfigurationSpec, MedusaConfigurationStatus};
pub use restore_job::{
    MedusaRestoreJob, MedusaRestoreJobSpec, MedusaRestoreJobStatus, RestoreHostMapping,
    RestoreMapping,
};
pub use schedule::{
    ConcurrencyPolicy, MedusaBackupSchedule, MedusaBackupScheduleSpec, MedusaBackupScheduleStatus,
    OperationType,
};
pub use storage::{CredentialsType, PodStorage, SecretRef, Storage, StorageProvider};
pub use task::{MedusaTask, MedusaTaskSpec, MedusaTaskStatus, Operation, TaskResult};
