//! Go's `time.ParseDuration`, with its error texts, for `@every`.

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

/// The largest magnitude a duration can hold, in nanoseconds (`1 << 63`).
const MAX: u64 = 1 << 63;

/// The duration in nanoseconds.
pub(super) fn parse(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", quote(orig));
    let (negative, mut s) = match orig.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, orig.strip_prefix('+').unwrap_or(orig)),
    };
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        let (value, rest) = component(s, orig)?;
        s = rest;
        total = total
            .checked_add(value)
            .filter(|t| *t <= MAX)
            .ok_or_else(invalid)?;
    }
    if negative {
        return Ok(i64::try_from(total).map_or(i64::MIN, |t| -t));
    }
    i64::try_from(total).map_err(|_| invalid())
}

/// One `<number>[.<fraction>]<unit>` component of `orig`, at the start of `s`: its
/// nanoseconds, and what follows it.
fn component<'a>(s: &'a str, orig: &str) -> Result<(u64, &'a str), String> {
    let invalid = || format!("time: invalid duration {}", quote(orig));
    if !s.starts_with(|c: char| c == '.' || c.is_ascii_digit()) {
        return Err(invalid());
    }
    let (whole, pre, s) = leading_int(s).ok_or_else(invalid)?;
    let (fraction, scale, post, s) = match s.strip_prefix('.') {
        Some(rest) => leading_fraction(rest),
        None => (0, 1.0, false, s),
    };
    if !pre && !post {
        return Err(invalid());
    }
    let unit_len = s
        .char_indices()
        .find(|(_, c)| *c == '.' || c.is_ascii_digit())
        .map_or(s.len(), |(i, _)| i);
    let (unit, rest) = s.split_at(unit_len);
    if unit.is_empty() {
        return Err(format!("time: missing unit in duration {}", quote(orig)));
    }
    let Some((_, multiplier)) = UNITS.iter().find(|(name, _)| *name == unit) else {
        return Err(format!(
            "time: unknown unit {} in duration {}",
            quote(unit),
            quote(orig)
        ));
    };
    if whole > MAX / multiplier {
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
            .filter(|v| *v <= MAX)
            .ok_or_else(invalid)?;
    }
    Ok((value, rest))
}

/// Go's `leadingInt`: the leading digits as a number (`None` past 2^63), whether there were
/// any, and the rest.
fn leading_int(s: &str) -> Option<(u64, bool, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (number, rest) = s.split_at(digits);
    let mut whole: u64 = 0;
    for b in number.bytes() {
        whole = whole
            .checked_mul(10)
            .and_then(|w| w.checked_add(u64::from(b - b'0')))
            .filter(|w| *w <= MAX)?;
    }
    Some((whole, digits > 0, rest))
}

/// Go's `leadingFraction`: the leading digits as a number (which stops growing, without
/// failing, before it overflows), its scale, whether there were any, and the rest.
fn leading_fraction(s: &str) -> (u64, f64, bool, &str) {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (number, rest) = s.split_at(digits);
    let mut fraction: u64 = 0;
    let mut scale: f64 = 1.0;
    for b in number.bytes() {
        let next = fraction
            .checked_mul(10)
            .and_then(|f| f.checked_add(u64::from(b - b'0')))
            .filter(|f| *f <= MAX && fraction <= MAX / 10);
        match next {
            Some(next) => {
                fraction = next;
                scale *= 10.0;
            }
            None => break,
        }
    }
    (fraction, scale, digits > 0, rest)
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
