//! Compares two CustomResourceDefinitions field by field: ours against the operator's.
//!
//! A difference is anything that would make the API server treat an object differently: the
//! resource's names, scope and subresources, and for every schema property its type, format,
//! enum, required-ness, default, bounds, pattern and `x-kubernetes-*` markers. Properties only
//! one side declares are differences too (the API server prunes what its schema does not name).

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

/// One way the two CRDs disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// The kind compared.
    pub kind: String,
    /// Where: `names.plural`, `.spec.storageProperties.port`, ...
    pub path: String,
    /// What differs: `type`, `default`, `missing in ours`, ...
    pub aspect: String,
    /// Our value, as JSON.
    pub ours: String,
    /// The operator's value, as JSON.
    pub theirs: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {} differs (ours: {}, operator: {})",
            self.kind, self.path, self.aspect, self.ours, self.theirs
        )
    }
}

/// Schema keywords compared on every property.
const COMPARED_KEYWORDS: &[&str] = &[
    "type",
    "format",
    "enum",
    "default",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "pattern",
    "x-kubernetes-int-or-string",
    "x-kubernetes-map-type",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource",
];

/// Compares two whole CRDs (as JSON): resource identity, then the `spec` and `status` schemas
/// of every version the operator serves.
pub fn compare_crds(ours: &Value, theirs: &Value) -> Vec<Difference> {
    let kind = text(theirs.pointer("/spec/names/kind"));
    let mut out = Differences {
        kind: kind.clone(),
        list: Vec::new(),
    };
    for pointer in [
        "/spec/group",
        "/spec/scope",
        "/spec/names/kind",
        "/spec/names/plural",
        "/spec/names/singular",
        "/spec/names/listKind",
        "/spec/names/shortNames",
        "/spec/names/categories",
    ] {
        out.compare_value(
            &pointer.trim_start_matches("/spec/").replace('/', "."),
            "value",
            ours.pointer(pointer),
            theirs.pointer(pointer),
        );
    }
    let their_versions = theirs
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for version in their_versions {
        let name = text(version.get("name"));
        match ours
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .and_then(|vs| vs.iter().find(|v| v.get("name") == version.get("name")))
        {
            Some(our_version) => out.compare_version(&name, our_version, version),
            None => out.push(
                format!("versions[{name}]"),
                "missing in ours",
                "null",
                &name,
            ),
        }
    }
    out.list
}

