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
    object: Option<&'a RawValue>,
    old: Option<&'a RawValue>,
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
            Some(&value),
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
            Some(&new_value),
            Some(&old_value),
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
            Some(&old_value),
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
            Some(&raw),
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

mod k1_operator_rules {
    use super::*;

    #[test]
    fn a_complete_cluster_passes() {
        let decision = create(&K8ssandraCluster::test("demo"), &world());
        assert!(decision.allowed(), "{decision:#?}");
        assert!(decision.findings.is_empty(), "{decision:#?}");
    }

    #[test]
    fn a_ref_without_prefix_is_denied_with_the_operator_text() {
        let cluster = K8ssandraCluster::test("demo")
            .configuration_ref("s3")
            .with_storage(Storage::default());
        let message = denies(&create(&cluster, &world()), RuleId::K1);
        assert!(message.starts_with(
            "K8ssandraCluster k8ssandra/demo: medusa storage prefix must be set when a medusaConfigurationRef is used: set spec.medusa.storageProperties.prefix"
        ), "{message}");
    }

    #[test]
    fn a_namespaced_ref_is_denied_even_with_the_clusters_namespace() {
        let cluster = K8ssandraCluster::test("demo")
            .configuration_ref("s3")
            .raw_configuration_ref(ConfigurationRef {
                namespace: Some(NS.into()),
                ..ConfigurationRef::named("s3")
            });
        assert!(
            denies(&create(&cluster, &world()), RuleId::K1)
                .contains("Medusa config must be namespace local")
        );
    }

    #[test]
    fn a_ref_with_another_field_is_denied() {
        let cluster = K8ssandraCluster::test("demo")
            .configuration_ref("s3")
            .raw_configuration_ref(ConfigurationRef {
                kind: Some("MedusaConfiguration".into()),
                ..ConfigurationRef::named("s3")
            });
        assert!(
            denies(&create(&cluster, &world()), RuleId::K1)
                .contains("Medusa config invalid, invalid field used")
        );
    }

    #[test]
    fn the_first_failing_operator_rule_wins() {
        let cluster = K8ssandraCluster::test("demo")
            .configuration_ref("s3")
            .with_storage(Storage::default())
            .raw_configuration_ref(ConfigurationRef {
                namespace: Some("other".into()),
                ..ConfigurationRef::named("s3")
            });
        let k1 = of(&create(&cluster, &world()), RuleId::K1);
        assert_eq!(k1.len(), 1);
        assert!(k1[0].1.contains("prefix must be set"));
    }

    #[test]
    fn no_ref_and_no_provider_is_denied_with_the_operator_text() {
        let cluster = K8ssandraCluster::test("demo").with_storage(Storage {
            storage_provider: None,
            ..Storage::test()
        });
        assert!(denies(&create(&cluster, &world()), RuleId::K1).contains(
            "medusa storage provider must be set when no medusaConfigurationRef is used"
        ));
    }

    #[test]
    fn no_ref_and_no_bucket_is_denied_with_the_operator_text() {
        let cluster = K8ssandraCluster::test("demo").with_storage(Storage {
            bucket_name: None,
            ..Storage::test()
        });
        assert!(
            denies(&create(&cluster, &world()), RuleId::K1)
                .contains("medusa bucket name must be set when no medusaConfigurationRef is used")
        );
    }

    #[test]
    fn an_empty_ref_name_counts_as_no_ref() {
        let cluster = K8ssandraCluster::test("demo").raw_configuration_ref(ConfigurationRef {
            namespace: Some("x".into()),
            ..ConfigurationRef::named("")
        });
        silent(&create(&cluster, &world()), RuleId::K1);
    }

    #[test]
    fn a_cluster_without_medusa_is_not_checked() {
        let decision = create(
            &K8ssandraCluster::test("demo").without_medusa(),
            &MemoryView::default(),
        );
        assert!(decision.findings.is_empty());
    }

    #[test]
    fn operator_rules_also_apply_to_unrelated_updates() {
        let broken = K8ssandraCluster::test("demo")
            .configuration_ref("s3")
            .with_storage(Storage::default());
        let edited = broken.clone().label("team", "data");
        denies(&update(&broken, &edited, &world()), RuleId::K1);
    }
}

mod k2_configuration_exists {
    use super::*;

    #[test]
    fn a_missing_configuration_is_denied() {
        let cluster = K8ssandraCluster::test("demo").configuration_ref("gcs");
        let message = denies(&create(&cluster, &world()), RuleId::K2);
        assert!(
            message.contains("MedusaConfiguration \"gcs\" not found in namespace k8ssandra"),
            "{message}"
        );
        assert!(message.contains("medusaconfigurations.medusa.k8ssandra.io \"gcs\" not found"));
    }

    #[test]
    fn an_existing_configuration_is_accepted() {
        let decision = create(
            &K8ssandraCluster::test("demo").configuration_ref("s3"),
            &world(),
        );
        silent(&decision, RuleId::K2);
        assert!(decision.allowed(), "{decision:#?}");
    }

    #[test]
    fn an_unrelated_update_does_not_recheck_it() {
        let cluster = K8ssandraCluster::test("demo").configuration_ref("gcs");
        let decision = update(&cluster, &cluster.clone().label("team", "data"), &world());
        silent(&decision, RuleId::K2);
        assert!(decision.allowed());
    }

