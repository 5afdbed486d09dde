//! robfig/cron's `Next`: the next matching instant, with Go `time.Time` arithmetic in the
//! schedule's zone.

use chrono::{Datelike, NaiveDate, Offset, TimeZone, Timelike};

use super::*;

/// An instant viewed in a zone, with Go `time.Time` arithmetic.
#[derive(Clone, Copy)]
pub(super) struct GoTime {
    unix: i64,
    zone: Zone,
}

pub(super) struct Civil {
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

    /// Whether no time can ever match: a field whose list is empty (robfig accepts `,` and
    /// sets no bit), or days that no date allows (the 30th of February, or no day of month
    /// and no day of week). robfig's `Next` finds this only after five years of search, minute
    /// by minute when the minutes are empty (a quarter of a second); the answer, no run, is
    /// the same.
    pub(super) fn never_matches(&self) -> bool {
        /// The most days each month, January first, can have.
        const LONGEST: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        let any = |mask: u64| mask & !STAR_BIT != 0;
        if !(any(self.second) && any(self.minute) && any(self.hour) && any(self.month)) {
            return true;
        }
        let date_exists = (1u32..).zip(LONGEST).any(|(month, longest)| {
            self.month & (1 << month) != 0 && (1..=longest).any(|day| self.dom & (1 << day) != 0)
        });
        // A `*` on one side makes the days those of the other side (robfig's `dayMatches`);
        // otherwise a day either side allows matches.
        if self.dow & STAR_BIT > 0 {
            !date_exists
        } else if self.dom & STAR_BIT > 0 {
            !any(self.dow)
        } else {
            !date_exists && !any(self.dow)
        }
    }

    /// robfig's `Next`: the first matching second after `after`, or `None` when nothing
    /// matches within five years.
    pub(super) fn next(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.never_matches() {
            return None;
        }
        self.search(after)
    }

    /// robfig's search, field by field, for at most five years.
    pub(super) fn search(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Start at the earliest possible time (the upcoming second).
        let mut search = Search {
            t: GoTime {
                unix: after.timestamp() + 1,
                zone: self.zone,
            },
            added: false,
        };
        let year_limit = search.t.civil().year + 5;
        loop {
            if search.t.civil().year > year_limit {
                return None;
            }
            // Each field moves on until it matches; a field that wraps around starts over.
            let wrapped = search.month(self)?
                || search.day(self)?
                || search.hour(self)?
                || search.minute(self)?
                || search.second(self)?;
            if !wrapped {
                return DateTime::from_timestamp(search.t.unix, 0);
            }
        }
    }
}

/// Where robfig's `Next` stands: the candidate time, and whether a field has moved it yet
/// (the first move also truncates the smaller fields).
struct Search {
    t: GoTime,
    added: bool,
}

impl Search {
    /// Moves to a matching month; `true` when the year wrapped.
    fn month(&mut self, spec: &Spec) -> Option<bool> {
        let zone = spec.zone;
        while (1u64 << self.t.civil().month) & spec.month == 0 {
            if !self.added {
                self.added = true;
                let c = self.t.civil();
                self.t = GoTime::date(c.year.into(), c.month.into(), 1, 0, 0, 0, zone)?;
            }
            let c = self.t.civil();
            self.t = GoTime::date(
                c.year.into(),
                i64::from(c.month) + 1,
                c.day.into(),
                c.hour.into(),
                c.minute.into(),
                c.second.into(),
                zone,
            )?;
            if self.t.civil().month == 1 {
                return Some(true);
            }
        }
        Some(false)
    }

    /// Moves to a matching day; `true` when the month wrapped.
    fn day(&mut self, spec: &Spec) -> Option<bool> {
        let zone = spec.zone;
        while !spec.day_matches(&self.t.civil()) {
            if !self.added {
                self.added = true;
                let c = self.t.civil();
                self.t = GoTime::date(c.year.into(), c.month.into(), c.day.into(), 0, 0, 0, zone)?;
            }
            let c = self.t.civil();
            self.t = GoTime::date(
                c.year.into(),
                c.month.into(),
                i64::from(c.day) + 1,
                c.hour.into(),
                c.minute.into(),
                c.second.into(),
                zone,
            )?;
            // Notice if the hour is no longer midnight due to DST.
            let hour = i64::from(self.t.civil().hour);
            if hour != 0 {
                self.t = if hour > 12 {
                    self.t.add_seconds((24 - hour) * 3600)
                } else {
                    self.t.add_seconds(-hour * 3600)
                };
            }
            if self.t.civil().day == 1 {
                return Some(true);
            }
        }
        Some(false)
    }

    /// Moves to a matching hour; `true` when the day wrapped.
    fn hour(&mut self, spec: &Spec) -> Option<bool> {
        while (1u64 << self.t.civil().hour) & spec.hour == 0 {
            if !self.added {
                self.added = true;
                let c = self.t.civil();
                self.t = GoTime::date(
                    c.year.into(),
                    c.month.into(),
                    c.day.into(),
                    c.hour.into(),
                    0,
                    0,
                    spec.zone,
                )?;
            }
            self.t = self.t.add_seconds(3600);
            if self.t.civil().hour == 0 {
                return Some(true);
            }
        }
        Some(false)
    }

    /// Moves to a matching minute; `true` when the hour wrapped.
    fn minute(&mut self, spec: &Spec) -> Option<bool> {
        while (1u64 << self.t.civil().minute) & spec.minute == 0 {
            if !self.added {
                self.added = true;
                self.t = self.t.truncate(60);
            }
            self.t = self.t.add_seconds(60);
            if self.t.civil().minute == 0 {
                return Some(true);
            }
        }
        Some(false)
    }

    /// Moves to a matching second; `true` when the minute wrapped.
    fn second(&mut self, spec: &Spec) -> Option<bool> {
        while (1u64 << self.t.civil().second) & spec.second == 0 {
            if !self.added {
                self.added = true;
                self.t = self.t.truncate(1);
            }
            self.t = self.t.add_seconds(1);
            if self.t.civil().second == 0 {
                return Some(true);
            }
        }
        Some(false)
    }
}
