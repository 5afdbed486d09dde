//! Shell completion: static scripts for `kubectl-medusa`, the kubectl plugin shim, and the
//! dynamic `__complete` protocol kubectl uses for `kubectl medusa <TAB>`.

use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, CommandFactory, ValueEnum};
use clap_complete::Shell;
use medusa_crds::*;

use crate::api::{self, Kind, Scope};
use crate::cli::Cli;
use crate::context::Ctx;
use crate::error::{CliError, Result};

// === The command line ===

/// Completion targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    /// bash.
    Bash,
    /// zsh.
    Zsh,
    /// fish.
    Fish,
    /// PowerShell.
    Powershell,
    /// The `kubectl_complete-medusa` shim that makes `kubectl medusa <TAB>` work.
    KubectlHelper,
}

/// `kubectl medusa completion`.
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell, or kubectl-helper.
    #[arg(value_enum)]
    pub shell: CompletionShell,
    /// With kubectl-helper: write the shim into this directory (on your PATH).
    #[arg(long, value_name = "DIR")]
    pub install: Option<PathBuf>,
}

/// `__complete ARGS...` (cobra's protocol, as kubectl calls plugins).
#[derive(Debug, Args)]
pub struct CompleteArgs {
    /// The words typed so far; the last one is being completed.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub words: Vec<String>,
}

/// cobra's ShellCompDirectiveNoFileComp: no file names after our candidates.
const NO_FILE_COMPLETION: u32 = 4;

/// The shim kubectl looks for on the PATH.
pub const SHIM_NAME: &str = "kubectl_complete-medusa";

/// The shim's text.
pub fn shim() -> &'static str {
    "#!/usr/bin/env sh\n# kubectl runs this for `kubectl medusa <TAB>` (kubectl 1.26+); it forwards to the plugin.\nexec kubectl-medusa __complete \"$@\"\n"
}

/// Runs `completion`.
pub fn run(ctx: &Ctx, args: CompletionArgs) -> Result<()> {
    let shell = match args.shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
        CompletionShell::Powershell => Shell::PowerShell,
        CompletionShell::KubectlHelper => return helper(ctx, args.install.as_deref()),
    };
    let mut command = Cli::command()
        .name("kubectl-medusa")
        .bin_name("kubectl-medusa");
    let mut buffer = Vec::new();
    clap_complete::generate(shell, &mut command, "kubectl-medusa", &mut buffer);
    ctx.out.write(&String::from_utf8_lossy(&buffer))
}

fn helper(ctx: &Ctx, install: Option<&Path>) -> Result<()> {
    let Some(dir) = install else {
        return ctx.out.write(shim());
    };
    let path = dir.join(SHIM_NAME);
    std::fs::write(&path, shim())
        .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).map_err(|e| {
            CliError::Failed(format!("cannot make {} executable: {e}", path.display()))
        })?;
    }
    ctx.out.line(format!(
        "installed {}: `kubectl medusa <TAB>` now completes (make sure {} is on your PATH)",
        path.display(),
        dir.display()
    ))
}

/// What the word being completed is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Want {
    /// Subcommands and flags of a command path.
    Words(Vec<String>),
    /// Names of objects of a kind.
    Names(NameKind),
    /// Fixed values.
    Values(Vec<String>),
    /// Nothing we know.
    Nothing,
}

/// Kinds whose names complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    /// MedusaBackups and MedusaBackupJobs.
    Backup,
    /// MedusaRestoreJobs.
    Restore,
    /// MedusaTasks.
    Task,
    /// MedusaBackupSchedules.
    Schedule,
    /// MedusaConfigurations.
    Configuration,
    /// CassandraDatacenters.
    Datacenter,
    /// K8ssandraClusters.
    Cluster,
    /// Namespaces.
    Namespace,
}

/// Decides what to complete from the words typed (the last one is being completed).
pub fn want(words: &[String]) -> Want {
    let Some((current, before)) = words.split_last() else {
        return Want::Words(Vec::new());
    };
    let previous = before.last().map(String::as_str);
    match previous {
        Some("--dc") => return Want::Names(NameKind::Datacenter),
        Some("--backup") => return Want::Names(NameKind::Backup),
        Some("--k8c") => return Want::Names(NameKind::Cluster),
        Some("--from-schedule") => return Want::Names(NameKind::Schedule),
        Some("-n" | "--namespace") => return Want::Names(NameKind::Namespace),
        _ => {}
    }
    let mut command = Cli::command();
    let mut path: Vec<String> = Vec::new();
    for word in before {
        if let Some(sub) = command.find_subcommand(word).cloned() {
            path.push(sub.get_name().to_owned());
            command = sub;
        }
    }
    if let Some(flag) = previous.filter(|p| p.starts_with('-'))
        && let Some(arg) = command.get_arguments().find(|a| {
            a.get_long().is_some_and(|l| flag == format!("--{l}"))
                || a.get_short().is_some_and(|s| flag == format!("-{s}"))
        })
        && arg.get_action().takes_values()
    {
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .map(|v| v.get_name().to_owned())
            .collect();
        return if values.is_empty() {
            Want::Nothing
        } else {
            Want::Values(values)
        };
    }
    if current.starts_with('-') {
        let flags = command
            .get_arguments()
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .collect();
        return Want::Words(flags);
    }
    let subcommands: Vec<String> = command
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name().to_owned())
        .collect();
    if !subcommands.is_empty() {
        return Want::Words(subcommands);
    }
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    match path.as_slice() {
        ["backup", "describe" | "watch" | "delete"] => Want::Names(NameKind::Backup),
        ["restore", "describe" | "watch" | "delete"] => Want::Names(NameKind::Restore),
        ["task", "describe" | "watch" | "delete"] => Want::Names(NameKind::Task),
        [
            "schedule",
            "describe" | "pause" | "resume" | "run" | "delete",
        ] => Want::Names(NameKind::Schedule),
        ["config", "describe" | "delete" | "check"] => Want::Names(NameKind::Configuration),
        ["config", "effective"] => Want::Names(NameKind::Cluster),
        _ => Want::Nothing,
    }
}