    #[test]
    fn a_failed_lookup_warns_when_the_policy_fails_open() {
        let cluster = K8ssandraCluster::test("demo").configuration_ref("s3");
        let decision = create(&cluster, &FailingLookups(world()));
        assert!(
            warns(&decision, RuleId::K2).contains(
                "GET timed out after 300ms; admitted because the webhook policy fails open"
            )
        );
        assert!(decision.allowed());
    }

    #[test]
    fn a_failed_lookup_denies_when_the_policy_fails_closed() {
        let cluster = K8ssandraCluster::test("demo").configuration_ref("s3");
        let policy = Policy::from_yaml("lookups:\n  onFailure: deny\n").unwrap();
        let decision = create_with(&cluster, &FailingLookups(world()), &policy);
        assert!(denies(&decision, RuleId::K2).contains("fails closed"));
    }
}

mod k3_merged_storage {
    use super::*;

    #[test]
    fn a_configuration_without_provider_leaves_the_merge_without_one() {
        let view = world().replace(vec![Arc::new(
            MedusaConfiguration::test("s3").with_storage(Storage {
                storage_provider: None,
                ..Storage::test()
            }),
        )]);
        let message = denies(
            &create(
                &K8ssandraCluster::test("demo").configuration_ref("s3"),
                &view,
            ),
            RuleId::K3,
        );
        assert!(message.contains("the merged storage (MedusaConfiguration and K8ssandraCluster) has no storageProvider"), "{message}");
        assert!(message.contains("set storageProvider in MedusaConfiguration \"s3\""));
    }

    #[test]
    fn s3_compatible_without_host_is_denied() {
        let cluster = K8ssandraCluster::test("demo").with_storage(
            Storage::test()
                .provider(StorageProvider::S3Compatible)
                .with_prefix("demo"),
        );
        assert!(
            denies(&create(&cluster, &world()), RuleId::K3)
                .contains("storageProvider s3_compatible needs the endpoint's host")
        );
    }

    #[test]
    fn s3_compatible_with_host_is_accepted() {
        let cluster = K8ssandraCluster::test("demo").with_storage(
            Storage::test()
                .provider(StorageProvider::S3Rgw)
                .with_host("rgw.ceph")
                .with_prefix("demo"),
        );
        silent(&create(&cluster, &world()), RuleId::K3);
    }

    #[test]
    fn a_port_beyond_65535_is_denied() {
        let cluster = K8ssandraCluster::test("demo")
            .with_storage(Storage::test().with_port(70000).with_prefix("demo"));
        assert!(
            denies(&create(&cluster, &world()), RuleId::K3)
                .contains("storage port 70000 is not a TCP port")
        );
    }

    #[test]
    fn port_zero_means_unset() {
        let cluster = K8ssandraCluster::test("demo")
            .with_storage(Storage::test().with_port(0).with_prefix("demo"));
        silent(&create(&cluster, &world()), RuleId::K3);
    }
}

mod k4_credentials {
    use super::*;

    #[test]
    fn no_secret_and_no_role_is_denied_with_the_operator_text() {
        let cluster = K8ssandraCluster::test("demo")
            .with_storage(Storage::test().without_secret().with_prefix("demo"));
        assert!(
            denies(&create(&cluster, &world()), RuleId::K4)
                .contains("must specify either a storge secret or use role-based credentials")
        );
    }

    #[test]
    fn role_based_without_secret_is_accepted() {
        let cluster = K8ssandraCluster::test("demo").with_storage(
            Storage::test()
                .without_secret()
                .role_based()
                .with_prefix("demo"),
        );
        let decision = create(&cluster, &world());
        silent(&decision, RuleId::K4);
        silent(&decision, RuleId::K5);
    }

    #[test]
    fn the_documented_irsa_example_is_denied_and_explained() {
        let mut cluster = K8ssandraCluster::test("demo").configuration_ref("s3");
        cluster.spec.medusa.as_mut().unwrap().storage_properties =
            Some(Storage::prefix_only("demo").role_based().with_secret(""));
        let message = denies(&create(&cluster, &world()), RuleId::K4);
        assert!(
            message.contains(
                "cannot specify both a storage secret and role-based credentials: medusa-bucket-key"
            ),
            "{message}"
        );
        assert!(message.contains("comes from MedusaConfiguration \"s3\""));
        assert!(message.contains("IRSA"));
    }

    #[test]
    fn both_in_the_cluster_gets_the_plain_hint() {
        let cluster = K8ssandraCluster::test("demo")
            .with_storage(Storage::test().role_based().with_prefix("demo"));
        let message = denies(&create(&cluster, &world()), RuleId::K4);
        assert!(
            message.contains("remove storageSecretRef to use the pods' cloud identity"),
            "{message}"
        );
    }
}

mod k5_storage_secret {
    use super::*;

    #[test]
    fn a_missing_secret_in_a_datacenter_namespace_is_denied() {
        let cluster = K8ssandraCluster::test("demo").add_datacenter("dc2", Some("east"), None, 3);
        let message = denies(&create(&cluster, &world()), RuleId::K5);
        assert!(
            message.contains(
                "storage Secret \"medusa-bucket-key\" not found in namespace east (datacenter dc2)"
            ),
            "{message}"
        );
    }

