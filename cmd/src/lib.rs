//! kubectl medusa: the library behind the `kubectl-medusa` binary.
//!
//! Builds, creates and follows k8ssandra-operator's Medusa resources with an honest outcome:
//! the status each command reports is `medusa-crds`' derived status, and the exit code says
//! whether the operation succeeded.

/// The git commit built (`0123456789ab`, with `-modified` for a work tree with changes).
pub const COMMIT: &str = git_version::git_version!(
    args = [
        "--always",
        "--exclude=*",
        "--abbrev=12",
        "--dirty=-modified"
    ],
    fallback = "unknown"
);

/// `0.1.0 (commit 0123456789ab)`: the version and the git commit built.
pub fn version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| format!("{} (commit {COMMIT})", env!("CARGO_PKG_VERSION")))
}

pub mod api;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod context;
pub mod error;
pub mod follow;
pub mod manifest;
pub mod output;
pub mod snapshot;

use cli::{Cli, Command};
use context::Ctx;
use error::{ExitCode, Result};

/// Runs a parsed command line.
pub async fn run(ctx: &Ctx, command: Command) -> Result<()> {
    match command {
        Command::Backup(command) => commands::backup::run(ctx, command).await,
        Command::Restore(command) => commands::restore::run(ctx, command).await,
        Command::Sync(args) => commands::tasks::sync(ctx, args).await,
        Command::Purge(args) => commands::purge::purge(ctx, args).await,
        Command::Task(command) => commands::tasks::run(ctx, command).await,
        Command::Schedule(command) => commands::schedule::run(ctx, command).await,
        Command::Config(command) => commands::config::run(ctx, command).await,
        Command::Status(args) => commands::status::run(ctx, args).await,
        Command::Logs(args) => commands::logs::run(ctx, args).await,
        Command::Validate(args) => commands::validate::run(ctx, args).await,
        Command::Auth(commands::auth::AuthCommand::Check(args)) => {
            commands::auth::run(ctx, args).await
        }
        Command::Version(args) => commands::version::run(ctx, args).await,
        Command::Completion(args) => commands::completion::run(ctx, args),
        Command::Complete(args) => commands::completion::complete(ctx, args).await,
    }
}

/// Runs the process: parses, runs, prints the error, and returns the exit code.
pub async fn main_with(cli: Cli) -> ExitCode {
    let global = match &cli.command {
        Command::Complete(args) => {
            let mut global = commands::completion::global_from_words(&args.words);
            global.kubeconfig = global.kubeconfig.or(cli.global.kubeconfig.clone());
            global
        }
        _ => cli.global.clone(),
    };
    let ctx = Ctx::from_process(global);
    match run(&ctx, cli.command).await {
        Ok(()) => ExitCode::Success,
        Err(error) => {
            if error.is_reported() {
                let _ = ctx.err.line(format!("error: {error}"));
            }
            error.exit_code()
        }
    }
}
