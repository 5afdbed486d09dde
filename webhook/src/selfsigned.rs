//! `--self-signed`: a CA and serving certificate generated once, kept in a Secret shared by
//! every replica, with the CA patched into the `caBundle` of our two webhook configurations.

use std::collections::BTreeMap;

use base64::Engine as _;
use k8s_openapi::ByteString;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use serde_json::json;

use crate::tls::{LoadedCertificate, TlsError, load_pem};

/// A generated CA and serving certificate, PEM-encoded.
#[derive(Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The CA certificate (what `caBundle` gets).
    pub ca_pem: String,
    /// The serving certificate.
    pub cert_pem: String,
    /// The serving key.
    pub key_pem: String,
}

impl std::fmt::Debug for Bundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bundle").finish_non_exhaustive()
    }
}

/// Errors of the self-signed mode.
#[derive(Debug, thiserror::Error)]
pub enum SelfSignedError {
    /// Generating certificates failed.
    #[error("cannot generate the webhook certificates: {0}")]
    Generate(#[from] rcgen::Error),
    /// The generated or stored certificate does not load.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// An API call failed.
    #[error("{context}: {source}")]
    Api {
        /// What we were doing.
        context: String,
        /// The cause.
        #[source]
        source: kube::Error,
    },
}

/// Certificates generated for this long.
const VALIDITY_DAYS: i64 = 365;
/// A stored certificate closer than this to its expiry is replaced at start-up.
const RENEW_BEFORE_DAYS: i64 = 30;

/// The DNS names of a Service.
pub fn service_names(service: &str, namespace: &str) -> Vec<String> {
    vec![
        service.to_owned(),
        format!("{service}.{namespace}"),
        format!("{service}.{namespace}.svc"),
        format!("{service}.{namespace}.svc.cluster.local"),
    ]
}

/// Generates a CA and a serving certificate for these names.
pub fn generate(names: Vec<String>) -> Result<Bundle, SelfSignedError> {
    let now = time::OffsetDateTime::now_utc();
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let mut ca_name = DistinguishedName::new();
    ca_name.push(DnType::CommonName, "medusa-webhook CA");
    ca_params.distinguished_name = ca_name;
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.not_before = now - time::Duration::hours(1);
    ca_params.not_after = now + time::Duration::days(VALIDITY_DAYS);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

    let mut params = CertificateParams::new(names.clone())?;
    let mut name = DistinguishedName::new();
    name.push(
        DnType::CommonName,
        names.first().cloned().unwrap_or_default(),
    );
    params.distinguished_name = name;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(VALIDITY_DAYS);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &ca)?;
    Ok(Bundle {
        ca_pem: ca.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

fn bundle_from_secret(secret: &Secret) -> Option<Bundle> {
    let data = secret.data.as_ref()?;
    let text = |key: &str| {
        data.get(key)
            .and_then(|v| String::from_utf8(v.0.clone()).ok())
    };
    Some(Bundle {
        ca_pem: text("ca.crt")?,
        cert_pem: text("tls.crt")?,
        key_pem: text("tls.key")?,
    })
}

fn usable(bundle: &Bundle) -> Option<LoadedCertificate> {
    let loaded = load_pem(
        bundle.cert_pem.as_bytes(),
        bundle.key_pem.as_bytes(),
        " of the stored Secret",
    )
    .ok()?;
    let renew_at = chrono::Utc::now().timestamp() + RENEW_BEFORE_DAYS * 86_400;
    (loaded.not_after > renew_at).then_some(loaded)
}

/// The shared bundle: read from the Secret, or generated and stored there. When replicas race,
/// the first create wins and the others read it back.
pub async fn ensure_secret(
    client: &Client,
    namespace: &str,
    secret_name: &str,
    service: &str,
) -> Result<Bundle, SelfSignedError> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let api_error = |context: String| move |source| SelfSignedError::Api { context, source };
    let existing = api.get_opt(secret_name).await.map_err(api_error(format!(
        "cannot read Secret {namespace}/{secret_name}"
    )))?;
    if let Some(bundle) = existing.as_ref().and_then(bundle_from_secret)
        && usable(&bundle).is_some()
    {
        tracing::info!(secret = %format_args!("{namespace}/{secret_name}"), "using the stored webhook certificate");
        return Ok(bundle);
    }
    let bundle = generate(service_names(service, namespace))?;
    let data = BTreeMap::from([
        (
            "ca.crt".to_owned(),
            ByteString(bundle.ca_pem.clone().into_bytes()),
        ),
        (
            "tls.crt".to_owned(),
            ByteString(bundle.cert_pem.clone().into_bytes()),
        ),
        (
            "tls.key".to_owned(),
            ByteString(bundle.key_pem.clone().into_bytes()),
        ),
    ]);
    match existing {
        None => {
            let secret = Secret {
                metadata: ObjectMeta {
                    name: Some(secret_name.to_owned()),
                    namespace: Some(namespace.to_owned()),
                    labels: Some(BTreeMap::from([(
                        "app.kubernetes.io/name".to_owned(),
                        "medusa-webhook".to_owned(),
                    )])),
                    ..ObjectMeta::default()
                },
                type_: Some("kubernetes.io/tls".into()),
                data: Some(data),
                ..Secret::default()
            };
            match api.create(&PostParams::default(), &secret).await {
                Ok(_) => Ok(bundle),
                Err(kube::Error::Api(status)) if status.code == 409 => {
                    let stored = api.get(secret_name).await.map_err(api_error(format!(
                        "cannot read Secret {namespace}/{secret_name}"
                    )))?;
                    Ok(bundle_from_secret(&stored).unwrap_or(bundle))
                }
                Err(e) => Err(api_error(format!(
                    "cannot create Secret {namespace}/{secret_name}"
                ))(e)),
            }
        }
        Some(_) => {
            let patch = json!({ "data": data });
            api.patch(secret_name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map_err(api_error(format!(
                    "cannot update Secret {namespace}/{secret_name}"
                )))?;
            Ok(bundle)
        }
    }
}

/// A JSON patch setting every webhook's `clientConfig.caBundle`, guarded by each webhook's
/// name so a concurrent change of the list cannot misplace it.
pub fn ca_bundle_patch(webhook_names: &[String], ca_pem: &str) -> json_patch::Patch {
    let encoded = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    let operations: Vec<serde_json::Value> = webhook_names
        .iter()
        .enumerate()
        .flat_map(|(i, name)| {
            [
                json!({"op": "test", "path": format!("/webhooks/{i}/name"), "value": name}),
                json!({"op": "add", "path": format!("/webhooks/{i}/clientConfig/caBundle"), "value": encoded}),
            ]
        })
        .collect();
    serde_json::from_value(serde_json::Value::Array(operations))
        .unwrap_or(json_patch::Patch(Vec::new()))
}

/// Patches the CA into our validating and mutating webhook configurations.
pub async fn patch_ca_bundles(
    client: &Client,
    validating: &str,
    mutating: &str,
    ca_pem: &str,
) -> Result<(), SelfSignedError> {
    let api_error = |context: String| move |source| SelfSignedError::Api { context, source };
    let validating_api: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
    let current = validating_api
        .get(validating)
        .await
        .map_err(api_error(format!(
            "cannot read ValidatingWebhookConfiguration {validating}"
        )))?;
    let names: Vec<String> = current
        .webhooks
        .unwrap_or_default()
        .into_iter()
        .map(|w| w.name)
        .collect();
    validating_api
        .patch(
            validating,
            &PatchParams::default(),
            &Patch::<()>::Json(ca_bundle_patch(&names, ca_pem)),
        )
        .await
        .map_err(api_error(format!(
            "cannot patch the caBundle of ValidatingWebhookConfiguration {validating}"
        )))?;

    let mutating_api: Api<MutatingWebhookConfiguration> = Api::all(client.clone());
    let current = mutating_api.get(mutating).await.map_err(api_error(format!(
        "cannot read MutatingWebhookConfiguration {mutating}"
    )))?;
    let names: Vec<String> = current
        .webhooks
        .unwrap_or_default()
        .into_iter()
        .map(|w| w.name)
        .collect();
    mutating_api
        .patch(
            mutating,
            &PatchParams::default(),
            &Patch::<()>::Json(ca_bundle_patch(&names, ca_pem)),
        )
        .await
        .map_err(api_error(format!(
            "cannot patch the caBundle of MutatingWebhookConfiguration {mutating}"
        )))?;
    tracing::info!(
        validating,
        mutating,
        "caBundle patched into the webhook configurations"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_certificates_load_and_cover_the_service_names() {
        let bundle = generate(service_names("medusa-webhook", "medusa-system")).unwrap();
        let loaded = load_pem(bundle.cert_pem.as_bytes(), bundle.key_pem.as_bytes(), "").unwrap();
        let (_, cert) = x509_parser::pem::parse_x509_pem(bundle.cert_pem.as_bytes()).unwrap();
        let cert = cert.parse_x509().unwrap();
        let san = cert
            .subject_alternative_name()
            .unwrap()
            .unwrap()
            .value
            .general_names
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>();
        assert!(
            san.contains(&"DNSName(medusa-webhook.medusa-system.svc)".to_string()),
            "{san:?}"
        );
        assert!(loaded.not_after > chrono::Utc::now().timestamp() + 300 * 86_400);
        assert!(usable(&bundle).is_some());
    }

    #[test]
    fn the_ca_bundle_patch_tests_each_webhook_name() {
        let patch = ca_bundle_patch(&["a.k8ssandra.io".into(), "b.k8ssandra.io".into()], "PEM");
        let value = serde_json::to_value(&patch).unwrap();
        assert_eq!(
            value[0],
            json!({"op": "test", "path": "/webhooks/0/name", "value": "a.k8ssandra.io"})
        );
        assert_eq!(
            value[3],
            json!({"op": "add", "path": "/webhooks/1/clientConfig/caBundle", "value": "UEVN"})
        );
    }
}