    #[test]
    fn a_secret_without_credentials_key_is_denied() {
        let view = world().with_secret(NS, "medusa-bucket-key", false);
        let message = denies(&create(&K8ssandraCluster::test("demo"), &view), RuleId::K5);
        assert!(message.contains("has no `credentials` key"), "{message}");
    }

    #[test]
    fn a_secret_in_every_namespace_is_accepted() {
        let cluster = K8ssandraCluster::test("demo").add_datacenter("dc2", Some("east"), None, 3);
        let view = world().with_secret("east", "medusa-bucket-key", true);
        silent(&create(&cluster, &view), RuleId::K5);
    }

    #[test]
    fn datacenters_in_other_contexts_are_named_in_a_warning() {
        let cluster = K8ssandraCluster::test("demo").add_datacenter(
            "dc2",
            Some("west"),
            Some("kind-west"),
            3,
        );
        let message = warns(&create(&cluster, &world()), RuleId::K5);
        assert!(
            message.contains(
                "dc2 (context kind-west, namespace west) run in other Kubernetes clusters"
            ),
            "{message}"
        );
    }

    #[test]
    fn local_contexts_from_the_policy_are_checked() {
        let cluster = K8ssandraCluster::test("demo").add_datacenter(
            "dc2",
            Some("west"),
            Some("kind-west"),
            3,
        );
        let policy = Policy::from_yaml("localContexts: [kind-west]\n").unwrap();
        denies(&create_with(&cluster, &world(), &policy), RuleId::K5);
    }

    #[test]
    fn unseen_secrets_only_warn() {
        let view = MemoryView {
            secrets: None,
            ..world()
        };
        let decision = create(&K8ssandraCluster::test("demo"), &view);
        assert!(warns(&decision, RuleId::K5).contains("Secrets cannot be seen from here"));
        assert!(decision.allowed());
    }
}

mod k6_prefix_format {
    use super::*;

    fn with_prefix(prefix: &str) -> Decision {
        create(
            &K8ssandraCluster::test("demo").with_storage(Storage::test().with_prefix(prefix)),
            &world(),
        )
    }

    #[test]
    fn leading_and_trailing_slashes_are_denied() {
        assert!(
            denies(&with_prefix("/demo"), RuleId::K6).contains("\"/demo\" starts or ends with /")
        );
        denies(&with_prefix("demo/"), RuleId::K6);
    }

    #[test]
    fn empty_and_parent_segments_are_denied() {
        assert!(denies(&with_prefix("a//b"), RuleId::K6).contains("empty path segment"));
        assert!(denies(&with_prefix("a/../b"), RuleId::K6).contains("`..` path segment"));
    }

    #[test]
    fn white_space_and_control_characters_are_denied() {
        denies(&with_prefix("my demo"), RuleId::K6);
        denies(&with_prefix("demo\u{7}"), RuleId::K6);
    }

    #[test]
    fn long_prefixes_are_denied() {
        assert!(denies(&with_prefix(&"a".repeat(257)), RuleId::K6).contains("longer than 256"));
        silent(&with_prefix(&"a".repeat(256)), RuleId::K6);
    }

    #[test]
    fn nested_prefixes_are_accepted() {
        silent(&with_prefix("team-a/demo"), RuleId::K6);
    }
}

mod k7_shared_location {
    use super::*;

    fn view_with(other: K8ssandraCluster) -> MemoryView {
        world()
            .replace(vec![Arc::new(other)])
            .with_secret("other", "medusa-bucket-key", true)
    }

    #[test]
    fn another_cluster_with_the_same_bucket_and_prefix_is_denied() {
        let other = K8ssandraCluster::test("other")
            .namespace("other")
            .with_storage(Storage::test().with_prefix("demo"));
        let message = denies(
            &create(&K8ssandraCluster::test("demo"), &view_with(other)),
            RuleId::K7,
        );
        assert!(message.contains("K8ssandraCluster other/other already uses s3 bucket \"k8ssandra-medusa\" with prefix \"demo\""), "{message}");
    }

    #[test]
    fn an_empty_prefix_counts_as_the_cluster_name() {
        let other = K8ssandraCluster::test("demo")
            .namespace("other")
            .with_storage(Storage::test());
        denies(
            &create(&K8ssandraCluster::test("demo"), &view_with(other)),
            RuleId::K7,
        );
    }

    #[test]
    fn configurations_are_merged_before_comparing() {
        let other = K8ssandraCluster::test("other")
            .configuration_ref("s3")
            .with_storage(Storage::prefix_only("demo"));
        denies(
            &create(&K8ssandraCluster::test("demo"), &view_with(other)),
            RuleId::K7,
        );
    }

    #[test]
    fn another_prefix_is_accepted() {
        let other =
            K8ssandraCluster::test("other").with_storage(Storage::test().with_prefix("other"));
        silent(
            &create(&K8ssandraCluster::test("demo"), &view_with(other)),
            RuleId::K7,
        );
    }

