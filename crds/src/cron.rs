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

use chrono::{DateTime, Datelike, NaiveDate, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

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

/// Set when a field's expression was a star: day-of-month and day-of-week then both must match.
const STAR_BIT: u64 = 1 << 63;

struct Bounds {
    min: u32,
    max: u32,
    names: &'static [(&'static str, u32)],
}

const SECONDS: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const MINUTES: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
};
const DOM: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
};
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("may", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ],
};
const DOW: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &[
        ("sun", 0),
        ("mon", 1),
        ("tue", 2),
        ("wed", 3),
        ("thu", 4),
        ("fri", 5),
        ("sat", 6),
    ],
};

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
        if fields.len() != 5 {
            return Err(CronError(format!(
                "expected exactly 5 fields, found {}: [{}]",
                fields.len(),
                fields.join(" ")
            )));
        }
        let spec = Spec {
            second: get_field("0", &SECONDS)?,
            minute: get_field(fields[0], &MINUTES)?,
            hour: get_field(fields[1], &HOURS)?,
            dom: get_field(fields[2], &DOM)?,
            month: get_field(fields[3], &MONTHS)?,
            dow: get_field(fields[4], &DOW)?,
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

/// Go's `strings.Fields` separators (ASCII and Unicode white space).
fn go_space(c: char) -> bool {
    c.is_whitespace()
}

/// `time.LoadLocation`.
fn load_location(name: &str) -> Result<Zone, String> {
    match name {
        "" | "UTC" | "Local" => return Ok(Zone::Utc),
        _ => {}
    }
    if name.contains("..") || name.starts_with('/') || name.starts_with('\\') {
        return Err("time: invalid location name".into());
    }
    name.parse::<Tz>()
        .map(Zone::Named)
        .map_err(|_| format!("unknown time zone {name}"))
}

fn parse_descriptor(descriptor: &str, zone: Zone) -> Result<Kind, CronError> {
    let all_dom = all(&DOM);
    let all_months = all(&MONTHS);
    let all_dow = all(&DOW);
    let all_hours = all(&HOURS);
    let spec = |hour: u64, dom: u64, month: u64, dow: u64| {
        Kind::Spec(Spec {
            second: 1,
            minute: 1,
            hour,
            dom,
            month,
            dow,
            zone,
        })
    };
    match descriptor {
        "@yearly" | "@annually" => return Ok(spec(1, 1 << 1, 1 << 1, all_dow)),
        "@monthly" => return Ok(spec(1, 1 << 1, all_months, all_dow)),
        "@weekly" => return Ok(spec(1, all_dom, all_months, 1)),
        "@daily" | "@midnight" => return Ok(spec(1, all_dom, all_months, all_dow)),
        "@hourly" => return Ok(spec(all_hours, all_dom, all_months, all_dow)),
        _ => {}
    }
    if let Some(duration) = descriptor.strip_prefix("@every ") {
        let nanos = go_duration::parse(duration)
            .map_err(|err| CronError(format!("failed to parse duration {descriptor}: {err}")))?;
        // `Every` rounds up to one second and truncates sub-second parts.
        let seconds = (nanos / 1_000_000_000).max(1);
        return Ok(Kind::Every { seconds });
    }
    Err(CronError(format!("unrecognized descriptor: {descriptor}")))
}

fn all(bounds: &Bounds) -> u64 {
    get_bits(bounds.min, bounds.max, 1) | STAR_BIT
}

fn get_field(field: &str, bounds: &Bounds) -> Result<u64, CronError> {
    let mut bits = 0;
    for expr in field.split(',').filter(|r| !r.is_empty()) {
        bits |= get_range(expr, bounds)?;
    }
    Ok(bits)
}

fn get_range(expr: &str, bounds: &Bounds) -> Result<u64, CronError> {
    // Go splits into slices; iterators give the same parts without allocating.
    let mut range_and_step = expr.split('/');
    let range = range_and_step.next().unwrap_or("");
    let step_text = range_and_step.next();
    let too_many_slashes = range_and_step.next().is_some();
    let mut low_and_high = range.split('-');
    let low = low_and_high.next().unwrap_or("");
    let high = low_and_high.next();
    let too_many_hyphens = low_and_high.next().is_some();
    let single_digit = high.is_none();
    let (start, mut end, mut extra);
    if low == "*" || low == "?" {
        start = bounds.min;
        end = bounds.max;
        extra = STAR_BIT;
    } else {
        start = parse_int_or_name(low, bounds)?;
        end = match (high, too_many_hyphens) {
            (None, _) => start,
            (Some(high), false) => parse_int_or_name(high, bounds)?,
            (Some(_), true) => return Err(CronError(format!("too many hyphens: {expr}"))),
        };
        extra = 0;
    }
    let step = match (step_text, too_many_slashes) {
        (None, _) => 1,
        (Some(step), false) => {
            let step = must_parse_int(step)?;
            if single_digit {
                end = bounds.max;
            }
            if step > 1 {
                extra = 0;
            }
            step
        }
        (Some(_), true) => return Err(CronError(format!("too many slashes: {expr}"))),
    };
    if start < bounds.min {
        return Err(CronError(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            bounds.min
        )));
    }
    if end > bounds.max {
        return Err(CronError(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            bounds.max
        )));
    }
    if start > end {
        return Err(CronError(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        )));
    }
    if step == 0 {
        return Err(CronError(format!(
            "step of range should be a positive number: {expr}"
        )));
    }
    Ok(get_bits(start, end, step) | extra)
}

