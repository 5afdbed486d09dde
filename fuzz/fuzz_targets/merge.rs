//! The storage merge is total, and its provenance always names a source that holds the value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use medusa_crds::merge::{FieldSource, MergeInput, merge_storage, schema_default};
use medusa_crds::Storage;
use serde_json::Value;

fn storage(data: &[u8]) -> Option<Storage> {
    serde_json::from_slice::<Value>(data).ok().and_then(|v| serde_json::from_value(v).ok())
}

/// The value at a source's field path (`storageSecretRef.name`).
fn at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, key| v.get(key)).filter(|v| !v.is_null())
}

fuzz_target!(|data: (&[u8], &[u8], bool, bool)| {
    let (cluster, configuration, with_configuration, defaulted) = data;
    let Some(cluster) = storage(cluster) else { return };
    let configuration = if with_configuration { storage(configuration) } else { None };
    let effective = merge_storage(MergeInput {
        cluster_name: "demo",
        cluster: &cluster,
        configuration: configuration.as_ref(),
        cluster_defaulted: defaulted,
    });
    let merged = serde_json::to_value(&effective.storage).expect("JSON");
    let mut defaulted_cluster = cluster.clone();
    if !defaulted {
        defaulted_cluster.apply_schema_defaults();
    }
    let cluster = serde_json::to_value(&defaulted_cluster).expect("JSON");
    let configuration = configuration.map(|c| serde_json::to_value(&c).expect("JSON"));
    for (field, source) in &effective.sources {
        let value = at(&merged, field);
        match source {
            FieldSource::Cluster => {
                assert_eq!(value, at(&cluster, field), "{field} from the cluster");
            }
            FieldSource::SchemaDefault => {
                assert_eq!(value.cloned(), schema_default(field), "{field} from the schema default");
            }
            FieldSource::Configuration => {
                let held = configuration.as_ref().and_then(|c| at(c, field));
                assert_eq!(value, held, "{field} from the configuration");
            }
            FieldSource::ClusterName => {
                assert_eq!(effective.prefix, "demo", "{field} from the cluster's name");
            }
            FieldSource::Unset => {}
        }
    }
});