    #[test]
    fn the_cluster_itself_does_not_count() {
        let cluster = K8ssandraCluster::test("demo");
        let changed = cluster
            .clone()
            .with_storage(Storage::test().with_prefix("demo").with_port(443));
        silent(
            &update(&cluster, &changed, &view_with(cluster.clone())),
            RuleId::K7,
        );
    }
}

mod k8_storage_move {
    use super::*;

    fn with_backups() -> MemoryView {
        world().with(MedusaBackup::test("nightly-1"))
    }

    #[test]
    fn moving_the_prefix_with_backups_is_denied() {
        let old = K8ssandraCluster::test("demo");
        let new = old
            .clone()
            .with_storage(Storage::test().with_prefix("demo-v2"));
        let message = denies(&update(&old, &new, &with_backups()), RuleId::K8);
        assert!(
            message.contains("while 1 MedusaBackup(s) exist (nightly-1)"),
            "{message}"
        );
        assert!(message.contains(ALLOW_STORAGE_CHANGE_ANNOTATION));
    }

    #[test]
    fn the_annotation_allows_the_move() {
        let old = K8ssandraCluster::test("demo");
        let new = old
            .clone()
            .with_storage(Storage::test().with_prefix("demo-v2"))
            .annotation(ALLOW_STORAGE_CHANGE_ANNOTATION, "true");
        silent(&update(&old, &new, &with_backups()), RuleId::K8);
    }

    #[test]
    fn moving_without_backups_is_accepted() {
        let old = K8ssandraCluster::test("demo");
        let new = old.clone().with_storage(
            Storage::test()
                .with_bucket("other-bucket")
                .with_prefix("demo"),
        );
        silent(&update(&old, &new, &world()), RuleId::K8);
    }

    #[test]
    fn changes_that_keep_the_location_are_accepted() {
        let old = K8ssandraCluster::test("demo");
        let new = old
            .clone()
            .with_storage(Storage::test().with_prefix("demo").with_port(443));
        silent(&update(&old, &new, &with_backups()), RuleId::K8);
    }
}

mod k9_merge_traps {
    use super::*;

    #[test]
    fn configuration_values_masked_by_cluster_defaults_warn() {
        let view = world().replace(vec![Arc::new(
            MedusaConfiguration::test("s3").with_storage(Storage {
                transfer_max_bandwidth: Some("200MB/s".into()),
                ..Storage::test()
            }),
        )]);
        let mut cluster = K8ssandraCluster::test("demo").configuration_ref("s3");
        cluster
            .spec
            .medusa
            .as_mut()
            .unwrap()
            .storage_properties
            .as_mut()
            .unwrap()
            .apply_schema_defaults();
        let decision = create(&cluster, &view);
        assert!(
            warns(&decision, RuleId::K9)
                .contains("transferMaxBandwidth: the MedusaConfiguration's \"200MB/s\" is ignored")
        );
        assert!(decision.allowed());
    }

    #[test]
    fn no_configuration_means_no_trap() {
        silent(
            &create(&K8ssandraCluster::test("demo"), &world()),
            RuleId::K9,
        );
    }
}

mod km_prefix_mutation {
    use super::*;

    #[test]
    fn an_empty_prefix_with_a_ref_becomes_the_cluster_name() {
        let cluster = K8ssandraCluster::test("demo")
            .configuration_ref("s3")
            .with_storage(Storage::default());
        let (result, patched) = mutation(&cluster, &world(), &Policy::default());
        assert_eq!(result.fired, [RuleId::KM]);
        assert_eq!(
            patched.pointer("/spec/medusa/storageProperties/prefix"),
            Some(&json!("demo"))
        );
        assert!(result.warnings[0].contains("prefix was empty and is now \"demo\""));
        assert!(
            create(
                &serde_json::from_value::<K8ssandraCluster>(patched).unwrap(),
                &world()
            )
            .allowed()
        );
    }

    #[test]
    fn a_missing_storage_section_is_added() {
        let mut cluster = K8ssandraCluster::test("demo").configuration_ref("s3");
        cluster.spec.medusa.as_mut().unwrap().storage_properties = None;
        let (_, patched) = mutation(&cluster, &world(), &Policy::default());
        assert_eq!(
            patched.pointer("/spec/medusa/storageProperties"),
            Some(&json!({"prefix": "demo"}))
        );
    }

    #[test]
    fn a_set_prefix_is_left_alone() {
        let (result, _) = mutation(
            &K8ssandraCluster::test("demo").configuration_ref("s3"),
            &world(),
            &Policy::default(),
        );
        assert!(result.patch.is_empty());
    }

    #[test]
    fn the_mutation_can_be_turned_off() {
        let cluster = K8ssandraCluster::test("demo")
            .configuration_ref("s3")
            .with_storage(Storage::default());
        let policy = Policy::default().with_mutation(RuleId::KM, false);
        assert!(mutation(&cluster, &world(), &policy).0.patch.is_empty());
    }
}

mod c_configurations {
    use super::*;

    #[test]
    fn a_complete_configuration_passes() {
        let decision = create(&MedusaConfiguration::test("s3"), &world());
        assert!(decision.findings.is_empty(), "{decision:#?}");
    }

