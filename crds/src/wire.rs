//! Wire-format helpers shared by every type: string enums that survive values we do not know,
//! the catch-all for fields we do not model, Go `int` schemas, and time conversions.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

/// Fields of an object that this model does not name. They are read, kept and written back
/// untouched, so a newer operator's fields never break reading nor get lost on write.
pub type Extra = BTreeMap<String, serde_json::Value>;

/// Defines a string enum with the operator's exact wire strings.
///
/// Unknown strings deserialize into `Unknown(String)` instead of failing, because a newer
/// operator may add values and reading an object must never fail on them. The JSON schema is a
/// `string` with the known values as `enum` (or a plain `string` with `schema: open`, for fields
/// whose CRD declares no enum).
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($schema:ident) {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know, kept as written.
            Unknown(String),
        }

        impl $name {
            /// Every wire string this version knows, in the operator's order.
            pub const KNOWN: &'static [&'static str] = &[$($wire),+];

            /// The wire string.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Unknown(other) => other.as_str(),
                }
            }

            /// The variant for a wire string; unknown strings are kept in `Unknown`.
            pub fn from_wire(value: &str) -> Self {
                match value {
                    $( $wire => Self::$variant, )+
                    other => Self::Unknown(other.to_owned()),
                }
            }

            /// The variant for a known wire string, `None` for anything else.
            pub fn known(value: &str) -> Option<Self> {
                match Self::from_wire(value) {
                    Self::Unknown(_) => None,
                    known => Some(known),
                }
            }

            /// Whether this is a value the operator's schema accepts.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::from_wire(&value))
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn inline_schema() -> bool {
                true
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                $crate::wire::enum_schema(Self::KNOWN, stringify!($schema) == "closed")
            }
        }
    };
}

pub(crate) use wire_enum;

#[doc(hidden)]
pub fn enum_schema(values: &[&str], closed: bool) -> Schema {
    if closed {
        json_schema!({ "type": "string", "enum": values })
    } else {
        json_schema!({ "type": "string" })
    }
}

/// The schema of a Go `int`: controller-gen writes `type: integer` without a format.
#[derive(Debug)]
pub struct GoInt;

impl JsonSchema for GoInt {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "GoInt".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer" })
    }
}

/// k8s-openapi times are jiff; display and cron work in chrono.
pub fn to_chrono(t: &Time) -> DateTime<Utc> {
    let seconds = t.0.as_second();
    let nanos = u32::try_from(t.0.subsec_nanosecond()).unwrap_or(0);
    DateTime::from_timestamp(seconds, nanos).unwrap_or(DateTime::UNIX_EPOCH)
}

/// A chrono instant as a Kubernetes time (whole seconds, as the API server keeps them).
pub fn to_time(t: DateTime<Utc>) -> Time {
    Time(jiff::Timestamp::from_second(t.timestamp()).unwrap_or(jiff::Timestamp::UNIX_EPOCH))
}

#[cfg(test)]
mod tests {
    use super::*;

    wire_enum! {
        /// A test enum.
        pub enum Colour (closed) {
            Red = "red",
            DarkBlue = "dark_blue",
        }
    }

    #[test]
    fn known_values_round_trip_with_their_wire_strings() {
        let parsed: Colour = serde_json::from_str("\"dark_blue\"").unwrap();
        assert_eq!(parsed, Colour::DarkBlue);
        assert_eq!(serde_json::to_string(&parsed).unwrap(), "\"dark_blue\"");
    }

    #[test]
    fn unknown_values_are_kept_rather_than_rejected() {
        let parsed: Colour = serde_json::from_str("\"green\"").unwrap();
        assert_eq!(parsed, Colour::Unknown("green".into()));
        assert!(!parsed.is_known());
        assert_eq!(serde_json::to_string(&parsed).unwrap(), "\"green\"");
    }

    #[test]
    fn known_rejects_values_outside_the_enum() {
        assert_eq!(Colour::known("red"), Some(Colour::Red));
        assert_eq!(Colour::known("Red"), None);
    }

    #[test]
    fn schema_lists_the_wire_strings() {
        let schema = schemars::schema_for!(Colour);
        assert_eq!(
            schema.get("enum").unwrap(),
            &serde_json::json!(["red", "dark_blue"])
        );
    }

    #[test]
    fn chrono_and_kubernetes_times_convert_both_ways() {
        let real: Time = serde_json::from_str("\"2024-05-01T10:00:00Z\"").unwrap();
        assert_eq!(to_time(to_chrono(&real)), real);
    }
}
