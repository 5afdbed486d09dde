//! A fake Kubernetes API server on a tower-test mock, and a runner for command lines.
//!
//! The fake keeps objects in memory and answers like the API server: GET, LIST (label and
//! field selectors), CREATE (with `dryRun=All`), merge and JSON PATCH, DELETE, WATCH from a
//! resourceVersion, discovery of the Medusa group, SelfSubjectAccessReviews, and errors as
//! `Status` objects (or the plain-text 404 of a group that is not installed). Every request is
//! recorded, so a test asserts the method, path, query and body of each call. Tests play the
//! operator by changing objects with [`Fake::put`] while a command runs.
#![allow(dead_code)] // each test binary uses a part

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use clap::Parser;
use futures::StreamExt;
use futures::channel::mpsc;
use http::{Request, Response};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, StreamBody};
use kube::client::Body;
use kubectl_medusa::cli::Cli;
use kubectl_medusa::context::Ctx;
use kubectl_medusa::error::ExitCode;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::Notify;

/// The namespace of the fixtures.
pub const NS: &str = medusa_crds::fixtures::NAMESPACE;

/// The fixed "now" of every command in the tests.
pub fn now() -> DateTime<Utc> {
    medusa_crds::fixtures::instant("2024-05-01T12:00:00Z")
}

type ResponseBody = UnsyncBoxBody<Bytes, Infallible>;
type Handle = tower_test::mock::Handle<Request<Body>, Response<ResponseBody>>;

/// One recorded request.
#[derive(Clone, Debug)]
pub struct Call {
    /// GET, POST, PATCH, DELETE.
    pub method: String,
    /// The path.
    pub path: String,
    /// The query parameters.
    pub query: BTreeMap<String, String>,
    /// The content type of the body.
    pub content_type: Option<String>,
    /// The body, as JSON.
    pub body: Option<Value>,
}

impl Call {
    /// Whether it is this method on this path.
    pub fn is(&self, method: &str, path: &str) -> bool {
        self.method == method && self.path == path
    }

    /// Whether it asked for a watch.
    pub fn is_watch(&self) -> bool {
        self.query
            .get("watch")
            .is_some_and(|v| v == "true" || v == "1")
    }

    /// Whether it was a server-side dry run.
    pub fn is_dry_run(&self) -> bool {
        self.query.get("dryRun").is_some_and(|v| v == "All")
    }

    /// `POST /path` for messages.
    pub fn line(&self) -> String {
        let query: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if query.is_empty() {
            format!("{} {}", self.method, self.path)
        } else {
            format!("{} {}?{}", self.method, self.path, query.join("&"))
        }
    }
}

/// The kinds the fake serves: apiVersion, kind, path prefix, plural, namespaced.
const KINDS: &[(&str, &str, &str, &str, bool)] = &[
    (
        "medusa.k8ssandra.io/v1alpha1",
        "MedusaBackupJob",
        "/apis/medusa.k8ssandra.io/v1alpha1",
        "medusabackupjobs",
        true,
    ),
    (
        "medusa.k8ssandra.io/v1alpha1",
        "MedusaBackup",
        "/apis/medusa.k8ssandra.io/v1alpha1",
        "medusabackups",
        true,
    ),
    (
        "medusa.k8ssandra.io/v1alpha1",
        "MedusaRestoreJob",
        "/apis/medusa.k8ssandra.io/v1alpha1",
        "medusarestorejobs",
        true,
    ),
    (
        "medusa.k8ssandra.io/v1alpha1",
        "MedusaTask",
        "/apis/medusa.k8ssandra.io/v1alpha1",
        "medusatasks",
        true,
    ),
    (
        "medusa.k8ssandra.io/v1alpha1",
        "MedusaBackupSchedule",
        "/apis/medusa.k8ssandra.io/v1alpha1",
        "medusabackupschedules",
        true,
    ),
    (
        "medusa.k8ssandra.io/v1alpha1",
        "MedusaConfiguration",
        "/apis/medusa.k8ssandra.io/v1alpha1",
        "medusaconfigurations",
        true,
    ),
    (
        "k8ssandra.io/v1alpha1",
        "K8ssandraCluster",
        "/apis/k8ssandra.io/v1alpha1",
        "k8ssandraclusters",
        true,
    ),
    (
        "cassandra.datastax.com/v1beta1",
        "CassandraDatacenter",
        "/apis/cassandra.datastax.com/v1beta1",
        "cassandradatacenters",
        true,
    ),
    ("v1", "Pod", "/api/v1", "pods", true),
    ("v1", "Secret", "/api/v1", "secrets", true),
    ("v1", "Namespace", "/api/v1", "namespaces", false),
    (
        "apps/v1",
        "Deployment",
        "/apis/apps/v1",
        "deployments",
        true,
    ),
];

