//! How the fake answers a request: discovery, access reviews, and each resource's verbs.

use std::convert::Infallible;

use bytes::Bytes;
use futures::StreamExt;
use futures::channel::mpsc;
use http::Response;
use http_body_util::{BodyExt, StreamBody};
use serde_json::{Value, json};

use super::kinds::{self, Kind, Target};
use super::store::{ApiError, Part, Watcher};
use super::*;

impl Fake {
    pub(super) fn route(&self, state: &mut State, call: &Call) -> Response<ResponseBody> {
        if let Some(failure) = state
            .failures
            .iter()
            .find(|f| f.method == call.method && call.path.ends_with(&f.path_suffix))
        {
            return refuse(&failure.error);
        }
        let path = call.path.as_str();
        if state
            .missing_groups
            .iter()
            .any(|g| path.starts_with(&format!("/apis/{g}/")) || path == format!("/apis/{g}"))
        {
            return plain_not_found();
        }
        match (call.method.as_str(), path) {
            ("GET", "/apis") => return respond(200, &kinds::groups(&state.missing_groups)),
            ("GET", "/api") => {
                return respond(
                    200,
                    &json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}),
                );
            }
            ("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews") => {
                return self.access_review(state, call);
            }
            _ => {}
        }
        if call.method == "GET"
            && let Some(list) = kinds::resources(path)
        {
            return respond(200, &list);
        }
        let Some(target) = kinds::parse_path(path) else {
            return refuse(&no_such_resource());
        };
        let Some(kind) = kinds::by_collection(&target.prefix, &target.plural) else {
            return refuse(&no_such_resource());
        };
        let verb = call.verb(&target);
        let resource = match &target.subresource {
            Some(sub) => format!("{}/{sub}", kind.resource()),
            None => kind.resource(),
        };
        if state.denies(call.user.as_deref(), verb, &resource) {
            return refuse(&forbidden(call, kind, verb, &target));
        }
        self.serve(state, call, kind, &target)
    }

    /// A request on a resource the caller may touch: list, watch, get, create, replace, patch
    /// or delete, as the API server answers it.
    fn serve(
        &self,
        state: &mut State,
        call: &Call,
        kind: &'static Kind,
        target: &Target,
    ) -> Response<ResponseBody> {
        if let (Some("log"), Some(pod)) = (target.subresource.as_deref(), target.name.as_deref()) {
            return pod_log(
                state,
                target.namespace.as_deref().unwrap_or_default(),
                pod,
                call,
            );
        }
        let result = match (call.method.as_str(), target.name.as_deref()) {
            ("GET", None) if call.is_watch() => return watch(state, kind, target, call),
            ("GET", None) => Ok((200, list(state, kind, target, call))),
            ("GET", Some(name)) => state
                .store
                .get(kind, target.namespace.as_deref().unwrap_or_default(), name)
                .map(|o| (200, o)),
            ("POST", None) => {
                let created_at = self.now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
                state
                    .store
                    .create(
                        kind,
                        target.namespace.as_deref(),
                        call.body.clone().unwrap_or_default(),
                        &created_at,
                        call.is_dry_run(),
                    )
                    .map(|o| (201, o))
            }
            ("PUT", Some(name)) => part(target).and_then(|part| {
                state.store.replace(
                    kind,
                    target.namespace.as_deref().unwrap_or_default(),
                    name,
                    call.body.clone().unwrap_or_default(),
                    part,
                    call.is_dry_run(),
                )
            })
            .map(|o| (200, o)),
            ("PATCH", Some(name)) => part(target)
                .and_then(|part| {
                    state.store.patch(
                        kind,
                        target.namespace.as_deref().unwrap_or_default(),
                        name,
                        &call.body.clone().unwrap_or_default(),
                        call.content_type.as_deref() == Some("application/json-patch+json"),
                        part,
                        call.is_dry_run(),
                    )
                })
                .map(|o| (200, o)),
            ("DELETE", Some(name)) => state
                .store
                .remove(kind, target.namespace.as_deref().unwrap_or_default(), name)
                .map(|_| {
                    (
                        200,
                        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                               "details": {"name": name, "kind": kind.plural}}),
                    )
                }),
            _ => Err(ApiError::new(405, "MethodNotAllowed", "method not allowed")),
        };
        match result {
            Ok((code, object)) => respond(code, &object),
            Err(error) => refuse(&error),
        }
    }

    fn access_review(&self, state: &State, call: &Call) -> Response<ResponseBody> {
        let mut review = call.body.clone().unwrap_or_default();
        let attributes = &review["spec"]["resourceAttributes"];
        let group = attributes["group"].as_str().unwrap_or_default();
        let resource = attributes["resource"].as_str().unwrap_or_default();
        let verb = attributes["verb"].as_str().unwrap_or_default();
        let mut full = if group.is_empty() {
            resource.to_owned()
        } else {
            format!("{resource}.{group}")
        };
        if let Some(sub) = attributes["subresource"].as_str().filter(|s| !s.is_empty()) {
            full = format!("{full}/{sub}");
        }
        let allowed = !state.denies(call.user.as_deref(), verb, &full);
        review["status"] = json!({"allowed": allowed});
        respond(201, &review)
    }
}