    #[test]
    fn a_provider_without_bucket_is_denied() {
        let configuration = MedusaConfiguration::test("s3").with_storage(Storage {
            bucket_name: None,
            ..Storage::test()
        });
        assert!(
            denies(&create(&configuration, &world()), RuleId::C1)
                .contains("storageProvider is s3 but bucketName is empty")
        );
    }

    #[test]
    fn secret_and_role_based_is_denied() {
        let configuration =
            MedusaConfiguration::test("s3").with_storage(Storage::test().role_based());
        assert!(
            denies(&create(&configuration, &world()), RuleId::C1)
                .contains("cannot specify both a storage secret and role-based credentials")
        );
    }

    #[test]
    fn a_missing_secret_is_denied() {
        let configuration =
            MedusaConfiguration::test("s3").with_storage(Storage::test().with_secret("nope"));
        assert!(
            denies(&create(&configuration, &world()), RuleId::C1)
                .contains("SecretAvailable to False")
        );
    }

    #[test]
    fn a_secret_without_credentials_key_is_denied() {
        let view = world().with_secret(NS, "medusa-bucket-key", false);
        assert!(
            denies(&create(&MedusaConfiguration::test("s3"), &view), RuleId::C1)
                .contains("no `credentials` key")
        );
    }

    #[test]
    fn a_prefix_warns_that_it_is_never_used() {
        let configuration =
            MedusaConfiguration::test("s3").with_storage(Storage::test().with_prefix("shared"));
        let decision = create(&configuration, &world());
        assert!(warns(&decision, RuleId::C2).contains("prefix \"shared\" is never used"));
        assert!(decision.allowed());
    }

    #[test]
    fn deleting_a_referenced_configuration_is_denied_listing_the_users() {
        let view = world().replace(vec![
            Arc::new(K8ssandraCluster::test("a").configuration_ref("s3")),
            Arc::new(K8ssandraCluster::test("b").configuration_ref("s3")),
            Arc::new(
                K8ssandraCluster::test("c")
                    .configuration_ref("s3")
                    .namespace("elsewhere"),
            ),
        ]);
        let message = denies(&delete(&MedusaConfiguration::test("s3"), &view), RuleId::C3);
        assert!(
            message
                .starts_with("MedusaConfiguration k8ssandra/s3 is used by K8ssandraCluster a, b:"),
            "{message}"
        );
    }

    #[test]
    fn deleting_an_unused_configuration_is_accepted() {
        let view = world().replace(vec![Arc::new(K8ssandraCluster::test("a"))]);
        assert!(delete(&MedusaConfiguration::test("s3"), &view).allowed());
    }
}

mod j_backup_jobs {
    use super::*;

    #[test]
    fn a_job_on_an_existing_datacenter_passes() {
        let decision = create(&MedusaBackupJob::test("nightly"), &world());
        assert!(decision.findings.is_empty(), "{decision:#?}");
    }

    #[test]
    fn a_missing_datacenter_is_denied_listing_the_existing_ones() {
        let message = denies(
            &create(&MedusaBackupJob::test("nightly").dc("dc9"), &world()),
            RuleId::J1,
        );
        assert!(message.contains("CassandraDatacenter \"dc9\" not found in namespace k8ssandra (datacenters in namespace k8ssandra: dc1)"), "{message}");
    }

    #[test]
    fn a_name_taken_by_a_backup_record_is_denied() {
        let view = world().replace(vec![Arc::new(MedusaBackup::test("nightly"))]);
        assert!(
            denies(
                &create(&MedusaBackupJob::test("nightly"), &view),
                RuleId::J1
            )
            .contains("MedusaBackup \"nightly\" already exists")
        );
    }

    #[test]
    fn a_datacenter_without_medusa_warns() {
        let view = world().replace(vec![Arc::new(
            CassandraDatacenter::test("dc1").without_medusa(),
        )]);
        let decision = create(&MedusaBackupJob::test("nightly"), &view);
        assert!(warns(&decision, RuleId::J1).contains("no medusa container"));
        assert!(decision.allowed());
    }

    #[test]
    fn another_unfinished_job_of_the_datacenter_warns() {
        let view = world().replace(vec![
            Arc::new(MedusaBackupJob::test("earlier").started("2024-05-01T10:00:00Z")),
            Arc::new(MedusaBackupJob::test("done").finished_at("2024-05-01T10:05:00Z")),
        ]);
        assert!(
            warns(
                &create(&MedusaBackupJob::test("nightly"), &view),
                RuleId::J1
            )
            .contains("has not finished (earlier)")
        );
    }

    #[test]
    fn without_the_datacenter_crd_the_check_warns() {
        let view = world()
            .unavailable::<CassandraDatacenter>("the CassandraDatacenter CRD is not installed");
        let decision = create(&MedusaBackupJob::test("nightly"), &view);
        assert!(
            warns(&decision, RuleId::J1).contains("the CassandraDatacenter CRD is not installed")
        );
        assert!(decision.allowed());
    }

    #[test]
    fn editing_the_spec_is_denied() {
        let job = MedusaBackupJob::test("nightly");
        let message = denies(&update(&job, &job.clone().full(), &world()), RuleId::J2);
        assert!(message.contains("spec cannot change after creation"));
    }

