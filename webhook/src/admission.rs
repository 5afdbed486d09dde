//! The AdmissionReview wire format (`admission.k8s.io/v1`), written by hand.
//!
//! kube-rs's `AdmissionResponse` serializes `patch` as an array of numbers (kube-rs issue
//! 1781); the API server wants a base64 string. These types write exactly what it expects.

use std::borrow::Cow;

use base64::Engine as _;
use medusa_crds::rules::ObjectText;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

/// The review versions we answer. The API server sends v1 (our registration asks for it);
/// v1beta1 has the same shape and is echoed back as such.
pub const SUPPORTED_VERSIONS: [&str; 2] = ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"];

/// Why a request body is not a usable AdmissionReview (HTTP 400).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReviewError {
    /// Not JSON, or not the shape of an AdmissionReview.
    #[error("the body is not an AdmissionReview: {0}")]
    Malformed(String),
    /// Another apiVersion.
    #[error(
        "unsupported AdmissionReview apiVersion {0:?}: register the webhook with admissionReviewVersions: [v1]"
    )]
    Version(String),
    /// Not kind AdmissionReview.
    #[error("unsupported kind {0:?}: expected AdmissionReview")]
    Kind(String),
    /// No `request`.
    #[error("the AdmissionReview has no request")]
    NoRequest,
    /// An empty uid cannot be answered.
    #[error("the AdmissionReview request has no uid")]
    NoUid,
}

/// The `request` of an AdmissionReview: what the rules need, nothing more, borrowed from the
/// request body. Its objects are read in the same pass, as the rules read them
/// ([`ObjectText`]: a few metadata fields and the text of the spec); `O` is `IgnoredAny` only
/// to tell a malformed review from one whose object is unreadable.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "O: Deserialize<'de>"))]
pub struct AdmissionRequest<'a, O = ObjectText<'a>> {
    /// Echoed in the response.
    #[serde(default, borrow)]
    pub uid: Cow<'a, str>,
    /// The object's kind.
    #[serde(borrow)]
    pub kind: GroupKind<'a>,
    /// The object's namespace.
    #[serde(default, borrow)]
    pub namespace: Cow<'a, str>,
    /// The object's name (empty on CREATE with `generateName`).
    #[serde(default, borrow)]
    pub name: Cow<'a, str>,
    /// CREATE, UPDATE, DELETE or CONNECT.
    #[serde(borrow)]
    pub operation: Cow<'a, str>,
    /// The new object.
    #[serde(default)]
    pub object: Option<O>,
    /// The previous object.
    #[serde(default)]
    pub old_object: Option<O>,
    /// Whether the request is a dry run.
    #[serde(default)]
    pub dry_run: Option<bool>,
    /// Who asked, for the logs.
    #[serde(default, borrow)]
    pub user_info: UserInfo<'a>,
    /// Why the objects could not be read, when they could not (the review is then denied).
    #[serde(skip)]
    pub unreadable: Option<String>,
    /// Whether the review had a request (false only for the default of an absent one).
    #[serde(skip, default = "present")]
    present: bool,
}

fn present() -> bool {
    true
}

impl<'a> AdmissionRequest<'a, IgnoredAny> {
    /// The request without its objects, which could not be read for `why`.
    fn unreadable(self, why: String) -> AdmissionRequest<'a> {
        AdmissionRequest {
            uid: self.uid,
            kind: self.kind,
            namespace: self.namespace,
            name: self.name,
            operation: self.operation,
            object: None,
            old_object: None,
            dry_run: self.dry_run,
            user_info: self.user_info,
            unreadable: Some(why),
            present: self.present,
        }
    }
}

/// The group and kind of the request's object. Its version is not read: the webhook is
/// registered for the one version each kind is served in, and the rules read that one.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct GroupKind<'a> {
    /// API group (empty for core).
    #[serde(default, borrow)]
    pub group: Cow<'a, str>,
    /// Kind.
    #[serde(default, borrow)]
    pub kind: Cow<'a, str>,
}

/// The requesting user.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserInfo<'a> {
    /// User name.
    #[serde(default, borrow)]
    pub username: Cow<'a, str>,
}

