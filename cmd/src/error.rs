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

/// A command failure a user can act on: what, on which object, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments or an invalid manifest.
    #[error("{0}")]
    Usage(String),
    /// An object does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The Medusa CRDs are not installed.
    #[error("Medusa CRDs not found: is k8ssandra-operator installed with Medusa enabled? ({0})")]
    CrdsMissing(String),
    /// RBAC refused a call.
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
    /// The cluster cannot be reached or configured.
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
            Self::NotFound(_) | Self::CrdsMissing(_) => ExitCode::NotFound,
            Self::Forbidden { .. } => ExitCode::Forbidden,
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

    /// Whether a list failed because the user may not read it or its CRD is not installed:
    /// what is there cannot be seen, rather than the cluster failing.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Forbidden { .. } | Self::CrdsMissing(_))
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

/// Turns a kube error into a message a user can act on.
pub fn from_kube(error: kube::Error, call: CallContext<'_>) -> CliError {
    match &error {
        // A webhook denial (ours or the operator's) already names the object and the fix.
        kube::Error::Api(status) if status.message.starts_with("admission webhook ") => {
            CliError::Usage(status.message.clone())
        }
        kube::Error::Api(status) => match status.code {
            401 => CliError::Cluster(format!(
                "the API server does not accept the credentials of your kubeconfig's user (401 Unauthorized) to {} {} in namespace {}: log in again, or check --context, --user and KUBECONFIG",
                call.verb,
                call.object.unwrap_or_else(|| call.resource.clone()),
                call.namespace
            )),
            403 => CliError::Forbidden {
                verb: call.verb.to_owned(),
                resource: call.resource,
                namespace: call.namespace.to_owned(),
            },
            404 if call.object.is_some()
                && status.reason == "NotFound"
                && !status
                    .message
                    .contains("the server could not find the requested resource") =>
            {
                CliError::NotFound(format!(
                    "{} not found in namespace {}",
                    call.object.unwrap_or_default(),
                    call.namespace
                ))
            }
            404 => {
                CliError::CrdsMissing(format!("the API server does not serve {}", call.resource))
            }
            409 => CliError::Usage(format!(
                "{} already exists in namespace {}: choose another name",
                call.object.unwrap_or_else(|| call.resource.clone()),
                call.namespace
            )),
            400 | 422 => CliError::Usage(format!(
                "the API server refused to {} {}: {}",
                call.verb,
                call.object.unwrap_or_else(|| call.resource.clone()),
                status.message
            )),
            _ => CliError::Failed(format!(
                "cannot {} {} in namespace {}: {} ({})",
                call.verb,
                call.object.unwrap_or_else(|| call.resource.clone()),
                call.namespace,
                status.message,
                status.code
            )),
        },
        _ => CliError::Cluster(format!(
            "cannot {} {} in namespace {}: {error}; check the cluster is reachable (kubectl cluster-info) and your kubeconfig",
            call.verb,
            call.object.unwrap_or_else(|| call.resource.clone()),
            call.namespace
        )),
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
        let error = from_kube(api_error(403, "Forbidden", "nope"), call(None));
        assert_eq!(
            error.to_string(),
            "you need create on medusabackupjobs.medusa.k8ssandra.io in namespace k8ssandra; run kubectl medusa auth check"
        );
        assert_eq!(error.exit_code().code(), 5);
    }

    #[test]
    fn a_missing_resource_type_means_missing_crds() {
        let error = from_kube(
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
        let error = from_kube(
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
        let error = from_kube(
            api_error(403, "Forbidden", message),
            call(Some("MedusaBackupJob \"x\"")),
        );
        assert_eq!(error.to_string(), message);
        assert_eq!(error.exit_code().code(), 3);
    }

    #[test]
    fn a_conflict_asks_for_another_name() {
        let error = from_kube(
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