    #[test]
    fn editing_labels_or_status_is_accepted() {
        let job = MedusaBackupJob::test("nightly");
        let edited = job
            .clone()
            .label("keep", "yes")
            .started("2024-05-01T10:00:00Z");
        assert!(update(&job, &edited, &world()).allowed());
    }

    #[test]
    fn jm_adds_the_datacenter_labels() {
        let (result, patched) = mutation(
            &MedusaBackupJob::test("nightly"),
            &world(),
            &Policy::default(),
        );
        assert_eq!(result.fired, [RuleId::JM]);
        assert_eq!(
            patched.pointer("/metadata/labels"),
            Some(&json!({CLUSTER_LABEL: "demo", DATACENTER_LABEL: "dc1"}))
        );
    }

    #[test]
    fn jm_adds_missing_labels_one_by_one() {
        let job = MedusaBackupJob::test("nightly")
            .label("team", "data")
            .label(CLUSTER_LABEL, "demo");
        let (result, patched) = mutation(&job, &world(), &Policy::default());
        assert_eq!(result.patch.len(), 1);
        assert_eq!(
            patched.pointer("/metadata/labels"),
            Some(&json!({"team": "data", CLUSTER_LABEL: "demo", DATACENTER_LABEL: "dc1"}))
        );
    }

    fn schedule_label(patched: &Value) -> Option<&Value> {
        patched.pointer(&format!(
            "/metadata/labels/{}",
            SCHEDULE_LABEL.replace('/', "~1")
        ))
    }

    #[test]
    fn jm_labels_no_job_named_like_a_run_from_before_the_schedule_existed() {
        // The schedule was created at 2024-05-01T09:59:00Z; 1714528800 is 02:00 that day.
        let view = world().replace(vec![Arc::new(MedusaBackupSchedule::test("nightly"))]);
        let (_, patched) = mutation(
            &MedusaBackupJob::test("nightly-1714528800"),
            &view,
            &Policy::default(),
        );
        assert_eq!(schedule_label(&patched), None);
    }

    #[test]
    fn jm_adds_the_schedule_label_for_an_existing_schedule() {
        let view = world().replace(vec![Arc::new(MedusaBackupSchedule::test("nightly"))]);
        // 2024-05-01T12:00:00Z, after the schedule's creation.
        let (_, patched) = mutation(
            &MedusaBackupJob::test("nightly-1714564800"),
            &view,
            &Policy::default(),
        );
        assert_eq!(
            patched.pointer(&format!(
                "/metadata/labels/{}",
                SCHEDULE_LABEL.replace('/', "~1")
            )),
            Some(&json!("nightly"))
        );
    }

    #[test]
    fn jm_adds_no_schedule_label_without_the_schedule() {
        let (_, patched) = mutation(
            &MedusaBackupJob::test("nightly-1714528800"),
            &world(),
            &Policy::default(),
        );
        assert!(
            patched
                .pointer(&format!(
                    "/metadata/labels/{}",
                    SCHEDULE_LABEL.replace('/', "~1")
                ))
                .is_none()
        );
    }

    #[test]
    fn jm_does_nothing_without_the_datacenter() {
        let (result, _) = mutation(
            &MedusaBackupJob::test("nightly").dc("dc9"),
            &world(),
            &Policy::default(),
        );
        assert!(result.patch.is_empty());
    }
}

mod r_restore_jobs {
    use super::*;

    fn with_backup(backup: MedusaBackup) -> MemoryView {
        world().with(backup)
    }

    #[test]
    fn a_valid_restore_is_admitted_with_the_stop_warning() {
        let decision = create(
            &MedusaRestoreJob::test("r"),
            &with_backup(MedusaBackup::test("nightly")),
        );
        assert!(decision.allowed(), "{decision:#?}");
        assert!(warns(&decision, RuleId::R1).contains("the restore stops datacenter \"dc1\""));
    }

    #[test]
    fn a_missing_backup_is_denied() {
        let message = denies(&create(&MedusaRestoreJob::test("r"), &world()), RuleId::R1);
        assert!(
            message.contains("MedusaBackup \"nightly\" not found in namespace k8ssandra"),
            "{message}"
        );
        assert!(message.contains("kubectl medusa sync --dc dc1"));
    }

    #[test]
    fn a_missing_datacenter_is_denied() {
        let decision = create(
            &MedusaRestoreJob::test("r").dc("dc9"),
            &with_backup(MedusaBackup::test("nightly")),
        );
        assert!(denies(&decision, RuleId::R1).contains("CassandraDatacenter \"dc9\" not found"));
    }

    #[test]
    fn an_incomplete_backup_is_denied_with_the_operator_text() {
        let decision = create(
            &MedusaRestoreJob::test("r"),
            &with_backup(MedusaBackup::test("nightly").nodes(2, 3)),
        );
        let message = denies(&decision, RuleId::R1);
        assert!(
            message
                .contains("target backup has not completed successfully: 2 of 3 nodes completed"),
            "{message}"
        );
    }

    #[test]
    fn a_size_mismatch_is_denied_with_the_operator_text() {
        let view = with_backup(MedusaBackup::test("nightly"))
            .replace(vec![Arc::new(CassandraDatacenter::test("dc1").size(5))]);
        assert!(denies(&create(&MedusaRestoreJob::test("r"), &view), RuleId::R1)
            .contains("node counts differ for source backup and destination datacenter: backup 3 nodes, datacenter size 5"));
    }

