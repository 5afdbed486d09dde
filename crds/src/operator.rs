//! What the operator means by the words several places use, each defined once and named for
//! what it means, with the operator source it mirrors.

use k8s_openapi::api::core::v1::Secret;

/// The key of the storage Secret that Medusa reads its credentials file from: the operator
/// mounts the Secret at `/etc/medusa-secrets` and medusa.ini names
/// `/etc/medusa-secrets/credentials` (k8ssandra-operator `pkg/medusa/reconcile.go`).
pub const CREDENTIALS_KEY: &str = "credentials";

/// Whether a Secret holds [`CREDENTIALS_KEY`], in `data` or, not yet encoded, in `stringData`.
pub fn secret_has_credentials(secret: &Secret) -> bool {
    secret
        .data
        .as_ref()
        .is_some_and(|d| d.contains_key(CREDENTIALS_KEY))
        || secret
            .string_data
            .as_ref()
            .is_some_and(|d| d.contains_key(CREDENTIALS_KEY))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;

    #[test]
    fn the_credentials_key_counts_in_data_and_in_string_data() {
        let mut secret = Secret::default();
        assert!(!secret_has_credentials(&secret));
        secret.string_data = Some([(CREDENTIALS_KEY.to_owned(), "x".to_owned())].into());
        assert!(secret_has_credentials(&secret));
        secret.string_data = None;
        secret.data = Some([(CREDENTIALS_KEY.to_owned(), ByteString(b"x".to_vec()))].into());
        assert!(secret_has_credentials(&secret));
        secret.data = Some([("other".to_owned(), ByteString(b"x".to_vec()))].into());
        assert!(!secret_has_credentials(&secret));
    }
}
