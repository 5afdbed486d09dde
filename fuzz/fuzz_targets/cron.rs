//! The cron parser and `next`: never a panic, and the runs are strictly increasing. The input
//! is the expression's text, so the corpus is readable: it is seeded with robfig/cron's own
//! test vectors (crds/tests/cron_robfig.rs keeps them in sync).
#![no_main]

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use medusa_crds::cron::CronSchedule;

/// From where runs are followed: a plain day and New York's spring-forward day (an
/// unsatisfiable expression costs a five-year search from each, so they are few).
const STARTS: [i64; 2] = [1_714_564_800, 1_710_054_000];

fuzz_target!(|data: &[u8]| {
    let Ok(spec) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(cron) = CronSchedule::parse(spec) else {
        return;
    };
    for start in STARTS {
        let Some(start) = DateTime::from_timestamp(start, 0) else {
            continue;
        };
        let mut previous = start;
        for _ in 0..3 {
            let Some(next) = cron.next_after(previous) else {
                break;
            };
            assert!(next > previous, "{spec:?}: next after {previous} is {next}");
            previous = next;
        }
    }
});
