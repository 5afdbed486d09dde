//! The certificates of a local control plane: a CA, the API server's serving certificate, an
//! administrator's client certificate (group `system:masters`) and the service-account keys.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};

use crate::Failure;

/// PEM files for kube-apiserver and its kubeconfig.
pub struct ControlPlanePki {
    /// The CA (client CA of the API server, and what the kubeconfig trusts).
    pub ca_pem: String,
    /// The API server's serving certificate, for 127.0.0.1 and localhost.
    pub serving_cert_pem: String,
    /// Its key.
    pub serving_key_pem: String,
    /// The administrator's client certificate.
    pub admin_cert_pem: String,
    /// Its key.
    pub admin_key_pem: String,
    /// The service-account signing key (PKCS#8).
    pub sa_key_pem: String,
    /// Its public key.
    pub sa_public_pem: String,
}

fn validity(params: &mut CertificateParams) {
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(30);
}

fn failure(what: &str) -> impl Fn(rcgen::Error) -> Failure + '_ {
    move |e| Failure::new(format!("cannot generate {what}: {e}"))
}

impl std::fmt::Debug for ControlPlanePki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys stay out of logs.
        f.debug_struct("ControlPlanePki").finish_non_exhaustive()
    }
}

impl ControlPlanePki {
    /// Generates everything.
    pub fn generate() -> Result<Self, Failure> {
        let mut ca_params =
            CertificateParams::new(Vec::<String>::new()).map_err(failure("the CA"))?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let mut ca_name = DistinguishedName::new();
        ca_name.push(DnType::CommonName, "medusa-e2e CA");
        ca_params.distinguished_name = ca_name;
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        validity(&mut ca_params);
        let ca = CertifiedIssuer::self_signed(
            ca_params,
            KeyPair::generate().map_err(failure("the CA key"))?,
        )
        .map_err(failure("the CA"))?;

        let mut serving = CertificateParams::new(vec![
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
            "kubernetes".to_owned(),
            "kubernetes.default.svc".to_owned(),
        ])
        .map_err(failure("the serving certificate"))?;
        let mut serving_name = DistinguishedName::new();
        serving_name.push(DnType::CommonName, "kube-apiserver");
        serving.distinguished_name = serving_name;
        serving.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        serving.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        validity(&mut serving);
        let serving_key = KeyPair::generate().map_err(failure("the serving key"))?;
        let serving_cert = serving
            .signed_by(&serving_key, &ca)
            .map_err(failure("the serving certificate"))?;

        let mut admin = CertificateParams::new(Vec::<String>::new())
            .map_err(failure("the client certificate"))?;
        let mut admin_name = DistinguishedName::new();
        admin_name.push(DnType::CommonName, "medusa-e2e-admin");
        admin_name.push(DnType::OrganizationName, "system:masters");
        admin.distinguished_name = admin_name;
        admin.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        admin.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        validity(&mut admin);
        let admin_key = KeyPair::generate().map_err(failure("the client key"))?;
        let admin_cert = admin
            .signed_by(&admin_key, &ca)
            .map_err(failure("the client certificate"))?;

        let sa_key = KeyPair::generate().map_err(failure("the service-account key"))?;
        Ok(Self {
            ca_pem: ca.pem(),
            serving_cert_pem: serving_cert.pem(),
            serving_key_pem: serving_key.serialize_pem(),
            admin_cert_pem: admin_cert.pem(),
            admin_key_pem: admin_key.serialize_pem(),
            sa_public_pem: sa_key.public_key_pem(),
            sa_key_pem: sa_key.serialize_pem(),
        })
    }
}
