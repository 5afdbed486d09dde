//! What a review was and how it ended, as the logs and the metrics name it: each a closed set
//! of values with its label, and an index for the metrics' per-thread tables.

use medusa_crds::rules::{AdmissionOperation, ResourceKind, RuleId};
use prometheus_client::encoding::{EncodeLabelValue, LabelValueEncoder};

/// A label value from a closed set: `COUNT` values, each with an index below it.
pub trait LabelValue: Copy {
    /// How many values there are.
    const COUNT: usize;
    /// This value's index.
    fn index(self) -> usize;
    /// The value at an index (the last one past the end).
    fn at(index: usize) -> Self;
    /// The label.
    fn as_str(self) -> &'static str;
}

macro_rules! label_value {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $label:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            const ALL: [Self; [$($label),+].len()] = [$(Self::$variant),+];
        }

        impl LabelValue for $name {
            const COUNT: usize = Self::ALL.len();

            fn index(self) -> usize {
                self as usize
            }

            fn at(index: usize) -> Self {
                let [.., last] = Self::ALL;
                Self::ALL.get(index).copied().unwrap_or(last)
            }

            fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $label),+
                }
            }
        }

        impl EncodeLabelValue for $name {
            fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
                std::fmt::Write::write_str(encoder, self.as_str())
            }
        }
    };
}

label_value!(
    /// Which endpoint answered.
    Endpoint {
        /// `/validate`.
        Validate => "validate",
        /// `/mutate`.
        Mutate => "mutate",
    }
);

label_value!(
    /// How a review ended.
    ReviewDecision {
        /// Admitted as is.
        Allowed => "allowed",
        /// Refused.
        Denied => "denied",
        /// Admitted with warnings.
        Warned => "warned",
        /// Admitted with a patch.
        Patched => "patched",
        /// Not a kind or operation of ours: admitted untouched.
        Ignored => "ignored",
    }
);

label_value!(
    /// What one rule did.
    FindingDecision {
        /// It denied.
        Deny => "deny",
        /// It warned.
        Warn => "warn",
        /// It patched.
        Patch => "patch",
    }
);

label_value!(
    /// How a live lookup ended.
    LookupOutcome {
        /// The object exists.
        Found => "found",
        /// It does not.
        Missing => "missing",
        /// The API server did not answer in time, or with an error.
        Failed => "failed",
    }
);

label_value!(
    /// The operation, as reviews name it.
    Operation {
        /// CREATE.
        Create => "CREATE",
        /// UPDATE.
        Update => "UPDATE",
        /// DELETE.
        Delete => "DELETE",
        /// CONNECT.
        Connect => "CONNECT",
        /// Anything else.
        Other => "other",
    }
);

impl From<Option<AdmissionOperation>> for Operation {
    fn from(operation: Option<AdmissionOperation>) -> Self {
        match operation {
            Some(AdmissionOperation::Create) => Self::Create,
            Some(AdmissionOperation::Update) => Self::Update,
            Some(AdmissionOperation::Delete) => Self::Delete,
            Some(AdmissionOperation::Connect) => Self::Connect,
            None => Self::Other,
        }
    }
}

/// The kind of a review: one we serve, or another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Kind(pub Option<ResourceKind>);

impl LabelValue for Kind {
    const COUNT: usize = ResourceKind::ALL.len() + 1;

    fn index(self) -> usize {
        self.0
            .and_then(|kind| ResourceKind::ALL.iter().position(|k| *k == kind))
            .unwrap_or(ResourceKind::ALL.len())
    }

    fn at(index: usize) -> Self {
        Self(ResourceKind::ALL.get(index).copied())
    }

    fn as_str(self) -> &'static str {
        self.0.map_or("other", ResourceKind::as_str)
    }
}

impl EncodeLabelValue for Kind {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        std::fmt::Write::write_str(encoder, self.as_str())
    }
}

/// A rule, as a label value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rule(pub RuleId);

impl LabelValue for Rule {
    const COUNT: usize = RuleId::ALL.len();

    fn index(self) -> usize {
        RuleId::ALL.iter().position(|r| *r == self.0).unwrap_or(0)
    }

    fn at(index: usize) -> Self {
        Self(RuleId::ALL.get(index).copied().unwrap_or(RuleId::K1))
    }

    fn as_str(self) -> &'static str {
        self.0.as_str()
    }
}

impl EncodeLabelValue for Rule {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        std::fmt::Write::write_str(encoder, self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<L: LabelValue + PartialEq + std::fmt::Debug>() {
        for index in 0..L::COUNT {
            assert_eq!(L::at(index).index(), index);
        }
    }

    #[test]
    fn every_label_value_has_its_own_index() {
        round_trips::<Endpoint>();
        round_trips::<ReviewDecision>();
        round_trips::<FindingDecision>();
        round_trips::<Operation>();
        round_trips::<LookupOutcome>();
        round_trips::<Kind>();
        round_trips::<Rule>();
    }

    #[test]
    fn labels_are_the_wire_names() {
        assert_eq!(ReviewDecision::Patched.as_str(), "patched");
        assert_eq!(Kind(None).as_str(), "other");
        assert_eq!(Kind(Some(ResourceKind::MedusaTask)).as_str(), "MedusaTask");
        assert_eq!(
            Operation::from(Some(AdmissionOperation::Delete)).as_str(),
            "DELETE"
        );
    }
}
