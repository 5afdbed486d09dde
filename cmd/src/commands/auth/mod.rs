//! `kubectl medusa auth check`: every permission a command needs, asked to the API server.

use clap::{Args, Subcommand};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::PostParams;
use serde::Serialize;

use crate::context::Ctx;
use crate::error::{CliError, Result, from_api};
use crate::output::{Column, table};

// === The command line ===

/// `kubectl medusa auth`.
#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// SelfSubjectAccessReview of every permission a command needs (all commands by default).
    Check(AuthCheckArgs),
}

/// `auth check`.
#[derive(Debug, Args)]
pub struct AuthCheckArgs {
    /// A command, e.g. "backup create".
    pub command: Vec<String>,
}

mod table;

use table::READ_ONLY;
pub use table::{COMMANDS, Permission};

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

/// Asks the API server whether we may do `permission` in `namespace`.
async fn ask(
    api: &kube::Api<SelfSubjectAccessReview>,
    namespace: &str,
    permission: &Permission,
) -> Result<(bool, String)> {
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some(namespace.to_owned()),
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
            from_api(
                e,
                crate::error::CallContext {
                    verb: "create",
                    resource: "selfsubjectaccessreviews.authorization.k8s.io".into(),
                    namespace,
                    object: None,
                },
            )
        })?;
    let status = answer.status.unwrap_or_default();
    Ok((status.allowed, status.reason.unwrap_or_default()))
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
    // Each permission is asked once, however many commands need it.
    let mut asked: std::collections::HashMap<Permission, (bool, String)> =
        std::collections::HashMap::new();
    let mut answers = Vec::new();
    for (command, permissions) in commands {
        for permission in *permissions {
            if !asked.contains_key(permission) {
                let answer = ask(&api, &namespace, permission).await?;
                asked.insert(*permission, answer);
            }
            let (allowed, reason) = asked.get(permission).cloned().unwrap_or_default();
            answers.push(Answer {
                command: (*command).to_owned(),
                verb: permission.verb.to_owned(),
                resource: resource_name(permission),
                namespace: namespace.clone(),
                allowed,
                reason,
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
        source: None,
    })
}

fn resource_name(permission: &Permission) -> String {
    if permission.group.is_empty() {
        permission.resource.to_owned()
    } else {
        format!("{}.{}", permission.resource, permission.group)
    }
}

/// A Role granting the permissions of these commands, as YAML.
fn role_yaml(name: &str, commands: &[&(&str, &[Permission])]) -> String {
    let mut rules: std::collections::BTreeMap<(&str, &str), std::collections::BTreeSet<&str>> =
        std::collections::BTreeMap::new();
    for (_, permissions) in commands {
        for permission in *permissions {
            rules
                .entry((permission.group, permission.resource))
                .or_default()
                .insert(permission.verb);
        }
    }
    let mut text = format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: {name}\n  namespace: k8ssandra   # the namespace of your datacenters\nrules:\n"
    );
    for ((group, resource), verbs) in rules {
        let verbs: Vec<&str> = verbs.into_iter().collect();
        text.push_str(&format!(
            "  - apiGroups: [\"{group}\"]\n    resources: [\"{resource}\"]\n    verbs: [{}]\n",
            verbs
                .iter()
                .map(|v| format!("\"{v}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    text
}

/// The leaf commands of the command line, as `backup create`, hidden ones left out.
pub fn leaf_commands() -> Vec<String> {
    fn walk(command: &clap::Command, prefix: &str, out: &mut Vec<String>) {
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            let path = format!("{prefix}{}", sub.get_name()).trim().to_owned();
            if sub.has_subcommands() {
                walk(sub, &format!("{path} "), out);
            } else if sub.get_name() != "help" {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &<crate::cli::Cli as clap::CommandFactory>::command(),
        "",
        &mut out,
    );
    out
}

/// The permission lists, in the order of the command line's commands (`validate`'s live view
/// where `validate` stands).
fn commands_in_tree_order() -> Vec<(String, &'static [Permission])> {
    leaf_commands()
        .into_iter()
        .map(|command| match command.as_str() {
            "validate" => "validate --cluster-view live".to_owned(),
            _ => command,
        })
        .filter_map(|command| {
            let permissions = COMMANDS.iter().find(|(name, _)| *name == command)?.1;
            Some((command, permissions))
        })
        .collect()
}

/// `docs/rbac.md`: the permissions of every command, and Roles that grant them.
pub fn rbac_markdown() -> String {
    let mut text = String::from(
        "# Permissions of kubectl medusa\n\n\
         Generated from the plugin's own table (`cmd/src/commands/auth.rs`); `just generate` \
         rewrites this file and a test fails when it is stale.\n\n\
         `kubectl medusa auth check [COMMAND]` asks the API server, with a SelfSubjectAccessReview \
         per permission, whether you have them, in the namespace of `-n`. A missing permission \
         makes a command exit 5 with `you need <verb> on <resource> in namespace <ns>`.\n\n\
         Everything is namespaced: grant it with a Role and RoleBinding in the namespace of your \
         datacenters. `version` also lists Deployments in every namespace to find the operator \
         (it says `unknown` without that right), and completion of `-n` lists namespaces.\n\n\
         ## Per command\n",
    );
    for (command, permissions) in commands_in_tree_order() {
        let mut by_resource: Vec<(String, Vec<&str>)> = Vec::new();
        for permission in permissions {
            let name = resource_name(permission);
            match by_resource.iter_mut().find(|(r, _)| *r == name) {
                Some((_, verbs)) => verbs.push(permission.verb),
                None => by_resource.push((name, vec![permission.verb])),
            }
        }
        text.push_str(&format!("\n`{command}`\n"));
        for (resource, verbs) in by_resource {
            text.push_str(&format!("- `{resource}`: {}\n", verbs.join(", ")));
        }
    }
    let viewer: Vec<&(&str, &[Permission])> = COMMANDS
        .iter()
        .filter(|(name, _)| READ_ONLY.contains(name))
        .collect();
    let all: Vec<&(&str, &[Permission])> = COMMANDS.iter().collect();
    text.push_str(&format!(
        "\n## Ready-made Roles\n\nRead-only (`{}`):\n\n```yaml\n{}```\n\nEvery command:\n\n```yaml\n{}```\n",
        viewer
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join("`, `"),
        role_yaml("medusa-viewer", &viewer),
        role_yaml("medusa-operator", &all)
    ));
    text
}
