//! `metav1.Condition`, with the schema validations controller-gen writes for it.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::wire::{Extra, wire_enum};

wire_enum! {
    /// A condition's status.
    #[derive(Default)]
    pub enum ConditionStatus (closed) {
        True = "True",
        False = "False",
        #[default]
        Unknown_ = "Unknown",
    }
}

/// Condition contains details for one aspect of the current state of this API Resource.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["lastTransitionTime", "message", "reason", "status", "type"]))]
pub struct Condition {
    /// lastTransitionTime is the last time the condition transitioned from one status to another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,

    /// message is a human readable message indicating details about the transition.
    #[serde(default)]
    #[schemars(length(max = 32768), extend("x-medusa-no-default" = true))]
    pub message: String,

    /// observedGeneration represents the .metadata.generation that the condition was set based
    /// upon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub observed_generation: Option<i64>,

    /// reason contains a programmatic identifier indicating the reason for the condition's last
    /// transition.
    #[serde(default)]
    #[schemars(
        extend("x-medusa-no-default" = true),
        length(min = 1, max = 1024),
        regex(pattern = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")
    )]
    pub reason: String,

    /// status of the condition, one of True, False, Unknown.
    #[serde(default)]
    #[schemars(extend("x-medusa-no-default" = true))]
    pub status: ConditionStatus,

    /// type of condition in CamelCase or in foo.example.com/CamelCase.
    #[serde(rename = "type", default)]
    #[schemars(
        extend("x-medusa-no-default" = true),
        length(max = 316),
        regex(
            pattern = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
        )
    )]
    pub type_: String,

    /// Fields this model does not name.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

impl Condition {
    /// Whether the condition's status is True.
    pub fn is_true(&self) -> bool {
        self.status == ConditionStatus::True
    }
}
