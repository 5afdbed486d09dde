//! robfig/cron's `ParseStandard`: fields, ranges, names and descriptors, with its error texts.

use super::*;

/// Set when a field's expression was a star: day-of-month and day-of-week then both must match.
pub(super) const STAR_BIT: u64 = 1 << 63;

pub(super) struct Bounds {
    min: u32,
    max: u32,
    names: &'static [(&'static str, u32)],
}

pub(super) const SECONDS: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
pub(super) const MINUTES: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
pub(super) const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
};
pub(super) const DOM: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
};
pub(super) const MONTHS: Bounds = Bounds {
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
pub(super) const DOW: Bounds = Bounds {
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

/// Go's `strings.Fields` separators (ASCII and Unicode white space).
pub(super) fn go_space(c: char) -> bool {
    c.is_whitespace()
}

/// `time.LoadLocation`.
pub(super) fn load_location(name: &str) -> Result<Zone, String> {
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

pub(super) fn parse_descriptor(descriptor: &str, zone: Zone) -> Result<Kind, CronError> {
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
        let nanos = duration::parse(duration)
            .map_err(|err| CronError(format!("failed to parse duration {descriptor}: {err}")))?;
        // `Every` rounds up to one second and truncates sub-second parts.
        let seconds = (nanos / 1_000_000_000).max(1);
        return Ok(Kind::Every { seconds });
    }
    Err(CronError(format!("unrecognized descriptor: {descriptor}")))
}

pub(super) fn all(bounds: &Bounds) -> u64 {
    get_bits(bounds.min, bounds.max, 1) | STAR_BIT
}

pub(super) fn get_field(field: &str, bounds: &Bounds) -> Result<u64, CronError> {
    let mut bits = 0;
    for expr in field.split(',').filter(|r| !r.is_empty()) {
        bits |= get_range(expr, bounds)?;
    }
    Ok(bits)
}

pub(super) fn get_range(expr: &str, bounds: &Bounds) -> Result<u64, CronError> {
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

pub(super) fn parse_int_or_name(expr: &str, bounds: &Bounds) -> Result<u32, CronError> {
    let lower = expr.to_lowercase();
    if let Some((_, value)) = bounds.names.iter().find(|(name, _)| *name == lower) {
        return Ok(*value);
    }
    must_parse_int(expr)
}

/// `strconv.Atoi` then the non-negative check, with their texts. Values beyond `u32` are
/// kept saturated: they fail the range checks exactly as in Go.
pub(super) fn must_parse_int(expr: &str) -> Result<u32, CronError> {
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
pub(super) fn go_atoi(s: &str) -> Result<i64, String> {
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
pub(super) fn go_strconv_quote(s: &str) -> String {
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

pub(super) fn get_bits(min: u32, max: u32, step: u32) -> u64 {
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
