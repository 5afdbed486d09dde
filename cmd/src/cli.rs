//! The command line: `kubectl medusa ...`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands::auth::AuthCommand;
use crate::commands::backup::BackupCommand;
use crate::commands::completion::{CompleteArgs, CompletionArgs};
use crate::commands::config::ConfigCommand;
use crate::commands::logs::LogsArgs;
use crate::commands::purge::PurgeArgs;
use crate::commands::restore::RestoreCommand;
use crate::commands::schedule::ScheduleCommand;
use crate::commands::status::StatusArgs;
use crate::commands::tasks::{SyncArgs, TaskCommand};
use crate::commands::validate::ValidateArgs;
use crate::commands::version::VersionArgs;

/// Parses durations like `30s`, `10m`, `7d`, `1h30m`.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    humantime::parse_duration(value)
        .map_err(|e| format!("{value:?} is not a duration ({e}); use forms like 30s, 10m, 2h, 7d"))
}

/// Parses `key=value`.
pub fn parse_label(value: &str) -> Result<(String, String), String> {
    match value.split_once('=') {
        Some((key, val)) if !key.is_empty() => Ok((key.to_owned(), val.to_owned())),
        _ => Err(format!("{value:?} is not a label; use key=value")),
    }
}

/// A typed value parser for one of the operator's string enums: its known values are the
/// choices (in help, errors and completion), the result is the crds type itself.
pub fn wire_values<T: Clone + Send + Sync + 'static>(
    known: &'static [&'static str],
    from_wire: fn(&str) -> T,
) -> impl clap::builder::TypedValueParser<Value = T> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(known).map(move |value: String| from_wire(&value))
}

/// The `--status` filter: a derived phase, by its lower-case name.
pub fn phase_values() -> impl clap::builder::TypedValueParser<Value = medusa_crds::status::Phase> {
    use clap::builder::TypedValueParser;
    use medusa_crds::status::Phase;
    clap::builder::PossibleValuesParser::new(Phase::ALL.map(Phase::as_str)).map(|value: String| {
        Phase::ALL
            .into_iter()
            .find(|phase| phase.as_str() == value)
            .unwrap_or(Phase::Unknown)
    })
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    /// Color on a terminal, unless NO_COLOR is set.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// `--dry-run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DryRun {
    /// Print the manifest; send nothing (works without a cluster).
    Client,
    /// Send with dryRun=All: admission webhooks judge it, nothing is stored.
    Server,
    /// Not a dry run.
    None,
}

/// `-o` for commands that create objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ObjectOutput {
    /// YAML.
    Yaml,
    /// JSON.
    Json,
    /// `kind/name`.
    Name,
}

/// `-o` for commands that list or show objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum ListOutput {
    /// A table.
    #[default]
    Table,
    /// A table with more columns.
    Wide,
    /// JSON.
    Json,
    /// YAML.
    Yaml,
    /// `kind/name` per line.
    Name,
}

/// kubectl's connection options.
#[derive(Clone, Debug, Default, Args)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file.
    #[arg(
        help_heading = "Kubernetes options",
        long,
        global = true,
        value_name = "FILE"
    )]
    pub kubeconfig: Option<PathBuf>,

    /// The kubeconfig context to use.
    #[arg(help_heading = "Kubernetes options", long, global = true)]
    pub context: Option<String>,

    /// The kubeconfig cluster to use.
    #[arg(help_heading = "Kubernetes options", long, global = true)]
    pub cluster: Option<String>,

    /// The kubeconfig user to use.
    #[arg(help_heading = "Kubernetes options", long, global = true)]
    pub user: Option<String>,

    /// The namespace (else the context's, else `default`).
    #[arg(help_heading = "Kubernetes options", short = 'n', long, global = true)]
    pub namespace: Option<String>,

    /// List across all namespaces.
    #[arg(help_heading = "Kubernetes options", short = 'A', long, global = true)]
    pub all_namespaces: bool,

    /// Timeout of each API request, e.g. 30s.
    #[arg(help_heading = "Kubernetes options", long, global = true, value_parser = parse_duration, value_name = "DURATION")]
    pub request_timeout: Option<Duration>,

    /// When to use colors (NO_COLOR disables them in auto mode).
    #[arg(help_heading = "Kubernetes options", long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// kubectl medusa: Medusa backups and restores for k8ssandra-operator.
