//! What every command needs: the cluster (created only when needed), the namespace, the output
//! streams, the clock and whether a person is at the terminal.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use kube::config::{KubeConfigOptions, Kubeconfig};
use tokio::sync::OnceCell;

use crate::cli::{ColorChoice, GlobalArgs};
use crate::error::{CliError, Result};

/// A shared output stream.
#[derive(Clone)]
pub struct Stream {
    inner: Arc<Mutex<Box<dyn Write + Send>>>,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream").finish_non_exhaustive()
    }
}

impl Stream {
    /// Wraps a writer.
    pub fn new(writer: impl Write + Send + 'static) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Box::new(writer))),
        }
    }

    /// Writes text as is. A reader that went away (`| head -1`) ends the command quietly:
    /// [`CliError::OutputClosed`].
    pub fn write(&self, text: &str) -> Result<()> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner
            .write_all(text.as_bytes())
            .and_then(|()| inner.flush())
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::BrokenPipe => CliError::OutputClosed,
                _ => CliError::Io(e),
            })
    }

    /// Writes a line.
    pub fn line(&self, text: impl AsRef<str>) -> Result<()> {
        self.write(&format!("{}\n", text.as_ref()))
    }
}

/// A buffer that tests read back.
#[derive(Clone, Debug, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// How the answer to a confirmation is read, once the question is asked.
pub type Confirm = Arc<dyn Fn() -> bool + Send + Sync>;

/// The command context.
pub struct Ctx {
    /// Connection options as given.
    pub global: GlobalArgs,
    client: OnceCell<kube::Client>,
    /// Standard output.
    pub out: Stream,
    /// Standard error.
    pub err: Stream,
    /// Now, fixed for the whole command.
    pub now: DateTime<Utc>,
    /// Whether standard output is a terminal (live views, colors in auto mode).
    pub terminal: bool,
    /// Whether a person can answer a confirmation.
    pub interactive: bool,
    /// Whether to color output.
    pub color: bool,
    confirm: Confirm,
    namespace: String,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("namespace", &self.namespace)
            .field("terminal", &self.terminal)
            .finish_non_exhaustive()
    }
}

/// The namespace: `-n`, else the kubeconfig context's, else `default`. Never contacts the
/// cluster, so `--dry-run=client` works with no cluster and no kubeconfig at all.
pub fn resolve_namespace(global: &GlobalArgs) -> String {
    if let Some(namespace) = &global.namespace {
        return namespace.clone();
    }
    let kubeconfig = match &global.kubeconfig {
        Some(path) => Kubeconfig::read_from(path).ok(),
        None => Kubeconfig::read().ok(),
    };
    kubeconfig
        .and_then(|config| {
            let context = global
                .context
                .clone()
                .or_else(|| config.current_context.clone())?;
            config
                .contexts
                .into_iter()
                .find(|c| c.name == context)
                .and_then(|c| c.context)
                .and_then(|c| c.namespace)
        })
        .unwrap_or_else(|| "default".to_owned())
}

fn color_enabled(choice: ColorChoice, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

fn answer_on_terminal() -> bool {
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_lowercase().as_str(), "y" | "yes")
}

impl Ctx {
    /// The context of a real run.
    pub fn from_process(global: GlobalArgs) -> Self {
        let terminal = std::io::stdout().is_terminal();
        let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        Self {
            namespace: resolve_namespace(&global),
            color: color_enabled(global.color, terminal),
            global,
            client: OnceCell::new(),
            out: Stream::new(std::io::stdout()),
            err: Stream::new(std::io::stderr()),
            now: Utc::now(),
            terminal,
            interactive,
            confirm: Arc::new(answer_on_terminal),
        }
    }

    /// A context for tests: the given client (or none), captured output, a fixed clock, no
    /// terminal, and confirmations answered `answer` (echoed as a terminal echoes it).
    pub fn for_test(
        client: Option<kube::Client>,
        namespace: &str,
        now: DateTime<Utc>,
        answer: Option<bool>,
    ) -> (Self, Captured, Captured) {
        let (out, err) = (Captured::default(), Captured::default());
        let ctx = Self::captured(client, namespace, now, answer, &out, &err);
        (ctx, out, err)
    }

    /// [`Ctx::for_test`], with standard output and standard error in one buffer, interleaved
    /// as a terminal shows them.
    pub fn for_test_on_one_screen(
        client: Option<kube::Client>,
        namespace: &str,
        now: DateTime<Utc>,
        answer: Option<bool>,
    ) -> (Self, Captured) {
        let screen = Captured::default();
        let ctx = Self::captured(client, namespace, now, answer, &screen, &screen);
        (ctx, screen)
    }

    fn captured(
        client: Option<kube::Client>,
        namespace: &str,
        now: DateTime<Utc>,
        answer: Option<bool>,
        out: &Captured,
        err: &Captured,
    ) -> Self {
        let global = GlobalArgs {
            namespace: Some(namespace.to_owned()),
            ..GlobalArgs::default()
        };
        let cell = OnceCell::new();
        if let Some(client) = client {
            let _ = cell.set(client);
        }
        let echo = Stream::new(err.clone());
        Self {
            namespace: namespace.to_owned(),
            global,
            client: cell,
            out: Stream::new(out.clone()),
            err: Stream::new(err.clone()),
            now,
            terminal: false,
            interactive: answer.is_some(),
            color: false,
            confirm: Arc::new(move || {
                let yes = answer.unwrap_or(false);
                let _ = echo.line(if yes { "y" } else { "N" });
                yes
            }),
        }
    }

    /// Takes the connection options of a parsed command line (tests): `-A`, `-n` and the rest.
    pub fn with_global(mut self, global: GlobalArgs) -> Self {
        if let Some(namespace) = &global.namespace {
            self.namespace = namespace.clone();
        }
        self.global = global;
        self
    }

