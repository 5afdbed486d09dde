//! Errors and exit codes.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | succeeded |
//! | 1 | the operation failed |
//! | 2 | a wait timed out (the operation goes on in the cluster) |
//! | 3 | usage or validation error |
//! | 4 | not found, or the Medusa CRDs are missing |
//! | 5 | forbidden |
//! | 130 | interrupted (the operation goes on in the cluster) |
//!
//! A closed standard output (the reader of a pipe went away, as `head -1` does) ends the
//! command quietly with 0, as `kubectl get ... | head -1` prints no error either.

use std::fmt;

/// How a command ended, as the process exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// 0.
    Success,
    /// 1: the operation failed.
    Failed,
    /// 2: a wait timed out; the operation goes on.
    TimedOut,
    /// 3: usage or validation error.
    Usage,
    /// 4: not found, or CRDs missing.
    NotFound,
    /// 5: forbidden.
    Forbidden,
    /// 130: interrupted; the operation goes on.
    Interrupted,
}

impl ExitCode {
    /// The numeric code.
    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Failed => 1,
            Self::TimedOut => 2,
            Self::Usage => 3,
            Self::NotFound => 4,
            Self::Forbidden => 5,
            Self::Interrupted => 130,
        }
    }
}

/// The error of an API call or of a watch, kept as the source of the failure it caused.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A call.
    #[error(transparent)]
    Call(#[from] kube::Error),
    /// A watch.
    #[error(transparent)]
    Watch(#[from] kube::runtime::watcher::Error),
}

impl ApiError {
    /// The HTTP status the API server answered with, when it answered.
    pub fn status_code(&self) -> Option<u16> {
        use kube::runtime::watcher::Error as Watch;
        match self {
            Self::Call(kube::Error::Api(status))
            | Self::Watch(
                Watch::InitialListFailed(kube::Error::Api(status))
                | Watch::WatchStartFailed(kube::Error::Api(status))
                | Watch::WatchFailed(kube::Error::Api(status))
                | Watch::WatchError(status),
            ) => Some(status.code),
            _ => None,
        }
    }
}

/// What kind of failure an API call met, which decides the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiFailure {
    /// The request was refused as invalid: a webhook denial, a conflict, a bad object (3).
    Refused,
    /// The object does not exist (4).
    NotFound,
    /// The API server does not serve the kind: the CRDs are not installed (4).
    CrdsMissing,
    /// The credentials were refused, or the API server cannot be reached (1).
    Unreachable,
    /// Another failure of the API server (1).
    Failed,
}

impl ApiFailure {
    fn exit_code(self) -> ExitCode {
        match self {
            Self::Refused => ExitCode::Usage,
            Self::NotFound | Self::CrdsMissing => ExitCode::NotFound,
            Self::Unreachable | Self::Failed => ExitCode::Failed,
        }
    }
}

/// A command failure a user can act on: what, on which object, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments or an invalid manifest.
    #[error("{0}")]
    Usage(String),
    /// An object does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A permission is missing: RBAC refused a call, or `auth check` found it missing.
    #[error(
        "you need {verb} on {resource} in namespace {namespace}; run kubectl medusa auth check"
    )]
    Forbidden {
        /// The verb.
        verb: String,
        /// `medusabackupjobs.medusa.k8ssandra.io`.
        resource: String,
        /// The namespace.
        namespace: String,
        /// The refused call, when one was.
        #[source]
        source: Option<Box<ApiError>>,
    },
    /// An API call failed: the message names the call and what to do.
    #[error("{message}")]
    Api {
        /// What kind of failure.
        failure: ApiFailure,
        /// What was asked, what went wrong, what to do.
        message: String,
        /// The API server's answer, or why there was none.
        #[source]
        source: Box<ApiError>,
    },
    /// The operation ran and failed.
    #[error("{0}")]
    Failed(String),
    /// A wait ran out of time.
    #[error("{0}")]
    TimedOut(String),
    /// Ctrl-C during a wait.
    #[error("{0}")]
    Interrupted(String),
    /// The cluster cannot be configured (kubeconfig, client).
    #[error("{0}")]
    Cluster(String),
    /// Writing output failed.
    #[error("cannot write the output: {0}")]
    Io(#[from] std::io::Error),
    /// The reader of the output went away (a closed pipe): nothing more to say, to no one.
    #[error("the output was closed")]
    OutputClosed,
}

