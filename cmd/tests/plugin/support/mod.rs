//! What the plugin's tests share: a fake API server that answers like the real one
//! ([`fake`]), and a runner for command lines, in process ([`Run`]) or as the built binary.

pub mod fake;

use chrono::{DateTime, Utc};
use clap::Parser;
use kubectl_medusa::cli::Cli;
use kubectl_medusa::context::Ctx;
use kubectl_medusa::error::ExitCode;
use serde_json::{Value, json};

#[allow(unused_imports)]
pub use fake::{Call, Fake};

/// The namespace of the fixtures.
pub const NS: &str = medusa_crds::fixtures::NAMESPACE;

/// The fixed "now" of every command in the tests.
pub fn now() -> DateTime<Utc> {
    medusa_crds::fixtures::instant("2024-05-01T12:00:00Z")
}

/// The three pods of datacenter dc1 of cluster demo, each with the medusa container.
pub fn put_dc1_pods(fake: &Fake) {
    for i in 0..3 {
        fake.put(&pod(
            &format!("demo-dc1-default-sts-{i}"),
            "demo",
            "dc1",
            true,
        ));
    }
}

/// A pod of a datacenter, with or without the medusa container.
pub fn pod(name: &str, cluster: &str, dc: &str, medusa: bool) -> Value {
    let mut containers = vec![json!({"name": "cassandra", "image": "cassandra"})];
    if medusa {
        containers.push(json!({"name": "medusa", "image": "medusa"}));
    }
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": {
            "cassandra.datastax.com/cluster": cluster,
            "cassandra.datastax.com/datacenter": dc,
        }},
        "spec": {"containers": containers}
    })
}

/// A running pod of a datacenter whose medusa container is ready.
pub fn ready_pod(name: &str, cluster: &str, dc: &str) -> Value {
    let mut pod = pod(name, cluster, dc, true);
    pod["status"] = json!({"phase": "Running", "containerStatuses": [
        {"name": "cassandra", "ready": true, "restartCount": 0, "image": "cassandra", "imageID": ""},
        {"name": "medusa", "ready": true, "restartCount": 0, "image": "medusa", "imageID": ""}]});
    pod
}

/// What a command did.
#[derive(Debug)]
pub struct Outcome {
    /// The exit code.
    pub code: ExitCode,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// How to run a command line.
pub struct Run {
    client: Option<kube::Client>,
    answer: Option<bool>,
    terminal: bool,
    one_screen: bool,
    now: DateTime<Utc>,
}

impl Run {
    /// Against this client.
    pub fn on(client: &kube::Client) -> Self {
        Self {
            client: Some(client.clone()),
            answer: None,
            terminal: false,
            one_screen: false,
            now: now(),
        }
    }

    /// With no cluster at all: any API call fails.
    pub fn offline() -> Self {
        Self {
            client: None,
            answer: None,
            terminal: false,
            one_screen: false,
            now: now(),
        }
    }

    /// A person at the terminal answers confirmations so.
    pub fn answering(mut self, yes: bool) -> Self {
        self.answer = Some(yes);
        self
    }

    /// Standard output is a terminal.
    pub fn on_terminal(mut self) -> Self {
        self.terminal = true;
        self
    }

    /// Standard output and standard error land on one screen, interleaved as a person sees
    /// them (the outcome's `stdout` holds both).
    pub fn on_one_screen(mut self) -> Self {
        self.one_screen = true;
        self
    }

    /// The command's clock reads `now` (default: the tests' fixed now).
    pub fn at(mut self, now: DateTime<Utc>) -> Self {
        self.now = now;
        self
    }

    /// Runs `kubectl medusa <line>` (`-n k8ssandra` unless the line gives a namespace).
    pub async fn run(self, line: &str) -> Outcome {
        self.run_for(line, None).await
    }

    /// Runs a command that does not end by itself (`-w`) for `limit`, then stops it, as Ctrl-C
    /// would: the outcome then has exit code 130 and what was printed so far.
    pub async fn run_until_stopped(self, line: &str, limit: std::time::Duration) -> Outcome {
        self.run_for(line, Some(limit)).await
    }

    async fn run_for(self, line: &str, limit: Option<std::time::Duration>) -> Outcome {
        let mut words = vec!["kubectl-medusa".to_owned()];
        words.extend(split_words(line));
        if !words
            .iter()
            .any(|w| w == "-n" || w == "--namespace" || w == "-A")
        {
            words.extend(["-n".to_owned(), NS.to_owned()]);
        }
        let cli = match Cli::try_parse_from(&words) {
            Ok(cli) => cli,
            Err(e) => panic!("{line:?} does not parse: {e}"),
        };
        let mut global = cli.global.clone();
        if self.client.is_none() {
            // No kubeconfig: any attempt to reach a cluster fails.
            global.kubeconfig = Some("/nonexistent/kubeconfig".into());
        }
        let (ctx, out, err) = if self.one_screen {
            let (ctx, screen) = Ctx::for_test_on_one_screen(self.client, NS, self.now, self.answer);
            (ctx, screen, kubectl_medusa::context::Captured::default())
        } else {
            Ctx::for_test(self.client, NS, self.now, self.answer)
        };
        let ctx = ctx.with_global(global).with_terminal(self.terminal);
        let command = kubectl_medusa::run(&ctx, cli.command);
        let result = match limit {
            None => Some(command.await),
            Some(limit) => tokio::time::timeout(limit, command).await.ok(),
        };
        let code = match result {
            None => ExitCode::Interrupted,
            Some(Ok(())) => ExitCode::Success,
            Some(Err(error)) => {
                let _ = ctx.err.line(format!("error: {error}"));
                error.exit_code()
            }
        };
        Outcome {
            code,
            stdout: out.text(),
            stderr: err.text(),
        }
    }
}

/// Splits a command line on spaces, keeping single- or double-quoted words whole.
pub fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut has_word = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => current.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                has_word = true;
            }
            (None, ' ') => {
                if has_word || !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                    has_word = false;
                }
            }
            (None, c) => current.push(c),
        }
    }
    if has_word || !current.is_empty() {
        words.push(current);
    }
    words
}
