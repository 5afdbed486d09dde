//! The permissions of every command, and which commands only read.

/// A permission: verb on group/resource, namespaced or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Permission {
    /// The verb.
    pub verb: &'static str,
    /// The API group.
    pub group: &'static str,
    /// The plural resource.
    pub resource: &'static str,
}

const M: &str = "medusa.k8ssandra.io";

const fn p(verb: &'static str, group: &'static str, resource: &'static str) -> Permission {
    Permission {
        verb,
        group,
        resource,
    }
}

const DC: Permission = p("get", "cassandra.datastax.com", "cassandradatacenters");
const LIST_DC: Permission = p("list", "cassandra.datastax.com", "cassandradatacenters");
const PODS: Permission = p("list", "", "pods");

const K: &str = "k8ssandra.io";

/// The permissions of every command: what it cannot do without. (Reads that only enrich the
/// output, like the retention shown by `purge`, degrade to "unknown" when refused.)
pub const COMMANDS: &[(&str, &[Permission])] = &[
    (
        "backup create",
        &[
            p("create", M, "medusabackupjobs"),
            DC,
            LIST_DC,
            PODS,
            p("list", M, "medusabackups"),
            p("list", M, "medusabackupjobs"),
            p("list", M, "medusabackupschedules"),
            p("watch", M, "medusabackupjobs"),
            p("watch", M, "medusabackups"),
            p("get", K, "k8ssandraclusters"),
        ],
    ),
    (
        "backup list",
        &[
            p("list", M, "medusabackupjobs"),
            p("list", M, "medusabackups"),
            p("watch", M, "medusabackupjobs"),
            p("watch", M, "medusabackups"),
        ],
    ),
    (
        "backup describe",
        &[
            p("get", M, "medusabackupjobs"),
            p("get", M, "medusabackups"),
            p("list", M, "medusarestorejobs"),
        ],
    ),
    (
        "backup watch",
        &[
            p("get", M, "medusabackupjobs"),
            p("list", M, "medusabackupjobs"),
            p("watch", M, "medusabackupjobs"),
            p("list", M, "medusabackups"),
            p("watch", M, "medusabackups"),
        ],
    ),
    (
        "backup delete",
        &[
            p("list", M, "medusabackups"),
            p("delete", M, "medusabackups"),
            p("delete", M, "medusabackupjobs"),
        ],
    ),
    (
        "backup latest",
        &[
            p("list", M, "medusabackupjobs"),
            p("list", M, "medusabackups"),
        ],
    ),
    (
        "restore create",
        &[
            p("create", M, "medusarestorejobs"),
            p("get", M, "medusabackups"),
            p("list", M, "medusabackups"),
            p("list", M, "medusabackupjobs"),
            p("list", M, "medusarestorejobs"),
            p("watch", M, "medusarestorejobs"),
            DC,
            LIST_DC,
            p("create", M, "medusatasks"),
            p("list", M, "medusatasks"),
            p("watch", M, "medusatasks"),
        ],
    ),
    ("restore preflight", &[p("get", M, "medusabackups"), DC]),
    ("restore list", &[p("list", M, "medusarestorejobs")]),
    ("restore describe", &[p("get", M, "medusarestorejobs")]),
    (
        "restore watch",
        &[
            p("get", M, "medusarestorejobs"),
            p("list", M, "medusarestorejobs"),
            p("watch", M, "medusarestorejobs"),
        ],
    ),
    (
        "restore delete",
        &[
            p("get", M, "medusarestorejobs"),
            p("delete", M, "medusarestorejobs"),
        ],
    ),
    (
        "sync",
        &[
            p("create", M, "medusatasks"),
            p("list", M, "medusatasks"),
            p("watch", M, "medusatasks"),
            p("list", M, "medusabackups"),
            DC,
            LIST_DC,
            PODS,
        ],
    ),
    (
        "purge",
        &[
            p("create", M, "medusatasks"),
            p("list", M, "medusatasks"),
            p("watch", M, "medusatasks"),
            p("list", M, "medusabackups"),
            p("list", M, "medusabackupjobs"),
            DC,
            LIST_DC,
            PODS,
            p("get", K, "k8ssandraclusters"),
            p("get", M, "medusaconfigurations"),
        ],
    ),
    ("task list", &[p("list", M, "medusatasks")]),
    ("task describe", &[p("get", M, "medusatasks")]),
    (
        "task watch",
        &[
            p("get", M, "medusatasks"),
            p("list", M, "medusatasks"),
            p("watch", M, "medusatasks"),
        ],
    ),
    (
        "task delete",
        &[p("get", M, "medusatasks"), p("delete", M, "medusatasks")],
    ),
    (
        "schedule create",
        &[p("create", M, "medusabackupschedules"), DC, LIST_DC],
    ),
    (
        "schedule list",
        &[
            p("list", M, "medusabackupschedules"),
            p("list", M, "medusabackupjobs"),
            p("list", M, "medusabackups"),
            p("list", M, "medusatasks"),
        ],
    ),
    (
        "schedule describe",
        &[
            p("get", M, "medusabackupschedules"),
            p("list", M, "medusabackupjobs"),
            p("list", M, "medusabackups"),
            p("list", M, "medusatasks"),
        ],
    ),
    (
        "schedule pause",
        &[
            p("list", M, "medusabackupschedules"),
            p("patch", M, "medusabackupschedules"),
        ],
    ),
    (
        "schedule resume",
        &[
            p("list", M, "medusabackupschedules"),
            p("patch", M, "medusabackupschedules"),
        ],
    ),
    (
        "schedule run",
        &[
            p("get", M, "medusabackupschedules"),
            p("list", M, "medusabackupschedules"),
            p("create", M, "medusabackupjobs"),
            p("list", M, "medusabackupjobs"),
            p("watch", M, "medusabackupjobs"),
            p("list", M, "medusabackups"),
            p("watch", M, "medusabackups"),
            p("create", M, "medusatasks"),
            p("list", M, "medusatasks"),
            p("watch", M, "medusatasks"),
            DC,
            LIST_DC,
            PODS,
        ],
    ),
    (
        "schedule delete",
        &[
            p("get", M, "medusabackupschedules"),
            p("delete", M, "medusabackupschedules"),
        ],
    ),
    (
        "config create",
        &[
            p("create", M, "medusaconfigurations"),
            p("create", "", "secrets"),
            p("get", "", "secrets"),
        ],
    ),
    (
        "config list",
        &[
            p("list", M, "medusaconfigurations"),
            p("list", K, "k8ssandraclusters"),
        ],
    ),
    (
        "config describe",
        &[
            p("get", M, "medusaconfigurations"),
            p("get", "", "secrets"),
            p("list", K, "k8ssandraclusters"),
        ],
    ),
    (
        "config check",
        &[
            p("get", M, "medusaconfigurations"),
            p("get", "", "secrets"),
            p("list", K, "k8ssandraclusters"),
        ],
    ),
    (
        "config delete",
        &[
            p("get", M, "medusaconfigurations"),
            p("delete", M, "medusaconfigurations"),
            p("list", K, "k8ssandraclusters"),
        ],
    ),
    (
        "config effective",
        &[
            p("get", K, "k8ssandraclusters"),
            p("get", M, "medusaconfigurations"),
        ],
    ),
    (
        "logs",
        &[
            p("get", M, "medusabackupjobs"),
            p("get", M, "medusarestorejobs"),
            p("get", M, "medusatasks"),
            DC,
            LIST_DC,
            PODS,
            p("get", "", "pods/log"),
        ],
    ),
    (
        "status",
        &[
            DC,
            LIST_DC,
            PODS,
            p("get", K, "k8ssandraclusters"),
            p("get", M, "medusaconfigurations"),
            p("list", M, "medusabackupjobs"),
            p("list", M, "medusabackups"),
            p("list", M, "medusatasks"),
            p("list", M, "medusarestorejobs"),
            p("list", M, "medusabackupschedules"),
        ],
    ),
    (
        "validate --cluster-view live",
        &[
            LIST_DC,
            p("list", M, "medusaconfigurations"),
            p("list", M, "medusabackups"),
            p("list", M, "medusabackupjobs"),
            p("list", M, "medusarestorejobs"),
            p("list", M, "medusatasks"),
            p("list", M, "medusabackupschedules"),
            p("list", K, "k8ssandraclusters"),
        ],
    ),
];

/// The read-only commands: what a `medusa-viewer` Role allows.
pub(super) const READ_ONLY: &[&str] = &[
    "backup list",
    "backup describe",
    "backup watch",
    "backup latest",
    "restore preflight",
    "restore list",
    "restore describe",
    "restore watch",
    "task list",
    "task describe",
    "task watch",
    "schedule list",
    "schedule describe",
    "config list",
    "config describe",
    "config check",
    "config effective",
    "status",
    "logs",
    "validate --cluster-view live",
];
