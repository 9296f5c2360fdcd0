//! Europe/Paris wall-clock time ↔ UTC, without a time-zone database.
//!
//! Metropolitan France is on CET (UTC+1) in winter and CEST (UTC+2) in summer. Since 1996 the EU
//! rule (directive 2000/84/EC and its predecessors) puts every member state on summer time from
//! the last Sunday of March at 01:00 UTC to the last Sunday of October at 01:00 UTC. In Paris
//! wall-clock terms: in March the clock jumps from 02:00 to 03:00 (the hour 02:00–03:00 does not
//! exist, the *gap*); in October it goes back from 03:00 to 02:00 (the hour 02:00–03:00 happens
//! twice, the *fold*).
//!
//! Valid for the years [`YEARS`] (1996–9999): earlier years followed other rules (summer time
//! ended in late September until 1995), and four-digit years keep every instant writable in
//! iCalendar and ISO 8601. Anything outside is refused with [`OutOfRange`], never guessed. Should
//! the EU abolish the seasonal change, this module is the one place to update.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use std::ops::RangeInclusive;

/// The years (UTC for instants, local for wall-clock times) this module converts.
pub const YEARS: RangeInclusive<i32> = 1996..=9999;

/// The offset of Paris wall-clock time from UTC at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Offset {
    /// Central European Time, UTC+1 (winter).
    Cet,
    /// Central European Summer Time, UTC+2.
    Cest,
}

impl Offset {
    /// Local minus UTC.
    pub fn duration(self) -> Duration {
        match self {
            Offset::Cet => Duration::hours(1),
            Offset::Cest => Duration::hours(2),
        }
    }

    /// `+01:00` or `+02:00`, as in ISO 8601.
    pub fn iso(self) -> &'static str {
        match self {
            Offset::Cet => "+01:00",
            Offset::Cest => "+02:00",
        }
    }
}

/// A date or instant outside [`YEARS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("year {year} is outside 1996–9999, where the Europe/Paris rule is implemented")]
pub struct OutOfRange {
    pub year: i32,
}

impl OutOfRange {
    pub fn fr(&self) -> String {
        format!("l'année {} est hors de la période 1996–9999 où l'heure de Paris est calculée", self.year)
    }
}

/// What a Paris wall-clock time is in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalTime {
    /// The usual case: one instant.
    Unique(DateTime<Utc>),
    /// A time of the March gap (02:00–02:59:59 on the last Sunday of March): it never shows on
    /// Paris clocks. `next_valid` is the instant the clocks jump (01:00 UTC, 03:00 CEST), the
    /// first valid wall-clock time after it.
    Gap { next_valid: DateTime<Utc> },
    /// A time of the October fold (02:00–02:59:59 on the last Sunday of October): it shows
    /// twice, first in CEST (`first`), then one hour later in CET (`second`).
    Fold { first: DateTime<Utc>, second: DateTime<Utc> },
}

impl LocalTime {
    /// The single instant, or the first one of a fold; `None` in the gap.
    pub fn earliest(self) -> Option<DateTime<Utc>> {
        match self {
            LocalTime::Unique(t) | LocalTime::Fold { first: t, .. } => Some(t),
            LocalTime::Gap { .. } => None,
        }
    }
}

/// The last Sunday of March or October (both have 31 days).
fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
    let last = NaiveDate::from_ymd_opt(year, month, 31)?;
    let back = last.weekday().num_days_from_sunday();
    Some(last - Duration::days(i64::from(back)))
}

/// The two days of the year the clocks change: (March, October).
pub fn transition_days(year: i32) -> Result<(NaiveDate, NaiveDate), OutOfRange> {
    if !YEARS.contains(&year) {
        return Err(OutOfRange { year });
    }
    match (last_sunday(year, 3), last_sunday(year, 10)) {
        (Some(march), Some(october)) => Ok((march, october)),
        _ => Err(OutOfRange { year }),
    }
}

/// A whole hour as a `const` (chrono's constructor returns an `Option`; hours below 24 exist).
const fn hour(h: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(h, 0, 0) {
        Some(t) => t,
        None => NaiveTime::MIN,
    }
}

const ONE_UTC: NaiveTime = hour(1);
const TWO: NaiveTime = hour(2);
const THREE: NaiveTime = hour(3);

/// The Paris offset at an instant.
pub fn offset_at(utc: DateTime<Utc>) -> Result<Offset, OutOfRange> {
    let (march, october) = transition_days(utc.year())?;
    let t = utc.naive_utc();
    Ok(if t >= march.and_time(ONE_UTC) && t < october.and_time(ONE_UTC) { Offset::Cest } else { Offset::Cet })
}

