//! `kubectl medusa auth check`: every permission a command needs, asked to the API server.

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::PostParams;
use serde::Serialize;

use crate::cli::AuthCheckArgs;
use crate::context::Ctx;
use crate::error::{CliError, Result, from_kube};
use crate::output::{Column, table};

/// A permission: verb on group/resource, namespaced or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// The permissions of every command.
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
            p("get", "k8ssandra.io", "k8ssandraclusters"),
        ],
    ),
    (
        "backup list",
        &[
            p("list", M, "medusabackupjobs"),
            p("list", M, "medusabackups"),
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
            p("watch", M, "medusabackupjobs"),
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
            p("list", M, "medusarestorejobs"),
            DC,
            LIST_DC,
            p("watch", M, "medusarestorejobs"),
            p("create", M, "medusatasks"),
        ],
    ),
    ("restore preflight", &[p("get", M, "medusabackups"), DC]),
    ("restore list", &[p("list", M, "medusarestorejobs")]),
    (
        "restore watch",
        &[
            p("get", M, "medusarestorejobs"),
            p("watch", M, "medusarestorejobs"),
        ],
    ),
    ("restore delete", &[p("delete", M, "medusarestorejobs")]),
    (
        "sync",
        &[
            p("create", M, "medusatasks"),
            p("watch", M, "medusatasks"),
            p("list", M, "medusabackups"),
            DC,
            PODS,
        ],
    ),
    (
        "purge",
        &[
            p("create", M, "medusatasks"),
            p("watch", M, "medusatasks"),
            DC,
            PODS,
            p("get", "k8ssandra.io", "k8ssandraclusters"),
            p("get", M, "medusaconfigurations"),
        ],
    ),
    ("task list", &[p("list", M, "medusatasks")]),
    ("task delete", &[p("delete", M, "medusatasks")]),
    (
        "schedule create",
        &[p("create", M, "medusabackupschedules"), DC],
    ),
    (
        "schedule list",
        &[
            p("list", M, "medusabackupschedules"),
            p("list", M, "medusabackupjobs"),
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
            p("create", M, "medusabackupjobs"),
            p("create", M, "medusatasks"),
            DC,
            PODS,
        ],
    ),
    (
        "schedule delete",
        &[p("delete", M, "medusabackupschedules")],
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
            p("list", "k8ssandra.io", "k8ssandraclusters"),
        ],
    ),
    (
        "config check",
        &[
            p("get", M, "medusaconfigurations"),
            p("get", "", "secrets"),
            p("list", "k8ssandra.io", "k8ssandraclusters"),
        ],
    ),
    (
        "config delete",
        &[
            p("delete", M, "medusaconfigurations"),
            p("list", "k8ssandra.io", "k8ssandraclusters"),
        ],
    ),
    (
        "config effective",
        &[
            p("get", "k8ssandra.io", "k8ssandraclusters"),
            p("get", M, "medusaconfigurations"),
        ],
    ),
    (
        "status",
        &[
            LIST_DC,
            PODS,
            p("list", M, "medusabackupjobs"),
            p("list", M, "medusabackups"),
            p("list", M, "medusatasks"),
            p("list", M, "medusarestorejobs"),
            p("list", M, "medusabackupschedules"),
        ],
    ),
];

/// One answer.
#[derive(Debug, Serialize)]
struct Answer {
    command: String,
    verb: String,
    resource: String,
    namespace: String,
    allowed: bool,
    reason: String,
}

/// Runs `auth check`.
pub async fn run(ctx: &Ctx, args: AuthCheckArgs) -> Result<()> {
    let wanted = args.command.join(" ");
    let commands: Vec<&(&str, &[Permission])> = COMMANDS
        .iter()
        .filter(|(name, _)| {
            wanted.is_empty() || *name == wanted || name.starts_with(&format!("{wanted} "))
        })
        .collect();
    if commands.is_empty() {
        let known: Vec<&str> = COMMANDS.iter().map(|(n, _)| *n).collect();
        return Err(CliError::usage(format!(
            "unknown command {wanted:?}; known: {}",
            known.join(", ")
        )));
    }
    let namespace = ctx.namespace().to_owned();
    let api: kube::Api<SelfSubjectAccessReview> = kube::Api::all(ctx.client().await?.clone());
    let mut answers = Vec::new();
    for (command, permissions) in commands {
        for permission in *permissions {
            let review = SelfSubjectAccessReview {
                spec: SelfSubjectAccessReviewSpec {
                    resource_attributes: Some(ResourceAttributes {
                        namespace: Some(namespace.clone()),
                        verb: Some(permission.verb.to_owned()),
                        group: Some(permission.group.to_owned()),
                        resource: Some(permission.resource.to_owned()),
                        ..ResourceAttributes::default()
                    }),
                    ..SelfSubjectAccessReviewSpec::default()
                },
                ..SelfSubjectAccessReview::default()
            };
            let answer = api
                .create(&PostParams::default(), &review)
                .await
                .map_err(|e| {
                    from_kube(
                        e,
                        crate::error::CallContext {
                            verb: "create",
                            resource: "selfsubjectaccessreviews.authorization.k8s.io".into(),
                            namespace: &namespace,
                            object: None,
                        },
                    )
                })?;
            let status = answer.status.unwrap_or_default();
            answers.push(Answer {
                command: (*command).to_owned(),
                verb: permission.verb.to_owned(),
                resource: if permission.group.is_empty() {
                    permission.resource.to_owned()
                } else {
                    format!("{}.{}", permission.resource, permission.group)
                },
                namespace: namespace.clone(),
                allowed: status.allowed,
                reason: status.reason.unwrap_or_default(),
            });
        }
    }
    let rows = answers
        .iter()
        .map(|a| {
            vec![
                a.command.clone().into(),
                a.verb.clone().into(),
                a.resource.clone().into(),
                if a.allowed {
                    Column::colored("yes", comfy_table::Color::Green)
                } else {
                    Column::colored("no", comfy_table::Color::Red)
                },
            ]
        })
        .collect();
    ctx.out.write(&table(
        &["command", "verb", "resource", "allowed"],
        rows,
        ctx.color,
    ))?;
    let missing: Vec<&Answer> = answers.iter().filter(|a| !a.allowed).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let first = missing[0];
    Err(CliError::Forbidden {
        verb: first.verb.clone(),
        resource: format!(
            "{} (and {} more missing permission(s) above)",
            first.resource,
            missing.len() - 1
        ),
        namespace,
    })
}