fn part(target: &Target) -> Result<Part, ApiError> {
    match target.subresource.as_deref() {
        None => Ok(Part::Main),
        Some("status") => Ok(Part::Status),
        Some(other) => Err(ApiError::new(
            404,
            "NotFound",
            format!("the server could not find the requested resource (subresource {other})"),
        )),
    }
}

/// The API server's 403, in its words.
fn forbidden(call: &Call, kind: &Kind, verb: &str, target: &Target) -> ApiError {
    let who = call.user.as_deref().unwrap_or("system:anonymous");
    let scope = match &target.namespace {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_owned(),
    };
    ApiError::new(
        403,
        "Forbidden",
        format!(
            "{} is forbidden: User \"{who}\" cannot {verb} resource \"{}\" in API group \"{}\" {scope}",
            kind.resource(),
            kind.plural,
            kind.group()
        ),
    )
}

fn list(state: &State, kind: &Kind, target: &Target, call: &Call) -> Value {
    let items = state.store.list(
        kind,
        target.namespace.as_deref(),
        call.query.get("labelSelector").map(String::as_str),
        call.query.get("fieldSelector").map(String::as_str),
    );
    // Pages, as the API server cuts them: `limit` items from the `continue` offset.
    let start: usize = call
        .query
        .get("continue")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let limit: usize = call
        .query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let end = start.saturating_add(limit).min(items.len());
    let mut metadata = json!({"resourceVersion": state.store.resource_version().to_string()});
    if end < items.len() {
        metadata["continue"] = json!(end.to_string());
        metadata["remainingItemCount"] = json!(items.len() - end);
    }
    json!({"apiVersion": kind.api_version, "kind": format!("{}List", kind.kind),
           "metadata": metadata, "items": items.get(start..end).unwrap_or_default()})
}

/// A watch: the changes after the given resourceVersion, then every new one, as JSON lines.
fn watch(
    state: &mut State,
    kind: &'static Kind,
    target: &Target,
    call: &Call,
) -> Response<ResponseBody> {
    let since: u64 = call
        .query
        .get("resourceVersion")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let (sender, receiver) = mpsc::unbounded::<Bytes>();
    let watcher = Watcher {
        kind,
        namespace: target.namespace.clone(),
        name: call
            .query
            .get("fieldSelector")
            .and_then(|f| select::field_name(f)),
        labels: call.query.get("labelSelector").cloned(),
        sender,
    };
    for change in state
        .store
        .log
        .iter()
        .filter(|c| c.resource_version > since)
    {
        watcher.send(change);
    }
    state.store.watchers.push(watcher);
    let stream = receiver.map(|b| Ok::<_, Infallible>(http_body::Frame::data(b)));
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(StreamBody::new(stream).boxed_unsync())
        .expect("a valid response")
}

/// `GET .../pods/NAME/log`: the container's lines since `sinceTime`, with their timestamps when
/// asked, as text; 404 for a pod that does not exist, 400 for a container it does not have (the
/// API server's answers). With `follow`, the stream ends with what is there, as it does when
/// the container stops.
fn pod_log(state: &State, namespace: &str, pod: &str, call: &Call) -> Response<ResponseBody> {
    let Some(object) = state
        .store
        .get(
            kinds::by_type("v1", "Pod").expect("pods are served"),
            namespace,
            pod,
        )
        .ok()
    else {
        return refuse(&ApiError::new(
            404,
            "NotFound",
            format!("pods \"{pod}\" not found"),
        ));
    };
    let container = call.query.get("container").cloned().unwrap_or_default();
    let declared = ["containers", "initContainers"].iter().any(|list| {
        object["spec"][list]
            .as_array()
            .is_some_and(|cs| cs.iter().any(|c| c["name"] == container.as_str()))
    });
    if !declared {
        return refuse(&ApiError::new(
            400,
            "BadRequest",
            format!("container {container} is not valid for pod {pod}"),
        ));
    }
    let since = call.query.get("sinceTime").cloned().unwrap_or_default();
    let timestamps = call.query.get("timestamps").is_some_and(|v| v == "true");
    let text: String = state
        .logs
        .get(&(namespace.to_owned(), pod.to_owned(), container))
        .into_iter()
        .flatten()
        .filter(|(at, _)| since.is_empty() || at.as_str() >= since.as_str())
        .map(|(at, line)| {
            if timestamps {
                format!("{at} {line}\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body(
            http_body_util::Full::new(Bytes::from(text))
                .map_err(|never| match never {})
                .boxed_unsync(),
        )
        .expect("a valid response")
}
