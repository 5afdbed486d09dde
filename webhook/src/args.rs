//! Command-line arguments.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Text,
}

/// medusa-webhook: admission for k8ssandra-operator's Medusa resources.
#[derive(Debug, Parser)]
#[command(name = "medusa-webhook", version = crate::version(), about)]
pub struct Args {
    /// Address of the HTTPS admission endpoints (/validate, /mutate).
    #[arg(long, env = "MEDUSA_WEBHOOK_LISTEN", default_value = "0.0.0.0:8443")]
    pub listen: SocketAddr,

    /// Address of the plain HTTP health endpoints (/healthz, /readyz, /metrics).
    #[arg(
        long,
        env = "MEDUSA_WEBHOOK_HEALTH_LISTEN",
        default_value = "0.0.0.0:8080"
    )]
    pub health_listen: SocketAddr,

    /// Serving certificate (PEM), reloaded when it changes.
    #[arg(
        long,
        default_value = "/etc/medusa-webhook/tls/tls.crt",
        conflicts_with = "self_signed"
    )]
    pub tls_cert: PathBuf,

    /// Serving key (PEM), reloaded when it changes.
    #[arg(
        long,
        default_value = "/etc/medusa-webhook/tls/tls.key",
        conflicts_with = "self_signed"
    )]
    pub tls_key: PathBuf,

    /// How often to check the certificate files for a change, in seconds.
    #[arg(long, default_value_t = 10)]
    pub cert_reload_seconds: u64,

    /// Generate a CA and serving certificate, keep them in a Secret shared by all replicas,
    /// and patch the CA into our webhook configurations.
    #[arg(long)]
    pub self_signed: bool,

    /// The webhook's namespace (for --self-signed).
    #[arg(long, env = "POD_NAMESPACE", default_value = "medusa-webhook")]
    pub namespace: String,

    /// The webhook's Service name (for --self-signed).
    #[arg(long, default_value = "medusa-webhook")]
    pub service: String,

    /// The Secret holding the generated certificates (for --self-signed).
    #[arg(long, default_value = "medusa-webhook-tls")]
    pub tls_secret: String,

    /// The ValidatingWebhookConfiguration to patch (for --self-signed).
    #[arg(long, default_value = "medusa-webhook")]
    pub validating_webhook_configuration: String,

    /// The MutatingWebhookConfiguration to patch (for --self-signed).
    #[arg(long, default_value = "medusa-webhook")]
    pub mutating_webhook_configuration: String,

    /// Policy file (YAML); the default policy when absent.
    #[arg(long, env = "MEDUSA_WEBHOOK_POLICY")]
    pub policy: Option<PathBuf>,

    /// Largest accepted AdmissionReview body, in bytes.
    #[arg(long, default_value_t = 3 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Connections served at once; one beyond is closed at once (the API server retries, and
    /// the Service sends it to another replica).
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Age after which a connection is closed gracefully, so that load spreads over replicas
    /// added since (e.g. 5m).
    #[arg(long, default_value = "5m", value_name = "DURATION", value_parser = parse_duration)]
    pub max_connection_age: std::time::Duration,

    /// Reviews in flight at once.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_in_flight: u32,

    /// How long a review may wait for a place in flight before a 503 (e.g. 2s).
    #[arg(long, default_value = "2s", value_name = "DURATION", value_parser = parse_duration)]
    pub in_flight_wait: std::time::Duration,

    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,

    /// Print the default policy file and exit.
    #[arg(long)]
    pub print_default_policy: bool,

    /// A running operation counts as stalled (`medusa_operation_stalled`) past N times the
    /// median duration of the last ten successful operations of its kind on its datacenter.
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub stall_factor: u32,

    /// ... or past this long when there is no such history (e.g. 6h, 90m).
    #[arg(long, default_value = "6h", value_name = "DURATION", value_parser = parse_duration)]
    pub stall_after: std::time::Duration,
}

fn parse_duration(value: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(value)
        .map_err(|e| format!("{value:?} is not a duration ({e}); use forms like 90m, 6h, 1d"))
}

impl Args {
    /// The server's limits.
    pub fn limits(&self) -> crate::server::Limits {
        crate::server::Limits {
            max_body_bytes: self.max_body_bytes,
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
            max_connection_age: self.max_connection_age,
            max_in_flight: usize::try_from(self.max_in_flight).unwrap_or(usize::MAX),
            queue_timeout: self.in_flight_wait,
            ..crate::server::Limits::default()
        }
    }

    /// When a running operation counts as stalled.
    pub fn stall_policy(&self) -> medusa_crds::health::StallPolicy {
        medusa_crds::health::StallPolicy {
            factor: self.stall_factor,
            without_history: chrono::Duration::from_std(self.stall_after)
                .unwrap_or(chrono::Duration::MAX),
            ..medusa_crds::health::StallPolicy::default()
        }
    }
}
