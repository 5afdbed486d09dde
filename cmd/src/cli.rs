//! The command line: `kubectl medusa ...`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

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

/// `kubectl medusa backup`.
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Start a backup of a datacenter, or of every datacenter of a K8ssandraCluster.
    Create(BackupCreateArgs),
    /// List backups, joined with their jobs.
    #[command(alias = "ls")]
    List(BackupListArgs),
    /// Everything about one backup: status, pods, nodes, files, size, timings, restores.
    Describe(NameArgs),
    /// Attach to a running backup; the exit code is its outcome.
    Watch(BackupWatchArgs),
    /// Delete backup records (the data stays in the bucket).
    Delete(BackupDeleteArgs),
    /// The newest successful backup of a datacenter.
    Latest(BackupLatestArgs),
}

/// `backup create`.
#[derive(Debug, Args)]
pub struct BackupCreateArgs {
    /// Name of the backup (default: `<dc>-<YYYYMMDDHHMMSS>` in UTC).
    pub name: Option<String>,
    /// The CassandraDatacenter to back up.
    #[arg(long, conflicts_with = "k8c", required_unless_present = "k8c")]
    pub dc: Option<String>,
    /// Back up every datacenter of this K8ssandraCluster (one job each, followed together).
    #[arg(long, value_name = "K8SSANDRACLUSTER")]
    pub k8c: Option<String>,
    /// differential (default) or full.
    #[arg(long = "type", value_parser = ["differential", "full"])]
    pub backup_type: Option<String>,
    /// Name it as this schedule's run would be (`<schedule>-<unix seconds>`).
    #[arg(long, value_name = "SCHEDULE")]
    pub from_schedule: Option<String>,
    /// Waiting.
    #[command(flatten)]
    pub wait: WaitArgs,
    /// The record's grace.
    #[command(flatten)]
    pub record: RecordGraceArgs,
    /// Creation.
    #[command(flatten)]
    pub create: CreateArgs,
}

/// `backup list`.
#[derive(Clone, Debug, Args)]
pub struct BackupListArgs {
    /// Only this datacenter.
    #[arg(long)]
    pub dc: Option<String>,
    /// Label selector.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Only backups in this state.
    #[arg(long, value_parser = ["succeeded", "failed", "running", "pending", "unknown"])]
    pub status: Option<String>,
    /// Only backups started within this duration, e.g. 7d.
    #[arg(long, value_parser = parse_duration)]
    pub since: Option<Duration>,
    /// Sort order (newest first for times and size).
    #[arg(long, value_parser = ["name", "started", "finished", "size"], default_value = "started")]
    pub sort_by: String,
    /// At most this many rows.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Keep the table up to date.
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = ListOutput::Table)]
    pub output: ListOutput,
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

/// `backup watch NAME`.
#[derive(Debug, Args)]
pub struct BackupWatchArgs {
    /// What any watch takes.
    #[command(flatten)]
    pub watch: WatchArgs,
    /// The record's grace.
    #[command(flatten)]
    pub record: RecordGraceArgs,
}

/// `backup delete`.
#[derive(Debug, Args)]
pub struct BackupDeleteArgs {
    /// Backups to delete.
    pub names: Vec<String>,
    /// Label selector.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Backups older than this, e.g. 30d.
    #[arg(long, value_parser = parse_duration)]
    pub older_than: Option<Duration>,
    /// Keep the N newest backups (per datacenter), delete the rest.
    #[arg(long)]
    pub keep_last: Option<usize>,
    /// Only this datacenter.
    #[arg(long)]
    pub dc: Option<String>,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Show what would be deleted.
    #[arg(long)]
    pub dry_run: bool,
}

/// `backup latest`.
#[derive(Debug, Args)]
pub struct BackupLatestArgs {
    /// The datacenter.
    #[arg(long)]
    pub dc: String,
    /// Fail (exit 1) when the newest successful backup is older than this, e.g. 26h.
    #[arg(long, value_parser = parse_duration)]
    pub max_age: Option<Duration>,
    /// Output format.
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<ObjectOutput>,
}

/// `kubectl medusa restore`.
#[derive(Debug, Subcommand)]
pub enum RestoreCommand {
    /// Restore a backup into a datacenter (the datacenter is stopped during the restore).
    Create(RestoreCreateArgs),
    /// The operator's restore checks, before anything stops: a PASS/FAIL table.
    Preflight(PreflightArgs),
    /// List restores.
    #[command(alias = "ls")]
    List(SimpleListArgs),
    /// Everything about one restore.
    Describe(NameArgs),
    /// Attach to a running restore; the exit code is its outcome.
    Watch(WatchArgs),
    /// Delete a restore record.
    Delete(DeleteArgs),
}