impl CliError {
    /// The exit code of this failure.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Self::Usage(_) => ExitCode::Usage,
            Self::NotFound(_) => ExitCode::NotFound,
            Self::Forbidden { .. } => ExitCode::Forbidden,
            Self::Api { failure, .. } => failure.exit_code(),
            Self::Failed(_) | Self::Cluster(_) | Self::Io(_) => ExitCode::Failed,
            Self::TimedOut(_) => ExitCode::TimedOut,
            Self::Interrupted(_) => ExitCode::Interrupted,
            Self::OutputClosed => ExitCode::Success,
        }
    }

    /// Whether the error is to be printed (a closed output is not: there is no one to read it).
    pub fn is_reported(&self) -> bool {
        !matches!(self, Self::OutputClosed)
    }

    /// Whether the API server does not serve the kind (its CRD is not installed).
    pub fn is_crds_missing(&self) -> bool {
        matches!(
            self,
            Self::Api {
                failure: ApiFailure::CrdsMissing,
                ..
            }
        )
    }

    /// Whether an object does not exist (found so by a call, or by the command).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            Self::NotFound(_)
                | Self::Api {
                    failure: ApiFailure::NotFound,
                    ..
                }
        )
    }

    /// Whether a call was refused for want of a permission.
    pub fn is_forbidden(&self) -> bool {
        matches!(self, Self::Forbidden { .. })
    }

    /// Whether a list failed because the user may not read it or its CRD is not installed:
    /// what is there cannot be seen, rather than the cluster failing.
    pub fn is_unavailable(&self) -> bool {
        self.is_forbidden() || self.is_crds_missing()
    }

    /// A usage error.
    pub fn usage(message: impl fmt::Display) -> Self {
        Self::Usage(message.to_string())
    }
}

/// The result of a command.
pub type Result<T, E = CliError> = std::result::Result<T, E>;

/// What an API call was, so a failure can name it.
#[derive(Clone, Debug)]
pub struct CallContext<'a> {
    /// `get`, `list`, `create`, `patch`, `delete`, `watch`.
    pub verb: &'a str,
    /// Plural resource and group: `medusabackupjobs.medusa.k8ssandra.io`.
    pub resource: String,
    /// The namespace (or "all namespaces").
    pub namespace: &'a str,
    /// The object, when one is named: `MedusaBackupJob "nightly"`.
    pub object: Option<String>,
}

/// Turns the error of an API call (or a watch) into a failure a user can act on, keeping it as
/// the source. A status code decides the kind of failure, never the text.
pub fn from_api(error: impl Into<ApiError>, call: CallContext<'_>) -> CliError {
    let error: ApiError = error.into();
    if error.status_code() == Some(403) && !is_webhook_denial(&error) {
        return CliError::Forbidden {
            verb: call.verb.to_owned(),
            resource: call.resource,
            namespace: call.namespace.to_owned(),
            source: Some(Box::new(error)),
        };
    }
    let (failure, message) = classify(&error, &call);
    CliError::Api {
        failure,
        message,
        source: Box::new(error),
    }
}

/// A refusal by an admission webhook (ours or the operator's): its message already names the
/// object and the fix.
fn is_webhook_denial(error: &ApiError) -> bool {
    matches!(error, ApiError::Call(kube::Error::Api(status)) if status.message.starts_with("admission webhook "))
}