fn kind_of_collection(prefix: &str, plural: &str) -> Option<(&'static str, &'static str, bool)> {
    KINDS
        .iter()
        .find(|(_, _, p, pl, _)| *p == prefix && *pl == plural)
        .map(|(v, k, _, _, namespaced)| (*v, *k, *namespaced))
}

fn collection_of_kind(api_version: &str, kind: &str) -> Option<(&'static str, &'static str)> {
    KINDS
        .iter()
        .find(|(v, k, _, _, _)| *v == api_version && *k == kind)
        .map(|(_, _, p, pl, _)| (*p, *pl))
}

/// A parsed resource path.
#[derive(Debug, Clone)]
struct Target {
    prefix: String,
    plural: String,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
}

fn parse_path(path: &str) -> Option<Target> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (prefix, rest) = match parts.as_slice() {
        ["api", "v1", rest @ ..] => ("/api/v1".to_owned(), rest),
        ["apis", group, version, rest @ ..] => (format!("/apis/{group}/{version}"), rest),
        _ => return None,
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, plural, rest @ ..] => (Some((*ns).to_owned()), {
            let mut v = vec![*plural];
            v.extend_from_slice(rest);
            v
        }),
        other => (None, other.to_vec()),
    };
    // `/api/v1/namespaces/NAME` is the namespace object itself.
    if prefix == "/api/v1" && rest.is_empty() {
        return Some(Target {
            prefix,
            plural: "namespaces".into(),
            namespace: None,
            name: namespace,
            subresource: None,
        });
    }
    Some(Target {
        prefix,
        plural: (*rest.first()?).to_owned(),
        namespace,
        name: rest.get(1).map(|s| (*s).to_owned()),
        subresource: rest.get(2).map(|s| (*s).to_owned()),
    })
}

/// A canned failure for matching requests.
#[derive(Clone, Debug)]
struct Failure {
    method: String,
    path_suffix: String,
    code: u16,
    reason: String,
    message: String,
}

struct Watcher {
    prefix: String,
    plural: String,
    namespace: Option<String>,
    name: Option<String>,
    labels: Option<String>,
    sender: mpsc::UnboundedSender<Bytes>,
}

#[derive(Default)]
struct State {
    /// (prefix, plural) -> (namespace, name) -> object.
    objects: BTreeMap<(String, String), BTreeMap<(String, String), Value>>,
    /// Every change: (resourceVersion, prefix, plural, type, object).
    log: Vec<(u64, String, String, &'static str, Value)>,
    resource_version: u64,
    calls: Vec<Call>,
    failures: Vec<Failure>,
    /// Groups the API server does not serve (CRDs not installed).
    missing_groups: BTreeSet<String>,
    /// For SelfSubjectAccessReviews: `verb resource.group` denied.
    denied: BTreeSet<String>,
    watchers: Vec<Watcher>,
    uid: u64,
}

/// The fake API server.
#[derive(Clone)]
pub struct Fake {
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
}

fn respond(code: u16, body: &Value) -> Response<ResponseBody> {
    let bytes = Bytes::from(serde_json::to_vec(body).unwrap_or_default());
    Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(
            http_body_util::Full::new(bytes)
                .map_err(|never| match never {})
                .boxed_unsync(),
        )
        .unwrap()
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "reason": reason, "message": message, "code": code})
}

fn reason_of(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "AlreadyExists",
        422 => "Invalid",
        _ => "InternalError",
    }
}

/// Matches `a=b,c!=d,e,!f` (the equality-based selectors kubectl users type).
pub fn selector_matches(selector: &str, labels: &serde_json::Map<String, Value>) -> bool {
    selector
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .all(|term| {
            let get = |k: &str| labels.get(k.trim()).and_then(Value::as_str);
            if let Some((k, v)) = term.split_once("!=") {
                get(k) != Some(v.trim())
            } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                get(k) == Some(v.trim())
            } else if let Some(k) = term.strip_prefix('!') {
                get(k).is_none()
            } else {
                get(term).is_some()
            }
        })
}

