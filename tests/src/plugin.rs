//! `kubectl medusa` run by the scenarios: the command line parsed as the binary parses it, the
//! connection made from a kubeconfig file as a user's is (so a flag that lands in the wrong
//! kubeconfig option breaks here as it would for them), a person answering yes.

use std::path::Path;

use crate::{Failure, Harness};

/// What `kubectl medusa` did.
#[derive(Debug)]
pub struct PluginRun {
    /// The command line.
    pub line: String,
    /// The exit code.
    pub code: kubectl_medusa::error::ExitCode,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl PluginRun {
    /// A failure message naming the command, what was expected and what it did.
    pub fn unexpected(&self, expected: &str) -> Failure {
        Failure::new(format!(
            "kubectl medusa {}: expected {expected}; got exit {} ({:?})\nstdout:\n{}\nstderr:\n{}",
            self.line,
            self.code.code(),
            self.code,
            self.stdout,
            self.stderr
        ))
    }

    /// Fails unless it exited with `code` and printed `text` (on either stream).
    pub fn expect(
        &self,
        code: kubectl_medusa::error::ExitCode,
        text: &str,
    ) -> Result<&Self, Failure> {
        let printed = format!("{}{}", self.stdout, self.stderr);
        if self.code == code && printed.contains(text) {
            Ok(self)
        } else {
            Err(self.unexpected(&format!("exit {} printing {text:?}", code.code())))
        }
    }
}

/// Runs `kubectl medusa <words> -n namespace` with the suite's administrator kubeconfig.
pub async fn plugin(
    harness: &Harness,
    namespace: &str,
    words: &[&str],
) -> Result<PluginRun, Failure> {
    plugin_as(&harness.kubeconfig, namespace, words).await
}

/// Runs `kubectl medusa <words> -n namespace` with this kubeconfig file.
pub async fn plugin_as(
    kubeconfig: &Path,
    namespace: &str,
    words: &[&str],
) -> Result<PluginRun, Failure> {
    use clap::Parser;
    let mut argv = vec!["kubectl-medusa".to_owned()];
    argv.extend(words.iter().map(|w| (*w).to_owned()));
    argv.extend(["-n".to_owned(), namespace.to_owned()]);
    let line = argv[1..].join(" ");
    let cli = kubectl_medusa::cli::Cli::try_parse_from(&argv)
        .map_err(|e| Failure::new(format!("kubectl medusa {line} does not parse: {e}")))?;
    let mut global = cli.global.clone();
    global.kubeconfig = Some(kubeconfig.to_owned());
    let (ctx, out, err) =
        kubectl_medusa::context::Ctx::for_test(None, namespace, chrono::Utc::now(), Some(true));
    let ctx = ctx.with_global(global);
    let code = match kubectl_medusa::run(&ctx, cli.command).await {
        Ok(()) => kubectl_medusa::error::ExitCode::Success,
        Err(e) => {
            if e.is_reported() {
                let _ = ctx.err.line(format!("error: {e}"));
            }
            e.exit_code()
        }
    };
    Ok(PluginRun {
        line,
        code,
        stdout: out.text(),
        stderr: err.text(),
    })
}