async fn names<K: Kind>(ctx: &Ctx) -> Vec<String> {
    api::list::<K>(ctx, Scope::Namespace(ctx.namespace()), None)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter_map(|o| o.meta().name.clone())
        .collect()
}

async fn lookup(ctx: &Ctx, kind: NameKind) -> Vec<String> {
    match kind {
        NameKind::Backup => {
            let mut all = names::<MedusaBackup>(ctx).await;
            all.extend(names::<MedusaBackupJob>(ctx).await);
            all.sort();
            all.dedup();
            all
        }
        NameKind::Restore => names::<MedusaRestoreJob>(ctx).await,
        NameKind::Task => names::<MedusaTask>(ctx).await,
        NameKind::Schedule => names::<MedusaBackupSchedule>(ctx).await,
        NameKind::Configuration => names::<MedusaConfiguration>(ctx).await,
        NameKind::Datacenter => names::<CassandraDatacenter>(ctx).await,
        NameKind::Cluster => names::<K8ssandraCluster>(ctx).await,
        NameKind::Namespace => match ctx.client().await {
            Ok(client) => kube::Api::<k8s_openapi::api::core::v1::Namespace>::all(client.clone())
                .list(&Default::default())
                .await
                .map(|l| {
                    l.items
                        .into_iter()
                        .filter_map(|n| n.metadata.name)
                        .collect()
                })
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        },
    }
}

/// Runs `__complete`: candidates one per line, then cobra's directive. Silent when the cluster
/// cannot be reached in two seconds.
pub async fn complete(ctx: &Ctx, args: CompleteArgs) -> Result<()> {
    let current = args.words.last().cloned().unwrap_or_default();
    let candidates = match want(&args.words) {
        Want::Words(words) | Want::Values(words) => words,
        Want::Names(kind) => tokio::time::timeout(Duration::from_secs(2), lookup(ctx, kind))
            .await
            .unwrap_or_default(),
        Want::Nothing => Vec::new(),
    };
    let mut text = String::new();
    for candidate in candidates.iter().filter(|c| c.starts_with(&current)) {
        text.push_str(candidate);
        text.push('\n');
    }
    text.push_str(&format!(":{NO_FILE_COMPLETION}\n"));
    ctx.out.write(&text)
}

/// Parses `-n`/`--namespace`, `--context` and `--kubeconfig` out of the words being completed,
/// so names are looked up where the user points.
pub fn global_from_words(words: &[String]) -> crate::cli::GlobalArgs {
    let mut global = crate::cli::GlobalArgs::default();
    let mut iter = words.iter().peekable();
    while let Some(word) = iter.next() {
        let (flag, inline) = match word.split_once('=') {
            Some((f, v)) => (f, Some(v.to_owned())),
            None => (word.as_str(), None),
        };
        let mut value = || inline.clone().or_else(|| iter.peek().map(|v| (*v).clone()));
        match flag {
            "-n" | "--namespace" => global.namespace = value(),
            "--context" => global.context = value(),
            "--kubeconfig" => global.kubeconfig = value().map(Into::into),
            _ => {}
        }
    }
    global
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn top_level_words_are_the_subcommands() {
        let Want::Words(words) = want(&w(&[""])) else {
            panic!()
        };
        assert!(words.contains(&"backup".to_owned()) && words.contains(&"restore".to_owned()));
        assert!(!words.contains(&"__complete".to_owned()));
    }

    #[test]
    fn positional_names_depend_on_the_command() {
        assert_eq!(
            want(&w(&["backup", "describe", ""])),
            Want::Names(NameKind::Backup)
        );
        assert_eq!(
            want(&w(&["schedule", "pause", "ni"])),
            Want::Names(NameKind::Schedule)
        );
        assert_eq!(
            want(&w(&["config", "effective", ""])),
            Want::Names(NameKind::Cluster)
        );
    }

    #[test]
    fn flag_values_complete_names_or_fixed_values() {
        assert_eq!(
            want(&w(&["backup", "create", "--dc", ""])),
            Want::Names(NameKind::Datacenter)
        );
        assert_eq!(
            want(&w(&["restore", "create", "--backup", "n"])),
            Want::Names(NameKind::Backup)
        );
        let Want::Values(values) = want(&w(&["backup", "create", "--type", ""])) else {
            panic!()
        };
        assert_eq!(values, ["differential", "full"]);
    }

    #[test]
    fn dashes_complete_flags() {
        let Want::Words(flags) = want(&w(&["backup", "create", "--"])) else {
            panic!()
        };
        assert!(flags.contains(&"--dc".to_owned()) && flags.contains(&"--wait".to_owned()));
    }

    #[test]
    fn the_namespace_and_context_of_the_line_are_used() {
        let global = global_from_words(&w(&[
            "-n",
            "team-a",
            "--context=prod",
            "backup",
            "describe",
            "",
        ]));
        assert_eq!(global.namespace.as_deref(), Some("team-a"));
        assert_eq!(global.context.as_deref(), Some("prod"));
    }

    #[test]
    fn the_shim_forwards_to_the_plugin() {
        assert!(shim().contains("exec kubectl-medusa __complete \"$@\""));
    }
}
