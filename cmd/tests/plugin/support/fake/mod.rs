//! A fake Kubernetes API server that answers like the real one, request by request.
//!
//! It keeps objects in memory and serves GET, LIST (label and field selectors, pages), WATCH
//! from a resourceVersion, CREATE (with `dryRun=All`), UPDATE and merge or JSON PATCH of an
//! object or of its `status` subresource, DELETE, discovery, and SelfSubjectAccessReviews, with
//! the real API server's rules ([`store`]): a create drops the status of a kind with a status
//! subresource, only `/status` writes change it, an update needs the current resourceVersion.
//! Errors are `Status` objects, or the plain-text 404 of a group that is not installed.
//!
//! Every request is recorded, so a test asserts the method, path, query and body of each call.
//! It is served to in-process commands through a `tower-test` mock ([`Fake::start`]), or over
//! HTTPS with token and client-certificate users to the built binary ([`https`]).

pub mod https;
mod kinds;
mod route;
mod select;
mod store;

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{Request, Response};
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;
use kube::client::Body;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Notify;

use kinds::Target;
use store::{ApiError, Store};

/// The body of the fake's answers.
pub type ResponseBody = UnsyncBoxBody<Bytes, Infallible>;
type Handle = tower_test::mock::Handle<Request<Body>, Response<ResponseBody>>;

/// One recorded request.
#[derive(Clone, Debug)]
pub struct Call {
    /// GET, POST, PUT, PATCH, DELETE.
    pub method: String,
    /// The path.
    pub path: String,
    /// The query parameters.
    pub query: BTreeMap<String, String>,
    /// The content type of the body.
    pub content_type: Option<String>,
    /// The body, as JSON.
    pub body: Option<Value>,
    /// Who sent it (HTTPS only: the token's or the client certificate's user).
    pub user: Option<String>,
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

    /// Whether our plugin's field manager made this create, update or patch (the simulated
    /// operator's is `k8ssandra-operator`; a DELETE names none).
    pub fn is_from_the_plugin(&self) -> bool {
        self.query.get("fieldManager").map(String::as_str) == Some("kubectl-medusa")
    }

    /// `POST /path?query` for messages.
    pub fn line(&self) -> String {
        let query: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if query.is_empty() {
            format!("{} {}", self.method, self.path)
        } else {
            format!("{} {}?{}", self.method, self.path, query.join("&"))
        }
    }

    /// What RBAC must allow for this request: verb, API group and resource (with its
    /// subresource); `None` for the API server's non-resource paths (discovery).
    pub fn permission(&self) -> Option<(String, String, String)> {
        let target = kinds::parse_path(&self.path)?;
        let group = target
            .prefix
            .strip_prefix("/apis/")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or("")
            .to_owned();
        let resource = match &target.subresource {
            Some(sub) => format!("{}/{sub}", target.plural),
            None => target.plural.clone(),
        };
        Some((self.verb(&target).to_owned(), group, resource))
    }

    /// The RBAC verb of the request.
    fn verb(&self, target: &Target) -> &'static str {
        match (self.method.as_str(), target.name.is_some()) {
            ("GET", _) if self.is_watch() => "watch",
            ("GET", true) => "get",
            ("GET", false) => "list",
            ("POST", _) => "create",
            ("PUT", _) => "update",
            ("PATCH", _) => "patch",
            ("DELETE", _) => "delete",
            _ => "unknown",
        }
    }
}

/// A canned failure for matching requests.
#[derive(Clone, Debug)]
struct Failure {
    method: String,
    path_suffix: String,
    error: ApiError,
}

fn reason_of(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "AlreadyExists",
        422 => "Invalid",
        429 => "TooManyRequests",
        _ => "InternalError",
    }
}

#[derive(Default)]
struct State {
    store: Store,
    calls: Vec<Call>,
    failures: Vec<Failure>,
    /// Groups the API server does not serve (CRDs not installed).
    missing_groups: BTreeSet<String>,
    /// `(user or everyone, "verb resource")` refused, in requests and in access reviews.
    denied: BTreeSet<(Option<String>, String)>,
    /// Container logs by (namespace, pod, container): lines of `timestamp text`.
    logs: BTreeMap<(String, String, String), Vec<(String, String)>>,
}

impl State {
    fn denies(&self, user: Option<&str>, verb: &str, resource: &str) -> bool {
        let wanted = format!("{verb} {resource}");
        self.denied
            .iter()
            .any(|(who, what)| *what == wanted && (who.is_none() || who.as_deref() == user))
    }
}

/// The fake API server.
#[derive(Clone)]
pub struct Fake {
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
    base: DateTime<Utc>,
    started: tokio::time::Instant,
}

/// A response with a JSON body.
pub fn respond(code: u16, body: &Value) -> Response<ResponseBody> {
    let bytes = Bytes::from(serde_json::to_vec(body).unwrap_or_default());
    Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(
            http_body_util::Full::new(bytes)
                .map_err(|never| match never {})
                .boxed_unsync(),
        )
        .expect("a valid response")
}

fn refuse(error: &ApiError) -> Response<ResponseBody> {
    respond(error.code, &error.status())
}

fn plain_not_found() -> Response<ResponseBody> {
    Response::builder()
        .status(404)
        .header("content-type", "text/plain")
        .body(
            http_body_util::Full::new(Bytes::from_static(b"404 page not found\n"))
                .map_err(|never| match never {})
                .boxed_unsync(),
        )
        .expect("a valid response")
}

fn no_such_resource() -> ApiError {
    ApiError::new(
        404,
        "NotFound",
        "the server could not find the requested resource",
    )
}