/// Paris wall-clock time at an instant.
pub fn to_local(utc: DateTime<Utc>) -> Result<NaiveDateTime, OutOfRange> {
    Ok(utc.naive_utc() + offset_at(utc)?.duration())
}

/// The instant(s) a Paris wall-clock time denotes.
pub fn to_utc(local: NaiveDateTime) -> Result<LocalTime, OutOfRange> {
    let (march, october) = transition_days(local.year())?;
    let at = |offset: Offset| (local - offset.duration()).and_utc();
    let (day, time) = (local.date(), local.time());
    Ok(if day == march && (TWO..THREE).contains(&time) {
        LocalTime::Gap { next_valid: march.and_time(ONE_UTC).and_utc() }
    } else if day == october && (TWO..THREE).contains(&time) {
        LocalTime::Fold { first: at(Offset::Cest), second: at(Offset::Cet) }
    } else if local >= march.and_time(THREE) && local < october.and_time(TWO) {
        LocalTime::Unique(at(Offset::Cest))
    } else {
        LocalTime::Unique(at(Offset::Cet))
    })
}

/// The first instant of a Paris day (midnight is never in a clock-change gap or fold).
pub fn day_start(day: NaiveDate) -> Result<DateTime<Utc>, OutOfRange> {
    to_utc(day.and_time(chrono::NaiveTime::MIN)).map(|l| match l {
        LocalTime::Unique(t) | LocalTime::Fold { first: t, .. } | LocalTime::Gap { next_valid: t } => t,
    })
}

