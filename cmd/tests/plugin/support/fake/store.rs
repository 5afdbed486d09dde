//! The objects, and the rules by which the API server writes them: resource versions and
//! optimistic concurrency, `generation`, and the `status` subresource (a create drops the
//! status; the main resource's writes keep the stored one; `/status` writes change only it).

use std::collections::BTreeMap;

use bytes::Bytes;
use futures::channel::mpsc;
use serde_json::{Value, json};

use super::kinds::Kind;
use super::select;

/// A refusal, as the API server's `Status`.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
        }
    }

    /// The `Status` object.
    pub fn status(&self) -> Value {
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "reason": self.reason, "message": self.message, "code": self.code})
    }

    fn not_found(kind: &Kind, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", kind.resource()),
        )
    }

    fn conflict(kind: &Kind, name: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                kind.resource()
            ),
        )
    }
}

/// Which part of an object a write is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The object (`/namespaces/NS/PLURAL/NAME`).
    Main,
    /// Its status subresource (`.../NAME/status`).
    Status,
}

/// One change, as a watch sends it.
#[derive(Clone, Debug)]
pub struct Change {
    pub resource_version: u64,
    pub kind: &'static Kind,
    pub event: &'static str,
    pub object: Value,
}

/// An open watch.
pub struct Watcher {
    pub kind: &'static Kind,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub labels: Option<String>,
    pub sender: mpsc::UnboundedSender<Bytes>,
}

impl Watcher {
    fn wants(&self, change: &Change) -> bool {
        let meta = |key: &str| change.object.pointer(&format!("/metadata/{key}"));
        std::ptr::eq(self.kind, change.kind)
            && self
                .namespace
                .as_deref()
                .is_none_or(|ns| meta("namespace").and_then(Value::as_str) == Some(ns))
            && self
                .name
                .as_deref()
                .is_none_or(|n| meta("name").and_then(Value::as_str) == Some(n))
            && self
                .labels
                .as_deref()
                .is_none_or(|s| select::matches_labels(s, &change.object))
    }

    /// Sends a change; `false` when the client went away.
    pub fn send(&self, change: &Change) -> bool {
        if !self.wants(change) {
            return true;
        }
        let mut line = serde_json::to_vec(&json!({"type": change.event, "object": change.object}))
            .unwrap_or_default();
        line.push(b'\n');
        self.sender.unbounded_send(Bytes::from(line)).is_ok()
    }
}

type Key = (String, String);

/// Every object, and every change since the start.
#[derive(Default)]
pub struct Store {
    objects: BTreeMap<&'static str, BTreeMap<Key, Value>>,
    pub log: Vec<Change>,
    pub watchers: Vec<Watcher>,
    resource_version: u64,
    uid: u64,
}

fn meta_str<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object
        .pointer(&format!("/metadata/{key}"))
        .and_then(Value::as_str)
}

fn meta_mut(object: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = json!({});
    }
    object["metadata"]
        .as_object_mut()
        .expect("metadata was just made an object")
}

impl Store {
    /// The resource version of the last change.
    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    /// An object.
    pub fn get(&self, kind: &Kind, namespace: &str, name: &str) -> Result<Value, ApiError> {
        self.objects
            .get(kind.plural)
            .and_then(|m| m.get(&(namespace.to_owned(), name.to_owned())))
            .cloned()
            .ok_or_else(|| ApiError::not_found(kind, name))
    }

