//! The operator's cron semantics, case by case (robfig/cron's own tests where they apply).

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
fn a_field_with_an_empty_list_never_runs() {
    for expr in [
        ", */2 * * *",
        "0 , * * *",
        "0 0 , * *",
        "0 0 * , *",
        "0 0 * * ,",
    ] {
        assert_eq!(next(expr, "2024-01-01T00:00:00Z"), "never", "{expr}");
    }
}

#[test]
fn an_empty_day_of_month_leaves_the_days_of_week_to_run() {
    // Neither day field is `*`: robfig runs on a day either allows.
    assert_eq!(
        next("0 0 , * mon", "2024-01-01T00:00:00Z"),
        "2024-01-08T00:00:00+00:00"
    );
}

/// The shortcut answers "never" exactly where robfig's five-year search finds nothing (the
/// expressions whose search is quick enough for a debug build: not the empty minutes).
#[test]
fn never_is_decided_as_the_full_search_decides_it() {
    let after = at("2024-01-01T00:00:00Z");
    for expr in [
        "0 0 30 2 *",
        "0 0 29 2 *",
        "0 , * * *",
        "0 0 , * *",
        "0 0 * , *",
        "0 0 * * ,",
        "0 0 , * mon",
        "0 0 31 4,6 *",
        "0 0 31 4,6 fri",
        "0 0 , , ,",
        "30 1 * * *",
    ] {
        let Kind::Spec(spec) = CronSchedule::parse(expr).unwrap().kind else {
            panic!("{expr} is not a field expression");
        };
        assert_eq!(
            spec.never_matches(),
            spec.search(after).is_none(),
            "{expr}: never_matches() disagrees with the full search"
        );
    }
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
