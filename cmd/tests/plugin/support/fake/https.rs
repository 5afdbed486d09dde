//! The fake served as a real API server is reached: HTTPS on 127.0.0.1 with its own CA, bearer
//! tokens and client certificates identifying users (401 for anyone else), and kubeconfig
//! files that point at it, for the built `kubectl-medusa` binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use hyper::body::Incoming as Body;
use hyper_util::rt::TokioIo;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use serde_json::json;

use super::{Fake, Incoming, respond};

/// How a user proves who they are.
#[derive(Clone, Debug)]
pub enum Credential {
    /// `Authorization: Bearer <token>`.
    Token(String),
    /// A client certificate signed by the server's CA, and its key (PEM).
    Certificate { cert_pem: String, key_pem: String },
}

/// A user of the served fake.
#[derive(Clone, Debug)]
pub struct User {
    /// Its credential; the server knows the name RBAC sees by it.
    pub credential: Credential,
}

/// A kubeconfig context: a user, and maybe a namespace.
#[derive(Clone, Debug)]
pub struct Context {
    pub name: String,
    pub user: User,
    pub namespace: Option<String>,
}

impl Context {
    /// A context named `name` for `user`.
    pub fn new(name: &str, user: &User) -> Self {
        Self {
            name: name.to_owned(),
            user: user.clone(),
            namespace: None,
        }
    }

    /// With a default namespace.
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_owned());
        self
    }
}

#[derive(Default)]
struct Users {
    tokens: BTreeMap<String, String>,
    certificates: BTreeMap<Vec<u8>, String>,
}

/// The fake, listening on HTTPS.
pub struct Served {
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    ca: CertifiedIssuer<'static, KeyPair>,
    users: Arc<Mutex<Users>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn certificate_params(names: Vec<String>, common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(names).expect("valid names");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(1);
    params
}

impl Served {
    fn lock(&self) -> std::sync::MutexGuard<'_, Users> {
        self.users.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The CA that signed the server's and the users' certificates (PEM).
    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// A user who presents a bearer token.
    pub fn token_user(&self, name: &str) -> User {
        let token = format!("token-of-{name}-{}", self.lock().tokens.len());
        self.lock().tokens.insert(token.clone(), name.to_owned());
        User {
            credential: Credential::Token(token),
        }
    }

    /// A user who presents a client certificate (common name `name`).
    pub fn certificate_user(&self, name: &str) -> User {
        let mut params = certificate_params(Vec::new(), name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate().expect("a key");
        let cert = params
            .signed_by(&key, &self.ca)
            .expect("a client certificate");
        self.lock()
            .certificates
            .insert(cert.der().to_vec(), name.to_owned());
        User {
            credential: Credential::Certificate {
                cert_pem: cert.pem(),
                key_pem: key.serialize_pem(),
            },
        }
    }

    /// A kubeconfig with these contexts (the first is current) on this server.
    pub fn kubeconfig(&self, contexts: &[Context]) -> String {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let users: Vec<serde_json::Value> = contexts
            .iter()
            .map(|c| {
                let user = match &c.user.credential {
                    Credential::Token(token) => json!({"token": token}),
                    Credential::Certificate { cert_pem, key_pem } => json!({
                        "client-certificate-data": b64(cert_pem),
                        "client-key-data": b64(key_pem),
                    }),
                };
                json!({"name": format!("{}-user", c.name), "user": user})
            })
            .collect();
        let kube_contexts: Vec<serde_json::Value> = contexts
            .iter()
            .map(|c| {
                let mut context = json!({"cluster": "fake", "user": format!("{}-user", c.name)});
                if let Some(namespace) = &c.namespace {
                    context["namespace"] = json!(namespace);
                }
                json!({"name": c.name, "context": context})
            })
            .collect();
        let config = json!({
            "apiVersion": "v1", "kind": "Config",
            "current-context": contexts.first().map(|c| c.name.clone()).unwrap_or_default(),
            "clusters": [{"name": "fake", "cluster": {
                "server": self.url, "certificate-authority-data": b64(&self.ca_pem())}}],
            "contexts": kube_contexts,
            "users": users,
        });
        serde_saphyr::to_string(&config).expect("a YAML kubeconfig")
    }

    /// Writes [`Self::kubeconfig`] into `dir/name` and returns its path.
    pub fn write_kubeconfig(&self, dir: &Path, name: &str, contexts: &[Context]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, self.kubeconfig(contexts)).expect("a writable folder");
        path
    }
}

fn unauthorized() -> http::Response<super::ResponseBody> {
    respond(
        401,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "Unauthorized", "reason": "Unauthorized", "code": 401}),
    )
}

