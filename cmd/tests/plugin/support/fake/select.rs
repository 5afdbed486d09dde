//! Label and field selectors as the API server reads them: the text is parsed here into kube's
//! own [`Selector`] expressions, which do the matching.

use std::collections::BTreeMap;

use kube::core::{Expression, Selector, SelectorExt};
use serde_json::Value;

/// Splits on the commas that are not inside `in (...)` sets.
fn terms(text: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                terms.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(text[start..].trim());
    terms.into_iter().filter(|t| !t.is_empty()).collect()
}

fn set(values: &str) -> std::collections::BTreeSet<String> {
    values
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

fn expression(term: &str) -> Expression {
    if let Some((key, values)) = term.split_once(" notin ") {
        return Expression::NotIn(key.trim().to_owned(), set(values));
    }
    if let Some((key, values)) = term.split_once(" in ") {
        return Expression::In(key.trim().to_owned(), set(values));
    }
    if let Some((key, value)) = term.split_once("!=") {
        return Expression::NotEqual(key.trim().to_owned(), value.trim().to_owned());
    }
    if let Some((key, value)) = term.split_once("==").or_else(|| term.split_once('=')) {
        return Expression::Equal(key.trim().to_owned(), value.trim().to_owned());
    }
    match term.strip_prefix('!') {
        Some(key) => Expression::DoesNotExist(key.trim().to_owned()),
        None => Expression::Exists(term.to_owned()),
    }
}

/// A label selector as `kubectl -l` writes it: `a=b,c!=d,e in (x,y),f,!g`.
pub fn labels(text: &str) -> Selector {
    terms(text).into_iter().map(expression).collect()
}

/// An object's labels.
pub fn labels_of(object: &Value) -> BTreeMap<String, String> {
    object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether an object's labels match a selector's text.
pub fn matches_labels(text: &str, object: &Value) -> bool {
    labels(text).matches(&labels_of(object))
}

/// Whether an object matches a field selector (`metadata.name=x,spec.a!=b`).
pub fn matches_fields(text: &str, object: &Value) -> bool {
    terms(text).into_iter().all(|term| {
        let (field, value, equal) = match term.split_once("!=") {
            Some((f, v)) => (f, v, false),
            None => match term.split_once("==").or_else(|| term.split_once('=')) {
                Some((f, v)) => (f, v, true),
                None => return true,
            },
        };
        let pointer = format!("/{}", field.trim().replace('.', "/"));
        let actual = object.pointer(&pointer).and_then(Value::as_str);
        (actual == Some(value.trim())) == equal
    })
}

/// The name a field selector asks for, if it names one (`metadata.name=x`).
pub fn field_name(text: &str) -> Option<String> {
    terms(text)
        .into_iter()
        .find_map(|t| t.strip_prefix("metadata.name="))
        .map(str::to_owned)
}
