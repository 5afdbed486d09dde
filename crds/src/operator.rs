//! What the operator means by the words several places use, each defined once and named for
//! what it means, with the operator source it mirrors.

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::types::CassandraDatacenter;
use crate::wire::to_chrono;

// === Times ===

/// 0001-01-01T00:00:00Z, Go's zero `time.Time`, in Unix seconds.
const GO_ZERO_UNIX: i64 = -62_135_596_800;

/// Go's `metav1.Time.IsZero()`: the field is absent or holds Go's zero time (0001-01-01).
/// A time at the Unix epoch is not zero to the operator: `metav1.Unix(0, 0)`, which it writes
/// for a synced backup without timestamps, counts as set.
pub fn is_zero(t: Option<&Time>) -> bool {
    t.is_none_or(|t| t.0.as_second() == GO_ZERO_UNIX)
}

/// Whether the operator counts a MedusaBackupJob, MedusaRestoreJob, MedusaTask or MedusaBackup
/// as still running: its `finishTime` is zero (`Status.FinishTime.IsZero()` in the job, restore
/// and task controllers, the schedule's Forbid check and `prepare_restore`'s backup check).
pub fn still_running(finish_time: Option<&Time>) -> bool {
    is_zero(finish_time)
}

/// Whether the operator wrote a time that means nothing: Go's zero time (0001-01-01) or the
/// Unix epoch (`metav1.Unix(0, 0)`), both written by mistake rather than left unset.
pub fn is_placeholder(t: Option<&Time>) -> bool {
    t.is_some_and(|t| t.0.as_second() <= 0)
}

/// A time worth showing and computing with: set, and not a placeholder.
pub fn meaningful(t: Option<&Time>) -> Option<DateTime<Utc>> {
    t.filter(|t| !is_placeholder(Some(t))).map(to_chrono)
}

// === Labels ===

/// The label selector of a datacenter's pods, from the labels cass-operator gives them
/// (`GetDatacenterLabels`): what the operator lists to find the pods to back up.
pub fn datacenter_selector(dc: &CassandraDatacenter) -> String {
    crate::naming::datacenter_labels(dc)
        .into_iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(",")
}

// === Secrets ===

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
    use crate::fixtures::time;
    use k8s_openapi::ByteString;

    #[test]
    fn only_absent_and_year_one_are_zero_to_the_operator() {
        assert!(is_zero(None));
        assert!(is_zero(Some(&time("0001-01-01T00:00:00Z"))));
        assert!(!is_zero(Some(&time("1970-01-01T00:00:00Z"))));
        assert!(!is_zero(Some(&time("2024-05-01T10:00:00Z"))));
    }

    #[test]
    fn year_one_and_the_epoch_are_placeholders_not_worth_showing() {
        for placeholder in ["0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z"] {
            assert!(is_placeholder(Some(&time(placeholder))));
            assert!(meaningful(Some(&time(placeholder))).is_none());
        }
        assert!(!is_placeholder(None));
        assert_eq!(
            meaningful(Some(&time("2024-05-01T10:00:00Z"))).map(|t| t.to_rfc3339()),
            Some("2024-05-01T10:00:00+00:00".to_owned())
        );
    }

    #[test]
    fn a_datacenters_selector_is_its_cass_operator_labels() {
        let dc = CassandraDatacenter::test("dc1").cluster("demo");
        assert_eq!(
            datacenter_selector(&dc),
            "cassandra.datastax.com/cluster=demo,cassandra.datastax.com/datacenter=dc1"
        );
    }

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
