//! Cron expressions with the operator's parser semantics: robfig/cron v3.0.1 `ParseStandard`
//! (the MedusaBackupSchedule webhook and controller both use it), including its error texts,
//! and its `Next` algorithm, so that our next run times are the operator's.
//!
//! Accepted: exactly five fields (minute, hour, day of month, month, day of week); `?` as `*`;
//! month and weekday names; `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`,
//! `@midnight`, `@hourly`, `@every <Go duration>`; an optional `TZ=<zone> ` or
//! `CRON_TZ=<zone> ` prefix. Without a zone, times are UTC, as in the operator's container.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

mod duration;
mod next;
mod parse;
#[cfg(test)]
mod tests;

use parse::*;

/// A parse error, with robfig/cron's own text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CronError(pub String);

/// The time zone a schedule runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    /// No prefix, `TZ=Local` or `TZ=UTC`: the operator runs in UTC.
    Utc,
    /// An IANA zone from a `TZ=` or `CRON_TZ=` prefix.
    Named(Tz),
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Utc => f.write_str("UTC"),
            Self::Named(tz) => f.write_str(tz.name()),
        }
    }
}

/// A parsed schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronSchedule {
    expression: String,
    kind: Kind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Spec(Spec),
    /// `@every`: a constant delay, whole seconds, at least one second.
    Every {
        seconds: i64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Spec {
    second: u64,
    minute: u64,
    hour: u64,
    dom: u64,
    month: u64,
    dow: u64,
    zone: Zone,
}

impl FromStr for CronSchedule {
    type Err = CronError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expression)
    }
}

impl CronSchedule {
    /// Parses like robfig/cron v3.0.1 `ParseStandard`.
    pub fn parse(spec: &str) -> Result<Self, CronError> {
        let expression = spec.to_owned();
        if spec.is_empty() {
            return Err(CronError("empty spec string".into()));
        }
        let mut spec = spec;
        let mut zone = Zone::Utc;
        if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
            // The operator slices up to the first space; without one, its webhook panics.
            let Some(space) = spec.find(' ') else {
                return Err(CronError(format!(
                    "invalid location descriptor: {spec} (a time zone prefix must be followed by a space and the schedule)"
                )));
            };
            let eq = spec.find('=').unwrap_or(0);
            let name = spec.get(eq + 1..space).unwrap_or("");
            zone = load_location(name)
                .map_err(|err| CronError(format!("provided bad location {name}: {err}")))?;
            spec = spec.get(space..).unwrap_or("").trim_matches(go_space);
        }
        if spec.starts_with('@') {
            return parse_descriptor(spec, zone).map(|kind| Self { expression, kind });
        }
        let fields: Vec<&str> = spec.split(go_space).filter(|f| !f.is_empty()).collect();
        let [minute, hour, dom, month, dow] = fields.as_slice() else {
            return Err(CronError(format!(
                "expected exactly 5 fields, found {}: [{}]",
                fields.len(),
                fields.join(" ")
            )));
        };
        let spec = Spec {
            second: get_field("0", &SECONDS)?,
            minute: get_field(minute, &MINUTES)?,
            hour: get_field(hour, &HOURS)?,
            dom: get_field(dom, &DOM)?,
            month: get_field(month, &MONTHS)?,
            dow: get_field(dow, &DOW)?,
            zone,
        };
        Ok(Self {
            expression,
            kind: Kind::Spec(spec),
        })
    }

    /// The expression as written.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The zone the schedule runs in (UTC for `@every`).
    pub fn zone(&self) -> Zone {
        match &self.kind {
            Kind::Spec(spec) => spec.zone,
            Kind::Every { .. } => Zone::Utc,
        }
    }

    /// The next activation strictly after `after`, as the operator computes it; `None` when
    /// nothing matches within five years (robfig returns the zero time then).
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.kind {
            Kind::Every { seconds } => {
                let base = after.timestamp();
                DateTime::from_timestamp(base.checked_add(*seconds)?, 0)
            }
            Kind::Spec(spec) => spec.next(after),
        }
    }

    /// Why a schedule that never runs does not, and what the operator does with it: the words
    /// every message about [`CronSchedule::never_runs`] uses.
    pub const NEVER_RUNS: &'static str = "never runs (a field with an empty list, or a date that does not exist such as 30 February): the operator accepts it and never starts a backup";

    /// Whether the schedule can never run (a field with an empty list, or a date that does
    /// not exist, such as `0 0 30 2 *`): the operator accepts it and never starts a backup.
    pub fn never_runs(&self) -> bool {
        match &self.kind {
            Kind::Every { .. } => false,
            Kind::Spec(spec) => spec.never_matches(),
        }
    }

    /// The next `count` activations after `after`.
    pub fn upcoming(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(count);
        let mut cursor = after;
        while out.len() < count {
            match self.next_after(cursor) {
                Some(next) => {
                    out.push(next);
                    cursor = next;
                }
                None => break,
            }
        }
        out
    }
}
