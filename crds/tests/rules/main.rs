//! Every admission rule, with both outcomes and its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::sync::Arc;

use futures::executor::block_on;
use medusa_crds::naming::{
    ALLOW_STORAGE_CHANGE_ANNOTATION, CLUSTER_LABEL, DATACENTER_LABEL, SCHEDULE_LABEL,
};
use medusa_crds::rules::*;
use medusa_crds::*;
use serde::Serialize;
use serde_json::value::{RawValue, to_raw_value};
use serde_json::{Value, json};

const NS: &str = fixtures::NAMESPACE;

/// A request about `object`, as the API server sends it (defaulted).
fn request<'a>(
    kind: ResourceKind,
    operation: AdmissionOperation,
    name: &'a str,
    object: Option<&'a ObjectText<'a>>,
    old: Option<&'a ObjectText<'a>>,
) -> AdmissionInput<'a> {
    AdmissionInput {
        operation,
        kind,
        namespace: NS,
        name,
        object,
        old_object: old,
        defaulted: true,
    }
}

/// An object's text as the rules read it.
fn text(raw: &RawValue) -> ObjectText<'_> {
    ObjectText::parse(raw.get()).unwrap()
}

fn kind_of<T: kube::Resource<DynamicType = ()>>() -> ResourceKind {
    ResourceKind::from_group_kind(&T::group(&()), &T::kind(&())).unwrap()
}

fn name_of<T: kube::Resource>(object: &T) -> String {
    object.meta().name.clone().unwrap()
}

fn create<T: kube::Resource<DynamicType = ()> + Serialize>(
    object: &T,
    view: &impl ClusterView,
) -> Decision {
    create_with(object, view, &Policy::default())
}

fn create_with<T: kube::Resource<DynamicType = ()> + Serialize>(
    object: &T,
    view: &impl ClusterView,
    policy: &Policy,
) -> Decision {
    let value = to_raw_value(object).unwrap();
    let name = name_of(object);
    block_on(validate(
        &request(
            kind_of::<T>(),
            AdmissionOperation::Create,
            &name,
            Some(&text(&value)),
            None,
        ),
        view,
        policy,
    ))
}

fn update<T: kube::Resource<DynamicType = ()> + Serialize>(
    old: &T,
    new: &T,
    view: &impl ClusterView,
) -> Decision {
    let old_value = to_raw_value(old).unwrap();
    let new_value = to_raw_value(new).unwrap();
    let name = name_of(new);
    block_on(validate(
        &request(
            kind_of::<T>(),
            AdmissionOperation::Update,
            &name,
            Some(&text(&new_value)),
            Some(&text(&old_value)),
        ),
        view,
        &Policy::default(),
    ))
}

fn delete<T: kube::Resource<DynamicType = ()> + Serialize>(
    old: &T,
    view: &impl ClusterView,
) -> Decision {
    let old_value = to_raw_value(old).unwrap();
    let name = name_of(old);
    block_on(validate(
        &request(
            kind_of::<T>(),
            AdmissionOperation::Delete,
            &name,
            None,
            Some(&text(&old_value)),
        ),
        view,
        &Policy::default(),
    ))
}

fn mutation<T: kube::Resource<DynamicType = ()> + Serialize>(
    object: &T,
    view: &impl ClusterView,
    policy: &Policy,
) -> (Mutation, Value) {
    let raw = to_raw_value(object).unwrap();
    let mut value = serde_json::to_value(object).unwrap();
    let name = name_of(object);
    let result = block_on(mutate(
        &request(
            kind_of::<T>(),
            AdmissionOperation::Create,
            &name,
            Some(&text(&raw)),
            None,
        ),
        view,
        policy,
    ));
    result.apply(&mut value).unwrap();
    (result, value)
}

/// The findings of a rule, as (severity, message).
fn of(decision: &Decision, rule: RuleId) -> Vec<(Severity, String)> {
    decision
        .findings
        .iter()
        .filter(|f| f.rule == Some(rule))
        .map(|f| (f.severity, f.message.clone()))
        .collect()
}

fn denies(decision: &Decision, rule: RuleId) -> String {
    let found = of(decision, rule);
    assert!(
        !decision.allowed(),
        "expected a denial by {rule}, got {decision:#?}"
    );
    found
        .into_iter()
        .find(|(s, _)| *s == Severity::Deny)
        .unwrap_or_else(|| panic!("expected a denial by {rule}, got {decision:#?}"))
        .1
}

fn warns(decision: &Decision, rule: RuleId) -> String {
    of(decision, rule)
        .into_iter()
        .find(|(s, _)| *s == Severity::Warn)
        .unwrap_or_else(|| panic!("expected a warning by {rule}, got {decision:#?}"))
        .1
}

fn silent(decision: &Decision, rule: RuleId) {
    assert!(
        of(decision, rule).is_empty(),
        "expected nothing from {rule}, got {decision:#?}"
    );
}

/// A cluster where everything Medusa needs exists: datacenter dc1, configuration s3 and the
/// storage Secret with its key.
fn world() -> MemoryView {
    MemoryView::empty()
        .with(MedusaConfiguration::test("s3"))
        .with(CassandraDatacenter::test("dc1"))
        .with_secret(NS, "medusa-bucket-key", true)
}

/// A view whose live lookups for configurations fail.
struct FailingLookups(MemoryView);

impl ClusterView for FailingLookups {
    async fn get<K: kinds::Watched>(
        &self,
        namespace: &str,
        name: &str,
        expect: Expect,
    ) -> Lookup<Arc<K>> {
        if K::KIND == kinds::ViewKind::MedusaConfiguration {
            return Lookup::Failed("GET timed out after 300ms".into());
        }
        self.0.get(namespace, name, expect).await
    }
    async fn list<K: kinds::Watched>(&self, namespace: &str) -> Lookup<Vec<Arc<K>>> {
        self.0.list(namespace).await
    }
    async fn list_all<K: kinds::Watched>(&self) -> Lookup<Vec<Arc<K>>> {
        self.0.list_all().await
    }
    async fn clusters_at(&self, location: &StorageLocation) -> Lookup<Vec<ObjectKey>> {
        self.0.clusters_at(location).await
    }
    async fn secret(&self, namespace: &str, name: &str) -> Lookup<SecretFacts> {
        self.0.secret(namespace, name).await
    }
}

mod k1_operator_rules;

mod k2_configuration_exists;

mod k3_merged_storage;

mod k4_credentials;

mod k5_storage_secret;

mod k6_prefix_format;

mod k7_shared_location;

mod k8_storage_move;

mod k9_merge_traps;

mod km_prefix_mutation;

mod c_configurations;

mod j_backup_jobs;

mod r_restore_jobs;

mod t_tasks;

mod s_schedules;

mod b_backups;

mod policy_actions;

mod messages_and_decoding;