fn field_matches(selector: &str, object: &Value) -> bool {
    selector.split(',').filter(|s| !s.is_empty()).all(|term| {
        let Some((field, value)) = term.split_once('=') else {
            return true;
        };
        let pointer = format!("/{}", field.replace('.', "/"));
        object.pointer(&pointer).and_then(Value::as_str) == Some(value)
    })
}

fn labels_of(object: &Value) -> serde_json::Map<String, Value> {
    object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

impl Fake {
    /// A client on a new fake API server, and the fake.
    pub fn start() -> (kube::Client, Self) {
        let (mock, handle) = tower_test::mock::pair::<Request<Body>, Response<ResponseBody>>();
        let fake = Self {
            state: Arc::new(Mutex::new(State::default())),
            changed: Arc::new(Notify::new()),
        };
        let server = fake.clone();
        tokio::spawn(async move { server.serve(handle).await });
        (kube::Client::new(mock, "default"), fake)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds or replaces an object (typed or JSON), as the operator or another user would,
    /// and tells the watchers.
    pub fn put(&self, object: &impl Serialize) -> &Self {
        let mut value = serde_json::to_value(object).unwrap();
        let api_version = value["apiVersion"].as_str().unwrap_or_default().to_owned();
        let kind = value["kind"].as_str().unwrap_or_default().to_owned();
        let (prefix, plural) = collection_of_kind(&api_version, &kind)
            .unwrap_or_else(|| panic!("the fake does not serve {api_version} {kind}"));
        let namespace = value
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let name = value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let mut state = self.lock();
        let existed = state
            .objects
            .get(&(prefix.to_owned(), plural.to_owned()))
            .is_some_and(|m| m.contains_key(&(namespace.clone(), name.clone())));
        Self::stamp(&mut state, &mut value);
        Self::store(
            &mut state,
            prefix,
            plural,
            namespace,
            name,
            if existed { "MODIFIED" } else { "ADDED" },
            value,
        );
        drop(state);
        self.changed.notify_waiters();
        self
    }

    /// Puts many objects.
    pub fn with<T: Serialize>(self, objects: impl IntoIterator<Item = T>) -> Self {
        for object in objects {
            self.put(&object);
        }
        self
    }

    /// Removes an object and tells the watchers.
    pub fn remove(&self, api_version: &str, kind: &str, namespace: &str, name: &str) {
        let (prefix, plural) = collection_of_kind(api_version, kind).unwrap();
        let mut state = self.lock();
        let removed = state
            .objects
            .get_mut(&(prefix.to_owned(), plural.to_owned()))
            .and_then(|m| m.remove(&(namespace.to_owned(), name.to_owned())));
        if let Some(object) = removed {
            Self::emit(&mut state, prefix, plural, "DELETED", object);
        }
    }

    /// An object as stored now.
    pub fn get(&self, plural: &str, namespace: &str, name: &str) -> Option<Value> {
        let state = self.lock();
        state
            .objects
            .iter()
            .find(|((_, p), _)| p == plural)
            .and_then(|(_, m)| m.get(&(namespace.to_owned(), name.to_owned())))
            .cloned()
    }

    /// Every request so far.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// The requests that change something (not GET).
    pub fn writes(&self) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method != "GET")
            .collect()
    }

    /// The requests as `METHOD /path?query` lines, watches excluded.
    pub fn call_lines(&self) -> Vec<String> {
        self.calls()
            .iter()
            .filter(|c| !c.is_watch())
            .map(Call::line)
            .collect()
    }

    /// Makes requests whose method matches and whose path ends with `path_suffix` fail.
    pub fn fail(&self, method: &str, path_suffix: &str, code: u16, message: &str) -> &Self {
        self.lock().failures.push(Failure {
            method: method.to_owned(),
            path_suffix: path_suffix.to_owned(),
            code,
            reason: reason_of(code).to_owned(),
            message: message.to_owned(),
        });
        self
    }

    /// The API server does not serve this group: its CRDs are not installed.
    pub fn without_group(self, group: &str) -> Self {
        self.lock().missing_groups.insert(group.to_owned());
        self
    }

    /// SelfSubjectAccessReviews deny `verb` on `resource` (`medusabackupjobs.medusa.k8ssandra.io`).
    pub fn deny(self, verb: &str, resource: &str) -> Self {
        self.lock().denied.insert(format!("{verb} {resource}"));
        self
    }

    /// Waits until a request matches.
    pub async fn seen(&self, matches: impl Fn(&Call) -> bool) -> Call {
        loop {
            let notified = self.changed.notified();
            if let Some(call) = self.calls().into_iter().find(&matches) {
                return call;
            }
            notified.await;
        }
    }

    /// Waits until an object was created (not a dry run) in the collection.
    pub async fn created(&self, plural: &str) -> Value {
        let call = self
            .seen(|c| {
                c.method == "POST" && c.path.ends_with(&format!("/{plural}")) && !c.is_dry_run()
            })
            .await;
        call.body.unwrap_or_default()
    }

    /// Waits until a watch of the collection is open.
    pub async fn watching(&self, plural: &str) {
        self.seen(|c| c.is_watch() && c.path.ends_with(&format!("/{plural}")))
            .await;
    }

    fn stamp(state: &mut State, value: &mut Value) {
        state.resource_version += 1;
        let rv = state.resource_version.to_string();
        if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("resourceVersion".into(), Value::String(rv));
        }
    }

    fn emit(state: &mut State, prefix: &str, plural: &str, kind: &'static str, object: Value) {
        let rv = state.resource_version;
        let event = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap();
        let mut line = event;
        line.push(b'\n');
        let bytes = Bytes::from(line);
        let namespace = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str);
        let name = object.pointer("/metadata/name").and_then(Value::as_str);
        let labels = labels_of(&object);
        state.watchers.retain(|w| {
            let matches = w.prefix == prefix
                && w.plural == plural
                && (w.namespace.is_none() || w.namespace.as_deref() == namespace)
                && (w.name.is_none() || w.name.as_deref() == name)
                && w.labels
                    .as_deref()
                    .is_none_or(|s| selector_matches(s, &labels));
            !matches || w.sender.unbounded_send(bytes.clone()).is_ok()
        });
        state
            .log
            .push((rv, prefix.to_owned(), plural.to_owned(), kind, object));
    }

    fn store(
        state: &mut State,
        prefix: &str,
        plural: &str,
        namespace: String,
        name: String,
        kind: &'static str,
        value: Value,
    ) {
        state
            .objects
            .entry((prefix.to_owned(), plural.to_owned()))
            .or_default()
            .insert((namespace, name), value.clone());
        Self::emit(state, prefix, plural, kind, value);
    }

    /// Stores a created or patched object (unless a dry run) and answers with it.
    fn commit(
        state: &mut State,
        target: &Target,
        call: &Call,
        name: String,
        kind: &'static str,
        mut object: Value,
    ) -> Response<ResponseBody> {
        let code = if kind == "ADDED" { 201 } else { 200 };
        if call.is_dry_run() {
            return respond(code, &object);
        }
        Self::stamp(state, &mut object);
        Self::store(
            state,
            &target.prefix,
            &target.plural,
            target.namespace.clone().unwrap_or_default(),
            name,
            kind,
            object.clone(),
        );
        respond(code, &object)
    }

    async fn serve(self, handle: Handle) {
        let mut handle = pin!(handle);
        while let Some((request, send)) = handle.next_request().await {
            let response = self.answer(request).await;
            send.send_response(response);
            self.changed.notify_waiters();
        }
    }

    async fn answer(&self, request: Request<Body>) -> Response<ResponseBody> {
        let method = request.method().to_string();
        let path = request.uri().path().to_owned();
        let query: BTreeMap<String, String> = request
            .uri()
            .query()
            .map(|q| {
                url_pairs(q)
                    .into_iter()
                    .collect::<BTreeMap<String, String>>()
            })
            .unwrap_or_default();
        let content_type = request
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = request
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let body: Option<Value> = if bytes.is_empty() {
            None
        } else {
            serde_json::from_slice(&bytes).ok()
        };
        let call = Call {
            method: method.clone(),
            path: path.clone(),
            query: query.clone(),
            content_type: content_type.clone(),
            body: body.clone(),
        };
        let mut state = self.lock();
        state.calls.push(call.clone());
        if let Some(failure) = state
            .failures
            .iter()
            .find(|f| f.method == method && path.ends_with(&f.path_suffix))
        {
            return respond(
                failure.code,
                &status(failure.code, &failure.reason, &failure.message),
            );
        }
        if let Some(group) = state
            .missing_groups
            .iter()
            .find(|g| path.starts_with(&format!("/apis/{g}/")) || path == format!("/apis/{g}"))
        {
            let _ = group;
            return Response::builder()
                .status(404)
                .header("content-type", "text/plain")
                .body(
                    http_body_util::Full::new(Bytes::from_static(b"404 page not found\n"))
                        .map_err(|never| match never {})
                        .boxed_unsync(),
                )
                .unwrap();
        }
        if path == "/apis" {
            return respond(200, &discovery_groups(&state.missing_groups));
        }
        if path == "/apis/medusa.k8ssandra.io/v1alpha1" {
            return respond(200, &medusa_resources());
        }
        if method == "POST" && path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews" {
            let mut review = body.unwrap_or_default();
            let attributes = &review["spec"]["resourceAttributes"];
            let group = attributes["group"].as_str().unwrap_or_default();
            let resource = attributes["resource"].as_str().unwrap_or_default();
            let verb = attributes["verb"].as_str().unwrap_or_default();
            let full = if group.is_empty() {
                resource.to_owned()
            } else {
                format!("{resource}.{group}")
            };
            let allowed = !state.denied.contains(&format!("{verb} {full}"));
            review["status"] = json!({"allowed": allowed});
            return respond(201, &review);
        }
        let Some(target) = parse_path(&path) else {
            return respond(
                404,
                &status(
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                ),
            );
        };
        let Some((api_version, kind, _)) = kind_of_collection(&target.prefix, &target.plural)
        else {
            return respond(
                404,
                &status(
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                ),
            );
        };
        let collection = (target.prefix.clone(), target.plural.clone());
        let key = |name: &str| {
            (
                target.namespace.clone().unwrap_or_default(),
                name.to_owned(),
            )
        };
        let singular = kind.to_lowercase();
        let not_found = |name: &str| {
            respond(
                404,
                &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                        "reason": "NotFound", "code": 404,
                        "message": format!("{}.{} \"{name}\" not found", target.plural, group_of(api_version)),
                        "details": {"name": name, "kind": target.plural}}),
            )
        };
        let _ = singular;
        match (method.as_str(), target.name.as_deref()) {
            ("GET", None) if call.is_watch() => {
                let since: u64 = query
                    .get("resourceVersion")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let field_name = query.get("fieldSelector").and_then(|f| {
                    f.split(',')
                        .find_map(|t| t.strip_prefix("metadata.name="))
                        .map(str::to_owned)
                });
                let (sender, receiver) = mpsc::unbounded::<Bytes>();
                let labels = query.get("labelSelector").cloned();
                for (rv, prefix, plural, kind, object) in &state.log {
                    let matches = *rv > since
                        && *prefix == target.prefix
                        && *plural == target.plural
                        && (target.namespace.is_none()
                            || object
                                .pointer("/metadata/namespace")
                                .and_then(Value::as_str)
                                == target.namespace.as_deref())
                        && (field_name.is_none()
                            || object.pointer("/metadata/name").and_then(Value::as_str)
                                == field_name.as_deref())
                        && labels
                            .as_deref()
                            .is_none_or(|s| selector_matches(s, &labels_of(object)));
                    if matches {
                        let mut line =
                            serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap();
                        line.push(b'\n');
                        let _ = sender.unbounded_send(Bytes::from(line));
                    }
                }
                state.watchers.push(Watcher {
                    prefix: target.prefix.clone(),
                    plural: target.plural.clone(),
                    namespace: target.namespace.clone(),
                    name: field_name,
                    labels,
                    sender,
                });
                let stream = receiver.map(|b| Ok::<_, Infallible>(http_body::Frame::data(b)));
                Response::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(StreamBody::new(stream).boxed_unsync())
                    .unwrap()
            }
            ("GET", None) => {
                let labels = query.get("labelSelector");
                let fields = query.get("fieldSelector");
                let items: Vec<Value> = state
                    .objects
                    .get(&collection)
                    .map(|m| {
                        m.iter()
                            .filter(|((ns, _), _)| {
                                target.namespace.as_ref().is_none_or(|t| t == ns)
                            })
                            .map(|(_, v)| v.clone())
                            .filter(|v| labels.is_none_or(|s| selector_matches(s, &labels_of(v))))
                            .filter(|v| fields.is_none_or(|s| field_matches(s, v)))
                            .collect()
                    })
                    .unwrap_or_default();
                // Pages, as the API server cuts them: `limit` items from the `continue` offset.
                let start: usize = query
                    .get("continue")
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(0);
                let limit: usize = query
                    .get("limit")
                    .and_then(|l| l.parse().ok())
                    .filter(|l| *l > 0)
                    .unwrap_or(usize::MAX);
                let end = start.saturating_add(limit).min(items.len());
                let mut metadata = json!({"resourceVersion": state.resource_version.to_string()});
                if end < items.len() {
                    metadata["continue"] = json!(end.to_string());
                    metadata["remainingItemCount"] = json!(items.len() - end);
                }
                respond(
                    200,
                    &json!({"apiVersion": api_version, "kind": format!("{kind}List"),
                            "metadata": metadata,
                            "items": items.get(start..end).unwrap_or_default()}),
                )
            }
            ("GET", Some(name)) => match state
                .objects
                .get(&collection)
                .and_then(|m| m.get(&key(name)))
            {
                Some(object) => respond(200, object),
                None => not_found(name),
            },
            ("POST", None) => {
                let mut object = body.unwrap_or_default();
                let Some(name) = object
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                else {
                    return respond(
                        422,
                        &status(422, "Invalid", "metadata.name: Required value"),
                    );
                };
                if state
                    .objects
                    .get(&collection)
                    .is_some_and(|m| m.contains_key(&key(&name)))
                {
                    return respond(
                        409,
                        &status(
                            409,
                            "AlreadyExists",
                            &format!(
                                "{}.{} \"{name}\" already exists",
                                target.plural,
                                group_of(api_version)
                            ),
                        ),
                    );
                }
                state.uid += 1;
                let uid = format!("00000000-0000-0000-0000-{:012}", state.uid);
                if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                    if let Some(ns) = &target.namespace {
                        meta.insert("namespace".into(), Value::String(ns.clone()));
                    }
                    meta.insert("uid".into(), Value::String(uid));
                    meta.insert("generation".into(), json!(1));
                    meta.entry("creationTimestamp").or_insert_with(|| {
                        Value::String(now().format("%Y-%m-%dT%H:%M:%SZ").to_string())
                    });
                }
                Self::commit(&mut state, &target, &call, name, "ADDED", object)
            }
            ("PATCH", Some(name)) => {
                let Some(mut object) = state
                    .objects
                    .get(&collection)
                    .and_then(|m| m.get(&key(name)))
                    .cloned()
                else {
                    return not_found(name);
                };
                let patch = body.unwrap_or_default();
                match content_type.as_deref() {
                    Some("application/json-patch+json") => {
                        let Ok(patch) = serde_json::from_value::<json_patch::Patch>(patch) else {
                            return respond(400, &status(400, "BadRequest", "invalid JSON patch"));
                        };
                        if let Err(e) = json_patch::patch(&mut object, &patch) {
                            return respond(422, &status(422, "Invalid", &e.to_string()));
                        }
                    }
                    _ => json_patch::merge(&mut object, &patch),
                }
                Self::commit(
                    &mut state,
                    &target,
                    &call,
                    name.to_owned(),
                    "MODIFIED",
                    object,
                )
            }
            ("DELETE", Some(name)) => {
                let removed = state
                    .objects
                    .get_mut(&collection)
                    .and_then(|m| m.remove(&key(name)));
                match removed {
                    Some(object) => {
                        Self::emit(
                            &mut state,
                            &target.prefix,
                            &target.plural,
                            "DELETED",
                            object,
                        );
                        respond(
                            200,
                            &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                    "details": {"name": name, "kind": target.plural}}),
                        )
                    }
                    None => not_found(name),
                }
            }
            _ => respond(405, &status(405, "MethodNotAllowed", "method not allowed")),
        }
    }
}

