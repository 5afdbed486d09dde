//! TLS for the admission endpoints: TLS 1.2 and 1.3, ALPN h2 and http/1.1, and a certificate
//! that can be replaced while serving (mounted Secrets change through a symlink swap).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio_util::sync::CancellationToken;

/// A certificate or key that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Reading a file failed.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The certificate PEM holds no certificate.
    #[error("no certificate in the PEM data{0}")]
    NoCertificate(String),
    /// The key PEM holds no usable key.
    #[error("no usable private key in the PEM data{0}: {1}")]
    Key(String, String),
    /// The certificate does not parse.
    #[error("the certificate does not parse: {0}")]
    Certificate(String),
    /// The certificate and key do not match, or rustls refused the configuration.
    #[error("{0}")]
    Rustls(String),
}

/// A loaded certificate chain and key, with the leaf's expiry.
#[derive(Debug, Clone)]
pub struct LoadedCertificate {
    /// What rustls serves.
    pub key: Arc<CertifiedKey>,
    /// The leaf's notAfter, in Unix seconds.
    pub not_after: i64,
}

/// Parses a PEM certificate chain and PEM private key.
pub fn load_pem(
    cert_pem: &[u8],
    key_pem: &[u8],
    origin: &str,
) -> Result<LoadedCertificate, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Certificate(e.to_string()))?;
    let leaf = certs
        .first()
        .ok_or_else(|| TlsError::NoCertificate(origin.to_owned()))?;
    let (_, parsed) = x509_parser::parse_x509_certificate(leaf.as_ref())
        .map_err(|e| TlsError::Certificate(e.to_string()))?;
    let not_after = parsed.validity().not_after.timestamp();
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| TlsError::Key(origin.to_owned(), e.to_string()))?;
    let signing_key = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| TlsError::Key(origin.to_owned(), e.to_string()))?;
    let certified = CertifiedKey::new(certs, signing_key);
    certified.keys_match().map_err(|e| {
        TlsError::Rustls(format!(
            "the certificate and the key{origin} do not match: {e}"
        ))
    })?;
    Ok(LoadedCertificate {
        key: Arc::new(certified),
        not_after,
    })
}

/// Loads a certificate and key from files.
pub fn load_files(cert_path: &Path, key_path: &Path) -> Result<LoadedCertificate, TlsError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| TlsError::Read {
            path: path.to_owned(),
            source,
        })
    };
    load_pem(
        &read(cert_path)?,
        &read(key_path)?,
        &format!(" of {} and {}", cert_path.display(), key_path.display()),
    )
}

/// The certificate being served; swapped atomically, so connections in flight keep theirs.
#[derive(Debug)]
pub struct CertificateStore {
    current: RwLock<Arc<CertifiedKey>>,
    not_after: Arc<AtomicI64>,
}

impl CertificateStore {
    /// Serves this certificate; its expiry is published in `not_after`.
    pub fn new(initial: LoadedCertificate, not_after: Arc<AtomicI64>) -> Arc<Self> {
        not_after.store(initial.not_after, Ordering::Release);
        Arc::new(Self {
            current: RwLock::new(initial.key),
            not_after,
        })
    }

    /// Replaces the certificate for new handshakes.
    pub fn replace(&self, next: LoadedCertificate) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = next.key;
        self.not_after.store(next.not_after, Ordering::Release);
    }

    /// The leaf's notAfter, in Unix seconds.
    pub fn not_after(&self) -> i64 {
        self.not_after.load(Ordering::Acquire)
    }
}

impl ResolvesServerCert for CertificateStore {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
    }
}

/// The rustls server configuration: TLS 1.3 and 1.2, ALPN h2 then http/1.1.
pub fn server_config(store: Arc<CertificateStore>) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
    .map_err(|e| TlsError::Rustls(e.to_string()))?
    .with_no_client_auth()
    .with_cert_resolver(store);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Reloads the certificate whenever the files' content changes, until cancelled. A change
/// that does not load (a half-written swap, a mismatched key) keeps the current certificate.
pub async fn watch_files(
    store: Arc<CertificateStore>,
    cert_path: PathBuf,
    key_path: PathBuf,
    interval: Duration,
    cancel: CancellationToken,
) {
    let snapshot = |paths: (&Path, &Path)| -> Option<(Vec<u8>, Vec<u8>)> {
        Some((std::fs::read(paths.0).ok()?, std::fs::read(paths.1).ok()?))
    };
    let mut last = snapshot((&cert_path, &key_path));
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        let Some(current) = snapshot((&cert_path, &key_path)) else {
            tracing::warn!(cert = %cert_path.display(), "certificate files unreadable; keeping the current certificate");
            continue;
        };
        if last.as_ref() == Some(&current) {
            continue;
        }
        match load_pem(
            &current.0,
            &current.1,
            &format!(" of {}", cert_path.display()),
        ) {
            Ok(loaded) => {
                tracing::info!(cert = %cert_path.display(), not_after = loaded.not_after, "serving certificate reloaded");
                store.replace(loaded);
                last = Some(current);
            }
            Err(e) => {
                tracing::warn!(cert = %cert_path.display(), error = %e, "new certificate files do not load; keeping the current certificate");
            }
        }
    }
}
