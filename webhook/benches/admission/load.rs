//! The load: keep-alive HTTPS clients sending the mix to one server, and what they measured.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::TokioExecutor;

use crate::workload::{uid_of, workload};

/// How long and how hard each round drives a server.
pub struct Settings {
    /// Measured seconds, after a 2 s warm-up.
    pub seconds: u64,
    /// Concurrent keep-alive connections.
    pub clients: usize,
}

/// The serving certificate both servers load, and the CA the clients trust.
pub struct Tls {
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
    pub ca_pem: Arc<str>,
}

impl Tls {
    /// A CA and a serving certificate for localhost, written into `dir`.
    pub fn generate(dir: &std::path::Path) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let bundle = medusa_webhook::selfsigned::generate(vec!["localhost".into()]).unwrap();
        let tls = Self {
            cert: dir.join("tls.crt"),
            key: dir.join("tls.key"),
            ca_pem: Arc::from(bundle.ca_pem.as_str()),
        };
        std::fs::write(&tls.cert, &bundle.cert_pem).unwrap();
        std::fs::write(&tls.key, &bundle.key_pem).unwrap();
        tls
    }
}

/// What one round measured of one server.
pub struct Run {
    pub reviews: usize,
    pub seconds: f64,
    pub latencies_us: Vec<u32>,
    pub peak_rss_kib: u64,
    pub errors: usize,
    /// CPU seconds the server process used during the measured window.
    pub server_cpu: f64,
    /// CPU seconds the load generator used during the measured window.
    pub client_cpu: f64,
    /// Reviews answered, warm-up included.
    pub answered: u64,
    /// Decision lines the server wrote to its stdout.
    pub decision_lines: u64,
}

impl Run {
    pub fn server_cpu_per_review(&self) -> f64 {
        self.server_cpu * 1e6 / self.reviews.max(1) as f64
    }

    pub fn per_second(&self) -> f64 {
        self.reviews as f64 / self.seconds
    }
    pub fn percentile(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let index = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        f64::from(self.latencies_us[index]) / 1000.0
    }
}

/// CPU seconds (user + system) a process has used so far, from `/proc/<pid>/stat`.
fn cpu_seconds(pid: u32) -> f64 {
    let ticks_per_second = 100.0; // USER_HZ, fixed at 100 on Linux
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the command name, which is in parentheses and may hold spaces.
            let rest = &s[s.rfind(')')? + 2..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = fields.get(11)?.parse().ok()?;
            let stime: f64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) / ticks_per_second)
        })
        .unwrap_or(0.0)
}

/// A memory figure of a process, in KiB, from `/proc/<pid>/status` (`VmHWM` for the peak
/// RSS, `VmRSS` for the current one); 0 when it cannot be read.
pub fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// An environment variable parsed as `T`, or `default`.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The server, started as a child process: it prints its port, then only decision lines.
pub struct Server {
    pub child: std::process::Child,
    pub port: u16,
    /// Counts the decision lines, read in large chunks as a log collector reads a container's
    /// stdout.
    pub drained: std::thread::JoinHandle<u64>,
}

pub fn start(role: &str, tls: &Tls) -> Server {
    start_with(role, tls, &[])
}