/// A version's printer columns, as (name, type, jsonPath, priority) rows.
fn printer_columns(version: &Value) -> Value {
    let list = version
        .get("additionalPrinterColumns")
        .and_then(Value::as_array)
        .map(|cols| {
            cols.iter()
                .map(|c| {
                    serde_json::json!([
                        c.get("name"),
                        c.get("type"),
                        c.get("jsonPath"),
                        c.get("priority")
                    ])
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    Value::Array(list)
}

impl Differences {
    /// One served version: its flags, printer columns and `spec` and `status` schemas.
    fn compare_version(&mut self, name: &str, ours: &Value, theirs: &Value) {
        for key in ["served", "storage", "subresources"] {
            self.compare_value(
                &format!("versions[{name}].{key}"),
                "value",
                ours.get(key),
                theirs.get(key),
            );
        }
        self.compare_value(
            &format!("versions[{name}].additionalPrinterColumns"),
            "value",
            Some(&printer_columns(ours)),
            Some(&printer_columns(theirs)),
        );
        for top in ["spec", "status"] {
            let pointer = format!("/schema/openAPIV3Schema/properties/{top}");
            self.compare_schema(
                &format!(".{top}"),
                ours.pointer(&pointer),
                theirs.pointer(&pointer),
            );
        }
    }
}

/// Compares two schemas (as JSON) property by property; `path` names the root in messages.
pub fn compare_schemas(kind: &str, path: &str, ours: &Value, theirs: &Value) -> Vec<Difference> {
    let mut out = Differences {
        kind: kind.to_owned(),
        list: Vec::new(),
    };
    out.compare_schema(path, Some(ours), Some(theirs));
    out.list
}

struct Differences {
    kind: String,
    list: Vec<Difference>,
}

impl Differences {
    fn push(&mut self, path: String, aspect: &str, ours: &str, theirs: &str) {
        self.list.push(Difference {
            kind: self.kind.clone(),
            path,
            aspect: aspect.to_owned(),
            ours: ours.to_owned(),
            theirs: theirs.to_owned(),
        });
    }

    fn compare_value(
        &mut self,
        path: &str,
        aspect: &str,
        ours: Option<&Value>,
        theirs: Option<&Value>,
    ) {
        let ours = normalized(ours);
        let theirs = normalized(theirs);
        if ours != theirs {
            self.push(
                path.to_owned(),
                aspect,
                &json(ours.as_ref()),
                &json(theirs.as_ref()),
            );
        }
    }

    fn compare_schema(&mut self, path: &str, ours: Option<&Value>, theirs: Option<&Value>) {
        let (ours, theirs) = match (ours, theirs) {
            (None, None) => return,
            (None, Some(theirs)) => {
                self.push(
                    path.to_owned(),
                    "missing in ours",
                    "null",
                    &json(Some(theirs)),
                );
                return;
            }
            (Some(ours), None) => {
                self.push(
                    path.to_owned(),
                    "only in ours (the API server would prune it)",
                    &json(Some(ours)),
                    "null",
                );
                return;
            }
            (Some(ours), Some(theirs)) => (ours, theirs),
        };
        for keyword in COMPARED_KEYWORDS {
            self.compare_value(path, keyword, ours.get(*keyword), theirs.get(*keyword));
        }
        let (our_required, their_required) = (required(ours), required(theirs));
        if our_required != their_required {
            self.push(
                path.to_owned(),
                "required",
                &format!("{our_required:?}"),
                &format!("{their_required:?}"),
            );
        }
        self.compare_value(
            path,
            "anyOf",
            any_of_types(ours).as_ref(),
            any_of_types(theirs).as_ref(),
        );

        let props = |v: &Value| -> BTreeSet<String> {
            v.get("properties")
                .and_then(Value::as_object)
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default()
        };
        for name in props(ours).union(&props(theirs)) {
            self.compare_schema(
                &format!("{path}.{name}"),
                ours.get("properties").and_then(|p| p.get(name)),
                theirs.get("properties").and_then(|p| p.get(name)),
            );
        }
        if ours.get("items").is_some() || theirs.get("items").is_some() {
            self.compare_schema(&format!("{path}[]"), ours.get("items"), theirs.get("items"));
        }
        let (our_values, their_values) = (map_values(ours), map_values(theirs));
        if our_values.is_some() || their_values.is_some() {
            self.compare_schema(&format!("{path}{{}}"), our_values, their_values);
        }
    }
}

/// The required properties of a schema, as a set.
fn required(schema: &Value) -> BTreeSet<String> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The types of a schema's `anyOf` branches.
fn any_of_types(schema: &Value) -> Option<Value> {
    schema.get("anyOf").map(|a| {
        Value::Array(
            a.as_array()
                .map(|bs| {
                    bs.iter()
                        .map(|b| b.get("type").cloned().unwrap_or(Value::Null))
                        .collect()
                })
                .unwrap_or_default(),
        )
    })
}

/// The schema of a map's values, when the schema is a map.
fn map_values(schema: &Value) -> Option<&Value> {
    schema.get("additionalProperties").filter(|a| a.is_object())
}

/// Treats absent and JSON null alike, and whole floats as integers.
fn normalized(value: Option<&Value>) -> Option<Value> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::Number(n))
            if n.as_f64().is_some_and(|f| f.fract() == 0.0) && !n.is_i64() && !n.is_u64() =>
        {
            #[allow(clippy::cast_possible_truncation)]
            n.as_f64().map(|f| Value::from(f as i64))
        }
        Some(other) => Some(other.clone()),
    }
}

fn json(value: Option<&Value>) -> String {
    value.map_or_else(|| "absent".to_owned(), Value::to_string)
}

fn text(value: Option<&Value>) -> String {
    value.and_then(Value::as_str).unwrap_or("?").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd(spec_props: Value) -> Value {
        json!({
            "spec": {
                "group": "medusa.k8ssandra.io",
                "scope": "Namespaced",
                "names": {"kind": "Thing", "plural": "things", "singular": "thing", "listKind": "ThingList"},
                "versions": [{
                    "name": "v1alpha1", "served": true, "storage": true,
                    "subresources": {"status": {}},
                    "schema": {"openAPIV3Schema": {"properties": {"spec": spec_props}}}
                }]
            }
        })
    }

    #[test]
    fn identical_crds_have_no_difference() {
        let a = crd(json!({"type": "object", "properties": {"a": {"type": "string"}}}));
        assert_eq!(compare_crds(&a, &a), vec![]);
    }

    #[test]
    fn a_different_default_is_reported_with_its_path() {
        let ours =
            crd(json!({"type": "object", "properties": {"a": {"type": "string", "default": "x"}}}));
        let theirs =
            crd(json!({"type": "object", "properties": {"a": {"type": "string", "default": "y"}}}));
        let diffs = compare_crds(&ours, &theirs);
        assert_eq!(diffs.len(), 1);
        assert_eq!(diffs[0].path, ".spec.a");
        assert_eq!(diffs[0].aspect, "default");
        assert_eq!(
            diffs[0].to_string(),
            "Thing .spec.a: default differs (ours: \"x\", operator: \"y\")"
        );
    }

    #[test]
    fn a_field_missing_in_ours_is_reported() {
        let ours = crd(json!({"type": "object", "properties": {}}));
        let theirs = crd(json!({"type": "object", "properties": {"b": {"type": "integer"}}}));
        let diffs = compare_crds(&ours, &theirs);
        assert_eq!(diffs[0].path, ".spec.b");
        assert_eq!(diffs[0].aspect, "missing in ours");
    }

    #[test]
    fn a_field_only_in_ours_is_reported() {
        let ours = crd(json!({"type": "object", "properties": {"c": {"type": "integer"}}}));
        let theirs = crd(json!({"type": "object", "properties": {}}));
        let diffs = compare_crds(&ours, &theirs);
        assert!(diffs[0].aspect.starts_with("only in ours"));
    }

    #[test]
    fn required_enum_and_format_are_compared() {
        let ours = crd(json!({"type": "object", "required": ["a"], "properties": {
            "a": {"type": "string", "enum": ["x"]}, "n": {"type": "integer", "format": "int64"}}}));
        let theirs = crd(json!({"type": "object", "properties": {
            "a": {"type": "string", "enum": ["x", "y"]}, "n": {"type": "integer"}}}));
        let aspects: Vec<String> = compare_crds(&ours, &theirs)
            .into_iter()
            .map(|d| d.aspect)
            .collect();
        assert_eq!(aspects, ["required", "enum", "format"]);
    }

    #[test]
    fn whole_float_bounds_equal_integers() {
        let ours = crd(json!({"type": "object", "minimum": 0.0}));
        let theirs = crd(json!({"type": "object", "minimum": 0}));
        assert_eq!(compare_crds(&ours, &theirs), vec![]);
    }

    #[test]
    fn items_and_map_values_are_walked() {
        let ours = crd(json!({"type": "object", "properties": {
            "l": {"type": "array", "items": {"type": "string"}},
            "m": {"type": "object", "additionalProperties": {"type": "object", "properties": {"s": {"type": "boolean"}}}}}}));
        let theirs = crd(json!({"type": "object", "properties": {
            "l": {"type": "array", "items": {"type": "integer"}},
            "m": {"type": "object", "additionalProperties": {"type": "object", "properties": {"s": {"type": "string"}}}}}}));
        let paths: Vec<String> = compare_crds(&ours, &theirs)
            .into_iter()
            .map(|d| d.path)
            .collect();
        assert_eq!(paths, [".spec.l[]", ".spec.m{}.s"]);
    }

    #[test]
    fn resource_identity_is_compared() {
        let ours = crd(json!({"type": "object"}));
        let mut theirs = ours.clone();
        theirs["spec"]["scope"] = json!("Cluster");
        theirs["spec"]["versions"][0]["subresources"] = json!({});
        let paths: Vec<String> = compare_crds(&ours, &theirs)
            .into_iter()
            .map(|d| d.path)
            .collect();
        assert_eq!(paths, ["scope", "versions[v1alpha1].subresources"]);
    }
}
