//! The cron parser and `next`: never a panic, and the runs are strictly increasing.
#![no_main]

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use medusa_crds::cron::CronSchedule;

fuzz_target!(|data: (&str, i32)| {
    let (spec, offset) = data;
    let Ok(cron) = CronSchedule::parse(spec) else {
        return;
    };
    // Any time between 1970 and 2106.
    let Some(start) = DateTime::from_timestamp(i64::from(offset).unsigned_abs() as i64 * 2, 0) else {
        return;
    };
    let mut previous = start;
    for _ in 0..4 {
        let Some(next) = cron.next_after(previous) else {
            break;
        };
        assert!(next > previous, "{spec:?}: next after {previous} is {next}");
        previous = next;
    }
    let upcoming = cron.upcoming(start, 3);
    assert!(upcoming.windows(2).all(|w| w[0] < w[1]), "{spec:?}: {upcoming:?}");
});