fn group_of(api_version: &str) -> &str {
    api_version.split_once('/').map_or("", |(g, _)| g)
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn discovery_groups(missing: &BTreeSet<String>) -> Value {
    let groups: Vec<Value> = [
        ("medusa.k8ssandra.io", "v1alpha1"),
        ("k8ssandra.io", "v1alpha1"),
        ("cassandra.datastax.com", "v1beta1"),
        ("apps", "v1"),
        ("authorization.k8s.io", "v1"),
    ]
    .iter()
    .filter(|(g, _)| !missing.contains(*g))
    .map(|(g, v)| {
        json!({"name": g, "versions": [{"groupVersion": format!("{g}/{v}"), "version": v}],
               "preferredVersion": {"groupVersion": format!("{g}/{v}"), "version": v}})
    })
    .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn medusa_resources() -> Value {
    let resources: Vec<Value> = KINDS
        .iter()
        .filter(|(v, ..)| v.starts_with("medusa.k8ssandra.io/"))
        .map(|(_, kind, _, plural, _)| {
            json!({"name": plural, "singularName": kind.to_lowercase(), "namespaced": true, "kind": kind,
                   "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]})
        })
        .collect();
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "medusa.k8ssandra.io/v1alpha1",
           "resources": resources})
}

/// A pod of a datacenter, with or without the medusa container.
pub fn pod(name: &str, cluster: &str, dc: &str, medusa: bool) -> Value {
    let mut containers = vec![json!({"name": "cassandra", "image": "cassandra"})];
    if medusa {
        containers.push(json!({"name": "medusa", "image": "medusa"}));
    }
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": {
            "cassandra.datastax.com/cluster": cluster,
            "cassandra.datastax.com/datacenter": dc,
        }},
        "spec": {"containers": containers}
    })
}