/// A parsed review: the request and the apiVersion to answer with. It is decoded in place,
/// once, and returned as decoded (it is large, and each move of it is a copy).
#[derive(Debug, Deserialize)]
#[serde(
    rename_all = "camelCase",
    bound(deserialize = "O: Deserialize<'de> + Default")
)]
pub struct Review<'a, O = ObjectText<'a>> {
    /// The apiVersion to echo.
    #[serde(default, borrow)]
    pub api_version: Cow<'a, str>,
    #[serde(default, borrow)]
    kind: Cow<'a, str>,
    /// The request (its default when absent, which parsing refuses).
    #[serde(default, borrow)]
    pub request: AdmissionRequest<'a, O>,
}

/// Parses an AdmissionReview body, borrowing from it.
pub fn parse_review(body: &[u8]) -> Result<Review<'_>, ReviewError> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ReviewError::Malformed("expected a JSON object".into()));
    }
    // UTF-8 is checked once for the whole body; parsing from text then skips the per-string
    // checks (and those of the objects kept as raw JSON).
    let text = std::str::from_utf8(body)
        .map_err(|e| ReviewError::Malformed(format!("the body is not UTF-8: {e}")))?;
    let review: Review<'_> = match serde_json::from_str(text) {
        Ok(review) => review,
        // Not a review, or a review whose object is not an object: read again, the objects
        // skipped, to tell which (the API server's schema validation makes both rare).
        Err(object_error) => {
            let skipped: Review<'_, IgnoredAny> =
                serde_json::from_str(text).map_err(|e| ReviewError::Malformed(e.to_string()))?;
            Review {
                api_version: skipped.api_version,
                kind: skipped.kind,
                request: skipped.request.unreadable(object_error.to_string()),
            }
        }
    };
    if !SUPPORTED_VERSIONS.contains(&review.api_version.as_ref()) {
        return Err(ReviewError::Version(review.api_version.into_owned()));
    }
    if review.kind != "AdmissionReview" {
        return Err(ReviewError::Kind(review.kind.into_owned()));
    }
    if !review.request.present {
        return Err(ReviewError::NoRequest);
    }
    if review.request.uid.is_empty() {
        return Err(ReviewError::NoUid);
    }
    Ok(review)
}

/// The `status` of a denial.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Status {
    /// HTTP code: 403 for denials.
    pub code: u16,
    /// `Forbidden`.
    pub reason: &'static str,
    /// What is wrong and what to do.
    pub message: String,
}

/// The `response` of an AdmissionReview.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionResponse {
    /// The request's uid.
    pub uid: String,
    /// Whether the request is admitted.
    pub allowed: bool,
    /// The denial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Warnings shown by kubectl.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// A base64-encoded JSON patch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    /// `JSONPatch` when `patch` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_type: Option<&'static str>,
}

impl AdmissionResponse {
    /// Admits.
    pub fn allow(uid: &str) -> Self {
        Self {
            uid: uid.to_owned(),
            allowed: true,
            status: None,
            warnings: Vec::new(),
            patch: None,
            patch_type: None,
        }
    }

    /// Refuses with HTTP 403 and a message.
    pub fn deny(uid: &str, message: String) -> Self {
        Self {
            allowed: false,
            status: Some(Status {
                code: 403,
                reason: "Forbidden",
                message,
            }),
            ..Self::allow(uid)
        }
    }

    /// Adds warnings.
    pub fn with_warnings(mut self, warnings: Vec<String>) -> Self {
        self.warnings = warnings;
        self
    }

    /// Adds a JSON patch, base64-encoded as the API server expects (written directly: a test
    /// checks it against serde's encoding of every kind of operation).
    pub fn with_patch(mut self, patch: &[json_patch::PatchOperation]) -> Self {
        if patch.is_empty() {
            return self;
        }
        let mut json = Vec::with_capacity(64 + 96 * patch.len());
        crate::json::push_patch(&mut json, patch);
        self.patch = Some(base64::engine::general_purpose::STANDARD.encode(json));
        self.patch_type = Some("JSONPatch");
        self
    }
}