fn parse_int_or_name(expr: &str, bounds: &Bounds) -> Result<u32, CronError> {
    let lower = expr.to_lowercase();
    if let Some((_, value)) = bounds.names.iter().find(|(name, _)| *name == lower) {
        return Ok(*value);
    }
    must_parse_int(expr)
}

/// `strconv.Atoi` then the non-negative check, with their texts. Values beyond `u32` are
/// kept saturated: they fail the range checks exactly as in Go.
fn must_parse_int(expr: &str) -> Result<u32, CronError> {
    let num = go_atoi(expr)
        .map_err(|err| CronError(format!("failed to parse int from {expr}: {err}")))?;
    if num < 0 {
        return Err(CronError(format!(
            "negative number ({num}) not allowed: {expr}"
        )));
    }
    Ok(u32::try_from(num).unwrap_or(u32::MAX))
}

/// `strconv.Atoi` on a 64-bit platform.
fn go_atoi(s: &str) -> Result<i64, String> {
    let syntax = || {
        format!(
            "strconv.Atoi: parsing {}: invalid syntax",
            go_strconv_quote(s)
        )
    };
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(syntax());
    }
    let magnitude: u128 = digits
        .bytes()
        .try_fold(0u128, |acc, b| {
            acc.checked_mul(10)?.checked_add(u128::from(b - b'0'))
        })
        .unwrap_or(u128::MAX);
    let limit = if negative {
        1u128 << 63
    } else {
        (1u128 << 63) - 1
    };
    if magnitude > limit {
        return Err(format!(
            "strconv.Atoi: parsing {}: value out of range",
            go_strconv_quote(s)
        ));
    }
    let value = i128::try_from(magnitude).unwrap_or(i128::MAX);
    let value = if negative { -value } else { value };
    Ok(i64::try_from(value).unwrap_or(i64::MAX))
}

/// `strconv.Quote`: printable characters as is, the rest escaped.
fn go_strconv_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn get_bits(min: u32, max: u32, step: u32) -> u64 {
    if step == 1 {
        // ^(MaxUint64 << (max+1)) & (MaxUint64 << min), with max <= 59.
        let high = if max >= 63 { 0 } else { u64::MAX << (max + 1) };
        return !high & (u64::MAX << min);
    }
    let mut bits = 0;
    let mut i = min;
    while i <= max {
        bits |= 1 << i;
        i = match i.checked_add(step) {
            Some(next) => next,
            None => break,
        };
    }
    bits
}

// === impl Spec: robfig's Next ===

/// An instant viewed in a zone, with Go `time.Time` arithmetic.
#[derive(Clone, Copy)]
struct GoTime {
    unix: i64,
    zone: Zone,
}

