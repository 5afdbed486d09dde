//! medusa-webhook binary.

// No panic reachable from input: an admission webhook with `failurePolicy: Fail` that panics
// blocks every Medusa object of the cluster. (Tests may: clippy.toml allows them there.)
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use medusa_crds::rules::Policy;
use medusa_webhook::args::{Args, LogFormat};
use medusa_webhook::cache::Caches;
use medusa_webhook::decisions::DecisionLog;
use medusa_webhook::engine::Engine;
use medusa_webhook::live::Live;
use medusa_webhook::metrics::Metrics;
use medusa_webhook::server::{
    admission_service, bind, health_router, serve_plain, serve_tls_counted,
};
use medusa_webhook::{selfsigned, tls, watch};
use tokio_util::sync::CancellationToken;

/// How many bytes of decision lines may wait for the writer before new ones are dropped
/// (seconds of a very busy webhook).
const DECISION_LOG_CAPACITY: usize = 8 * 1024 * 1024;

/// mimalloc: the request path allocates many short-lived objects from several threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Colours only for a person at a terminal: never in files, pipes or a container's log stream,
/// and never with `NO_COLOR` set.
fn log_colours(terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

fn init_tracing(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(log_colours(
            std::io::stdout().is_terminal(),
            std::env::var_os("NO_COLOR"),
        ));
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.init(),
    }
}

fn load_policy(args: &Args) -> anyhow::Result<Policy> {
    let Some(path) = &args.policy else {
        return Ok(Policy::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the policy file {}", path.display()))?;
    Policy::from_yaml(&text).with_context(|| format!("refusing to start: {}", path.display()))
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// The serving certificate: generated (and its CA patched into the webhook configurations,
/// retried until it works) with `--self-signed`, else read from the files and reloaded when
/// they change.
async fn certificates(
    args: &Args,
    client: &kube::Client,
    metrics: &Metrics,
    cancel: &CancellationToken,
) -> anyhow::Result<Arc<tls::CertificateStore>> {
    if !args.self_signed {
        let store = tls::CertificateStore::new(
            tls::load_files(&args.tls_cert, &args.tls_key)?,
            metrics.not_after(),
        );
        tokio::spawn(tls::watch_files(
            store.clone(),
            args.tls_cert.clone(),
            args.tls_key.clone(),
            Duration::from_secs(args.cert_reload_seconds.max(1)),
            cancel.clone(),
        ));
        return Ok(store);
    }
    let bundle =
        selfsigned::ensure_secret(client, &args.namespace, &args.tls_secret, &args.service).await?;
    let patch_client = client.clone();
    let (validating, mutating) = (
        args.validating_webhook_configuration.clone(),
        args.mutating_webhook_configuration.clone(),
    );
    let ca = bundle.ca_pem.clone();
    let patch_cancel = cancel.clone();
    tokio::spawn(async move {
        loop {
            match selfsigned::patch_ca_bundles(&patch_client, &validating, &mutating, &ca).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot patch the caBundle yet; retrying in 30 s")
                }
            }
            tokio::select! {
                () = patch_cancel.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(30)) => {}
            }
        }
    });
    let loaded = tls::load_pem(
        bundle.cert_pem.as_bytes(),
        bundle.key_pem.as_bytes(),
        " of the generated certificate",
    )?;
    Ok(tls::CertificateStore::new(loaded, metrics.not_after()))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let policy = Arc::new(load_policy(&args)?);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = kube::Client::try_default().await.context(
        "cannot configure a Kubernetes client (in-cluster ServiceAccount or KUBECONFIG)",
    )?;
    let cancel = CancellationToken::new();
    let (caches, writers) = Caches::new();
    let mut watches = watch::spawn_all(client.clone(), writers, cancel.clone());
    let metrics = Arc::new(Metrics::with_stall_policy(args.stall_policy()));

    let store = certificates(&args, &client, &metrics, &cancel).await?;
    let tls_config = tls::server_config(store)?;
    // One line per decision, formatted here and written by a thread of its own: a review never
    // waits on stdout; lines a slow reader cannot take are dropped and counted.
    if let Some(capacity) = medusa_webhook::decisions::widen_pipe(std::io::stdout()) {
        tracing::debug!(capacity, "stdout is a pipe, widened for the decision log");
    }
    let (decisions, decision_writer) = DecisionLog::spawn(
        args.log_format,
        std::io::stdout(),
        DECISION_LOG_CAPACITY,
        metrics.decision_lines_dropped(),
    )
    .context("cannot start the decision log's writer thread")?;
    let engine = Arc::new(
        Engine::new(caches, Some(Live::new(client)), policy, metrics).with_decision_log(decisions),
    );
    let limits = args.limits();
    let admission = bind(args.listen).await?;
    let health = bind(args.health_listen).await?;
    tracing::info!(version = medusa_webhook::version(), listen = %args.listen, health = %args.health_listen, "medusa-webhook serving");
    let admission_task = tokio::spawn(serve_tls_counted(
        admission,
        tls_config,
        admission_service(engine.clone(), limits),
        limits,
        cancel.clone(),
        Some(engine.metrics().clone()),
    ));
    let health_task = tokio::spawn(serve_plain(health, health_router(engine), cancel.clone()));
    shutdown_signal().await;
    tracing::info!("shutting down");
    cancel.cancel();
    let _ = admission_task.await;
    let _ = health_task.await;
    watches.shutdown().await;
    // The engine went with the servers: its log's writer writes what is left and ends.
    let _ = tokio::time::timeout(
        Duration::from_secs(2),
        tokio::task::spawn_blocking(move || decision_writer.join()),
    )
    .await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if args.print_default_policy {
        print!("{}", Policy::default_yaml());
        return ExitCode::SUCCESS;
    }
    init_tracing(args.log_format);
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "medusa-webhook stopped");
            eprintln!("medusa-webhook: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::log_colours;

    #[test]
    fn logs_are_coloured_only_on_a_terminal_without_no_color() {
        assert!(log_colours(true, None));
        assert!(!log_colours(false, None));
        assert!(!log_colours(true, Some("1".into())));
        assert!(log_colours(true, Some("".into())));
    }
}
