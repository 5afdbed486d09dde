//! medusa-webhook, served from this process over TLS, as the API server calls it: with its
//! certificate in memory, or in files it reloads (and that a scenario rotates).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use medusa_crds::rules::Policy;
use medusa_webhook::cache::Caches;
use medusa_webhook::engine::Engine;
use medusa_webhook::live::Live;
use medusa_webhook::metrics::Metrics;
use medusa_webhook::server::{Limits, admission_service, bind, serve_tls};
use medusa_webhook::tls::CertificateStore;
use medusa_webhook::{tls, watch};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use tokio_util::sync::CancellationToken;

use crate::Failure;

fn failure(what: &str) -> impl Fn(rcgen::Error) -> Failure + '_ {
    move |e| Failure::new(format!("cannot generate {what}: {e}"))
}

/// A CA for the webhook's serving certificates: the caBundle the API server trusts, which
/// signs a new serving certificate at each rotation.
pub struct WebhookCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    host: String,
}

impl std::fmt::Debug for WebhookCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookCa")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl WebhookCa {
    /// A CA for certificates of `host` (an IP address or a DNS name).
    pub fn new(host: &str) -> Result<Self, Failure> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(failure("the CA"))?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, "medusa-e2e webhook CA");
        params.distinguished_name = name;
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::hours(1);
        params.not_after = now + time::Duration::days(2);
        let key = KeyPair::generate().map_err(failure("the CA key"))?;
        Ok(Self {
            issuer: CertifiedIssuer::self_signed(params, key).map_err(failure("the CA"))?,
            host: host.to_owned(),
        })
    }

    /// The CA certificate (PEM), the caBundle.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A new serving certificate and key (PEM).
    pub fn serving(&self) -> Result<(String, String), Failure> {
        let mut params =
            CertificateParams::new(vec![self.host.clone()]).map_err(failure("a certificate"))?;
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, "medusa-webhook");
        params.distinguished_name = name;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::minutes(5);
        params.not_after = now + time::Duration::days(1);
        let key = KeyPair::generate().map_err(failure("a key"))?;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(failure("a certificate"))?;
        Ok((cert.pem(), key.serialize_pem()))
    }
}

/// A running webhook.
#[derive(Debug)]
pub struct Webhook {
    /// `https://host:port`, as the API server reaches it.
    pub base_url: String,
    /// The CA of its serving certificate (the caBundle).
    pub ca_pem: String,
    cancel: CancellationToken,
    files: Option<(tempfile::TempDir, WebhookCa)>,
    caches: Arc<Caches>,
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl Webhook {
    /// Serves on `listen` with a certificate for `host` kept in memory.
    pub async fn start(
        client: kube::Client,
        listen: SocketAddr,
        host: &str,
    ) -> Result<Self, Failure> {
        let ca = WebhookCa::new(host)?;
        let (cert, key) = ca.serving()?;
        let loaded = tls::load_pem(cert.as_bytes(), key.as_bytes(), "")
            .map_err(|e| Failure::new(format!("cannot load the webhook certificate: {e}")))?;
        Self::serve(client, listen, host, loaded, None, ca).await
    }

    /// Serves on `listen` with its certificate in files that it checks every 200 ms, as the
    /// deployed webhook does with a cert-manager Secret; [`Webhook::rotate`] replaces them.
    pub async fn start_from_files(
        client: kube::Client,
        listen: SocketAddr,
        host: &str,
    ) -> Result<Self, Failure> {
        let ca = WebhookCa::new(host)?;
        let dir = tempfile::tempdir().map_err(|e| Failure::new(e.to_string()))?;
        let (cert, key) = ca.serving()?;
        write_pair(&dir, &cert, &key)?;
        let loaded = tls::load_files(&dir.path().join("tls.crt"), &dir.path().join("tls.key"))
            .map_err(|e| Failure::new(format!("cannot load the webhook certificate: {e}")))?;
        Self::serve(client, listen, host, loaded, Some(dir), ca).await
    }

    async fn serve(
        client: kube::Client,
        listen: SocketAddr,
        host: &str,
        loaded: tls::LoadedCertificate,
        dir: Option<tempfile::TempDir>,
        ca: WebhookCa,
    ) -> Result<Self, Failure> {
        let metrics = Arc::new(Metrics::new());
        let store: Arc<CertificateStore> = CertificateStore::new(loaded, metrics.not_after());
        let config = tls::server_config(store.clone())
            .map_err(|e| Failure::new(format!("cannot configure TLS: {e}")))?;
        let cancel = CancellationToken::new();
        if let Some(dir) = &dir {
            tokio::spawn(tls::watch_files(
                store,
                dir.path().join("tls.crt"),
                dir.path().join("tls.key"),
                Duration::from_millis(200),
                cancel.clone(),
            ));
        }
        let (caches, writers) = Caches::new();
        let watches = watch::spawn_all(client.clone(), writers, cancel.clone());
        let engine = Arc::new(Engine::new(
            caches.clone(),
            Some(Live::new(client)),
            Arc::new(Policy::default()),
            metrics,
        ));
        let listener = bind(listen)
            .await
            .map_err(|e| Failure::new(format!("cannot listen on {listen}: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| Failure::new(e.to_string()))?
            .port();
        let limits = Limits::default();
        let serve_cancel = cancel.clone();
        tokio::spawn(async move {
            // The watches live as long as the server.
            let _watches = watches;
            serve_tls(
                listener,
                config,
                admission_service(engine, limits),
                limits,
                serve_cancel,
            )
            .await;
        });
        let authority = if host.parse::<std::net::Ipv6Addr>().is_ok() {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        Ok(Self {
            base_url: format!("https://{authority}"),
            ca_pem: ca.pem(),
            cancel,
            files: dir.map(|d| (d, ca)),
            caches,
        })
    }

    /// Writes a new serving certificate and key (same CA) into the files: the next check picks
    /// them up. Fails for a webhook whose certificate is in memory.
    pub fn rotate(&self) -> Result<(), Failure> {
        let (dir, ca) = self
            .files
            .as_ref()
            .ok_or_else(|| Failure::new("this webhook's certificate is not in files"))?;
        let (cert, key) = ca.serving()?;
        write_pair(dir, &cert, &key)
    }

    /// Whether its cache holds this CassandraDatacenter (its watch delivered it).
    pub fn caches_datacenter(&self, namespace: &str, name: &str) -> bool {
        self.caches
            .of::<medusa_crds::CassandraDatacenter>()
            .get(namespace, name)
            .is_some()
    }

    /// Stops serving (the API server then cannot reach it).
    pub fn stop(&self) {
        self.cancel.cancel();
    }
}

/// Writes the pair as a Secret volume updates it: each file replaced whole.
fn write_pair(dir: &tempfile::TempDir, cert: &str, key: &str) -> Result<(), Failure> {
    for (name, text) in [("tls.key", key), ("tls.crt", cert)] {
        let path: PathBuf = dir.path().join(name);
        let staging = dir.path().join(format!(".{name}.new"));
        std::fs::write(&staging, text)
            .and_then(|()| std::fs::rename(&staging, &path))
            .map_err(|e| Failure::new(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}
