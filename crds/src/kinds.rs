//! The kinds the rules read, each declared once.
//!
//! [`Watched`] is implemented once per kind: which [`ViewKind`] it is, its slot in a
//! [`PerKind`], and what of it the rules never read (dropped before an object is cached).
//! Everything that holds one thing per kind is a `PerKind<F>` for some [`Family`] `F`: the
//! webhook's caches and their writers, [`MemoryView`](crate::rules::MemoryView), the plugin's
//! namespace snapshot. Code that does the same for every kind fans out with [`each_kind`],
//! [`Build`], [`Visit`], [`VisitMut`] and [`Consume`], as linkerd's policy controller gives each resource one
//! `IndexNamespacedResource` impl and fans out with `IndexList`; no other place lists the kinds.
//!
//! Secrets are not among them: the rules may know whether a Secret exists and has a
//! `credentials` key ([`SecretFacts`](crate::rules::SecretFacts)), never its content, and each
//! view answers that in its own way.

use std::fmt::Debug;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::types::{
    CassandraDatacenter, K8ssandraCluster, MedusaBackup, MedusaBackupJob, MedusaBackupSchedule,
    MedusaConfiguration, MedusaRestoreJob, MedusaTask,
};

/// One of the kinds the rules read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum ViewKind {
    /// MedusaConfiguration.
    MedusaConfiguration,
    /// K8ssandraCluster.
    K8ssandraCluster,
    /// CassandraDatacenter (cass-operator).
    CassandraDatacenter,
    /// MedusaBackup.
    MedusaBackup,
    /// MedusaBackupJob.
    MedusaBackupJob,
    /// MedusaRestoreJob.
    MedusaRestoreJob,
    /// MedusaTask.
    MedusaTask,
    /// MedusaBackupSchedule.
    MedusaBackupSchedule,
}

impl ViewKind {
    /// The kind's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MedusaConfiguration => "MedusaConfiguration",
            Self::K8ssandraCluster => "K8ssandraCluster",
            Self::CassandraDatacenter => "CassandraDatacenter",
            Self::MedusaBackup => "MedusaBackup",
            Self::MedusaBackupJob => "MedusaBackupJob",
            Self::MedusaRestoreJob => "MedusaRestoreJob",
            Self::MedusaTask => "MedusaTask",
            Self::MedusaBackupSchedule => "MedusaBackupSchedule",
        }
    }
}

impl std::fmt::Display for ViewKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Does something for each kind.
pub trait Each {
    /// Does it for kind `K`.
    fn each<K: Watched>(&mut self);
}

/// Calls `visitor` for every kind, in the order of [`ViewKind`].
pub fn each_kind(visitor: &mut impl Each) {
    visitor.each::<MedusaConfiguration>();
    visitor.each::<K8ssandraCluster>();
    visitor.each::<CassandraDatacenter>();
    visitor.each::<MedusaBackup>();
    visitor.each::<MedusaBackupJob>();
    visitor.each::<MedusaRestoreJob>();
    visitor.each::<MedusaTask>();
    visitor.each::<MedusaBackupSchedule>();
}

/// What a [`PerKind`] holds for each kind: `Of<K>` for kind `K`.
pub trait Family {
    /// The slot of kind `K`.
    type Of<K: Watched>;
}

/// One slot per kind.
pub struct PerKind<F: Family> {
    configurations: F::Of<MedusaConfiguration>,
    clusters: F::Of<K8ssandraCluster>,
    datacenters: F::Of<CassandraDatacenter>,
    backups: F::Of<MedusaBackup>,
    backup_jobs: F::Of<MedusaBackupJob>,
    restore_jobs: F::Of<MedusaRestoreJob>,
    tasks: F::Of<MedusaTask>,
    schedules: F::Of<MedusaBackupSchedule>,
}

/// Makes the slot of each kind.
pub trait Build<F: Family> {
    /// The slot of kind `K`.
    fn build<K: Watched>(&mut self) -> F::Of<K>;
}

/// Reads the slot of each kind.
pub trait Visit<F: Family> {
    /// Reads the slot of kind `K`.
    fn visit<K: Watched>(&mut self, slot: &F::Of<K>);
}

/// Changes the slot of each kind.
pub trait VisitMut<F: Family> {
    /// Changes the slot of kind `K`.
    fn visit<K: Watched>(&mut self, slot: &mut F::Of<K>);
}

/// Takes the slot of each kind.
pub trait Consume<F: Family> {
    /// Takes the slot of kind `K`.
    fn consume<K: Watched>(&mut self, slot: F::Of<K>);
}

