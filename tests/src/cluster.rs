//! Where the suite runs: a local control plane started from `KUBEBUILDER_ASSETS` (etcd and
//! kube-apiserver, as controller-runtime's envtest does), or the cluster of `KUBECONFIG`.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::Failure;
use crate::pki::ControlPlanePki;

/// Where to run.
#[derive(Clone, Debug)]
pub enum Source {
    /// A folder holding `etcd` and `kube-apiserver`.
    Assets(PathBuf),
    /// A kubeconfig file.
    Kubeconfig(PathBuf),
}

/// What the environment asks for.
#[derive(Clone, Debug)]
pub enum Detection {
    /// Run against this.
    Run(Source),
    /// Skip, for this reason (one line).
    Skip(String),
}

/// `KUBEBUILDER_ASSETS` when it holds both binaries (the most specific request), else the
/// first file of `KUBECONFIG` when it exists; else skip. `~/.kube/config` alone is never used:
/// the suite installs CRDs and webhook configurations, so it runs only where asked to.
pub fn detect() -> Detection {
    detect_from(
        std::env::var_os("KUBEBUILDER_ASSETS"),
        std::env::var_os("KUBECONFIG"),
    )
}

/// [`detect`] on given values of `KUBEBUILDER_ASSETS` and `KUBECONFIG`.
pub fn detect_from(
    assets: Option<std::ffi::OsString>,
    kubeconfig: Option<std::ffi::OsString>,
) -> Detection {
    let assets = assets.filter(|a| !a.is_empty()).map(PathBuf::from);
    if let Some(assets) = &assets
        && assets.join("etcd").is_file()
        && assets.join("kube-apiserver").is_file()
    {
        return Detection::Run(Source::Assets(assets.clone()));
    }
    let kubeconfig = kubeconfig
        .filter(|k| !k.is_empty())
        .and_then(|k| std::env::split_paths(&k).next());
    if let Some(kubeconfig) = kubeconfig
        && kubeconfig.is_file()
    {
        return Detection::Run(Source::Kubeconfig(kubeconfig));
    }
    let why = match assets {
        Some(assets) => format!(
            "KUBEBUILDER_ASSETS={} lacks etcd or kube-apiserver, and KUBECONFIG names no file",
            assets.display()
        ),
        None => "neither KUBECONFIG (a file) nor KUBEBUILDER_ASSETS (with etcd and kube-apiserver) is set".to_owned(),
    };
    Detection::Skip(why)
}

/// A free TCP port on 127.0.0.1 (free when asked; the child binds it right after).
fn free_port() -> Result<u16, Failure> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Failure::new(format!("cannot find a free port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| Failure::new(format!("cannot find a free port: {e}")))
}

fn write(path: &Path, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text)
        .map_err(|e| Failure::new(format!("cannot write {}: {e}", path.display())))
}

/// The last lines of a log file, for failure messages.
pub fn tail(path: &Path, lines: usize) -> String {
    let mut text = String::new();
    if let Ok(mut file) = std::fs::File::open(path) {
        let _ = file.read_to_string(&mut text);
    }
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A kubeconfig for the administrator of the control plane at `server`.
pub fn kubeconfig_text(server: &str, pki: &ControlPlanePki) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: e2e\nclusters:\n- name: e2e\n  cluster:\n    server: {server}\n    certificate-authority-data: {}\ncontexts:\n- name: e2e\n  context: {{cluster: e2e, user: admin}}\nusers:\n- name: admin\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
        b64(&pki.ca_pem),
        b64(&pki.admin_cert_pem),
        b64(&pki.admin_key_pem)
    )
}

/// A running etcd and kube-apiserver, stopped on drop.
pub struct LocalControlPlane {
    dir: tempfile::TempDir,
    children: Vec<(String, Child)>,
    /// How kube-apiserver was started, to start it again.
    apiserver: (PathBuf, Vec<String>),
    /// A kubeconfig for the administrator (group system:masters).
    pub kubeconfig: PathBuf,
    /// The CA that signed the API server's certificate and the users' client certificates.
    pub pki: ControlPlanePki,
}

impl std::fmt::Debug for LocalControlPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalControlPlane")
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