/// Whether `day` is a clock-change day (useful to warn professionals publishing on it).
pub fn is_transition_day(day: NaiveDate) -> bool {
    transition_days(day.year()).is_ok_and(|(m, o)| day == m || day == o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;
    use proptest::prelude::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn local(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn transition_days_of_several_years() {
        // Checked against the published French calendars.
        let cases = [
            (1996, "1996-03-31", "1996-10-27"),
            (2000, "2000-03-26", "2000-10-29"),
            (2019, "2019-03-31", "2019-10-27"),
            (2024, "2024-03-31", "2024-10-27"),
            (2025, "2025-03-30", "2025-10-26"),
            (2026, "2026-03-29", "2026-10-25"),
            (2027, "2027-03-28", "2027-10-31"),
            (2028, "2028-03-26", "2028-10-29"),
        ];
        for (year, m, o) in cases {
            let (march, october) = transition_days(year).unwrap();
            assert_eq!(march.to_string(), m, "{year}");
            assert_eq!(october.to_string(), o, "{year}");
        }
    }

    #[test]
    fn offsets_around_the_march_2026_change() {
        assert_eq!(offset_at(utc("2026-03-29T00:59:59Z")).unwrap(), Offset::Cet);
        assert_eq!(offset_at(utc("2026-03-29T01:00:00Z")).unwrap(), Offset::Cest);
        assert_eq!(to_local(utc("2026-03-29T00:59:00Z")).unwrap(), local("2026-03-29 01:59"));
        assert_eq!(to_local(utc("2026-03-29T01:00:00Z")).unwrap(), local("2026-03-29 03:00"));
    }

    #[test]
    fn offsets_around_the_october_2026_change() {
        assert_eq!(offset_at(utc("2026-10-25T00:59:59Z")).unwrap(), Offset::Cest);
        assert_eq!(offset_at(utc("2026-10-25T01:00:00Z")).unwrap(), Offset::Cet);
        assert_eq!(to_local(utc("2026-10-25T00:30:00Z")).unwrap(), local("2026-10-25 02:30"));
        assert_eq!(to_local(utc("2026-10-25T01:30:00Z")).unwrap(), local("2026-10-25 02:30"));
    }

    #[test]
    fn the_march_gap_does_not_exist() {
        let next_valid = utc("2026-03-29T01:00:00Z");
        for t in ["2026-03-29 02:00", "2026-03-29 02:30", "2026-03-29 02:59"] {
            assert_eq!(to_utc(local(t)).unwrap(), LocalTime::Gap { next_valid }, "{t}");
        }
        assert_eq!(to_utc(local("2026-03-29 01:59")).unwrap(), LocalTime::Unique(utc("2026-03-29T00:59:00Z")));
        assert_eq!(to_utc(local("2026-03-29 03:00")).unwrap(), LocalTime::Unique(utc("2026-03-29T01:00:00Z")));
        // The same wall-clock time a week before and after is an ordinary one.
        assert_eq!(to_utc(local("2026-03-22 02:30")).unwrap(), LocalTime::Unique(utc("2026-03-22T01:30:00Z")));
        assert_eq!(to_utc(local("2026-04-05 02:30")).unwrap(), LocalTime::Unique(utc("2026-04-05T00:30:00Z")));
    }

    #[test]
    fn the_october_fold_happens_twice() {
        assert_eq!(
            to_utc(local("2026-10-25 02:30")).unwrap(),
            LocalTime::Fold { first: utc("2026-10-25T00:30:00Z"), second: utc("2026-10-25T01:30:00Z") }
        );
        assert_eq!(
            to_utc(local("2026-10-25 02:00")).unwrap(),
            LocalTime::Fold { first: utc("2026-10-25T00:00:00Z"), second: utc("2026-10-25T01:00:00Z") }
        );
        assert_eq!(to_utc(local("2026-10-25 01:59")).unwrap(), LocalTime::Unique(utc("2026-10-24T23:59:00Z")));
        assert_eq!(to_utc(local("2026-10-25 03:00")).unwrap(), LocalTime::Unique(utc("2026-10-25T02:00:00Z")));
    }

    #[test]
    fn other_years_and_ordinary_days() {
        assert_eq!(
            to_utc(local("2024-03-31 02:15")).unwrap(),
            LocalTime::Gap { next_valid: utc("2024-03-31T01:00:00Z") }
        );
        assert!(matches!(to_utc(local("2027-10-31 02:15")).unwrap(), LocalTime::Fold { .. }));
        assert_eq!(to_utc(local("1996-10-27 02:15")).unwrap().earliest(), Some(utc("1996-10-27T00:15:00Z")));
        assert_eq!(to_utc(local("2026-01-15 12:00")).unwrap(), LocalTime::Unique(utc("2026-01-15T11:00:00Z")));
        assert_eq!(to_utc(local("2026-07-14 12:00")).unwrap(), LocalTime::Unique(utc("2026-07-14T10:00:00Z")));
        // New Year's Eve: local and UTC years differ.
        assert_eq!(to_utc(local("2027-01-01 00:30")).unwrap(), LocalTime::Unique(utc("2026-12-31T23:30:00Z")));
        assert_eq!(to_local(utc("2026-12-31T23:30:00Z")).unwrap(), local("2027-01-01 00:30"));
        assert!(is_transition_day(NaiveDate::from_ymd_opt(2026, 10, 25).unwrap()));
        assert!(!is_transition_day(NaiveDate::from_ymd_opt(2026, 10, 18).unwrap()));
    }

    #[test]
    fn refuses_years_before_the_eu_rule() {
        assert_eq!(to_utc(local("1995-07-01 12:00")), Err(OutOfRange { year: 1995 }));
        assert_eq!(offset_at(utc("1995-12-31T23:00:00Z")), Err(OutOfRange { year: 1995 }));
        let far = NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        assert_eq!(to_utc(far), Err(OutOfRange { year: 10_000 }));
        assert!(OutOfRange { year: 1995 }.fr().contains("1995"));
    }

    proptest! {
        /// Every instant comes back from its wall-clock time (as the first or second of a fold).
        #[test]
        fn round_trip(secs in 820_454_400i64..4_102_444_800) {
            let t = DateTime::from_timestamp(secs, 0).unwrap();
            let back = to_utc(to_local(t).unwrap()).unwrap();
            match back {
                LocalTime::Unique(u) => prop_assert_eq!(u, t),
                LocalTime::Fold { first, second } => prop_assert!(first == t || second == t),
                LocalTime::Gap { .. } => prop_assert!(false, "an instant's local time is never in the gap"),
            }
        }

        /// The offset is CEST exactly between the two transitions.
        #[test]
        fn offset_matches_the_transition_days(secs in 820_454_400i64..4_102_444_800) {
            let t = DateTime::from_timestamp(secs, 0).unwrap();
            let (m, o) = transition_days(t.year()).unwrap();
            let summer = t.naive_utc() >= m.and_hms_opt(1, 0, 0).unwrap() && t.naive_utc() < o.and_hms_opt(1, 0, 0).unwrap();
            prop_assert_eq!(offset_at(t).unwrap() == Offset::Cest, summer);
            prop_assert_eq!(m.weekday(), Weekday::Sun);
            prop_assert_eq!(o.weekday(), Weekday::Sun);
            prop_assert!(m.day() > 24 && o.day() > 24);
        }
    }

    #[test]
    fn days_start_at_paris_midnight_across_the_clock_changes() {
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        assert_eq!(day_start(day("2026-03-29")).unwrap(), utc("2026-03-28T23:00:00Z"));
        assert_eq!(day_start(day("2026-03-30")).unwrap(), utc("2026-03-29T22:00:00Z"));
        assert_eq!(day_start(day("2026-10-25")).unwrap(), utc("2026-10-24T22:00:00Z"));
        assert_eq!(day_start(day("2026-10-26")).unwrap(), utc("2026-10-25T23:00:00Z"));
    }
}