    #[test]
    fn another_unfinished_restore_of_the_datacenter_is_denied() {
        let view = with_backup(MedusaBackup::test("nightly")).replace(vec![Arc::new(
            MedusaRestoreJob::test("earlier").started("2024-05-01T10:00:00Z"),
        )]);
        assert!(
            denies(&create(&MedusaRestoreJob::test("r"), &view), RuleId::R1)
                .contains("restore earlier of datacenter \"dc1\" has not finished")
        );
    }

    #[test]
    fn a_finished_restore_does_not_block() {
        let view = with_backup(MedusaBackup::test("nightly")).replace(vec![Arc::new(
            MedusaRestoreJob::test("earlier").finished_at("2024-05-01T10:00:00Z"),
        )]);
        assert!(create(&MedusaRestoreJob::test("r"), &view).allowed());
    }

    #[test]
    fn editing_the_spec_is_denied() {
        let job = MedusaRestoreJob::test("r");
        denies(
            &update(&job, &job.clone().backup("other"), &world()),
            RuleId::R2,
        );
    }

    #[test]
    fn editing_metadata_is_accepted() {
        let job = MedusaRestoreJob::test("r");
        assert!(update(&job, &job.clone().label("a", "b"), &world()).allowed());
    }
}

mod t_tasks {
    use super::*;

    #[test]
    fn a_sync_on_an_existing_datacenter_passes() {
        let decision = create(&MedusaTask::test("s", Operation::Sync), &world());
        assert!(decision.findings.is_empty(), "{decision:#?}");
    }

    #[test]
    fn a_missing_datacenter_is_denied() {
        denies(
            &create(&MedusaTask::test("s", Operation::Purge).dc("dc9"), &world()),
            RuleId::T1,
        );
    }

    #[test]
    fn prepare_restore_needs_a_backup_name_and_a_key() {
        let decision = create(&MedusaTask::test("p", Operation::PrepareRestore), &world());
        let messages: Vec<String> = of(&decision, RuleId::T1)
            .into_iter()
            .map(|(_, m)| m)
            .collect();
        assert!(
            messages.iter().any(|m| m.contains("needs spec.backupName")),
            "{messages:?}"
        );
        assert!(
            messages.iter().any(|m| m.contains("needs spec.restoreKey")),
            "{messages:?}"
        );
    }

    #[test]
    fn prepare_restore_needs_an_existing_backup() {
        let task = MedusaTask::test("p", Operation::PrepareRestore).prepare("gone", "key");
        assert!(
            denies(&create(&task, &world()), RuleId::T1)
                .contains("MedusaBackup \"gone\" not found")
        );
    }

    #[test]
    fn prepare_restore_with_backup_and_key_passes() {
        let view = world().replace(vec![Arc::new(MedusaBackup::test("nightly"))]);
        let task = MedusaTask::test("p", Operation::PrepareRestore).prepare("nightly", "key");
        assert!(create(&task, &view).findings.is_empty());
    }

    #[test]
    fn the_same_operation_running_warns() {
        let view = world().replace(vec![Arc::new(
            MedusaTask::test("earlier", Operation::Purge).started("2024-05-01T10:00:00Z"),
        )]);
        let decision = create(&MedusaTask::test("p", Operation::Purge), &view);
        assert!(
            warns(&decision, RuleId::T1)
                .contains("a purge of datacenter \"dc1\" is still running (earlier)")
        );
        assert!(
            create(&MedusaTask::test("s", Operation::Sync), &view)
                .findings
                .is_empty()
        );
    }

    #[test]
    fn tm_adds_the_datacenter_labels() {
        let (result, patched) = mutation(
            &MedusaTask::test("p", Operation::Purge),
            &world(),
            &Policy::default(),
        );
        assert_eq!(result.fired, [RuleId::TM]);
        assert_eq!(
            patched.pointer("/metadata/labels"),
            Some(&json!({CLUSTER_LABEL: "demo", DATACENTER_LABEL: "dc1"}))
        );
    }
}

mod s_schedules {
    use super::*;

    #[test]
    fn a_valid_schedule_passes() {
        assert!(
            create(&MedusaBackupSchedule::test("nightly"), &world())
                .findings
                .is_empty()
        );
    }

    #[test]
    fn an_unparsable_cron_is_denied_with_the_operator_text() {
        let message = denies(
            &create(&MedusaBackupSchedule::test("n").cron("? 8 0 0"), &world()),
            RuleId::S1,
        );
        assert!(
            message.contains("expected exactly 5 fields, found 4: [? 8 0 0]"),
            "{message}"
        );
    }

    #[test]
    fn an_unimplemented_policy_is_denied() {
        let message = denies(
            &create(&MedusaBackupSchedule::test("n").policy("Replace"), &world()),
            RuleId::S2,
        );
        assert!(message.contains(
            "concurrencyPolicy \"Replace\" is accepted by the schema but not implemented"
        ));
    }

    #[test]
    fn allow_is_accepted() {
        silent(
            &create(&MedusaBackupSchedule::test("n").policy("Allow"), &world()),
            RuleId::S2,
        );
    }