/// A request as the fake reads it, whatever brought it.
pub struct Incoming {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub content_type: Option<String>,
    pub body: Bytes,
    pub user: Option<String>,
}

impl Incoming {
    /// Reads a request whole, as `user` (None: unauthenticated, the in-process mock).
    pub async fn read<B: http_body::Body>(request: Request<B>, user: Option<String>) -> Self {
        let (parts, body) = request.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        Self {
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            content_type: parts
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body,
            user,
        }
    }
}

impl Fake {
    /// A client on a new fake API server whose clock starts at the tests' "now", and the fake.
    pub fn start() -> (kube::Client, Self) {
        Self::start_at(super::now())
    }

    /// A client on a new fake API server whose clock starts at `base`, and the fake.
    pub fn start_at(base: DateTime<Utc>) -> (kube::Client, Self) {
        let (mock, handle) = tower_test::mock::pair::<Request<Body>, Response<ResponseBody>>();
        let fake = Self::new(base);
        let server = fake.clone();
        tokio::spawn(async move { server.serve_mock(handle).await });
        (kube::Client::new(mock, "default"), fake)
    }

    /// A fake with no transport yet (see [`https`]).
    pub fn new(base: DateTime<Utc>) -> Self {
        Self {
            state: Arc::new(Mutex::new(State::default())),
            changed: Arc::new(Notify::new()),
            base,
            started: tokio::time::Instant::now(),
        }
    }

    /// The fake's clock: its start plus the (possibly paused) time since.
    pub fn now(&self) -> DateTime<Utc> {
        self.base + chrono::Duration::from_std(self.started.elapsed()).unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds or replaces an object (typed or JSON) as it is, as someone who is not a client of
    /// ours would (an operator's fixture, another user), and tells the watchers.
    pub fn put(&self, object: &impl Serialize) -> &Self {
        let value = serde_json::to_value(object).expect("a serializable object");
        let api_version = value["apiVersion"].as_str().unwrap_or_default().to_owned();
        let kind_name = value["kind"].as_str().unwrap_or_default().to_owned();
        let kind = kinds::by_type(&api_version, &kind_name)
            .unwrap_or_else(|| panic!("the fake does not serve {api_version} {kind_name}"));
        self.lock().store.put(kind, value);
        self.changed.notify_waiters();
        self
    }

    /// Removes an object and tells the watchers.
    pub fn remove(&self, api_version: &str, kind: &str, namespace: &str, name: &str) {
        let kind = kinds::by_type(api_version, kind).expect("a kind the fake serves");
        let _ = self.lock().store.remove(kind, namespace, name);
        self.changed.notify_waiters();
    }

    /// An object as stored now.
    pub fn get(&self, plural: &str, namespace: &str, name: &str) -> Option<Value> {
        let kind = kinds::KINDS.iter().find(|k| k.plural == plural)?;
        self.lock().store.get(kind, namespace, name).ok()
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

    /// [`Fake::call_lines`] as a set: for requests a command makes at once, whose order of
    /// arrival means nothing.
    pub fn call_set(&self) -> BTreeSet<String> {
        self.call_lines().into_iter().collect()
    }

    /// Makes requests whose method matches and whose path ends with `path_suffix` fail.
    pub fn fail(&self, method: &str, path_suffix: &str, code: u16, message: &str) -> &Self {
        self.lock().failures.push(Failure {
            method: method.to_owned(),
            path_suffix: path_suffix.to_owned(),
            error: ApiError::new(code, reason_of(code), message),
        });
        self
    }

    /// The API server does not serve this group: its CRDs are not installed.
    pub fn without_group(self, group: &str) -> Self {
        self.lock().missing_groups.insert(group.to_owned());
        self
    }

    /// Nobody may `verb` on `resource` (`medusabackupjobs.medusa.k8ssandra.io`): requests get a
    /// 403 and access reviews say no.
    pub fn deny(self, verb: &str, resource: &str) -> Self {
        self.lock()
            .denied
            .insert((None, format!("{verb} {resource}")));
        self
    }

    /// `user` may not `verb` on `resource`.
    pub fn deny_user(&self, user: &str, verb: &str, resource: &str) -> &Self {
        self.lock()
            .denied
            .insert((Some(user.to_owned()), format!("{verb} {resource}")));
        self
    }

    /// The log of a container: lines written at these times (RFC 3339), as the kubelet keeps
    /// them. The pod itself is put separately, as the API server serves logs only of pods.
    pub fn log(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        lines: &[(&str, &str)],
    ) -> &Self {
        self.lock()
            .logs
            .entry((namespace.to_owned(), pod.to_owned(), container.to_owned()))
            .or_default()
            .extend(
                lines
                    .iter()
                    .map(|(t, l)| ((*t).to_owned(), (*l).to_owned())),
            );
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

    async fn serve_mock(self, handle: Handle) {
        let mut handle = pin!(handle);
        while let Some((request, send)) = handle.next_request().await {
            let response = self.answer(Incoming::read(request, None).await).await;
            send.send_response(response);
            self.changed.notify_waiters();
        }
    }

    /// Answers one request.
    pub async fn answer(&self, request: Incoming) -> Response<ResponseBody> {
        let query: BTreeMap<String, String> = request
            .query
            .as_deref()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let call = Call {
            method: request.method,
            path: request.path,
            query,
            content_type: request.content_type,
            body: (!request.body.is_empty())
                .then(|| serde_json::from_slice(&request.body).ok())
                .flatten(),
            user: request.user,
        };
        let mut state = self.lock();
        state.calls.push(call.clone());
        let response = self.route(&mut state, &call);
        drop(state);
        self.changed.notify_waiters();
        response
    }
}