impl<F: Family> PerKind<F> {
    /// Every slot, from a builder.
    pub fn build(builder: &mut impl Build<F>) -> Self {
        Self {
            configurations: builder.build(),
            clusters: builder.build(),
            datacenters: builder.build(),
            backups: builder.build(),
            backup_jobs: builder.build(),
            restore_jobs: builder.build(),
            tasks: builder.build(),
            schedules: builder.build(),
        }
    }

    /// Visits every slot, in the order of [`ViewKind`].
    pub fn visit(&self, visitor: &mut impl Visit<F>) {
        visitor.visit::<MedusaConfiguration>(&self.configurations);
        visitor.visit::<K8ssandraCluster>(&self.clusters);
        visitor.visit::<CassandraDatacenter>(&self.datacenters);
        visitor.visit::<MedusaBackup>(&self.backups);
        visitor.visit::<MedusaBackupJob>(&self.backup_jobs);
        visitor.visit::<MedusaRestoreJob>(&self.restore_jobs);
        visitor.visit::<MedusaTask>(&self.tasks);
        visitor.visit::<MedusaBackupSchedule>(&self.schedules);
    }

    /// Visits every slot to change it, in the order of [`ViewKind`].
    pub fn visit_mut(&mut self, visitor: &mut impl VisitMut<F>) {
        visitor.visit::<MedusaConfiguration>(&mut self.configurations);
        visitor.visit::<K8ssandraCluster>(&mut self.clusters);
        visitor.visit::<CassandraDatacenter>(&mut self.datacenters);
        visitor.visit::<MedusaBackup>(&mut self.backups);
        visitor.visit::<MedusaBackupJob>(&mut self.backup_jobs);
        visitor.visit::<MedusaRestoreJob>(&mut self.restore_jobs);
        visitor.visit::<MedusaTask>(&mut self.tasks);
        visitor.visit::<MedusaBackupSchedule>(&mut self.schedules);
    }

    /// Hands every slot over, in the order of [`ViewKind`].
    pub fn consume(self, consumer: &mut impl Consume<F>) {
        consumer.consume::<MedusaConfiguration>(self.configurations);
        consumer.consume::<K8ssandraCluster>(self.clusters);
        consumer.consume::<CassandraDatacenter>(self.datacenters);
        consumer.consume::<MedusaBackup>(self.backups);
        consumer.consume::<MedusaBackupJob>(self.backup_jobs);
        consumer.consume::<MedusaRestoreJob>(self.restore_jobs);
        consumer.consume::<MedusaTask>(self.tasks);
        consumer.consume::<MedusaBackupSchedule>(self.schedules);
    }

    /// The slot of kind `K`.
    pub fn of<K: Watched>(&self) -> &F::Of<K> {
        K::slot(self)
    }

    /// The slot of kind `K`, to change.
    pub fn of_mut<K: Watched>(&mut self) -> &mut F::Of<K> {
        K::slot_mut(self)
    }
}

impl<F: Family> Debug for PerKind<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerKind").finish_non_exhaustive()
    }
}

/// A family whose slots can be cloned.
pub trait CloneFamily: Family {
    /// A copy of the slot of kind `K`.
    fn clone_slot<K: Watched>(slot: &Self::Of<K>) -> Self::Of<K>;
}

struct CloneFrom<'a, F: Family>(&'a PerKind<F>);

impl<F: CloneFamily> Build<F> for CloneFrom<'_, F> {
    fn build<K: Watched>(&mut self) -> F::Of<K> {
        F::clone_slot::<K>(self.0.of::<K>())
    }
}

impl<F: CloneFamily> Clone for PerKind<F> {
    fn clone(&self) -> Self {
        Self::build(&mut CloneFrom(self))
    }
}

/// A kind the rules read: its [`ViewKind`], its slot in a [`PerKind`], and what of it the
/// rules never read.
pub trait Watched:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + Clone
    + Debug
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// Which kind this is.
    const KIND: ViewKind;

    /// This kind's slot.
    fn slot<F: Family>(all: &PerKind<F>) -> &F::Of<Self>;

    /// This kind's slot, to change.
    fn slot_mut<F: Family>(all: &mut PerKind<F>) -> &mut F::Of<Self>;

    /// Drops what the rules never read, before the object is cached: managed fields and
    /// annotations other than ours, by default.
    fn slim(mut self) -> Self {
        slim_meta(self.meta_mut());
        self
    }
}