struct Civil {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    weekday: u32,
}

impl GoTime {
    fn offset_at(zone: Zone, unix: i64) -> i64 {
        match zone {
            Zone::Utc => 0,
            Zone::Named(tz) => DateTime::from_timestamp(unix, 0)
                .map(|utc| {
                    i64::from(
                        tz.offset_from_utc_datetime(&utc.naive_utc())
                            .fix()
                            .local_minus_utc(),
                    )
                })
                .unwrap_or(0),
        }
    }

    fn civil(self) -> Civil {
        let local = self.unix + Self::offset_at(self.zone, self.unix);
        let naive = DateTime::from_timestamp(local, 0)
            .unwrap_or(DateTime::UNIX_EPOCH)
            .naive_utc();
        Civil {
            year: naive.year(),
            month: naive.month(),
            day: naive.day(),
            hour: naive.hour(),
            minute: naive.minute(),
            second: naive.second(),
            weekday: naive.weekday().num_days_from_sunday(),
        }
    }

    /// `time.Date`, with its normalization of out-of-range fields and its choice of offset in
    /// daylight-saving gaps and overlaps.
    #[allow(clippy::too_many_arguments)]
    fn date(
        year: i64,
        month: i64,
        day: i64,
        hour: i64,
        minute: i64,
        second: i64,
        zone: Zone,
    ) -> Option<Self> {
        let months = year * 12 + (month - 1);
        let (year, month0) = (months.div_euclid(12), months.rem_euclid(12));
        let first = NaiveDate::from_ymd_opt(
            i32::try_from(year).ok()?,
            u32::try_from(month0 + 1).ok()?,
            1,
        )?;
        let days = first
            .and_hms_opt(0, 0, 0)?
            .and_utc()
            .timestamp()
            .div_euclid(86_400)
            + (day - 1);
        let local = days * 86_400 + hour * 3600 + minute * 60 + second;
        let first_offset = Self::offset_at(zone, local);
        let unix = if first_offset == 0 {
            local
        } else {
            local - Self::offset_at(zone, local - first_offset)
        };
        Some(Self { unix, zone })
    }

    fn add_seconds(self, seconds: i64) -> Self {
        Self {
            unix: self.unix + seconds,
            zone: self.zone,
        }
    }

    fn truncate(self, unit: i64) -> Self {
        Self {
            unix: self.unix - self.unix.rem_euclid(unit),
            zone: self.zone,
        }
    }
}

impl Spec {
    fn day_matches(&self, civil: &Civil) -> bool {
        let dom_match = (1u64 << civil.day) & self.dom > 0;
        let dow_match = (1u64 << civil.weekday) & self.dow > 0;
        if self.dom & STAR_BIT > 0 || self.dow & STAR_BIT > 0 {
            dom_match && dow_match
        } else {
            dom_match || dow_match
        }
    }

