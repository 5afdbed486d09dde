use super::*;

#[test]
fn next_run_follows_the_last_execution() {
    let schedule = MedusaBackupSchedule::test("nightly")
        .executed(Some("2024-05-01T01:30:00Z"), Some("2024-05-02T01:30:00Z"));
    let state = schedule_state(&schedule, now());
    assert_eq!(
        state.next_run.unwrap().to_rfc3339(),
        "2024-05-02T01:30:00+00:00"
    );
    assert!(state.anomalies.is_empty());
}

#[test]
fn a_never_run_schedule_counts_from_its_creation() {
    let schedule = MedusaBackupSchedule::test("hourly")
        .cron("0 * * * *")
        .created("2024-05-01T11:40:00Z");
    let state = schedule_state(&schedule, now());
    assert_eq!(
        state.next_run.unwrap().to_rfc3339(),
        "2024-05-01T13:00:00+00:00"
    );
}

#[test]
fn an_overdue_next_schedule_is_reported() {
    let schedule = MedusaBackupSchedule::test("nightly")
        .executed(Some("2024-04-29T01:30:00Z"), Some("2024-04-30T01:30:00Z"));
    let state = schedule_state(&schedule, now());
    assert_eq!(codes(&state.anomalies), ["ScheduleOverdue"]);
}

#[test]
fn an_unsupported_policy_is_reported() {
    let schedule = MedusaBackupSchedule::test("nightly").policy("Replace");
    assert_eq!(
        codes(&schedule_state(&schedule, now()).anomalies),
        ["UnsupportedConcurrencyPolicy"]
    );
}

#[test]
fn allow_and_forbid_are_supported_policies() {
    for policy in ["Allow", "Forbid"] {
        let schedule = MedusaBackupSchedule::test("nightly").policy(policy);
        assert!(schedule_state(&schedule, now()).anomalies.is_empty());
    }
}

#[test]
fn an_invalid_cron_is_reported_with_the_parser_text() {
    let schedule = MedusaBackupSchedule::test("nightly").cron("* * *");
    let state = schedule_state(&schedule, now());
    assert_eq!(state.next_run, None);
    assert_eq!(
        state.anomalies[0].to_string(),
        "the cron expression does not parse (expected exactly 5 fields, found 3: [* * *]): the operator makes no progress on this schedule"
    );
}

#[test]
fn a_cron_that_never_runs_is_reported_without_a_next_run() {
    let schedule = MedusaBackupSchedule::test("nightly").cron("0 0 31 4 *");
    let state = schedule_state(&schedule, now());
    assert_eq!(state.next_run, None);
    assert_eq!(codes(&state.anomalies), ["CronNeverRuns"]);
}

#[test]
fn a_disabled_schedule_is_paused() {
    let schedule = MedusaBackupSchedule::test("nightly").disabled();
    assert!(schedule_state(&schedule, now()).paused);
}
