//! A differential check against robfig/cron's own test vectors (`spec_test.go`, TestActivation
//! and TestNext), read through the standard five-field syntax the operator uses: the vectors'
//! seconds field is `0`, so it is dropped (and a missing day of week, optional in the old
//! six-field syntax, is `*`). Vectors with other seconds, and those in New York time (our DST
//! cases are in the unit tests), do not apply. The same expressions seed the cron fuzz target's
//! corpus (`fuzz/corpus/cron/`).
//!
//! The stored `spec_test.go` predates v3, and v3.0.1 (the operator's) changed one thing its
//! vectors show: a stepped star (`*/10`) no longer counts as a star in `getRange`
//! (`if step > 1 { extra = 0 }`), so day of month and day of week are then or-ed, as for any
//! list. The two vectors it changes carry v3's answer, marked below.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use medusa_crds::cron::CronSchedule;

/// robfig's six-field spec (seconds first, day of week optional) in the standard syntax.
fn standard(spec: &str) -> String {
    let fields: Vec<&str> = spec.split(' ').collect();
    assert_eq!(fields[0], "0", "{spec}: only vectors at second 0 apply");
    let mut rest: Vec<&str> = fields[1..].to_vec();
    if rest.len() == 4 {
        rest.push("*");
    }
    rest.join(" ")
}

/// robfig's `getTime`: "Mon Jan 2 15:04 2006" or with seconds, in UTC.
fn time(value: &str) -> DateTime<Utc> {
    let parsed = NaiveDateTime::parse_from_str(value, "%a %b %-d %H:%M %Y")
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%a %b %-d %H:%M:%S %Y"))
        .unwrap_or_else(|e| panic!("{value}: {e}"));
    Utc.from_utc_datetime(&parsed)
}

/// TestActivation: whether the schedule fires at the time (its next run after one second
/// before is the time).
const ACTIVATION: &[(&str, &str, bool)] = &[
    ("Mon Jul 9 15:00 2012", "0 0/15 * * *", true),
    ("Mon Jul 9 15:45 2012", "0 0/15 * * *", true),
    ("Mon Jul 9 15:40 2012", "0 0/15 * * *", false),
    ("Mon Jul 9 15:05 2012", "0 5/15 * * *", true),
    ("Mon Jul 9 15:20 2012", "0 5/15 * * *", true),
    ("Mon Jul 9 15:50 2012", "0 5/15 * * *", true),
    ("Sun Jul 15 15:00 2012", "0 0/15 * * Jul", true),
    ("Sun Jul 15 15:00 2012", "0 0/15 * * Jun", false),
    ("Sun Jul 15 08:30 2012", "0 30 08 ? Jul Sun", true),
    ("Sun Jul 15 08:30 2012", "0 30 08 15 Jul ?", true),
    ("Mon Jul 16 08:30 2012", "0 30 08 ? Jul Sun", false),
    ("Mon Jul 16 08:30 2012", "0 30 08 15 Jul ?", false),
    ("Sun Jul 15 00:00 2012", "0 * * 1,15 * Sun", true),
    ("Fri Jun 15 00:00 2012", "0 * * 1,15 * Sun", true),
    ("Wed Aug 1 00:00 2012", "0 * * 1,15 * Sun", true),
    ("Sun Jul 15 00:00 2012", "0 * * * * Mon", false),
    // v3: `*/10` is no star, so Sunday alone fires (pre-v3: false).
    ("Sun Jul 15 00:00 2012", "0 * * */10 * Sun", true),
    ("Mon Jul 9 00:00 2012", "0 * * 1,15 * *", false),
    ("Sun Jul 15 00:00 2012", "0 * * 1,15 * *", true),
    ("Sun Jul 15 00:00 2012", "0 * * */2 * Sun", true),
];

/// TestActivation's descriptors, which need no translation.
const DESCRIPTORS: &[(&str, &str, bool)] = &[
    ("Mon Jul 9 15:00 2012", "@hourly", true),
    ("Mon Jul 9 15:04 2012", "@hourly", false),
    ("Mon Jul 9 15:00 2012", "@daily", false),
    ("Mon Jul 9 00:00 2012", "@daily", true),
    ("Mon Jul 9 00:00 2012", "@weekly", false),
    ("Sun Jul 8 00:00 2012", "@weekly", true),
    ("Sun Jul 8 01:00 2012", "@weekly", false),
    ("Sun Jul 8 00:00 2012", "@monthly", false),
    ("Sun Jul 1 00:00 2012", "@monthly", true),
];