/// A CA, and a serving certificate for 127.0.0.1 and localhost it signed, with its key.
fn certificates() -> (
    CertifiedIssuer<'static, KeyPair>,
    rcgen::Certificate,
    KeyPair,
) {
    let mut ca_params = certificate_params(Vec::new(), "fake-apiserver CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca =
        CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("a key")).expect("a CA");
    let mut serving = certificate_params(
        vec!["127.0.0.1".to_owned(), "localhost".to_owned()],
        "fake-apiserver",
    );
    serving.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let serving_key = KeyPair::generate().expect("a key");
    let serving_cert = serving
        .signed_by(&serving_key, &ca)
        .expect("a serving certificate");
    (ca, serving_cert, serving_key)
}

/// TLS with the serving certificate; client certificates signed by the CA are verified (and
/// name a user), none is needed (a token may name one instead).
fn server_config(
    ca: &CertifiedIssuer<'static, KeyPair>,
    serving_cert: &rcgen::Certificate,
    serving_key: &KeyPair,
) -> rustls::ServerConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(ca.der().to_vec()))
        .expect("the CA as a root");
    let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
        .allow_unauthenticated()
        .build()
        .expect("a client verifier");
    let mut config = rustls::ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(serving_cert.der().to_vec())],
            PrivateKeyDer::from_pem_slice(serving_key.serialize_pem().as_bytes())
                .expect("a PEM key"),
        )
        .expect("a TLS configuration");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

/// Who sent a request: the user of its bearer token, else of its client certificate.
fn user_of(
    request: &http::Request<Body>,
    known: &Mutex<Users>,
    certificate_user: Option<String>,
) -> Option<String> {
    let token = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match token {
        Some(token) => known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .tokens
            .get(token)
            .cloned(),
        None => certificate_user,
    }
}

impl Fake {
    /// Answers one request over HTTPS, as `user`.
    async fn answer_https(
        &self,
        request: http::Request<Body>,
        user: String,
    ) -> http::Response<super::ResponseBody> {
        self.answer(Incoming::read(request, Some(user)).await).await
    }

    /// Serves one TLS connection: each request answered as the user its token or client
    /// certificate names, 401 without one.
    async fn serve_connection(
        self,
        tls: tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
        known: Arc<Mutex<Users>>,
    ) {
        let certificate_user = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|certs| certs.first())
            .and_then(|cert| {
                known
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .certificates
                    .get(cert.as_ref())
                    .cloned()
            });
        let service = hyper::service::service_fn(move |request: http::Request<Body>| {
            let fake = self.clone();
            let user = user_of(&request, &known, certificate_user.clone());
            async move {
                Ok::<_, std::convert::Infallible>(match user {
                    Some(user) => fake.answer_https(request, user).await,
                    None => unauthorized(),
                })
            }
        });
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(tls), service)
            .await;
    }

    /// Serves this fake on `https://127.0.0.1:<free port>` until the returned value is dropped.
    pub async fn serve_https(&self) -> Served {
        let (ca, serving_cert, serving_key) = certificates();
        let config = server_config(&ca, &serving_cert, &serving_key);
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let url = format!("https://{}", listener.local_addr().expect("an address"));
        let users = Arc::new(Mutex::new(Users::default()));
        let fake = self.clone();
        let known = users.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, fake, known) = (acceptor.clone(), fake.clone(), known.clone());
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(tcp).await {
                        fake.serve_connection(tls, known).await;
                    }
                });
            }
        });
        Served {
            url,
            ca,
            users,
            task,
        }
    }
}
