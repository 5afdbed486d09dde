//! medusa-webhook, served from this process over TLS, as the API server calls it.

use std::net::SocketAddr;
use std::sync::Arc;

use medusa_crds::rules::Policy;
use medusa_webhook::cache::Caches;
use medusa_webhook::engine::Engine;
use medusa_webhook::live::Live;
use medusa_webhook::metrics::Metrics;
use medusa_webhook::server::{Limits, admission_router, bind, serve_tls};
use medusa_webhook::{selfsigned, tls, watch};
use tokio_util::sync::CancellationToken;

use crate::Failure;

/// A running webhook.
#[derive(Debug)]
pub struct Webhook {
    /// `https://host:port`, as the API server reaches it.
    pub base_url: String,
    /// The CA of its serving certificate (the caBundle).
    pub ca_pem: String,
    cancel: CancellationToken,
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl Webhook {
    /// Serves on `listen`, with a certificate for `host` (what the API server dials: an IP
    /// address or a DNS name), caches watching the cluster and live lookups on misses.
    pub async fn start(
        client: kube::Client,
        listen: SocketAddr,
        host: &str,
    ) -> Result<Self, Failure> {
        let bundle = selfsigned::generate(vec![host.to_owned()])
            .map_err(|e| Failure::new(format!("cannot generate the webhook certificate: {e}")))?;
        let metrics = Arc::new(Metrics::new());
        let loaded = tls::load_pem(bundle.cert_pem.as_bytes(), bundle.key_pem.as_bytes(), "")
            .map_err(|e| Failure::new(format!("cannot load the webhook certificate: {e}")))?;
        let store = tls::CertificateStore::new(loaded, metrics.not_after());
        let config = tls::server_config(store)
            .map_err(|e| Failure::new(format!("cannot configure TLS: {e}")))?;
        let cancel = CancellationToken::new();
        let (caches, writers) = Caches::new();
        let watches = watch::spawn_all(client.clone(), writers, cancel.clone());
        let engine = Arc::new(Engine::new(
            caches,
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
                admission_router(engine, limits),
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
            ca_pem: bundle.ca_pem,
            cancel,
        })
    }
}
