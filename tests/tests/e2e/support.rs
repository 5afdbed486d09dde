//! What the scenarios share: objects as JSON, creates that report the API server's answer
//! with its warnings, and the verdicts a scenario expects.

use http_body_util::BodyExt;
use kube::Client;
use medusa_crds::*;
use medusa_e2e::objects::{resource, typed_json};
use medusa_e2e::{Failure, ensure};
use serde_json::{Value, json};

pub use medusa_e2e::objects::{
    cluster, create, create_with_status, datacenter_with_pods, dynamic, eventually, storage_secret,
};

/// What the API server answered to a create: the stored (or judged) object or the refusal's
/// message, and the warnings it sent along (the `Warning` headers admission webhooks cause).
#[derive(Debug)]
pub struct Answer {
    /// The object, when admitted.
    pub object: Option<Value>,
    /// The refusal's message, when refused.
    pub refusal: Option<String>,
    /// The warnings.
    pub warnings: Vec<String>,
}

impl Answer {
    /// The object, or a failure naming `what` and the refusal.
    pub fn admitted(self, what: &str) -> Result<(Value, Vec<String>), Failure> {
        match self.object {
            Some(object) => Ok((object, self.warnings)),
            None => Err(Failure::new(format!(
                "{what}: expected the API server to admit it; it refused: {}",
                self.refusal.unwrap_or_default()
            ))),
        }
    }

    /// The refusal's message when the webhook's `rule` denied it, or a failure.
    pub fn denied_by(self, rule: &str, what: &str) -> Result<String, Failure> {
        match self.refusal {
            Some(message)
                if message.contains("denied the request")
                    && message.contains(&format!("[{rule}]")) =>
            {
                Ok(message)
            }
            Some(message) => Err(Failure::new(format!(
                "{what}: expected a denial by {rule}; the API server refused with: {message}"
            ))),
            None => Err(Failure::new(format!(
                "{what}: expected a denial by {rule}; the API server admitted it"
            ))),
        }
    }
}

/// One warning's text, from a `Warning: 299 - "text"` header.
fn warning_text(header: &str) -> String {
    let text = header
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .trim_start();
    let text = text.strip_prefix("- ").unwrap_or(text);
    text.trim_matches('"').replace("\\\"", "\"")
}

/// POSTs `value` into `namespace` as a client would, and reads the whole answer.
pub async fn submit(
    client: &Client,
    namespace: &str,
    mut value: Value,
    dry_run: bool,
) -> Result<Answer, Failure> {
    value["metadata"]["namespace"] = json!(namespace);
    let api_version = value["apiVersion"].as_str().unwrap_or_default().to_owned();
    let kind = value["kind"].as_str().unwrap_or_default().to_owned();
    let resource = resource(&api_version, &kind);
    let base = if resource.group.is_empty() {
        format!("/api/{}", resource.version)
    } else {
        format!("/apis/{}/{}", resource.group, resource.version)
    };
    let mut path = format!("{base}/namespaces/{namespace}/{}", resource.plural);
    if dry_run {
        path.push_str("?dryRun=All");
    }
    let request = http::Request::post(path)
        .header("content-type", "application/json")
        .body(kube::client::Body::from(serde_json::to_vec(&value)?))
        .map_err(|e| Failure::new(e.to_string()))?;
    answer(client, request, &format!("POST {kind} {namespace}")).await
}

/// DELETEs an object as a client would, and reads the whole answer (the object when deleted).
pub async fn remove(
    client: &Client,
    namespace: &str,
    api_version: &str,
    kind: &str,
    name: &str,
) -> Result<Answer, Failure> {
    let resource = resource(api_version, kind);
    let base = if resource.group.is_empty() {
        format!("/api/{}", resource.version)
    } else {
        format!("/apis/{}/{}", resource.group, resource.version)
    };
    let request = http::Request::delete(format!(
        "{base}/namespaces/{namespace}/{}/{name}",
        resource.plural
    ))
    .body(kube::client::Body::empty())
    .map_err(|e| Failure::new(e.to_string()))?;
    answer(
        client,
        request,
        &format!("DELETE {kind} {namespace}/{name}"),
    )
    .await
}

async fn answer(
    client: &Client,
    request: http::Request<kube::client::Body>,
    what: &str,
) -> Result<Answer, Failure> {
    let response = client
        .send(request)
        .await
        .map_err(|e| Failure::new(format!("{what}: {e}")))?;
    let warnings = response
        .headers()
        .get_all("warning")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(warning_text)
        .collect();
    let success = response.status().is_success();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| Failure::new(format!("reading the answer to {what}: {e}")))?
        .to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok(if success {
        Answer {
            object: Some(body),
            refusal: None,
            warnings,
        }
    } else {
        Answer {
            object: None,
            refusal: Some(body["message"].as_str().unwrap_or_default().to_owned()),
            warnings,
        }
    })
}

/// Fails unless one of the warnings mentions the rule and `text`.
pub fn warned(warnings: &[String], rule: &str, text: &str, what: &str) -> Result<(), Failure> {
    ensure(
        warnings
            .iter()
            .any(|w| w.contains(&format!("[{rule}]")) && w.contains(text)),
        || {
            format!(
                "{what}: expected a warning of {rule} mentioning {text:?}; the warnings were {warnings:?}"
            )
        },
    )
}

/// A MedusaBackupJob of `dc`.
pub fn backup_job(name: &str, dc: &str) -> Value {
    json!({"apiVersion": "medusa.k8ssandra.io/v1alpha1", "kind": "MedusaBackupJob",
           "metadata": {"name": name}, "spec": {"cassandraDatacenter": dc}})
}

/// A MedusaRestoreJob of `backup` into `dc`.
pub fn restore_job(name: &str, backup: &str, dc: &str) -> Value {
    json!({"apiVersion": "medusa.k8ssandra.io/v1alpha1", "kind": "MedusaRestoreJob",
           "metadata": {"name": name}, "spec": {"backup": backup, "cassandraDatacenter": dc}})
}

/// A MedusaTask.
pub fn task(name: &str, operation: &str, dc: &str) -> Value {
    json!({"apiVersion": "medusa.k8ssandra.io/v1alpha1", "kind": "MedusaTask",
           "metadata": {"name": name}, "spec": {"operation": operation, "cassandraDatacenter": dc}})
}

/// A backup schedule of `dc`.
pub fn schedule(name: &str, cron: &str, dc: &str) -> Value {
    json!({"apiVersion": "medusa.k8ssandra.io/v1alpha1", "kind": "MedusaBackupSchedule",
           "metadata": {"name": name},
           "spec": {"cronSchedule": cron, "backupSpec": {"cassandraDatacenter": dc}}})
}

/// A MedusaConfiguration with this storage.
pub fn configuration(name: &str, storage: Storage) -> Value {
    typed_json(&MedusaConfiguration::test(name).with_storage(storage))
}

/// A successful MedusaBackup of `nodes` nodes of dc1, with its status (create it with
/// [`create_with_status`]).
pub fn backup_record(name: &str, nodes: usize) -> Value {
    typed_json(
        &MedusaBackup::test(name)
            .topology("dc1", &[("default", nodes)])
            .times("2024-05-01T01:00:00Z", Some("2024-05-01T01:05:00Z")),
    )
}

/// A storage on S3 with a Secret, and this prefix.
pub fn s3(prefix: &str) -> Storage {
    Storage::test().with_prefix(prefix)
}

/// A storage on S3 with the pods' cloud identity, and this prefix.
pub fn role_based(prefix: &str) -> Storage {
    Storage::test()
        .with_prefix(prefix)
        .without_secret()
        .role_based()
}