///
/// Exit codes: 0 succeeded, 1 the operation failed, 2 a wait timed out (the operation goes
/// on), 3 usage or validation error, 4 not found or CRDs missing, 5 forbidden, 130
/// interrupted (the operation goes on in the cluster).
#[derive(Debug, Parser)]
#[command(
    name = "kubectl medusa",
    bin_name = "kubectl medusa",
    version = crate::version(),
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Connection options.
    #[command(flatten)]
    pub global: GlobalArgs,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Back up datacenters; list, inspect and delete backups.
    #[command(subcommand)]
    Backup(BackupCommand),
    /// Restore a backup into a datacenter.
    #[command(subcommand)]
    Restore(RestoreCommand),
    /// Import the backups found in storage as MedusaBackup records (and drop vanished ones).
    Sync(SyncArgs),
    /// Delete backups from storage according to the retention settings.
    Purge(PurgeArgs),
    /// Any MedusaTask (sync, purge, prepare_restore).
    #[command(subcommand)]
    Task(TaskCommand),
    /// Backup and purge schedules.
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// Shared storage configurations (MedusaConfiguration).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// One screen: configuration, Medusa containers, last backup, running jobs, schedules.
    Status(StatusArgs),
    /// The Medusa logs of the pods a backup, restore or task ran on, interleaved by time.
    Logs(LogsArgs),
    /// Run the webhook's rules offline on manifests.
    Validate(ValidateArgs),
    /// Check the permissions a command needs.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Plugin, operator and CRD versions.
    Version(VersionArgs),
    /// Shell completion scripts.
    Completion(CompletionArgs),
    /// kubectl's plugin completion protocol (used by the kubectl_complete-medusa shim).
    #[command(name = "__complete", hide = true)]
    Complete(CompleteArgs),
}

/// Options of commands that wait.
#[derive(Clone, Debug, Args)]
pub struct WaitArgs {
    /// Follow the operation until it ends; the exit code is its outcome.
    #[arg(long)]
    pub wait: bool,
    /// How long to wait.
    #[arg(long, value_parser = parse_duration, default_value = "30m", value_name = "DURATION")]
    pub timeout: Duration,
}

/// How long a finished backup job may go without its MedusaBackup record.
#[derive(Clone, Copy, Debug, Args)]
pub struct RecordGraceArgs {
    /// How long after a backup job's finishTime the operator may take to write its MedusaBackup
    /// record and the record's status; past it, a backup without them is failed.
    #[arg(long, value_parser = parse_duration, default_value = "5m", value_name = "DURATION")]
    pub record_grace: Duration,
}

impl RecordGraceArgs {
    /// The graces of the derived status, with this record grace.
    pub fn graces(self) -> medusa_crds::status::Graces {
        medusa_crds::status::Graces {
            record: chrono::Duration::from_std(self.record_grace).unwrap_or(chrono::Duration::MAX),
            ..medusa_crds::status::Graces::default()
        }
    }
}

/// Options of commands that create objects.
#[derive(Clone, Debug, Args)]
pub struct CreateArgs {
    /// client: print the manifest and send nothing; server: let the API server and admission
    /// webhooks judge it without storing it.
    #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "client", value_name = "MODE")]
    pub dry_run: Option<DryRun>,
    /// Output format of the created object (with --wait: the final object only).
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<ObjectOutput>,
    /// Labels to add (repeatable).
    #[arg(long = "label", value_parser = parse_label, value_name = "KEY=VALUE")]
    pub labels: Vec<(String, String)>,
}

impl CreateArgs {
    /// The dry-run mode, `None` when sending for real.
    pub fn dry_run(&self) -> Option<DryRun> {
        self.dry_run.filter(|d| *d != DryRun::None)
    }
}

/// A name.
#[derive(Debug, Args)]
pub struct NameArgs {
    /// The name.
    pub name: String,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = ListOutput::Table)]
    pub output: ListOutput,
}

/// `watch NAME`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The name.
    pub name: String,
    /// How long to wait.
    #[arg(long, value_parser = parse_duration, default_value = "30m")]
    pub timeout: Duration,
    /// Print only the final object in this format.
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<ObjectOutput>,
}