    fn next(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let zone = self.zone;
        // Start at the earliest possible time (the upcoming second).
        let mut t = GoTime {
            unix: after.timestamp() + 1,
            zone,
        };
        let mut added = false;
        let year_limit = t.civil().year + 5;

        'wrap: loop {
            if t.civil().year > year_limit {
                return None;
            }

            while (1u64 << t.civil().month) & self.month == 0 {
                if !added {
                    added = true;
                    let c = t.civil();
                    t = GoTime::date(c.year.into(), c.month.into(), 1, 0, 0, 0, zone)?;
                }
                let c = t.civil();
                t = GoTime::date(
                    c.year.into(),
                    i64::from(c.month) + 1,
                    c.day.into(),
                    c.hour.into(),
                    c.minute.into(),
                    c.second.into(),
                    zone,
                )?;
                if t.civil().month == 1 {
                    continue 'wrap;
                }
            }

            while !self.day_matches(&t.civil()) {
                if !added {
                    added = true;
                    let c = t.civil();
                    t = GoTime::date(c.year.into(), c.month.into(), c.day.into(), 0, 0, 0, zone)?;
                }
                let c = t.civil();
                t = GoTime::date(
                    c.year.into(),
                    c.month.into(),
                    i64::from(c.day) + 1,
                    c.hour.into(),
                    c.minute.into(),
                    c.second.into(),
                    zone,
                )?;
                // Notice if the hour is no longer midnight due to DST.
                let hour = i64::from(t.civil().hour);
                if hour != 0 {
                    t = if hour > 12 {
                        t.add_seconds((24 - hour) * 3600)
                    } else {
                        t.add_seconds(-hour * 3600)
                    };
                }
                if t.civil().day == 1 {
                    continue 'wrap;
                }
            }

            while (1u64 << t.civil().hour) & self.hour == 0 {
                if !added {
                    added = true;
                    let c = t.civil();
                    t = GoTime::date(
                        c.year.into(),
                        c.month.into(),
                        c.day.into(),
                        c.hour.into(),
                        0,
                        0,
                        zone,
                    )?;
                }
                t = t.add_seconds(3600);
                if t.civil().hour == 0 {
                    continue 'wrap;
                }
            }

            while (1u64 << t.civil().minute) & self.minute == 0 {
                if !added {
                    added = true;
                    t = t.truncate(60);
                }
                t = t.add_seconds(60);
                if t.civil().minute == 0 {
                    continue 'wrap;
                }
            }

            while (1u64 << t.civil().second) & self.second == 0 {
                if !added {
                    added = true;
                    t = t.truncate(1);
                }
                t = t.add_seconds(1);
                if t.civil().second == 0 {
                    continue 'wrap;
                }
            }

            return DateTime::from_timestamp(t.unix, 0);
        }
    }
}

/// Go's `time.ParseDuration`, with its error texts.
mod go_duration {
    const UNITS: &[(&str, u64)] = &[
        ("ns", 1),
        ("us", 1_000),
        ("\u{b5}s", 1_000),
        ("\u{3bc}s", 1_000),
        ("ms", 1_000_000),
        ("s", 1_000_000_000),
        ("m", 60_000_000_000),
        ("h", 3_600_000_000_000),
    ];