/// What a command did.
#[derive(Debug)]
pub struct Outcome {
    /// The exit code.
    pub code: ExitCode,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// How to run a command line.
pub struct Run {
    client: Option<kube::Client>,
    answer: Option<bool>,
    terminal: bool,
}

impl Run {
    /// Against this client.
    pub fn on(client: &kube::Client) -> Self {
        Self {
            client: Some(client.clone()),
            answer: None,
            terminal: false,
        }
    }

    /// With no cluster at all: any API call fails.
    pub fn offline() -> Self {
        Self {
            client: None,
            answer: None,
            terminal: false,
        }
    }

    /// A person at the terminal answers confirmations so.
    pub fn answering(mut self, yes: bool) -> Self {
        self.answer = Some(yes);
        self
    }

    /// Standard output is a terminal.
    pub fn on_terminal(mut self) -> Self {
        self.terminal = true;
        self
    }

    /// Runs `kubectl medusa <line>` (`-n k8ssandra` unless the line gives a namespace).
    pub async fn run(self, line: &str) -> Outcome {
        self.run_for(line, None).await
    }

    /// Runs a command that does not end by itself (`-w`) for `limit`, then stops it, as Ctrl-C
    /// would: the outcome then has exit code 130 and what was printed so far.
    pub async fn run_until_stopped(self, line: &str, limit: std::time::Duration) -> Outcome {
        self.run_for(line, Some(limit)).await
    }