    /// Objects of a kind, in a namespace or all, that match the selectors.
    pub fn list(
        &self,
        kind: &Kind,
        namespace: Option<&str>,
        labels: Option<&str>,
        fields: Option<&str>,
    ) -> Vec<Value> {
        self.objects
            .get(kind.plural)
            .map(|m| {
                m.iter()
                    .filter(|((ns, _), _)| namespace.is_none_or(|n| n == ns))
                    .map(|(_, v)| v)
                    .filter(|v| labels.is_none_or(|s| select::matches_labels(s, v)))
                    .filter(|v| fields.is_none_or(|s| select::matches_fields(s, v)))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    fn next_uid(&mut self) -> String {
        self.uid += 1;
        format!("00000000-0000-0000-0000-{:012}", self.uid)
    }

    /// Stores an object as it is (a test playing someone who is not a client of ours), with a
    /// new resource version (and a uid when it has none).
    pub fn put(&mut self, kind: &'static Kind, mut object: Value) {
        let namespace = meta_str(&object, "namespace")
            .unwrap_or_default()
            .to_owned();
        let name = meta_str(&object, "name").unwrap_or_default().to_owned();
        if meta_str(&object, "uid").is_none() {
            let uid = self.next_uid();
            meta_mut(&mut object).insert("uid".into(), Value::String(uid));
        }
        let existed = self
            .objects
            .get(kind.plural)
            .is_some_and(|m| m.contains_key(&(namespace.clone(), name.clone())));
        self.commit(
            kind,
            (namespace, name),
            object,
            if existed { "MODIFIED" } else { "ADDED" },
        );
    }

    /// Removes an object (as someone else would).
    pub fn remove(
        &mut self,
        kind: &'static Kind,
        namespace: &str,
        name: &str,
    ) -> Result<Value, ApiError> {
        let removed = self
            .objects
            .get_mut(kind.plural)
            .and_then(|m| m.remove(&(namespace.to_owned(), name.to_owned())))
            .ok_or_else(|| ApiError::not_found(kind, name))?;
        self.resource_version += 1;
        let mut object = removed;
        meta_mut(&mut object).insert(
            "resourceVersion".into(),
            Value::String(self.resource_version.to_string()),
        );
        self.emit(kind, "DELETED", object.clone());
        Ok(object)
    }

    fn commit(
        &mut self,
        kind: &'static Kind,
        key: Key,
        mut object: Value,
        event: &'static str,
    ) -> Value {
        self.resource_version += 1;
        meta_mut(&mut object).insert(
            "resourceVersion".into(),
            Value::String(self.resource_version.to_string()),
        );
        self.objects
            .entry(kind.plural)
            .or_default()
            .insert(key, object.clone());
        self.emit(kind, event, object.clone());
        object
    }

    fn emit(&mut self, kind: &'static Kind, event: &'static str, object: Value) {
        let change = Change {
            resource_version: self.resource_version,
            kind,
            event,
            object,
        };
        self.watchers.retain(|w| w.send(&change));
        self.log.push(change);
    }

    /// CREATE: a name (or generateName) is needed and must be free; the API server sets the
    /// uid, generation, creationTimestamp and resourceVersion, and drops a status sent along.
    pub fn create(
        &mut self,
        kind: &'static Kind,
        namespace: Option<&str>,
        mut object: Value,
        created_at: &str,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let name = match (meta_str(&object, "name"), meta_str(&object, "generateName")) {
            (Some(name), _) if !name.is_empty() => name.to_owned(),
            (_, Some(prefix)) if !prefix.is_empty() => format!("{prefix}{:05}", self.uid + 1),
            _ => {
                return Err(ApiError::new(
                    422,
                    "Invalid",
                    format!(
                        "{} \"\" is invalid: metadata.name: Required value: name or generateName is required",
                        kind.kind
                    ),
                ));
            }
        };
        let namespace = namespace.unwrap_or_default().to_owned();
        if self
            .objects
            .get(kind.plural)
            .is_some_and(|m| m.contains_key(&(namespace.clone(), name.clone())))
        {
            return Err(ApiError::new(
                409,
                "AlreadyExists",
                format!("{} \"{name}\" already exists", kind.resource()),
            ));
        }
        if kind.status_subresource
            && let Some(o) = object.as_object_mut()
        {
            o.remove("status");
        }
        let uid = self.next_uid();
        let meta = meta_mut(&mut object);
        meta.insert("name".into(), Value::String(name.clone()));
        if kind.namespaced {
            meta.insert("namespace".into(), Value::String(namespace.clone()));
        }
        meta.insert("uid".into(), Value::String(uid));
        meta.insert("generation".into(), json!(1));
        meta.insert(
            "creationTimestamp".into(),
            Value::String(created_at.to_owned()),
        );
        meta.remove("resourceVersion");
        meta.remove("managedFields");
        if dry_run {
            return Ok(object);
        }
        Ok(self.commit(kind, (namespace, name), object, "ADDED"))
    }

    /// What a write of `part` leaves of `stored` once `written` is the client's version.
    fn compose(kind: &Kind, stored: &Value, mut written: Value, part: Part) -> Value {
        let mut result = match part {
            Part::Status => {
                let mut result = stored.clone();
                match written.get_mut("status").map(Value::take) {
                    Some(status) => result["status"] = status,
                    None => {
                        if let Some(o) = result.as_object_mut() {
                            o.remove("status");
                        }
                    }
                }
                result
            }
            Part::Main => {
                if kind.status_subresource
                    && let Some(o) = written.as_object_mut()
                {
                    match stored.get("status") {
                        Some(status) => {
                            o.insert("status".into(), status.clone());
                        }
                        None => {
                            o.remove("status");
                        }
                    }
                }
                written
            }
        };
        // What only the API server sets.
        for key in [
            "uid",
            "creationTimestamp",
            "name",
            "namespace",
            "generation",
        ] {
            match stored.pointer(&format!("/metadata/{key}")) {
                Some(value) => {
                    meta_mut(&mut result).insert(key.into(), value.clone());
                }
                None => {
                    meta_mut(&mut result).remove(key);
                }
            }
        }
        if part == Part::Main && stored.get("spec") != result.get("spec") {
            let generation = stored
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            meta_mut(&mut result).insert("generation".into(), json!(generation + 1));
        }
        result
    }

    /// UPDATE (PUT): the body's resourceVersion must be the stored one.
    pub fn replace(
        &mut self,
        kind: &'static Kind,
        namespace: &str,
        name: &str,
        written: Value,
        part: Part,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let stored = self.get(kind, namespace, name)?;
        match meta_str(&written, "resourceVersion") {
            None | Some("") => {
                return Err(ApiError::new(
                    422,
                    "Invalid",
                    format!(
                        "{} \"{name}\" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update",
                        kind.kind
                    ),
                ));
            }
            Some(rv) if Some(rv) != meta_str(&stored, "resourceVersion") => {
                return Err(ApiError::conflict(kind, name));
            }
            Some(_) => {}
        }
        let result = Self::compose(kind, &stored, written, part);
        if dry_run {
            return Ok(result);
        }
        Ok(self.commit(
            kind,
            (namespace.to_owned(), name.to_owned()),
            result,
            "MODIFIED",
        ))
    }

    /// PATCH (JSON merge patch, or JSON patch): a resourceVersion in a merge patch is an
    /// optimistic lock (controller-runtime's `MergeFromWithOptimisticLock`).
    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        &mut self,
        kind: &'static Kind,
        namespace: &str,
        name: &str,
        patch: &Value,
        json_patch: bool,
        part: Part,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let stored = self.get(kind, namespace, name)?;
        let mut patched = stored.clone();
        if json_patch {
            let operations: json_patch::Patch =
                serde_json::from_value(patch.clone()).map_err(|e| {
                    ApiError::new(400, "BadRequest", format!("invalid JSON patch: {e}"))
                })?;
            json_patch::patch(&mut patched, &operations)
                .map_err(|e| ApiError::new(422, "Invalid", e.to_string()))?;
        } else {
            if let Some(rv) = patch
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                && Some(rv) != meta_str(&stored, "resourceVersion")
            {
                return Err(ApiError::conflict(kind, name));
            }
            json_patch::merge(&mut patched, patch);
        }
        let result = Self::compose(kind, &stored, patched, part);
        if dry_run {
            return Ok(result);
        }
        Ok(self.commit(
            kind,
            (namespace.to_owned(), name.to_owned()),
            result,
            "MODIFIED",
        ))
    }
}