    /// The duration in nanoseconds.
    pub(super) fn parse(orig: &str) -> Result<i64, String> {
        let invalid = || format!("time: invalid duration {}", quote(orig));
        let mut s = orig;
        let mut negative = false;
        if let Some(rest) = s.strip_prefix('-') {
            negative = true;
            s = rest;
        } else if let Some(rest) = s.strip_prefix('+') {
            s = rest;
        }
        if s == "0" {
            return Ok(0);
        }
        if s.is_empty() {
            return Err(invalid());
        }
        let mut total: u64 = 0;
        while !s.is_empty() {
            let first = s.as_bytes()[0];
            if !(first == b'.' || first.is_ascii_digit()) {
                return Err(invalid());
            }
            let digits = s.bytes().take_while(u8::is_ascii_digit).count();
            let mut whole: u64 = 0;
            for b in s[..digits].bytes() {
                whole = whole
                    .checked_mul(10)
                    .and_then(|w| w.checked_add(u64::from(b - b'0')))
                    .filter(|w| *w <= 1 << 63)
                    .ok_or_else(invalid)?;
            }
            let pre = digits > 0;
            s = &s[digits..];
            let mut fraction: u64 = 0;
            let mut scale: f64 = 1.0;
            let mut post = false;
            if let Some(rest) = s.strip_prefix('.') {
                let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                let mut overflow = false;
                for b in rest[..digits].bytes() {
                    if overflow {
                        continue;
                    }
                    if fraction > (1 << 63) / 10 {
                        overflow = true;
                        continue;
                    }
                    let y = fraction * 10 + u64::from(b - b'0');
                    if y > 1 << 63 {
                        overflow = true;
                        continue;
                    }
                    fraction = y;
                    scale *= 10.0;
                }
                post = digits > 0;
                s = &rest[digits..];
            }
            if !pre && !post {
                return Err(invalid());
            }
            let unit_len = s
                .char_indices()
                .find(|(_, c)| *c == '.' || c.is_ascii_digit())
                .map_or(s.len(), |(i, _)| i);
            if unit_len == 0 {
                return Err(format!("time: missing unit in duration {}", quote(orig)));
            }
            let unit = &s[..unit_len];
            s = &s[unit_len..];
            let Some((_, multiplier)) = UNITS.iter().find(|(name, _)| *name == unit) else {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    quote(unit),
                    quote(orig)
                ));
            };
            if whole > (1 << 63) / multiplier {
                return Err(invalid());
            }
            let mut value = whole * multiplier;
            if fraction > 0 {
                #[allow(
                    clippy::cast_precision_loss,
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss
                )]
                let extra = (fraction as f64 * (*multiplier as f64 / scale)) as u64;
                value = value
                    .checked_add(extra)
                    .filter(|v| *v <= 1 << 63)
                    .ok_or_else(invalid)?;
            }
            total = total
                .checked_add(value)
                .filter(|t| *t <= 1 << 63)
                .ok_or_else(invalid)?;
        }
        if negative {
            return Ok(i64::try_from(total).map_or(i64::MIN, |t| -t));
        }
        i64::try_from(total).map_err(|_| invalid())
    }

    /// The time package's `quote`: non-ASCII and control bytes as `\xNN`.
    fn quote(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            if (c as u32) >= 0x80 || c < ' ' {
                let mut buf = [0u8; 4];
                for byte in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\x{byte:02x}"));
                }
            } else {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
        }
        out.push('"');
        out
    }

    #[cfg(test)]
    mod tests {
        use super::parse;

        #[test]
        fn valid_durations_parse_to_nanoseconds() {
            assert_eq!(parse("1h30m"), Ok(5_400_000_000_000));
            assert_eq!(parse("1.5h"), Ok(5_400_000_000_000));
            assert_eq!(parse("300ms"), Ok(300_000_000));
            assert_eq!(parse("-2s"), Ok(-2_000_000_000));
            assert_eq!(parse("0"), Ok(0));
            assert_eq!(parse("1\u{b5}s"), Ok(1_000));
            assert_eq!(parse(".5s"), Ok(500_000_000));
        }

        #[test]
        fn invalid_durations_give_go_texts() {
            assert_eq!(
                parse("1x"),
                Err("time: unknown unit \"x\" in duration \"1x\"".into())
            );
            assert_eq!(
                parse("5"),
                Err("time: missing unit in duration \"5\"".into())
            );
            assert_eq!(parse(""), Err("time: invalid duration \"\"".into()));
            assert_eq!(parse("h"), Err("time: invalid duration \"h\"".into()));
            assert_eq!(parse(".s"), Err("time: invalid duration \".s\"".into()));
            assert_eq!(
                parse("9999999999h"),
                Err("time: invalid duration \"9999999999h\"".into())
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn next(expr: &str, after: &str) -> String {
        CronSchedule::parse(expr)
            .unwrap()
            .next_after(at(after))
            .map(|t| t.to_rfc3339())
            .unwrap_or_else(|| "never".into())
    }

    fn error(expr: &str) -> String {
        CronSchedule::parse(expr).unwrap_err().to_string()
    }

    #[test]
    fn standard_expressions_are_accepted() {
        for expr in [
            "30 1 * * *",
            "* * * * *",
            "0 0 * * *",
            "*/15 * * * *",
            "0 8-18/2 * * mon-fri",
            "0 0 1 jan,JUL ?",
            "? 8 1/5 * SUN",
            "1,2,,3 * * * *",
        ] {
            assert!(CronSchedule::parse(expr).is_ok(), "{expr}");
        }
    }

    #[test]
    fn descriptors_are_accepted() {
        for expr in [
            "@yearly",
            "@annually",
            "@monthly",
            "@weekly",
            "@daily",
            "@midnight",
            "@hourly",
            "@every 1h30m",
            "TZ=Europe/Paris @daily",
        ] {
            assert!(CronSchedule::parse(expr).is_ok(), "{expr}");
        }
    }

    #[test]
    fn wrong_field_counts_give_the_operator_text() {
        assert_eq!(
            error("? 8 0 0"),
            "expected exactly 5 fields, found 4: [? 8 0 0]"
        );
        assert_eq!(
            error("invalid"),
            "expected exactly 5 fields, found 1: [invalid]"
        );
        assert_eq!(
            error("* * *"),
            "expected exactly 5 fields, found 3: [* * *]"
        );
        assert_eq!(
            error("0 * * * * *"),
            "expected exactly 5 fields, found 6: [0 * * * * *]"
        );
        assert_eq!(error("   "), "expected exactly 5 fields, found 0: []");
    }

    #[test]
    fn empty_expression_is_rejected() {
        assert_eq!(error(""), "empty spec string");
    }

    #[test]
    fn range_errors_give_the_operator_text() {
        assert_eq!(
            error("60 * * * *"),
            "end of range (60) above maximum (59): 60"
        );
        assert_eq!(
            error("* * 0 * *"),
            "beginning of range (0) below minimum (1): 0"
        );
        assert_eq!(
            error("* 5-2 * * *"),
            "beginning of range (5) beyond end of range (2): 5-2"
        );
        assert_eq!(
            error("* * * 13 *"),
            "end of range (13) above maximum (12): 13"
        );
        assert_eq!(error("* * * * 7"), "end of range (7) above maximum (6): 7");
        assert_eq!(
            error("*/0 * * * *"),
            "step of range should be a positive number: */0"
        );
        assert_eq!(error("1-2-3 * * * *"), "too many hyphens: 1-2-3");
        assert_eq!(error("1/2/3 * * * *"), "too many slashes: 1/2/3");
    }

    #[test]
    fn integer_errors_give_the_operator_text() {
        assert_eq!(
            error("x * * * *"),
            "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax"
        );
        assert_eq!(
            error("- * * * *"),
            "failed to parse int from : strconv.Atoi: parsing \"\": invalid syntax"
        );
        assert_eq!(
            error("99999999999999999999 * * * *"),
            "failed to parse int from 99999999999999999999: strconv.Atoi: parsing \"99999999999999999999\": value out of range"
        );
        assert_eq!(
            error("* * * foo *"),
            "failed to parse int from foo: strconv.Atoi: parsing \"foo\": invalid syntax"
        );
    }

    #[test]
    fn descriptor_errors_give_the_operator_text() {
        assert_eq!(
            error("@fortnightly"),
            "unrecognized descriptor: @fortnightly"
        );
        assert_eq!(
            error("@every 1x"),
            "failed to parse duration @every 1x: time: unknown unit \"x\" in duration \"1x\""
        );
    }

    #[test]
    fn time_zone_prefixes_are_accepted() {
        let schedule = CronSchedule::parse("CRON_TZ=America/New_York 0 6 * * *").unwrap();
        assert_eq!(schedule.zone(), Zone::Named(chrono_tz::America::New_York));
        assert_eq!(
            CronSchedule::parse("TZ=UTC 0 6 * * *").unwrap().zone(),
            Zone::Utc
        );
    }

    #[test]
    fn bad_locations_give_the_operator_text() {
        assert_eq!(
            error("TZ=Mars/Olympus 0 6 * * *"),
            "provided bad location Mars/Olympus: unknown time zone Mars/Olympus"
        );
        assert_eq!(
            error("TZ=../etc 0 6 * * *"),
            "provided bad location ../etc: time: invalid location name"
        );
    }

    #[test]
    fn a_zone_prefix_without_a_space_is_rejected() {
        assert!(error("TZ=UTC").starts_with("invalid location descriptor: TZ=UTC"));
    }

    #[test]
    fn next_is_strictly_after_the_given_time() {
        assert_eq!(
            next("30 1 * * *", "2022-07-26T01:30:00Z"),
            "2022-07-27T01:30:00+00:00"
        );
        assert_eq!(
            next("30 1 * * *", "2022-07-26T01:29:59Z"),
            "2022-07-26T01:30:00+00:00"
        );
    }

    #[test]
    fn every_minute_matches_the_operator_scheduler_test() {
        // TestScheduler: from the zero time, `* * * * *` is next due one minute later.
        assert_eq!(
            next("* * * * *", "2024-01-01T00:00:00Z"),
            "2024-01-01T00:01:00+00:00"
        );
        assert_eq!(
            next("* * * * *", "2024-01-01T00:01:01Z"),
            "2024-01-01T00:02:00+00:00"
        );
    }

    #[test]
    fn day_of_month_and_weekday_are_ored_when_both_restricted() {
        // The 13th or any Friday: 2024-09-06 is a Friday, before the 13th.
        assert_eq!(
            next("0 0 13 * fri", "2024-09-01T00:00:00Z"),
            "2024-09-06T00:00:00+00:00"
        );
        // With a star in one of them, both must match.
        assert_eq!(
            next("0 0 13 * *", "2024-09-01T00:00:00Z"),
            "2024-09-13T00:00:00+00:00"
        );
    }

    #[test]
    fn descriptors_compute_their_times() {
        assert_eq!(
            next("@weekly", "2024-09-04T10:00:00Z"),
            "2024-09-08T00:00:00+00:00"
        );
        assert_eq!(
            next("@monthly", "2024-09-04T10:00:00Z"),
            "2024-10-01T00:00:00+00:00"
        );
        assert_eq!(
            next("@yearly", "2024-09-04T10:00:00Z"),
            "2025-01-01T00:00:00+00:00"
        );
        assert_eq!(
            next("@hourly", "2024-09-04T10:00:00Z"),
            "2024-09-04T11:00:00+00:00"
        );
        assert_eq!(
            next("@every 90m", "2024-09-04T10:00:00.5Z"),
            "2024-09-04T11:30:00+00:00"
        );
        assert_eq!(
            next("@every 10ms", "2024-09-04T10:00:00Z"),
            "2024-09-04T10:00:01+00:00"
        );
    }

    #[test]
    fn impossible_dates_never_run() {
        assert_eq!(next("0 0 30 2 *", "2024-01-01T00:00:00Z"), "never");
    }

    #[test]
    fn leap_days_are_found() {
        assert_eq!(
            next("0 0 29 2 *", "2025-01-01T00:00:00Z"),
            "2028-02-29T00:00:00+00:00"
        );
    }

    #[test]
    fn time_zones_shift_the_run_time() {
        // 06:00 in New York is 10:00 UTC in summer, 11:00 UTC in winter.
        assert_eq!(
            next("TZ=America/New_York 0 6 * * *", "2024-07-01T00:00:00Z"),
            "2024-07-01T10:00:00+00:00"
        );
        assert_eq!(
            next("TZ=America/New_York 0 6 * * *", "2024-12-01T00:00:00Z"),
            "2024-12-01T11:00:00+00:00"
        );
    }

    #[test]
    fn a_run_inside_a_daylight_saving_gap_is_skipped_like_go() {
        // 02:30 does not exist in New York on 2024-03-10; robfig's hour loop steps from
        // 01:00 EST to 03:00 EDT and finds hour 2 only the next day.
        assert_eq!(
            next("TZ=America/New_York 30 2 * * *", "2024-03-10T05:00:00Z"),
            "2024-03-11T06:30:00+00:00"
        );
    }

    #[test]
    fn a_run_inside_a_daylight_saving_overlap_happens_twice_like_go() {
        // 01:30 happens twice in New York on 2024-11-03 (05:30 and 06:30 UTC); robfig runs both.
        assert_eq!(
            next("TZ=America/New_York 30 1 * * *", "2024-11-03T04:00:00Z"),
            "2024-11-03T05:30:00+00:00"
        );
        assert_eq!(
            next("TZ=America/New_York 30 1 * * *", "2024-11-03T05:30:00Z"),
            "2024-11-03T06:30:00+00:00"
        );
    }

    #[test]
    fn upcoming_lists_the_next_runs() {
        let schedule = CronSchedule::parse("0 0 * * *").unwrap();
        let runs = schedule.upcoming(Utc.with_ymd_and_hms(2024, 1, 1, 12, 0, 0).unwrap(), 3);
        let runs: Vec<String> = runs.iter().map(|r| r.to_rfc3339()).collect();
        assert_eq!(
            runs,
            [
                "2024-01-02T00:00:00+00:00",
                "2024-01-03T00:00:00+00:00",
                "2024-01-04T00:00:00+00:00"
            ]
        );
    }
}