/// `restore create`.
#[derive(Debug, Args)]
pub struct RestoreCreateArgs {
    /// Name of the restore (default: `restore-<backup>-<YYYYMMDDHHMMSS>`).
    pub name: Option<String>,
    /// The CassandraDatacenter to restore into.
    #[arg(long)]
    pub dc: String,
    /// The MedusaBackup to restore.
    #[arg(long, conflicts_with = "latest", required_unless_present = "latest")]
    pub backup: Option<String>,
    /// Restore the newest successful backup of the datacenter.
    #[arg(long)]
    pub latest: bool,
    /// Run a sync first and wait for the backup to appear (a backup taken by another cluster).
    #[arg(long)]
    pub sync_first: bool,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Waiting.
    #[command(flatten)]
    pub wait: WaitArgs,
    /// Creation.
    #[command(flatten)]
    pub create: CreateArgs,
}

/// `restore preflight`.
#[derive(Debug, Args)]
pub struct PreflightArgs {
    /// The target datacenter.
    #[arg(long)]
    pub dc: String,
    /// The MedusaBackup.
    #[arg(long)]
    pub backup: String,
    /// Output format (table or json).
    #[arg(short = 'o', long, value_enum, default_value_t = ListOutput::Table)]
    pub output: ListOutput,
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

/// `kubectl medusa sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The datacenter whose Medusa lists the storage.
    #[arg(long)]
    pub dc: String,
    /// Name of the task (default: `sync-<dc>-<YYYYMMDDHHMMSS>`).
    #[arg(long)]
    pub name: Option<String>,
    /// Waiting.
    #[command(flatten)]
    pub wait: WaitArgs,
    /// Creation.
    #[command(flatten)]
    pub create: CreateArgs,
}

/// `kubectl medusa purge`.
#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// The datacenter.
    #[arg(long)]
    pub dc: String,
    /// Name of the task (default: `purge-<dc>-<YYYYMMDDHHMMSS>`).
    #[arg(long)]
    pub name: Option<String>,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Waiting (also follows the automatic `<name>-sync` task).
    #[command(flatten)]
    pub wait: WaitArgs,
    /// Creation.
    #[command(flatten)]
    pub create: CreateArgs,
}

/// `kubectl medusa task`.
#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// List MedusaTasks.
    #[command(alias = "ls")]
    List(SimpleListArgs),
    /// Everything about one task.
    Describe(NameArgs),
    /// Attach to a running task; the exit code is its outcome.
    Watch(WatchArgs),
    /// Delete tasks.
    Delete(DeleteArgs),
}

/// `kubectl medusa schedule`.
#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Create a backup or purge schedule (the expression is checked locally).
    Create(ScheduleCreateArgs),
    /// List schedules with their last and next runs and last result.
    #[command(alias = "ls")]
    List(SimpleListArgs),
    /// A schedule and its recent runs.
    Describe(ScheduleDescribeArgs),
    /// Pause schedules.
    Pause(SelectArgs),
    /// Resume schedules.
    Resume(SelectArgs),
    /// Run a schedule now, from its template.
    Run(ScheduleRunArgs),
    /// Delete schedules.
    Delete(DeleteArgs),
}

/// `schedule create`.
#[derive(Debug, Args)]
pub struct ScheduleCreateArgs {
    /// Name of the schedule.
    pub name: String,
    /// The datacenter.
    #[arg(long)]
    pub dc: String,
    /// Cron expression (five fields, or @daily, @every 12h, ...; CRON_TZ=<zone> prefix allowed).
    #[arg(long)]
    pub cron: String,
    /// backup (default) or purge.
    #[arg(long, value_parser = ["backup", "purge"], default_value = "backup")]
    pub operation: String,
    /// differential (default) or full.
    #[arg(long = "type", value_parser = ["differential", "full"])]
    pub backup_type: Option<String>,
    /// Forbid (default: postpone while a run is active) or Allow.
    #[arg(long, value_parser = ["Allow", "Forbid"])]
    pub concurrency_policy: Option<String>,
    /// Create it paused.
    #[arg(long)]
    pub disabled: bool,
    /// Creation.
    #[command(flatten)]
    pub create: CreateArgs,
}

/// `schedule describe`.
#[derive(Debug, Args)]
pub struct ScheduleDescribeArgs {
    /// The schedule.
    pub name: String,
    /// How many recent runs to show.
    #[arg(long, default_value_t = 5)]
    pub history: usize,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = ListOutput::Table)]
    pub output: ListOutput,
}

/// Names, a selector, or everything.
#[derive(Debug, Args)]
pub struct SelectArgs {
    /// The names.
    pub names: Vec<String>,
    /// Label selector.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Every schedule of the namespace.
    #[arg(long)]
    pub all: bool,
}