/// A list with a selector.
#[derive(Debug, Args)]
pub struct SimpleListArgs {
    /// Label selector.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Only this datacenter.
    #[arg(long)]
    pub dc: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = ListOutput::Table)]
    pub output: ListOutput,
}

/// When a running operation counts as stalled: lists and `status` mark it "Running, stalled?".
#[derive(Clone, Copy, Debug, Args)]
pub struct StallArgs {
    /// A running operation looks stalled past N times the median duration of the last ten
    /// successful operations of its kind on its datacenter.
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub stall_factor: u32,
    /// Without such history, it looks stalled past this long.
    #[arg(long, value_parser = parse_duration, default_value = "6h", value_name = "DURATION")]
    pub stall_after: Duration,
}

impl StallArgs {
    /// The policy these flags set.
    pub fn policy(self) -> medusa_crds::health::StallPolicy {
        medusa_crds::health::StallPolicy {
            factor: self.stall_factor,
            without_history: chrono::Duration::from_std(self.stall_after)
                .unwrap_or(chrono::Duration::MAX),
            ..medusa_crds::health::StallPolicy::default()
        }
    }
}

/// A list of restores or tasks.
#[derive(Debug, Args)]
pub struct OperationListArgs {
    /// What to list.
    #[command(flatten)]
    pub list: SimpleListArgs,
    /// When an operation looks stalled.
    #[command(flatten)]
    pub stall: StallArgs,
}

/// `delete NAME...`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The names.
    #[arg(required = true)]
    pub names: Vec<String>,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Every `(command path, argument id)` below `command` whose id is also a global argument's:
    /// clap then stores the local value under the global id (`config effective demo` once set
    /// `--cluster demo`).
    fn clashes(command: &clap::Command, globals: &[String], path: &str) -> Vec<String> {
        let mut found: Vec<String> = command
            .get_arguments()
            .filter(|a| !a.is_global_set())
            .map(|a| a.get_id().as_str().to_owned())
            .filter(|id| globals.contains(id))
            .map(|id| format!("{path}: {id}"))
            .collect();
        for sub in command.get_subcommands() {
            found.extend(clashes(sub, globals, &format!("{path} {}", sub.get_name())));
        }
        found
    }

    #[test]
    fn no_argument_id_of_any_command_equals_a_global_ones() {
        let mut root = Cli::command();
        root.build();
        let globals: Vec<String> = root
            .get_arguments()
            .filter(|a| a.is_global_set())
            .map(|a| a.get_id().as_str().to_owned())
            .collect();
        assert!(globals.contains(&"cluster".to_owned()), "{globals:?}");
        let found = clashes(&root, &globals, "kubectl medusa");
        assert!(
            found.is_empty(),
            "argument ids equal to global ones: {found:?}"
        );
    }

    #[test]
    fn the_positional_cluster_of_config_effective_is_not_the_kubeconfig_cluster() {
        let cli = Cli::try_parse_from(["kubectl-medusa", "config", "effective", "demo"]).unwrap();
        assert_eq!(cli.global.cluster, None);
        let Command::Config(ConfigCommand::Effective(args)) = cli.command else {
            panic!("not config effective");
        };
        assert_eq!(args.k8ssandra_cluster, "demo");
    }

    #[test]
    fn help_says_kubectl_medusa() {
        let help = Cli::command().render_help().to_string();
        assert!(help.contains("Usage: kubectl medusa"), "{help}");
    }

    #[test]
    fn a_bare_dry_run_means_client() {
        let cli = Cli::try_parse_from([
            "kubectl-medusa",
            "backup",
            "create",
            "--dc",
            "dc1",
            "--dry-run",
        ])
        .unwrap();
        let Command::Backup(BackupCommand::Create(args)) = cli.command else {
            panic!("not a backup create");
        };
        assert_eq!(args.create.dry_run(), Some(DryRun::Client));
    }

    #[test]
    fn durations_accept_days() {
        assert_eq!(
            parse_duration("7d").unwrap(),
            Duration::from_secs(7 * 86_400)
        );
        assert!(
            parse_duration("soon")
                .unwrap_err()
                .contains("use forms like 30s")
        );
    }

    #[test]
    fn labels_need_a_key() {
        assert_eq!(parse_label("a=b").unwrap(), ("a".into(), "b".into()));
        assert!(parse_label("=b").is_err());
    }
}