    async fn run_for(self, line: &str, limit: Option<std::time::Duration>) -> Outcome {
        let mut words = vec!["kubectl-medusa".to_owned()];
        words.extend(split_words(line));
        if !words
            .iter()
            .any(|w| w == "-n" || w == "--namespace" || w == "-A")
        {
            words.extend(["-n".to_owned(), NS.to_owned()]);
        }
        let cli = match Cli::try_parse_from(&words) {
            Ok(cli) => cli,
            Err(e) => panic!("{line:?} does not parse: {e}"),
        };
        let mut global = cli.global.clone();
        if self.client.is_none() {
            // No kubeconfig: any attempt to reach a cluster fails.
            global.kubeconfig = Some("/nonexistent/kubeconfig".into());
        }
        let (ctx, out, err) = Ctx::for_test(self.client, NS, now(), self.answer);
        let ctx = ctx.with_global(global).with_terminal(self.terminal);
        let command = kubectl_medusa::run(&ctx, cli.command);
        let result = match limit {
            None => Some(command.await),
            Some(limit) => tokio::time::timeout(limit, command).await.ok(),
        };
        let code = match result {
            None => ExitCode::Interrupted,
            Some(Ok(())) => ExitCode::Success,
            Some(Err(error)) => {
                let _ = ctx.err.line(format!("error: {error}"));
                error.exit_code()
            }
        };
        Outcome {
            code,
            stdout: out.text(),
            stderr: err.text(),
        }
    }
}

/// Splits a command line on spaces, keeping single- or double-quoted words whole.
pub fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut has_word = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => current.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                has_word = true;
            }
            (None, ' ') => {
                if has_word || !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                    has_word = false;
                }
            }
            (None, c) => current.push(c),
        }
    }
    if has_word || !current.is_empty() {
        words.push(current);
    }
    words
}