    /// Pretends stdout is a terminal (for the live progress view in tests); colors follow, as
    /// `--color auto` has them on a terminal.
    pub fn with_terminal(mut self, terminal: bool) -> Self {
        self.terminal = terminal;
        self.color = color_enabled(self.global.color, terminal);
        self
    }

    /// The namespace of this command.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Whether `-A` was given.
    pub fn all_namespaces(&self) -> bool {
        self.global.all_namespaces
    }

    /// Where a listing command looks: every namespace with `-A`, else the namespace.
    pub fn scope(&self) -> crate::api::Scope<'_> {
        if self.all_namespaces() {
            crate::api::Scope::All
        } else {
            crate::api::Scope::Namespace(&self.namespace)
        }
    }

    /// The Kubernetes client, created on first use from the kubeconfig options (or the
    /// in-cluster configuration). Exec and OIDC credentials work as in kubectl.
    pub async fn client(&self) -> Result<&kube::Client> {
        self.client
            .get_or_try_init(|| async {
                let options = KubeConfigOptions {
                    context: self.global.context.clone(),
                    cluster: self.global.cluster.clone(),
                    user: self.global.user.clone(),
                };
                let config = match &self.global.kubeconfig {
                    Some(path) => {
                        let kubeconfig = Kubeconfig::read_from(path).map_err(|e| {
                            CliError::Cluster(format!("cannot read the kubeconfig {}: {e}", path.display()))
                        })?;
                        kube::Config::from_custom_kubeconfig(kubeconfig, &options).await
                    }
                    None if options.context.is_some() || options.cluster.is_some() || options.user.is_some() => {
                        kube::Config::from_kubeconfig(&options).await
                    }
                    None => kube::Config::infer().await.map_err(|e| {
                        kube::config::KubeconfigError::LoadContext(e.to_string())
                    }),
                };
                let mut config = config.map_err(|e| {
                    CliError::Cluster(format!(
                        "cannot configure access to the cluster: {e}; check your kubeconfig (--kubeconfig, --context) or KUBECONFIG"
                    ))
                })?;
                if let Some(timeout) = self.global.request_timeout {
                    config.read_timeout = Some(timeout);
                    config.write_timeout = Some(timeout);
                    config.connect_timeout = Some(timeout);
                }
                kube::Client::try_from(config)
                    .map_err(|e| CliError::Cluster(format!("cannot create a Kubernetes client: {e}")))
            })
            .await
    }

    /// Asks before something destructive: on a terminal, a y/N question; elsewhere, refuses
    /// unless `--yes` was given.
    pub fn confirm(&self, question: &str, yes: bool) -> Result<()> {
        if yes {
            return Ok(());
        }
        if !self.interactive {
            return Err(CliError::usage(format!(
                "{question} Refusing without a terminal to confirm: pass --yes"
            )));
        }
        self.err.write(&format!("{question} [y/N] "))?;
        if (self.confirm)() {
            Ok(())
        } else {
            Err(CliError::usage("cancelled: nothing was changed"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pipe whose reader went away.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_ends_the_command_quietly_with_0() {
        let error = Stream::new(ClosedPipe).line("NAME").unwrap_err();
        assert!(matches!(error, CliError::OutputClosed), "{error:?}");
        assert!(!error.is_reported());
        assert_eq!(error.exit_code().code(), 0);
    }

    #[test]
    fn the_namespace_flag_wins() {
        let global = GlobalArgs {
            namespace: Some("ns1".into()),
            ..GlobalArgs::default()
        };
        assert_eq!(resolve_namespace(&global), "ns1");
    }

    #[test]
    fn the_kubeconfig_context_namespace_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\ncurrent-context: a\ncontexts:\n- name: a\n  context: {cluster: c, namespace: team-a}\n- name: b\n  context: {cluster: c, namespace: team-b}\nclusters: []\nusers: []\n",
        )
        .unwrap();
        let mut global = GlobalArgs {
            kubeconfig: Some(path),
            ..GlobalArgs::default()
        };
        assert_eq!(resolve_namespace(&global), "team-a");
        global.context = Some("b".into());
        assert_eq!(resolve_namespace(&global), "team-b");
    }

    #[test]
    fn without_any_kubeconfig_the_namespace_is_default() {
        let global = GlobalArgs {
            kubeconfig: Some("/nonexistent/kubeconfig".into()),
            ..GlobalArgs::default()
        };
        assert_eq!(resolve_namespace(&global), "default");
    }

    #[test]
    fn colors_follow_the_choice_and_the_terminal() {
        assert!(color_enabled(ColorChoice::Always, false));
        assert!(!color_enabled(ColorChoice::Never, true));
        assert!(!color_enabled(ColorChoice::Auto, false));
    }

    #[test]
    fn destructive_commands_refuse_without_a_terminal_or_yes() {
        let (ctx, _, _) = Ctx::for_test(None, "ns", Utc::now(), None);
        let err = ctx.confirm("Purge backups of dc1?", false).unwrap_err();
        assert!(err.to_string().contains("pass --yes"));
        assert!(ctx.confirm("Purge backups of dc1?", true).is_ok());
    }

    #[test]
    fn a_no_at_the_prompt_cancels() {
        let (ctx, _, _) = Ctx::for_test(None, "ns", Utc::now(), Some(false));
        assert!(
            ctx.confirm("Restore?", false)
                .unwrap_err()
                .to_string()
                .starts_with("cancelled")
        );
        let (ctx, _, _) = Ctx::for_test(None, "ns", Utc::now(), Some(true));
        assert!(ctx.confirm("Restore?", false).is_ok());
    }
}