/// `schedule run`.
#[derive(Debug, Args)]
pub struct ScheduleRunArgs {
    /// The schedule.
    pub name: String,
    /// Waiting.
    #[command(flatten)]
    pub wait: WaitArgs,
    /// Output format of the created object.
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<ObjectOutput>,
    /// The record's grace (backup schedules).
    #[command(flatten)]
    pub record: RecordGraceArgs,
}

/// `kubectl medusa config`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Create a MedusaConfiguration (and its credentials Secret with --credentials-file).
    Create(ConfigCreateArgs),
    /// List configurations.
    #[command(alias = "ls")]
    List(SimpleListArgs),
    /// A configuration: storage, secret, retention, conditions, users.
    Describe(NameArgs),
    /// Delete a configuration.
    Delete(DeleteArgs),
    /// Secret present with its `credentials` key, conditions, who uses it.
    Check(NameArgs),
    /// The merged storage the operator will use for a K8ssandraCluster.
    Effective(EffectiveArgs),
}

/// `config create`.
#[derive(Debug, Args)]
pub struct ConfigCreateArgs {
    /// Name of the configuration.
    pub name: String,
    /// Storage provider.
    #[arg(long, value_parser = ["s3", "s3_compatible", "s3_rgw", "google_storage", "azure_blobs", "ibm_storage"])]
    pub provider: String,
    /// Bucket.
    #[arg(long)]
    pub bucket: String,
    /// Region.
    #[arg(long)]
    pub region: Option<String>,
    /// Endpoint host (s3_compatible, s3_rgw).
    #[arg(long)]
    pub host: Option<String>,
    /// Endpoint port.
    #[arg(long)]
    pub port: Option<i64>,
    /// Use TLS to the endpoint.
    #[arg(long)]
    pub secure: bool,
    /// Verify the endpoint's certificate.
    #[arg(long)]
    pub ssl_verify: bool,
    /// An existing Secret with a `credentials` key.
    #[arg(long, conflicts_with_all = ["credentials_file", "role_based"])]
    pub secret: Option<String>,
    /// Create the Secret from this file (the provider's credentials file format).
    #[arg(long, conflicts_with = "role_based", value_name = "FILE")]
    pub credentials_file: Option<PathBuf>,
    /// Use the pods' cloud identity (IRSA, workload identity) instead of a Secret.
    #[arg(long)]
    pub role_based: bool,
    /// Maximum backup age in days for purges (0: unlimited).
    #[arg(long)]
    pub max_backup_age: Option<i64>,
    /// Maximum number of backups kept by purges (0: unlimited).
    #[arg(long)]
    pub max_backup_count: Option<i64>,
    /// Creation.
    #[command(flatten)]
    pub create: CreateArgs,
}

/// `config effective`.
#[derive(Debug, Args)]
pub struct EffectiveArgs {
    /// The K8ssandraCluster. (Its id is not `cluster`: that is the global `--cluster`.)
    #[arg(value_name = "K8SSANDRACLUSTER")]
    pub k8ssandra_cluster: String,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = ListOutput::Table)]
    pub output: ListOutput,
}

/// `kubectl medusa status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// One datacenter.
    #[arg(long, conflicts_with = "k8c")]
    pub dc: Option<String>,
    /// Every datacenter of a K8ssandraCluster.
    #[arg(long)]
    pub k8c: Option<String>,
    /// Output format (table or json).
    #[arg(short = 'o', long, value_enum, default_value_t = ListOutput::Table)]
    pub output: ListOutput,
}

/// Where `validate` gets the rest of the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum ClusterView {
    /// Only the other files given.
    #[default]
    Files,
    /// The files plus the live cluster.
    Live,
}

/// `kubectl medusa validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Files or directories of manifests (`-` for standard input).
    #[arg(
        short = 'f',
        long = "filename",
        required = true,
        value_name = "FILE|DIR|-"
    )]
    pub files: Vec<PathBuf>,
    /// Also read the subdirectories of the directories given (as `kubectl apply -R`).
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Judge against the other files only, or also the live cluster.
    #[arg(long, value_enum, default_value_t = ClusterView::Files)]
    pub cluster_view: ClusterView,
    /// Output format (table or json).
    #[arg(short = 'o', long, value_enum, default_value_t = ListOutput::Table)]
    pub output: ListOutput,
}

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

/// `kubectl medusa version`.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Only the plugin's version, without contacting the cluster.
    #[arg(long)]
    pub client: bool,
    /// Output format (table or json).
    #[arg(short = 'o', long, value_enum, default_value_t = ListOutput::Table)]
    pub output: ListOutput,
}

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