    #[test]
    fn a_missing_datacenter_warns() {
        let decision = create(&MedusaBackupSchedule::test("n").dc("dc9"), &world());
        assert!(warns(&decision, RuleId::S3).contains("does not exist in namespace k8ssandra yet"));
        assert!(decision.allowed());
    }
}

mod b_backups {
    use super::*;

    #[test]
    fn deleting_a_backup_warns_that_the_data_stays() {
        let decision = delete(&MedusaBackup::test("nightly"), &world());
        assert!(decision.allowed());
        assert!(warns(&decision, RuleId::B1).contains("kubectl medusa purge --dc dc1"));
    }
}

mod policy_actions {
    use super::*;

    #[test]
    fn a_denial_set_to_warn_admits_with_a_warning() {
        let policy = Policy::default().with_action(RuleId::J1, Action::Warn);
        let decision = create_with(
            &MedusaBackupJob::test("nightly").dc("dc9"),
            &world(),
            &policy,
        );
        assert!(decision.allowed());
        warns(&decision, RuleId::J1);
    }

    #[test]
    fn a_rule_set_to_off_says_nothing() {
        let policy = Policy::default().with_action(RuleId::J1, Action::Off);
        let decision = create_with(
            &MedusaBackupJob::test("nightly").dc("dc9"),
            &world(),
            &policy,
        );
        assert!(decision.findings.is_empty());
    }

    #[test]
    fn an_unreadable_object_is_denied_with_the_reason() {
        let value = to_raw_value(&json!({"apiVersion": "medusa.k8ssandra.io/v1alpha1", "kind": "MedusaBackupJob", "metadata": {"name": "x"}, "spec": {"cassandraDatacenter": 5}})).unwrap();
        let decision = block_on(validate(
            &request(
                ResourceKind::MedusaBackupJob,
                AdmissionOperation::Create,
                "x",
                Some(&value),
                None,
            ),
            &world(),
            &Policy::default(),
        ));
        assert!(!decision.allowed());
        assert!(decision.denial_message().unwrap().starts_with(
            "MedusaBackupJob k8ssandra/x: cannot read the object as a MedusaBackupJob"
        ));
    }
}

mod messages_and_decoding {
    use super::*;

    fn create_json(kind: ResourceKind, name: &str, object: Value) -> Decision {
        let value = to_raw_value(&object).unwrap();
        block_on(validate(
            &request(kind, AdmissionOperation::Create, name, Some(&value), None),
            &world(),
            &Policy::default(),
        ))
    }

    #[test]
    fn an_object_not_yet_named_is_named_by_its_generate_name() {
        let decision = create_json(
            ResourceKind::MedusaBackupJob,
            "",
            json!({"metadata": {"generateName": "nightly-"}, "spec": {"cassandraDatacenter": "dc9"}}),
        );
        assert!(
            denies(&decision, RuleId::J1).starts_with("MedusaBackupJob k8ssandra/nightly-*: "),
            "{decision:#?}"
        );
    }

    #[test]
    fn an_object_without_any_name_is_unnamed() {
        let decision = create_json(
            ResourceKind::MedusaBackupJob,
            "",
            json!({"spec": {"cassandraDatacenter": "dc9"}}),
        );
        assert!(
            denies(&decision, RuleId::J1).starts_with("MedusaBackupJob k8ssandra/(unnamed): "),
            "{decision:#?}"
        );
    }

    #[test]
    fn the_rules_read_only_the_fields_they_check() {
        // As the API server sends it: managedFields, a status, fields this model does not know,
        // and escaped strings (`d\u00631` is `dc1`).
        let text = r#"{
            "apiVersion": "medusa.k8ssandra.io/v1alpha1",
            "kind": "MedusaTask",
            "metadata": {
                "name": "prepare-1",
                "managedFields": [{"manager": "kubectl", "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:cassandraDatacenter": {}}}}],
                "annotations": {"note": "a \"quoted\" \\ value"}
            },
            "spec": {"operation": "prepare_restore", "cassandraDatacenter": "d\u00631", "backupName": "backup1", "restoreKey": "k", "futureField": [1, 2]},
            "status": {"whatever": true}
        }"#;
        let value = RawValue::from_string(text.to_owned()).unwrap();
        let view = world().replace(vec![Arc::new(MedusaBackup::test("backup1"))]);
        let decision = block_on(validate(
            &request(
                ResourceKind::MedusaTask,
                AdmissionOperation::Create,
                "prepare-1",
                Some(&value),
                None,
            ),
            &view,
            &Policy::default(),
        ));
        assert!(decision.findings.is_empty(), "{decision:#?}");
    }

    #[test]
    fn a_spec_field_of_the_wrong_type_is_unreadable() {
        let decision = create_json(
            ResourceKind::MedusaRestoreJob,
            "r",
            json!({"spec": {"cassandraDatacenter": "dc1", "backup": ["backup1"]}}),
        );
        assert!(
            decision
                .denial_message()
                .unwrap()
                .starts_with("MedusaRestoreJob k8ssandra/r: cannot read the object as a MedusaRestoreJob: invalid type: sequence"),
            "{decision:#?}"
        );
    }
}
