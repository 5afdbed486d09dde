//! Objects as the scenarios create them through the API server: any kind from JSON, with the
//! operator's schemas in mind (the CassandraDatacenter and K8ssandraCluster fields the
//! operators' CRDs require), and waiting for eventual consistency.

use std::future::Future;
use std::time::{Duration, Instant};

use kube::api::{ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};

use crate::Failure;

/// The API resource of an `apiVersion` and `kind` the suite creates.
pub fn resource(api_version: &str, kind: &str) -> ApiResource {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let plural = match kind {
        "K8ssandraCluster" => "k8ssandraclusters".to_owned(),
        "CassandraDatacenter" => "cassandradatacenters".to_owned(),
        other => format!("{}s", other.to_lowercase()),
    };
    ApiResource {
        group: group.to_owned(),
        version: version.to_owned(),
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        plural,
    }
}

/// The dynamic API of an object's kind in `namespace`.
pub fn dynamic(client: &Client, namespace: &str, value: &Value) -> Api<DynamicObject> {
    let api_version = value["apiVersion"].as_str().unwrap_or_default();
    let kind = value["kind"].as_str().unwrap_or_default();
    Api::namespaced_with(client.clone(), namespace, &resource(api_version, kind))
}

/// Creates any object from JSON in `namespace` (a dry run when asked).
pub async fn create_object(
    client: &Client,
    namespace: &str,
    mut value: Value,
    dry_run: bool,
) -> Result<Value, kube::Error> {
    value["metadata"]["namespace"] = json!(namespace);
    let api = dynamic(client, namespace, &value);
    let object: DynamicObject = serde_json::from_value(value).map_err(kube::Error::SerdeError)?;
    let params = PostParams {
        dry_run,
        ..PostParams::default()
    };
    let created = api.create(&params, &object).await?;
    serde_json::to_value(created).map_err(kube::Error::SerdeError)
}

/// Creates any object from JSON in `namespace`.
pub async fn create(client: &Client, namespace: &str, value: Value) -> Result<Value, kube::Error> {
    create_object(client, namespace, value, false).await
}

/// Creates an object, then sets its status through the status subresource (a create drops
/// it), as the operator does.
pub async fn create_with_status(
    client: &Client,
    namespace: &str,
    value: Value,
) -> Result<Value, Failure> {
    let status = value.get("status").cloned();
    let created = create(client, namespace, value.clone()).await?;
    if let Some(status) = status {
        let name = created["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        dynamic(client, namespace, &value)
            .patch_status(
                &name,
                &PatchParams::default(),
                &Patch::Merge(json!({"status": status})),
            )
            .await?;
    }
    Ok(created)
}

/// An object as JSON, without what only the API server sets.
pub fn typed_json<T: serde::Serialize>(object: &T) -> Value {
    let mut value = serde_json::to_value(object).unwrap_or_default();
    if let Some(meta) = value["metadata"].as_object_mut() {
        for key in ["creationTimestamp", "resourceVersion", "uid", "generation"] {
            meta.remove(key);
        }
    }
    value
}

/// Reads until `attempt` gives a value (the operator's and the caches' eventual consistency).
pub async fn eventually<T, F, Fut>(
    what: &str,
    timeout: Duration,
    mut attempt: F,
) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, Failure>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = attempt().await? {
            return Ok(value);
        }
        if Instant::now() > deadline {
            return Err(Failure::new(format!("{what}: not within {timeout:?}")));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A CassandraDatacenter that the operator's CRD accepts (it requires the server type and
/// version, and the storage), with a medusa container and a medusa-restore init container.
pub fn datacenter(namespace: &str, name: &str, size: i32) -> Value {
    let mut dc = typed_json(
        &medusa_crds::CassandraDatacenter::test(name)
            .namespace(namespace)
            .size(size),
    );
    dc["spec"]["serverType"] = json!("cassandra");
    dc["spec"]["serverVersion"] = json!("4.1.5");
    dc["spec"]["storageConfig"] = json!({"cassandraDataVolumeClaimSpec": {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "1Gi"}}
    }});
    if let Some(object) = dc.as_object_mut() {
        object.remove("status");
    }
    dc
}

/// A Cassandra pod of datacenter `dc` of cluster `demo`, with a medusa container when asked.
/// Pause images: on a real cluster they run and do nothing.
pub fn cassandra_pod(namespace: &str, dc: &str, index: usize, medusa: bool) -> Value {
    let mut containers = vec![json!({"name": "cassandra", "image": "registry.k8s.io/pause:3.10"})];
    if medusa {
        containers.push(json!({"name": "medusa", "image": "registry.k8s.io/pause:3.10"}));
    }
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("demo-{dc}-default-sts-{index}"), "namespace": namespace,
                     "labels": {"cassandra.datastax.com/cluster": "demo",
                                "cassandra.datastax.com/datacenter": dc}},
        "spec": {"containers": containers}
    })
}

/// Datacenter dc1 of `size` nodes with its pods, medusa containers or not.
pub async fn datacenter_with_pods(
    client: &Client,
    namespace: &str,
    size: i32,
    medusa: bool,
) -> Result<(), Failure> {
    create(client, namespace, datacenter(namespace, "dc1", size)).await?;
    for i in 0..usize::try_from(size).unwrap_or(0) {
        create(
            client,
            namespace,
            cassandra_pod(namespace, "dc1", i, medusa),
        )
        .await?;
    }
    Ok(())
}

/// A K8ssandraCluster the operator's CRD accepts, with its storage in `spec.medusa`.
pub fn cluster(namespace: &str, name: &str, storage: medusa_crds::Storage) -> Value {
    let mut value = typed_json(
        &medusa_crds::K8ssandraCluster::test(name)
            .namespace(namespace)
            .with_storage(storage),
    );
    value["spec"]["cassandra"]["serverVersion"] = json!("4.1.5");
    value
}

/// The storage Secret `name` with a `credentials` key.
pub fn storage_secret(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
           "stringData": {"credentials": "[default]\naws_access_key_id = a\naws_secret_access_key = b\n"}})
}