/// TestNext: the next run after a time ("" when none).
const NEXT: &[(&str, &str, &str)] = &[
    (
        "Mon Jul 9 14:45 2012",
        "0 0/15 * * *",
        "Mon Jul 9 15:00 2012",
    ),
    (
        "Mon Jul 9 14:59 2012",
        "0 0/15 * * *",
        "Mon Jul 9 15:00 2012",
    ),
    (
        "Mon Jul 9 14:59:59 2012",
        "0 0/15 * * *",
        "Mon Jul 9 15:00 2012",
    ),
    (
        "Mon Jul 9 15:45 2012",
        "0 20-35/15 * * *",
        "Mon Jul 9 16:20 2012",
    ),
    (
        "Mon Jul 9 23:46 2012",
        "0 */15 * * *",
        "Tue Jul 10 00:00 2012",
    ),
    (
        "Mon Jul 9 23:45 2012",
        "0 20-35/15 * * *",
        "Tue Jul 10 00:20 2012",
    ),
    (
        "Mon Jul 9 23:35 2012",
        "0 0 0 9 Apr-Oct ?",
        "Thu Aug 9 00:00 2012",
    ),
    // v3: `*/5` is no star, so the 1st of August (day 1 of every fifth) fires before Monday
    // the 6th (pre-v3: Mon Aug 6).
    (
        "Mon Jul 9 23:35 2012",
        "0 0 0 */5 Apr,Aug,Oct Mon",
        "Wed Aug 1 00:00 2012",
    ),
    (
        "Mon Jul 9 23:35 2012",
        "0 0 0 */5 Oct Mon",
        "Mon Oct 1 00:00 2012",
    ),
    (
        "Mon Jul 9 23:35 2012",
        "0 0 0 * Feb Mon",
        "Mon Feb 4 00:00 2013",
    ),
    (
        "Mon Jul 9 23:35 2012",
        "0 0 0 * Feb Mon/2",
        "Fri Feb 1 00:00 2013",
    ),
    (
        "Mon Dec 31 23:59:45 2012",
        "0 * * * * *",
        "Tue Jan 1 00:00:00 2013",
    ),
    (
        "Mon Jul 9 23:35 2012",
        "0 0 0 29 Feb ?",
        "Mon Feb 29 00:00 2016",
    ),
    ("Mon Jul 9 23:35 2012", "0 0 0 30 Feb ?", ""),
    ("Mon Jul 9 23:35 2012", "0 0 0 31 Apr ?", ""),
];

fn fires_at(spec: &str, at: DateTime<Utc>) -> bool {
    let cron = CronSchedule::parse(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
    cron.next_after(at - chrono::Duration::seconds(1)) == Some(at)
}

#[test]
fn activation_vectors_agree_with_robfig() {
    for (at, spec, expected) in ACTIVATION {
        let spec = standard(spec);
        assert_eq!(fires_at(&spec, time(at)), *expected, "{spec:?} at {at}");
    }
}

#[test]
fn descriptor_vectors_agree_with_robfig() {
    for (at, spec, expected) in DESCRIPTORS {
        assert_eq!(fires_at(spec, time(at)), *expected, "{spec:?} at {at}");
    }
}

#[test]
fn next_vectors_agree_with_robfig() {
    for (after, spec, expected) in NEXT {
        let spec = standard(spec);
        let cron = CronSchedule::parse(&spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
        let next = cron.next_after(time(after));
        let expected = (!expected.is_empty()).then(|| time(expected));
        assert_eq!(next, expected, "{spec:?} after {after}");
    }
}

#[test]
fn the_fuzz_corpus_holds_every_vector() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/cron");
    let mut specs: Vec<String> = ACTIVATION
        .iter()
        .map(|(_, s, _)| standard(s))
        .chain(NEXT.iter().map(|(_, s, _)| standard(s)))
        .chain(DESCRIPTORS.iter().map(|(_, s, _)| (*s).to_owned()))
        .collect();
    specs.sort();
    specs.dedup();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(&corpus).unwrap();
        for (i, spec) in specs.iter().enumerate() {
            std::fs::write(corpus.join(format!("seed-robfig-{i:02}")), spec).unwrap();
        }
    }
    for spec in &specs {
        let held = std::fs::read_dir(&corpus)
            .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_DOCS=1 writes it)", corpus.display()))
            .filter_map(Result::ok)
            .any(|f| std::fs::read_to_string(f.path()).is_ok_and(|t| t == *spec));
        assert!(
            held,
            "fuzz/corpus/cron lacks {spec:?} (UPDATE_DOCS=1 cargo test -p medusa-crds --test cron_robfig)"
        );
    }
}