/// The kind of failure, by status code, and its message.
fn classify(error: &ApiError, call: &CallContext<'_>) -> (ApiFailure, String) {
    let what = call.object.clone().unwrap_or_else(|| call.resource.clone());
    let (verb, namespace) = (call.verb, call.namespace);
    let status = match error {
        ApiError::Call(kube::Error::Api(status)) => Some(status.as_ref()),
        ApiError::Watch(_) | ApiError::Call(_) => None,
    };
    match (error.status_code(), status) {
        (_, Some(status)) if is_webhook_denial(error) => {
            (ApiFailure::Refused, status.message.clone())
        }
        (Some(401), _) => (
            ApiFailure::Unreachable,
            format!(
                "the API server does not accept the credentials of your kubeconfig's user (401 Unauthorized) to {verb} {what} in namespace {namespace}: log in again, or check --context, --user and KUBECONFIG"
            ),
        ),
        (Some(404), Some(status))
            if call.object.is_some()
                && status.reason == "NotFound"
                && !status
                    .message
                    .contains("the server could not find the requested resource") =>
        {
            (
                ApiFailure::NotFound,
                format!("{what} not found in namespace {namespace}"),
            )
        }
        (Some(404), _) => (
            ApiFailure::CrdsMissing,
            format!(
                "Medusa CRDs not found: is k8ssandra-operator installed with Medusa enabled? (the API server does not serve {})",
                call.resource
            ),
        ),
        (Some(409), _) => (
            ApiFailure::Refused,
            format!("{what} already exists in namespace {namespace}: choose another name"),
        ),
        (Some(400 | 422), Some(status)) => (
            ApiFailure::Refused,
            format!(
                "the API server refused to {verb} {what}: {}",
                status.message
            ),
        ),
        (Some(code), status) => (
            ApiFailure::Failed,
            format!(
                "cannot {verb} {what} in namespace {namespace}: {} ({code})",
                status.map_or_else(|| error.to_string(), |s| s.message.clone()),
            ),
        ),
        (None, _) => (
            ApiFailure::Unreachable,
            format!(
                "cannot {verb} {what} in namespace {namespace}: {error}; check the cluster is reachable (kubectl cluster-info) and your kubeconfig"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(code: u16, reason: &str, message: &str) -> kube::Error {
        kube::Error::Api(Box::new(kube::core::Status {
            status: Some(kube::core::response::StatusSummary::Failure),
            code,
            reason: reason.into(),
            message: message.into(),
            metadata: None,
            details: None,
        }))
    }

    fn call(object: Option<&str>) -> CallContext<'static> {
        CallContext {
            verb: "create",
            resource: "medusabackupjobs.medusa.k8ssandra.io".into(),
            namespace: "k8ssandra",
            object: object.map(str::to_owned),
        }
    }

    #[test]
    fn forbidden_names_the_permission_and_the_check() {
        let error = from_api(api_error(403, "Forbidden", "nope"), call(None));
        assert_eq!(
            error.to_string(),
            "you need create on medusabackupjobs.medusa.k8ssandra.io in namespace k8ssandra; run kubectl medusa auth check"
        );
        assert_eq!(error.exit_code().code(), 5);
    }

    #[test]
    fn a_missing_resource_type_means_missing_crds() {
        let error = from_api(
            api_error(
                404,
                "NotFound",
                "the server could not find the requested resource",
            ),
            call(Some("MedusaBackupJob \"x\"")),
        );
        assert!(error.to_string().starts_with(
            "Medusa CRDs not found: is k8ssandra-operator installed with Medusa enabled?"
        ));
        assert_eq!(error.exit_code().code(), 4);
    }

    #[test]
    fn a_missing_object_is_named() {
        let error = from_api(
            api_error(
                404,
                "NotFound",
                "medusabackupjobs.medusa.k8ssandra.io \"x\" not found",
            ),
            call(Some("MedusaBackupJob \"x\"")),
        );
        assert_eq!(
            error.to_string(),
            "MedusaBackupJob \"x\" not found in namespace k8ssandra"
        );
    }

    #[test]
    fn a_webhook_denial_keeps_its_message_and_is_a_validation_error() {
        let message = "admission webhook \"validate.medusa.k8ssandra.io\" denied the request: [J1] MedusaBackupJob k8ssandra/x: CassandraDatacenter \"dc9\" not found";
        let error = from_api(
            api_error(403, "Forbidden", message),
            call(Some("MedusaBackupJob \"x\"")),
        );
        assert_eq!(error.to_string(), message);
        assert_eq!(error.exit_code().code(), 3);
    }

    #[test]
    fn a_conflict_asks_for_another_name() {
        let error = from_api(
            api_error(409, "AlreadyExists", "exists"),
            call(Some("MedusaBackupJob \"x\"")),
        );
        assert_eq!(
            error.to_string(),
            "MedusaBackupJob \"x\" already exists in namespace k8ssandra: choose another name"
        );
        assert_eq!(error.exit_code().code(), 3);
    }

    #[test]
    fn the_api_servers_error_is_kept_as_the_source() {
        use std::error::Error as _;
        let error = from_api(api_error(500, "InternalError", "etcd is sad"), call(None));
        assert_eq!(error.exit_code().code(), 1);
        let source = error.source().expect("a source");
        assert!(source.to_string().contains("etcd is sad"), "{source}");
    }

    #[test]
    fn a_forbidden_watch_is_known_by_its_status_code() {
        let watch = kube::runtime::watcher::Error::WatchError(Box::new(kube::core::Status {
            code: 403,
            ..kube::core::Status::default()
        }));
        let error = from_api(watch, call(None));
        assert!(error.is_forbidden(), "{error:?}");
    }

    #[test]
    fn every_exit_code_is_documented() {
        let codes: Vec<u8> = [
            ExitCode::Success,
            ExitCode::Failed,
            ExitCode::TimedOut,
            ExitCode::Usage,
            ExitCode::NotFound,
            ExitCode::Forbidden,
            ExitCode::Interrupted,
        ]
        .iter()
        .map(|c| c.code())
        .collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 5, 130]);
    }
}