/// The response body: `{"apiVersion", "kind": "AdmissionReview", "response"}`, written
/// directly (the shape is fixed; strings are escaped by [`crate::json`]). A test checks it
/// against serde's encoding of the same response.
pub fn review_body(api_version: &str, response: &AdmissionResponse) -> Vec<u8> {
    use crate::json::{push_number, push_plain_str, push_str};
    // Sized for the whole answer up front: one allocation instead of a doubling series.
    let capacity = 128
        + api_version.len()
        + response.uid.len()
        + response.warnings.iter().map(|w| w.len() + 8).sum::<usize>()
        + response.status.as_ref().map_or(0, |s| s.message.len() + 64)
        + response.patch.as_ref().map_or(0, |p| p.len() + 32);
    let mut body = Vec::with_capacity(capacity);
    body.extend_from_slice(b"{\"apiVersion\":");
    if SUPPORTED_VERSIONS.contains(&api_version) {
        push_plain_str(&mut body, api_version);
    } else {
        push_str(&mut body, api_version);
    }
    body.extend_from_slice(b",\"kind\":\"AdmissionReview\",\"response\":{\"uid\":");
    push_str(&mut body, &response.uid);
    body.extend_from_slice(if response.allowed {
        b",\"allowed\":true"
    } else {
        b",\"allowed\":false"
    });
    if let Some(status) = &response.status {
        body.extend_from_slice(b",\"status\":{\"code\":");
        push_number(&mut body, u64::from(status.code));
        body.extend_from_slice(b",\"reason\":");
        push_plain_str(&mut body, status.reason);
        body.extend_from_slice(b",\"message\":");
        push_str(&mut body, &status.message);
        body.push(b'}');
    }
    if !response.warnings.is_empty() {
        body.extend_from_slice(b",\"warnings\":[");
        for (i, warning) in response.warnings.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            push_str(&mut body, warning);
        }
        body.push(b']');
    }
    if let Some(patch) = &response.patch {
        body.extend_from_slice(b",\"patch\":");
        push_plain_str(&mut body, patch); // base64
    }
    if let Some(patch_type) = response.patch_type {
        body.extend_from_slice(b",\"patchType\":");
        push_plain_str(&mut body, patch_type);
    }
    body.extend_from_slice(b"}}");
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use serde_json::Value;

    fn body(value: Value) -> Vec<u8> {
        serde_json::to_vec(&value).unwrap()
    }

    /// A v1 AdmissionReview around `request`.
    fn v1_review(request: Value) -> Vec<u8> {
        body(json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": request
        }))
    }

    #[test]
    fn a_v1_review_parses() {
        let bytes = v1_review(json!({
            "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
            "kind": {"group": "medusa.k8ssandra.io", "version": "v1alpha1", "kind": "MedusaBackupJob"},
            "resource": {"group": "medusa.k8ssandra.io", "version": "v1alpha1", "resource": "medusabackupjobs"},
            "namespace": "k8ssandra",
            "name": "nightly",
            "operation": "CREATE",
            "userInfo": {"username": "admin", "groups": ["system:masters"]},
            "object": {"spec": {"cassandraDatacenter": "dc1"}},
            "dryRun": true,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
        }));
        let review = parse_review(&bytes).unwrap();
        assert_eq!(review.request.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
        assert_eq!(review.request.kind.kind, "MedusaBackupJob");
        assert_eq!(review.request.dry_run, Some(true));
        assert_eq!(review.request.user_info.username, "admin");
    }

    #[test]
    fn the_object_is_read_in_the_same_pass_as_the_metadata_and_spec_text() {
        let bytes = v1_review(json!({
            "uid": "u", "kind": {"group": "medusa.k8ssandra.io", "version": "v1alpha1", "kind": "MedusaBackupJob"},
            "operation": "UPDATE",
            "object": {"metadata": {"name": "b", "managedFields": [{"manager": "m"}]}, "spec": {"cassandraDatacenter": "dc1"}, "status": {"x": 1}},
            "oldObject": {"metadata": {"generateName": "b-"}}
        }));
        let review = parse_review(&bytes).unwrap();
        let object = review.request.object.as_ref().unwrap();
        assert_eq!(object.metadata.name.as_deref(), Some("b"));
        assert_eq!(
            object.spec.unwrap().get(),
            r#"{"cassandraDatacenter":"dc1"}"#
        );
        let old = review.request.old_object.as_ref().unwrap();
        assert_eq!(old.generate_name(), Some("b-"));
        assert!(old.spec.is_none());
        assert_eq!(review.request.unreadable, None);
    }

    #[test]
    fn a_review_whose_object_is_not_an_object_parses_with_the_reason() {
        let bytes = v1_review(json!({
            "uid": "u2", "kind": {"group": "medusa.k8ssandra.io", "version": "v1alpha1", "kind": "MedusaTask"},
            "name": "t", "operation": "CREATE", "object": 5
        }));
        let review = parse_review(&bytes).unwrap();
        assert_eq!(review.request.uid, "u2");
        assert_eq!(review.request.name, "t");
        assert!(review.request.object.is_none());
        assert!(
            review
                .request
                .unreadable
                .as_deref()
                .unwrap()
                .starts_with("invalid type: integer `5`, expected a Kubernetes object"),
            "{:?}",
            review.request.unreadable
        );
    }

    #[test]
    fn garbage_is_malformed() {
        assert!(matches!(
            parse_review(b"{not json"),
            Err(ReviewError::Malformed(_))
        ));
        assert!(matches!(
            parse_review(b"[]"),
            Err(ReviewError::Malformed(_))
        ));
    }

    #[test]
    fn another_version_is_refused() {
        let err = parse_review(&body(
            json!({"apiVersion": "admission.k8s.io/v2", "kind": "AdmissionReview"}),
        ))
        .unwrap_err();
        assert_eq!(err, ReviewError::Version("admission.k8s.io/v2".into()));
    }

    #[test]
    fn a_review_without_request_is_refused() {
        let err = parse_review(&body(
            json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}),
        ))
        .unwrap_err();
        assert_eq!(err, ReviewError::NoRequest);
    }

    #[test]
    fn a_request_without_uid_is_refused() {
        let err = parse_review(&body(json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"kind": {"group": "", "version": "v1", "kind": "Pod"}, "operation": "CREATE"}
        })))
        .unwrap_err();
        assert_eq!(err, ReviewError::NoUid);
    }

    #[test]
    fn the_patch_is_a_base64_string_with_its_type() {
        let patch: Vec<json_patch::PatchOperation> = serde_json::from_value(
            json!([{"op": "add", "path": "/metadata/labels", "value": {"a": "b"}}]),
        )
        .unwrap();
        let response = AdmissionResponse::allow("u1").with_patch(&patch);
        let out: Value =
            serde_json::from_slice(&review_body("admission.k8s.io/v1", &response)).unwrap();
        let encoded = out["response"]["patch"].as_str().unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&decoded).unwrap(),
            json!([{"op": "add", "path": "/metadata/labels", "value": {"a": "b"}}])
        );
        assert_eq!(out["response"]["patchType"], "JSONPatch");
        assert_eq!(out["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(out["kind"], "AdmissionReview");
    }

    /// What serde writes for the same answer.
    fn serde_body(api_version: &str, response: &AdmissionResponse) -> Value {
        json!({"apiVersion": api_version, "kind": "AdmissionReview", "response": response})
    }

    #[test]
    fn the_written_body_is_what_serde_would_write_for_every_field() {
        let hostile = "a \"quoted\" \\ back\nslash\t\u{1} ünïcode";
        let patch: Vec<json_patch::PatchOperation> = serde_json::from_value(
            json!([{"op": "add", "path": "/metadata/labels", "value": {"a": hostile}}]),
        )
        .unwrap();
        let responses = [
            AdmissionResponse::allow("u1"),
            AdmissionResponse::allow(hostile),
            AdmissionResponse::deny("u2", format!("[J1] {hostile}")),
            AdmissionResponse::deny("u3", "no".into())
                .with_warnings(vec!["[K9] one".into(), hostile.into()]),
            AdmissionResponse::allow("u4").with_warnings(vec![String::new()]),
            AdmissionResponse::allow("u5").with_patch(&patch),
            AdmissionResponse::allow("u6")
                .with_warnings(vec!["w".into()])
                .with_patch(&patch),
        ];
        for version in SUPPORTED_VERSIONS {
            for response in &responses {
                let written: Value = serde_json::from_slice(&review_body(version, response))
                    .unwrap_or_else(|e| panic!("{response:?}: not JSON: {e}"));
                assert_eq!(written, serde_body(version, response), "{response:?}");
            }
        }
    }

    #[test]
    fn a_denial_carries_403_forbidden() {
        let response = AdmissionResponse::deny("u2", "no".into());
        let out: Value = serde_json::to_value(&response).unwrap();
        assert_eq!(
            out,
            json!({"uid": "u2", "allowed": false, "status": {"code": 403, "reason": "Forbidden", "message": "no"}})
        );
    }
}