impl Drop for LocalControlPlane {
    fn drop(&mut self) {
        // The API server first, then its store.
        for (_, child) in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl LocalControlPlane {
    fn spawn(&mut self, name: &str, program: &Path, args: &[String]) -> Result<(), Failure> {
        let log = self.dir.path().join(format!("{name}.log"));
        let out = std::fs::File::create(&log)
            .map_err(|e| Failure::new(format!("cannot create {}: {e}", log.display())))?;
        let err = out
            .try_clone()
            .map_err(|e| Failure::new(format!("cannot open {}: {e}", log.display())))?;
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| Failure::new(format!("cannot start {}: {e}", program.display())))?;
        self.children.push((name.to_owned(), child));
        Ok(())
    }

    /// Fails, with its log, if a process has exited.
    fn check_alive(&mut self) -> Result<(), Failure> {
        for (name, child) in &mut self.children {
            if let Ok(Some(status)) = child.try_wait() {
                let log = self.dir.path().join(format!("{name}.log"));
                return Err(Failure::new(format!(
                    "{name} exited ({status}); the end of its log:\n{}",
                    tail(&log, 30)
                )));
            }
        }
        Ok(())
    }

    /// Starts etcd and kube-apiserver from `assets` and waits until the API server is ready.
    pub async fn start(assets: &Path) -> Result<Self, Failure> {
        let dir = tempfile::Builder::new()
            .prefix("medusa-e2e-")
            .tempdir()
            .map_err(|e| Failure::new(format!("cannot create a temporary folder: {e}")))?;
        let pki = ControlPlanePki::generate()?;
        let root = dir.path().to_path_buf();
        let file = |name: &str| root.join(name);
        write(&file("ca.crt"), &pki.ca_pem)?;
        write(&file("apiserver.crt"), &pki.serving_cert_pem)?;
        write(&file("apiserver.key"), &pki.serving_key_pem)?;
        write(&file("sa.key"), &pki.sa_key_pem)?;
        write(&file("sa.pub"), &pki.sa_public_pem)?;
        let (etcd_port, peer_port, secure_port) = (free_port()?, free_port()?, free_port()?);
        let kubeconfig = file("kubeconfig");
        write(
            &kubeconfig,
            &kubeconfig_text(&format!("https://127.0.0.1:{secure_port}"), &pki),
        )?;
        let path = |p: PathBuf| p.display().to_string();
        let mut plane = Self {
            children: Vec::new(),
            apiserver: (assets.join("kube-apiserver"), Vec::new()),
            kubeconfig,
            dir,
            pki,
        };
        let etcd_url = format!("http://127.0.0.1:{etcd_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");
        plane.spawn(
            "etcd",
            &assets.join("etcd"),
            &[
                format!("--data-dir={}", path(file("etcd"))),
                format!("--listen-client-urls={etcd_url}"),
                format!("--advertise-client-urls={etcd_url}"),
                format!("--listen-peer-urls={peer_url}"),
                format!("--initial-advertise-peer-urls={peer_url}"),
                format!("--initial-cluster=default={peer_url}"),
                "--unsafe-no-fsync=true".to_owned(),
            ],
        )?;
        let apiserver_args = vec![
            format!("--etcd-servers={etcd_url}"),
            format!("--cert-dir={}", path(file("certs"))),
            format!("--tls-cert-file={}", path(file("apiserver.crt"))),
            format!("--tls-private-key-file={}", path(file("apiserver.key"))),
            format!("--client-ca-file={}", path(file("ca.crt"))),
            format!("--secure-port={secure_port}"),
            "--bind-address=127.0.0.1".to_owned(),
            "--advertise-address=127.0.0.1".to_owned(),
            "--authorization-mode=RBAC".to_owned(),
            format!("--service-account-issuer=https://127.0.0.1:{secure_port}"),
            format!("--service-account-key-file={}", path(file("sa.pub"))),
            format!(
                "--service-account-signing-key-file={}",
                path(file("sa.key"))
            ),
            "--service-cluster-ip-range=10.0.0.0/24".to_owned(),
            // No controller-manager creates the `default` ServiceAccounts.
            "--disable-admission-plugins=ServiceAccount".to_owned(),
            "--allow-privileged=true".to_owned(),
        ];
        plane.apiserver.1 = apiserver_args.clone();
        plane.spawn(
            "kube-apiserver",
            &assets.join("kube-apiserver"),
            &apiserver_args,
        )?;
        plane.wait_ready().await?;
        Ok(plane)
    }

    /// Stops kube-apiserver and starts it again with the same flags, on the same port and
    /// etcd, and waits until it is ready: what a control-plane upgrade or crash does to the
    /// clients watching it.
    pub async fn restart_apiserver(&mut self) -> Result<(), Failure> {
        if let Some(index) = self
            .children
            .iter()
            .position(|(n, _)| n == "kube-apiserver")
        {
            let (_, mut child) = self.children.remove(index);
            let _ = child.kill();
            let _ = child.wait();
        }
        let (program, args) = self.apiserver.clone();
        self.spawn("kube-apiserver", &program, &args)?;
        self.wait_ready().await
    }

    async fn wait_ready(&mut self) -> Result<(), Failure> {
        let config = crate::config_from(&self.kubeconfig).await?;
        let client = kube::Client::try_from(config)
            .map_err(|e| Failure::new(format!("cannot create a client: {e}")))?;
        let deadline = Instant::now() + Duration::from_secs(90);
        let mut last;
        loop {
            self.check_alive()?;
            let request = http::Request::get("/readyz")
                .body(Vec::new())
                .map_err(|e| Failure::new(e.to_string()))?;
            match client.request_text(request).await {
                Ok(text) if text.trim() == "ok" => return Ok(()),
                Ok(text) => last = text,
                Err(e) => last = e.to_string(),
            }
            if Instant::now() > deadline {
                let log = self.dir.path().join("kube-apiserver.log");
                return Err(Failure::new(format!(
                    "kube-apiserver not ready after 90 s ({last}); the end of its log:\n{}",
                    tail(&log, 30)
                )));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::sync::Arc;

    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    fn assets_dir(binaries: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for binary in binaries {
            std::fs::write(dir.path().join(binary), "").unwrap();
        }
        dir
    }

    #[test]
    fn assets_with_both_binaries_win_over_a_kubeconfig() {
        let assets = assets_dir(&["etcd", "kube-apiserver"]);
        let kubeconfig = tempfile::NamedTempFile::new().unwrap();
        let detection = detect_from(Some(assets.path().into()), Some(kubeconfig.path().into()));
        assert!(
            matches!(detection, Detection::Run(Source::Assets(_))),
            "{detection:?}"
        );
    }

    #[test]
    fn a_kubeconfig_file_is_used_when_the_assets_are_incomplete() {
        let assets = assets_dir(&["etcd"]);
        let kubeconfig = tempfile::NamedTempFile::new().unwrap();
        let detection = detect_from(Some(assets.path().into()), Some(kubeconfig.path().into()));
        assert!(
            matches!(detection, Detection::Run(Source::Kubeconfig(_))),
            "{detection:?}"
        );
    }

    #[test]
    fn nothing_usable_skips_with_the_reason() {
        let Detection::Skip(why) = detect_from(None, Some("/nonexistent/kubeconfig".into())) else {
            panic!("should skip");
        };
        assert_eq!(
            why,
            "neither KUBECONFIG (a file) nor KUBEBUILDER_ASSETS (with etcd and kube-apiserver) is set"
        );
        let assets = assets_dir(&["kube-apiserver"]);
        let Detection::Skip(why) = detect_from(Some(assets.path().into()), None) else {
            panic!("should skip");
        };
        assert!(why.contains("lacks etcd or kube-apiserver"), "{why}");
    }

    /// A TLS server that, like kube-apiserver with --client-ca-file, requires a client
    /// certificate from the CA; it answers one request with the client's organizations.
    async fn serve_once(pki: &ControlPlanePki) -> (u16, tokio::task::JoinHandle<Vec<String>>) {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(pki.ca_pem.as_bytes()).unwrap())
            .unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
            .build()
            .unwrap();
        let config = rustls::ServerConfig::builder()
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![CertificateDer::from_pem_slice(pki.serving_cert_pem.as_bytes()).unwrap()],
                PrivateKeyDer::from_pem_slice(pki.serving_key_pem.as_bytes()).unwrap(),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut tls = acceptor.accept(stream).await.unwrap();
            let peer = tls.get_ref().1.peer_certificates().unwrap()[0].clone();
            let (_, cert) = x509_parser::parse_x509_certificate(&peer).unwrap();
            let organizations: Vec<String> = cert
                .subject()
                .iter_organization()
                .map(|o| o.as_str().unwrap().to_owned())
                .collect();
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = tls.read(&mut buffer).await.unwrap();
                assert!(n > 0);
                request.extend_from_slice(&buffer[..n]);
            }
            tls.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                .await
                .unwrap();
            tls.shutdown().await.unwrap();
            organizations
        });
        (port, task)
    }

