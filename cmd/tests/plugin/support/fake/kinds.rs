//! The resources the fake serves, their paths, and API discovery.

use std::collections::BTreeSet;

use serde_json::{Value, json};

/// A resource type, as the API server serves it.
#[derive(Clone, Copy, Debug)]
pub struct Kind {
    pub api_version: &'static str,
    pub kind: &'static str,
    /// `/apis/<group>/<version>` or `/api/v1`.
    pub prefix: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
    /// Whether `status` is a subresource: then a create drops it, the main resource's writes
    /// keep the stored one, and only `/status` writes change it (every CRD here has one).
    pub status_subresource: bool,
}

impl Kind {
    /// The API group (`""` for the core group).
    pub fn group(&self) -> &'static str {
        self.api_version.split_once('/').map_or("", |(g, _)| g)
    }

    /// `medusabackupjobs.medusa.k8ssandra.io`, or `pods`.
    pub fn resource(&self) -> String {
        match self.group() {
            "" => self.plural.to_owned(),
            group => format!("{}.{group}", self.plural),
        }
    }
}

const fn medusa(kind: &'static str, plural: &'static str) -> Kind {
    Kind {
        api_version: "medusa.k8ssandra.io/v1alpha1",
        kind,
        prefix: "/apis/medusa.k8ssandra.io/v1alpha1",
        plural,
        namespaced: true,
        status_subresource: true,
    }
}

/// Every kind the fake serves.
pub const KINDS: &[Kind] = &[
    medusa("MedusaBackupJob", "medusabackupjobs"),
    medusa("MedusaBackup", "medusabackups"),
    medusa("MedusaRestoreJob", "medusarestorejobs"),
    medusa("MedusaTask", "medusatasks"),
    medusa("MedusaBackupSchedule", "medusabackupschedules"),
    medusa("MedusaConfiguration", "medusaconfigurations"),
    Kind {
        api_version: "k8ssandra.io/v1alpha1",
        kind: "K8ssandraCluster",
        prefix: "/apis/k8ssandra.io/v1alpha1",
        plural: "k8ssandraclusters",
        namespaced: true,
        status_subresource: true,
    },
    Kind {
        api_version: "cassandra.datastax.com/v1beta1",
        kind: "CassandraDatacenter",
        prefix: "/apis/cassandra.datastax.com/v1beta1",
        plural: "cassandradatacenters",
        namespaced: true,
        status_subresource: true,
    },
    Kind {
        api_version: "v1",
        kind: "Pod",
        prefix: "/api/v1",
        plural: "pods",
        namespaced: true,
        status_subresource: true,
    },
    Kind {
        api_version: "v1",
        kind: "Secret",
        prefix: "/api/v1",
        plural: "secrets",
        namespaced: true,
        status_subresource: false,
    },
    Kind {
        api_version: "v1",
        kind: "Namespace",
        prefix: "/api/v1",
        plural: "namespaces",
        namespaced: false,
        status_subresource: true,
    },
    Kind {
        api_version: "apps/v1",
        kind: "Deployment",
        prefix: "/apis/apps/v1",
        plural: "deployments",
        namespaced: true,
        status_subresource: true,
    },
];

/// The kind served under `prefix` as `plural`.
pub fn by_collection(prefix: &str, plural: &str) -> Option<&'static Kind> {
    KINDS
        .iter()
        .find(|k| k.prefix == prefix && k.plural == plural)
}

/// The kind of an object's `apiVersion` and `kind`.
pub fn by_type(api_version: &str, kind: &str) -> Option<&'static Kind> {
    KINDS
        .iter()
        .find(|k| k.api_version == api_version && k.kind == kind)
}

/// A resource path, parsed.
#[derive(Clone, Debug)]
pub struct Target {
    pub prefix: String,
    pub plural: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

/// Parses `/api/v1/namespaces/NS/pods/NAME/status` and its shorter forms.
pub fn parse_path(path: &str) -> Option<Target> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (prefix, rest) = match parts.as_slice() {
        ["api", "v1", rest @ ..] => ("/api/v1".to_owned(), rest),
        ["apis", group, version, rest @ ..] => (format!("/apis/{group}/{version}"), rest),
        _ => return None,
    };
    let (namespace, rest): (Option<String>, Vec<&str>) = match rest {
        ["namespaces", ns, rest @ ..] if !rest.is_empty() => {
            (Some((*ns).to_owned()), rest.to_vec())
        }
        other => (None, other.to_vec()),
    };
    Some(Target {
        prefix,
        plural: (*rest.first()?).to_owned(),
        namespace,
        name: rest.get(1).map(|s| (*s).to_owned()),
        subresource: rest.get(2).map(|s| (*s).to_owned()),
    })
}

/// `GET /apis`: the groups served.
pub fn groups(missing: &BTreeSet<String>) -> Value {
    let mut seen = BTreeSet::new();
    let groups: Vec<Value> = KINDS
        .iter()
        .map(|k| k.api_version)
        .chain(["authorization.k8s.io/v1"])
        .filter(|v| v.contains('/') && seen.insert(*v))
        .filter_map(|v| v.split_once('/'))
        .filter(|(g, _)| !missing.contains(*g))
        .map(|(g, v)| {
            json!({"name": g, "versions": [{"groupVersion": format!("{g}/{v}"), "version": v}],
                   "preferredVersion": {"groupVersion": format!("{g}/{v}"), "version": v}})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `GET /apis/<group>/<version>` (or `/api/v1`): the resources of that group version.
pub fn resources(prefix: &str) -> Option<Value> {
    let kinds: Vec<&Kind> = KINDS.iter().filter(|k| k.prefix == prefix).collect();
    let first = kinds.first()?;
    let mut resources: Vec<Value> = Vec::new();
    for kind in &kinds {
        resources.push(
            json!({"name": kind.plural, "singularName": kind.kind.to_lowercase(),
            "namespaced": kind.namespaced, "kind": kind.kind,
            "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}),
        );
        if kind.status_subresource {
            resources.push(json!({"name": format!("{}/status", kind.plural), "singularName": "",
                "namespaced": kind.namespaced, "kind": kind.kind, "verbs": ["get", "patch", "update"]}));
        }
    }
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": first.api_version, "resources": resources}))
}
