//! An object of an admission request as the rules read it.
//!
//! The rules read a few metadata fields and the spec. [`ObjectText`] is split from the object's
//! JSON in the same pass that reads the rest of the request (the webhook decodes it in place
//! inside the AdmissionReview), borrowing the text: the rest of the object (managedFields and
//! status, which can be most of it) is skipped once and never copied or decoded. Each rule
//! then decodes from the spec's text only the fields it checks (`AdmissionInput::spec`,
//! `decode`), and an object that cannot be read at all is denied ([`unreadable`]).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, Visitor};

use super::{AdmissionInput, Decision, Finding, Severity};
use serde_json::value::RawValue;

/// An object of a request: the metadata the rules read, and the text of its spec.
#[derive(Clone, Debug, Default)]
pub struct ObjectText<'a> {
    /// `metadata`.
    pub metadata: MetadataText<'a>,
    /// `spec`, as JSON text (`None` when absent or null).
    pub spec: Option<&'a RawValue>,
}

/// The keys of an object the rules read (matched without copying them).
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum Field {
    Metadata,
    Spec,
    #[serde(other)]
    Other,
}

/// Only from a JSON object (a derived `Deserialize` would also take an array, field by field).
impl<'de: 'a, 'a> Deserialize<'de> for ObjectText<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields<'a>(PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for Fields<'a> {
            type Value = ObjectText<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Kubernetes object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut object = ObjectText::default();
                while let Some(field) = map.next_key::<Field>()? {
                    match field {
                        Field::Metadata => {
                            object.metadata = map
                                .next_value::<Option<MetadataText<'a>>>()?
                                .unwrap_or_default();
                        }
                        Field::Spec => object.spec = map.next_value()?,
                        Field::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(object)
            }
        }

        deserializer.deserialize_map(Fields(PhantomData))
    }
}

/// The fields of `metadata` the rules read; labels and annotations stay text until a rule
/// needs them.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataText<'a> {
    /// `metadata.name`.
    #[serde(default, borrow)]
    pub name: Option<Cow<'a, str>>,
    /// `metadata.generateName`.
    #[serde(default, borrow)]
    pub generate_name: Option<Cow<'a, str>>,
    /// `metadata.labels`, as JSON text.
    #[serde(default, borrow)]
    pub labels: Option<&'a RawValue>,
    /// `metadata.annotations`, as JSON text.
    #[serde(default, borrow)]
    pub annotations: Option<&'a RawValue>,
}

impl<'a> ObjectText<'a> {
    /// Reads an object from its JSON text.
    pub fn parse(text: &'a str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// `metadata.generateName`, when set and not empty.
    pub fn generate_name(&self) -> Option<&str> {
        self.metadata
            .generate_name
            .as_deref()
            .filter(|g| !g.is_empty())
    }
}

impl<'a> AdmissionInput<'a> {
    /// The spec of the object, decoded as `T`, or the finding that explains why it cannot be.
    pub(crate) fn spec<T: Deserialize<'a>>(&self) -> Result<T, Finding> {
        self.spec_of(self.object, "object", "spec of the object")
    }

    /// The spec of the previous object, decoded as `T`.
    pub(crate) fn old_spec<T: Deserialize<'a>>(&self) -> Result<T, Finding> {
        self.spec_of(self.old_object, "old object", "spec of the old object")
    }

    fn spec_of<T: Deserialize<'a>>(
        &self,
        object: Option<&'a ObjectText<'a>>,
        which: &str,
        spec_of_which: &str,
    ) -> Result<T, Finding> {
        let object = self.required(object, which)?;
        let spec = object.spec.ok_or_else(|| Finding {
            rule: None,
            severity: Severity::Deny,
            message: format!("{}: the {which} has no spec; fix the manifest", self.who()),
        })?;
        decode(self, spec, spec_of_which)
    }

    /// The object or the old object, or the finding that says the request lacks it.
    pub(crate) fn required<'o>(
        &self,
        object: Option<&'o ObjectText<'o>>,
        which: &str,
    ) -> Result<&'o ObjectText<'o>, Finding> {
        object.ok_or_else(|| Finding {
            rule: None,
            severity: Severity::Deny,
            message: format!(
                "{}: the request has no {which}; the API server always sends one for {}",
                self.describe(),
                self.operation.as_str()
            ),
        })
    }
}

/// Decodes a part of an object, or explains why it cannot be read.
pub(crate) fn decode<'a, T: Deserialize<'a>>(
    input: &AdmissionInput<'_>,
    value: &'a RawValue,
    which: &str,
) -> Result<T, Finding> {
    serde_json::from_str(value.get()).map_err(|e| Finding {
        rule: None,
        severity: Severity::Deny,
        message: format!(
            "{}: cannot read the {which} as a {}: {e}; fix the manifest",
            input.describe(),
            input.kind
        ),
    })
}

/// The decision on a request whose object cannot be read at all (it is not a JSON object, or
/// its metadata is not an object's; the API server's schema validation makes this rare):
/// denied, naming the object.
pub fn unreadable(input: &AdmissionInput<'_>, error: &str) -> Decision {
    Decision {
        findings: vec![Finding {
            rule: None,
            severity: Severity::Deny,
            message: format!(
                "{}: cannot read the object: {error}; fix the manifest",
                input.describe()
            ),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metadata_and_the_spec_text_are_read_and_the_rest_skipped() {
        let text = r#"{"apiVersion":"medusa.k8ssandra.io/v1alpha1","kind":"MedusaBackupJob",
            "metadata":{"name":"b1","generateName":"b-","labels":{"a":"b"},
                "managedFields":[{"manager":"kubectl","fieldsV1":{"f:spec":{}}}]},
            "spec":{"cassandraDatacenter":"dc1"},"status":{"finished":["pod-0"]}}"#;
        let object = ObjectText::parse(text).unwrap();
        assert_eq!(object.metadata.name.as_deref(), Some("b1"));
        assert_eq!(object.generate_name(), Some("b-"));
        assert_eq!(object.metadata.labels.unwrap().get(), r#"{"a":"b"}"#);
        assert!(object.metadata.annotations.is_none());
        assert_eq!(
            object.spec.unwrap().get(),
            r#"{"cassandraDatacenter":"dc1"}"#
        );
    }

    #[test]
    fn a_null_metadata_is_empty() {
        let object = ObjectText::parse(r#"{"metadata":null,"spec":{}}"#).unwrap();
        assert!(object.metadata.name.is_none());
        assert_eq!(object.spec.unwrap().get(), "{}");
    }

    #[test]
    fn escaped_names_are_unescaped() {
        let object = ObjectText::parse(r#"{"metadata":{"name":"a\u0062c"}}"#).unwrap();
        assert_eq!(object.metadata.name.as_deref(), Some("abc"));
    }

    #[test]
    fn a_null_or_missing_spec_is_none() {
        assert!(
            ObjectText::parse(r#"{"spec":null}"#)
                .unwrap()
                .spec
                .is_none()
        );
        assert!(ObjectText::parse("{}").unwrap().spec.is_none());
    }

    #[test]
    fn an_object_that_is_not_a_json_object_is_an_error() {
        assert!(ObjectText::parse("[]").is_err());
        assert!(ObjectText::parse("5").is_err());
        assert!(ObjectText::parse(r#"{"metadata":{"name":5}}"#).is_err());
    }
}