/// [`start`], with more environment for the server.
pub fn start_with(role: &str, tls: &Tls, env: &[(&str, String)]) -> Server {
    let exe = std::env::current_exe().unwrap();
    // `BENCH_WRAP`: a command that runs the server (valgrind, perf), for profiling.
    let wrap = std::env::var("BENCH_WRAP").unwrap_or_default();
    let mut words = wrap.split_whitespace();
    let mut command = match words.next() {
        Some(program) => {
            let mut command = Command::new(program);
            command.args(words).arg(exe);
            command
        }
        None => Command::new(exe),
    };
    let mut child = command
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("MEDUSA_BENCH_ROLE", role)
        .env("BENCH_CERT", &tls.cert)
        .env("BENCH_KEY", &tls.key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let port: u16 = loop {
        line.clear();
        stdout.read_line(&mut line).unwrap();
        if let Some(port) = line.trim().strip_prefix("PORT ") {
            break port.parse().unwrap();
        }
    };
    let drained = std::thread::spawn(move || {
        use std::io::Read;
        let mut lines = 0u64;
        let mut buffer = vec![0u8; 256 * 1024];
        while let Ok(n) = stdout.read(&mut buffer) {
            if n == 0 {
                break;
            }
            lines += memchr::memchr_iter(b'\n', &buffer[..n]).count() as u64;
        }
        lines
    });
    Server {
        child,
        port,
        drained,
    }
}

pub type Https = HttpClient<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
>;

/// A keep-alive HTTPS client that trusts the bench's CA.
pub fn https(ca_pem: &str, clients: usize) -> Https {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .build();
    HttpClient::builder(TokioExecutor::new())
        .pool_max_idle_per_host(clients * 2)
        .build(connector)
}

/// Each review with the `"uid":"..."` its answer must carry, as often as its weight.
pub fn mix() -> Arc<Vec<(&'static str, Bytes, Vec<u8>)>> {
    Arc::new(
        workload()
            .into_iter()
            .enumerate()
            .flat_map(|(i, (weight, path, body))| {
                let body = Bytes::from(body);
                let echo = format!("\"uid\":\"{}\"", uid_of(i)).into_bytes();
                (0..weight).map(move |_| (path, body.clone(), echo.clone()))
            })
            .collect(),
    )
}

/// What one client saw: latencies of the measured window, its errors, and every answer.
struct ClientRun {
    latencies: Vec<u32>,
    errors: usize,
    answered: u64,
}

/// One client: the mix, in turn from its own offset, until `end`.
async fn client(
    client: Https,
    mix: Arc<Vec<(&'static str, Bytes, Vec<u8>)>>,
    first: usize,
    port: u16,
    measure_from: Instant,
    end: Instant,
) -> ClientRun {
    let mut run = ClientRun {
        latencies: Vec::with_capacity(200_000),
        errors: 0,
        answered: 0,
    };
    let mut i = first;
    while Instant::now() < end {
        let (path, body, echo) = &mix[i % mix.len()];
        i += 1;
        let request = http::Request::post(format!("https://localhost:{port}{path}"))
            .header("content-type", "application/json")
            .body(Full::new(body.clone()))
            .unwrap();
        let sent = Instant::now();
        let ok = match client.request(request).await {
            Ok(response) => {
                let status = response.status();
                let body = response.into_body().collect().await.map(|b| b.to_bytes());
                // An answer the API server takes: its request's uid, and a verdict.
                status.is_success()
                    && body.is_ok_and(|b| {
                        memchr::memmem::find(&b, echo).is_some()
                            && memchr::memmem::find(&b, b"\"allowed\"").is_some()
                    })
            }
            Err(_) => false,
        };
        run.answered += u64::from(ok);
        if sent >= measure_from {
            if ok {
                run.latencies
                    .push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
            } else {
                run.errors += 1;
            }
        }
    }
    run
}

/// One round against one server: start it, drive it, stop it.
pub fn drive(role: &str, tls: &Tls, settings: &Settings) -> Run {
    let server = start(role, tls);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (server_pid, port) = (server.child.id(), server.port);
    let mut run = runtime.block_on(async move {
        let https = https(&tls.ca_pem, settings.clients);
        let mix = mix();
        let measure_from = Instant::now() + Duration::from_secs(2);
        let end = measure_from + Duration::from_secs(settings.seconds);
        let cpu_window = tokio::spawn(async move {
            tokio::time::sleep_until(measure_from.into()).await;
            let (server, client) = (cpu_seconds(server_pid), cpu_seconds(std::process::id()));
            tokio::time::sleep_until(end.into()).await;
            (
                cpu_seconds(server_pid) - server,
                cpu_seconds(std::process::id()) - client,
            )
        });
        let tasks: Vec<_> = (0..settings.clients)
            .map(|c| {
                tokio::spawn(client(
                    https.clone(),
                    mix.clone(),
                    c * 7,
                    port,
                    measure_from,
                    end,
                ))
            })
            .collect();
        let mut latencies = Vec::new();
        let (mut errors, mut answered) = (0, 0);
        for task in tasks {
            let client = task.await.unwrap();
            latencies.extend(client.latencies);
            errors += client.errors;
            answered += client.answered;
        }
        latencies.sort_unstable();
        let (server_cpu, client_cpu) = cpu_window.await.unwrap();
        Run {
            reviews: latencies.len(),
            seconds: settings.seconds as f64,
            latencies_us: latencies,
            peak_rss_kib: 0,
            errors,
            server_cpu,
            client_cpu,
            answered,
            decision_lines: 0,
        }
    });
    let Server {
        mut child, drained, ..
    } = server;
    run.peak_rss_kib = status_kib(child.id(), "VmHWM");
    drop(child.stdin.take());
    let _ = child.wait();
    run.decision_lines = drained.join().unwrap_or(0);
    run
}