/// Drops managed fields and the annotations the rules never read (all but ours).
pub fn slim_meta(meta: &mut ObjectMeta) {
    meta.managed_fields = None;
    if let Some(annotations) = meta.annotations.as_mut() {
        annotations.retain(|key, _| key.starts_with("medusa.k8ssandra.io/"));
        if annotations.is_empty() {
            meta.annotations = None;
        }
    }
}

macro_rules! slot {
    ($kind:ident, $field:ident) => {
        const KIND: ViewKind = ViewKind::$kind;

        fn slot<F: Family>(all: &PerKind<F>) -> &F::Of<Self> {
            &all.$field
        }

        fn slot_mut<F: Family>(all: &mut PerKind<F>) -> &mut F::Of<Self> {
            &mut all.$field
        }
    };
}

impl Watched for MedusaConfiguration {
    slot!(MedusaConfiguration, configurations);
}

impl Watched for MedusaBackupJob {
    slot!(MedusaBackupJob, backup_jobs);
}

impl Watched for MedusaRestoreJob {
    slot!(MedusaRestoreJob, restore_jobs);
}

impl Watched for MedusaTask {
    slot!(MedusaTask, tasks);
}

impl Watched for MedusaBackupSchedule {
    slot!(MedusaBackupSchedule, schedules);
}

impl Watched for MedusaBackup {
    slot!(MedusaBackup, backups);

    /// Without the token ranges of each node (a few KiB per node) and unmodelled fields.
    fn slim(mut self) -> Self {
        slim_meta(&mut self.metadata);
        if let Some(nodes) = self.status.as_mut().and_then(|s| s.nodes.as_mut()) {
            for node in nodes {
                node.tokens = None;
                node.extra.clear();
            }
        }
        self
    }
}

impl Watched for K8ssandraCluster {
    slot!(K8ssandraCluster, clusters);

    /// Only what Medusa's rules read: no status, no unmodelled sections.
    fn slim(mut self) -> Self {
        slim_meta(&mut self.metadata);
        self.spec.extra.clear();
        self.status = None;
        if let Some(cassandra) = self.spec.cassandra.as_mut() {
            cassandra.extra.clear();
            for dc in cassandra.datacenters.iter_mut().flatten() {
                dc.extra.clear();
                for rack in dc.racks.iter_mut().flatten() {
                    rack.extra.clear();
                }
            }
        }
        self
    }
}

impl Watched for CassandraDatacenter {
    slot!(CassandraDatacenter, datacenters);

    /// Only what Medusa's rules read: racks, containers by name, the status's modelled fields.
    fn slim(mut self) -> Self {
        slim_meta(&mut self.metadata);
        self.spec.extra.clear();
        for rack in self.spec.racks.iter_mut().flatten() {
            rack.extra.clear();
        }
        if let Some(spec) = self.spec.pod_template_spec.as_mut().and_then(|t| {
            t.extra.clear();
            t.spec.as_mut()
        }) {
            spec.extra.clear();
            for container in spec
                .containers
                .iter_mut()
                .flatten()
                .chain(spec.init_containers.iter_mut().flatten())
            {
                container.extra.clear();
            }
        }
        if let Some(status) = self.status.as_mut() {
            status.extra.clear();
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each kind's name, by visiting every slot.
    struct Names(Vec<ViewKind>);

    struct Unit;

    impl Family for Unit {
        type Of<K: Watched> = ();
    }

    impl Visit<Unit> for Names {
        fn visit<K: Watched>(&mut self, (): &()) {
            self.0.push(K::KIND);
        }
    }

    impl Build<Unit> for Names {
        fn build<K: Watched>(&mut self) {}
    }

    #[test]
    fn every_kind_has_its_own_slot_in_kind_order() {
        let all = PerKind::<Unit>::build(&mut Names(Vec::new()));
        let mut names = Names(Vec::new());
        all.visit(&mut names);
        let mut sorted = names.0.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names.0, sorted, "visited out of order or twice");
        assert_eq!(names.0.len(), 8);
    }

    #[test]
    fn each_kind_is_named_as_its_resource() {
        fn kind_of<K: Watched>() -> (String, ViewKind) {
            (K::kind(&()).into_owned(), K::KIND)
        }
        for (kind, view_kind) in [
            kind_of::<MedusaConfiguration>(),
            kind_of::<K8ssandraCluster>(),
            kind_of::<CassandraDatacenter>(),
            kind_of::<MedusaBackup>(),
            kind_of::<MedusaBackupJob>(),
            kind_of::<MedusaRestoreJob>(),
            kind_of::<MedusaTask>(),
            kind_of::<MedusaBackupSchedule>(),
        ] {
            assert_eq!(kind, view_kind.as_str());
        }
    }
}