    #[tokio::test]
    async fn the_kubeconfig_authenticates_as_system_masters_over_mutual_tls() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let pki = ControlPlanePki::generate().unwrap();
        let (port, server) = serve_once(&pki).await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubeconfig");
        std::fs::write(
            &path,
            kubeconfig_text(&format!("https://127.0.0.1:{port}"), &pki),
        )
        .unwrap();
        let config = crate::config_from(&path).await.unwrap();
        let client = kube::Client::try_from(config).unwrap();
        let request = http::Request::get("/readyz").body(Vec::new()).unwrap();
        assert_eq!(client.request_text(request).await.unwrap(), "ok");
        assert_eq!(server.await.unwrap(), ["system:masters"]);
    }

    #[test]
    fn the_service_account_keys_are_pem_that_kube_apiserver_reads() {
        let pki = ControlPlanePki::generate().unwrap();
        assert!(pki.sa_key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(pki.sa_public_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        let serving = CertificateDer::from_pem_slice(pki.serving_cert_pem.as_bytes()).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&serving).unwrap();
        let names = format!(
            "{:?}",
            cert.subject_alternative_name().unwrap().unwrap().value
        );
        assert!(
            names.contains("127.0.0.1") || names.contains("[127, 0, 0, 1]"),
            "{names}"
        );
    }

    #[test]
    fn a_log_tail_keeps_the_last_lines() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), "1\n2\n3\n4\n").unwrap();
        assert_eq!(tail(file.path(), 2), "3\n4");
    }
}
