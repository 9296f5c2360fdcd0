//! From what professionals publish (wall-clock ranges) to concrete slots (UTC instants).
//!
//! Professionals publish Paris wall-clock times: a range 08:00–12:00 is 08:00–12:00 on the
//! clocks on both sides of a clock change, so it starts at 07:00 UTC in winter and 06:00 UTC in
//! summer. On the two change nights:
//! - March: a slot whose wall-clock interval meets the missing hour 02:00–03:00 is skipped (its
//!   start does not exist, or it would overlap the next slot in real time);
//! - October: a wall-clock time of the repeated hour 02:00–03:00 means its *first* occurrence
//!   (CEST); no slot starts during the second pass. A slot lasts its published minutes in real
//!   time, so one starting at 02:30 for 60 minutes ends at 02:30 CET.
//!
//! A slot belongs to a window when its start does: expanding `[a, b)` then `[b, c)` gives
//! exactly the slots of `[a, c)`.

use super::availability::{AudienceSet, Availability, Place, ProfessionalId};
use super::paris::{self, OutOfRange};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

/// A slot's stable name: the same publication always yields the same ids, so bookings survive
/// a re-expansion. Written `p<professional>-<YYYYMMDDTHHMM local>-<place letter>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SlotId {
    pub professional: ProfessionalId,
    /// Paris wall-clock start, as published.
    pub local_start: NaiveDateTime,
    pub place: Place,
}

impl SlotId {
    /// The instant the slot starts (the first one in the October fold), `None` in the March gap.
    pub fn start(&self) -> Option<DateTime<Utc>> {
        paris::to_utc(self.local_start).ok()?.earliest()
    }
}

impl fmt::Display for SlotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}-{}-{}", self.professional.0, self.local_start.format("%Y%m%dT%H%M"), self.place.letter())
    }
}

/// A string that is not a [`SlotId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a slot id (p<number>-<YYYYMMDDTHHMM>-<C|D|T>)")]
pub struct SlotIdError(pub String);

impl FromStr for SlotId {
    type Err = SlotIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || SlotIdError(s.to_owned());
        let mut parts = s.split('-');
        let (Some(pro), Some(start), Some(place), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(err());
        };
        let professional = pro.strip_prefix('p').and_then(|n| n.parse().ok()).map(ProfessionalId).ok_or_else(err)?;
        let local_start = NaiveDateTime::parse_from_str(start, "%Y%m%dT%H%M").map_err(|_| err())?;
        let mut letters = place.chars();
        let place = match (letters.next(), letters.next()) {
            (Some(c), None) => Place::from_letter(c).ok_or_else(err)?,
            _ => return Err(err()),
        };
        Ok(SlotId { professional, local_start, place })
    }
}

/// A concrete slot of one professional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub id: SlotId,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub place: Place,
    pub audiences: AudienceSet,
    pub capacity: u8,
}

/// The slots of `availability` starting in `[from, to)`, sorted by start.
///
/// Expects a publication that passed [`Availability::validate`]; on an invalid one it still
/// terminates (a range with a zero slot length yields nothing) but slots may overlap. Closures
/// remove every slot of their days, cancellations the slot with their wall-clock start.
pub fn expand(availability: &Availability, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Slot>, OutOfRange> {
    if to <= from {
        return Ok(Vec::new());
    }
    let first_day = paris::to_local(from)?.date();
    let last_day = paris::to_local(to)?.date();
    let cancelled: HashSet<NaiveDateTime> = availability.cancellations.iter().map(|c| c.start).collect();
    let open = |day: NaiveDate| !availability.closures.iter().any(|c| c.contains(day));
    let mut slots = Vec::new();
    let mut push = |local_start: NaiveDateTime, minutes: u16, place: Place, audiences: AudienceSet, capacity: u8| {
        if cancelled.contains(&local_start) {
            return Ok(());
        }
        let Some(start) = start_of(local_start, minutes)? else { return Ok(()) };
        if start >= from && start < to {
            let id = SlotId { professional: availability.professional, local_start, place };
            let end = start + Duration::minutes(i64::from(minutes));
            slots.push(Slot { id, start, end, place, audiences, capacity });
        }
        Ok::<(), OutOfRange>(())
    };
    for day in first_day.iter_days().take_while(|d| *d <= last_day).filter(|d| open(*d)) {
        for r in availability.weekly.iter().filter(|r| r.applies_on(day) && r.slot_minutes > 0) {
            let step = Duration::minutes(i64::from(r.slot_minutes));
            let mut t = day.and_time(r.start);
            let end = day.and_time(r.end);
            while t + step <= end {
                push(t, r.slot_minutes, r.place, r.audiences, r.capacity)?;
                t += step;
            }
        }
    }
    for s in availability.one_off.iter().filter(|s| (first_day..=last_day).contains(&s.start.date())) {
        if open(s.start.date()) {
            push(s.start, s.minutes, s.place, s.audiences, s.capacity)?;
        }
    }
    slots.sort_by_key(|s| (s.start, s.id));
    Ok(slots)
}

/// The UTC start of a slot, or `None` when its wall-clock interval meets the March gap.
fn start_of(local_start: NaiveDateTime, minutes: u16) -> Result<Option<DateTime<Utc>>, OutOfRange> {
    let day = local_start.date();
    let (march, _) = paris::transition_days(day.year())?;
    if day == march {
        let gap_start = day.and_time(NaiveTime::MIN) + Duration::hours(2);
        let gap_end = gap_start + Duration::hours(1);
        let local_end = local_start + Duration::minutes(i64::from(minutes));
        if local_start < gap_end && gap_start < local_end {
            return Ok(None);
        }
    }
    Ok(paris::to_utc(local_start)?.earliest())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snp::availability::tests::{availability, d, range, t};
    use crate::snp::availability::{Audience, Cancellation, Closure, OneOffSlot, WeeklyRange};
    use chrono::Weekday;
    use proptest::prelude::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn starts(slots: &[Slot]) -> Vec<String> {
        slots.iter().map(|s| s.start.format("%H:%M").to_string()).collect()
    }

    #[test]
    fn a_morning_range_keeps_its_wall_clock_hours_across_the_march_change() {
        // Sundays around 2026-03-29.
        let a = availability(vec![range(Weekday::Sun, t(8, 0), t(12, 0), 60)]);
        let before = expand(&a, utc("2026-03-22T00:00:00Z"), utc("2026-03-23T00:00:00Z")).unwrap();
        let on = expand(&a, utc("2026-03-29T00:00:00Z"), utc("2026-03-30T00:00:00Z")).unwrap();
        assert_eq!(starts(&before), ["07:00", "08:00", "09:00", "10:00"]);
        assert_eq!(starts(&on), ["06:00", "07:00", "08:00", "09:00"]);
        assert_eq!(on[0].id.to_string(), "p7-20260329T0800-C");
        assert_eq!(on[0].end - on[0].start, Duration::minutes(60));
    }

    #[test]
    fn the_march_gap_skips_the_slots_it_meets() {
        let a = availability(vec![range(Weekday::Sun, t(1, 0), t(4, 0), 30)]);
        let on = expand(&a, utc("2026-03-28T12:00:00Z"), utc("2026-03-29T12:00:00Z")).unwrap();
        // 01:00 and 01:30 CET, then 03:00 and 03:30 CEST; 02:00 and 02:30 do not exist.
        assert_eq!(starts(&on), ["00:00", "00:30", "01:00", "01:30"]);
        let local: Vec<_> = on.iter().map(|s| s.id.local_start.time().format("%H:%M").to_string()).collect();
        assert_eq!(local, ["01:00", "01:30", "03:00", "03:30"]);
        // A 45-minute slot from 01:30 would end in the gap: skipped too.
        let a = availability(vec![range(Weekday::Sun, t(0, 0), t(3, 0), 45)]);
        let on = expand(&a, utc("2026-03-28T12:00:00Z"), utc("2026-03-29T12:00:00Z")).unwrap();
        let local: Vec<_> = on.iter().map(|s| s.id.local_start.time().format("%H:%M").to_string()).collect();
        assert_eq!(local, ["00:00", "00:45"]);
    }

    #[test]
    fn the_october_fold_uses_the_first_occurrence() {
        let a = availability(vec![range(Weekday::Sun, t(1, 0), t(4, 0), 60)]);
        let on = expand(&a, utc("2026-10-24T12:00:00Z"), utc("2026-10-25T12:00:00Z")).unwrap();
        // 01:00 CEST, 02:00 CEST (first pass), 03:00 CET: real time 23:00, 00:00, 02:00 UTC.
        assert_eq!(starts(&on), ["23:00", "00:00", "02:00"]);
        let a = availability(vec![range(Weekday::Sun, t(8, 0), t(12, 0), 60)]);
        let after = expand(&a, utc("2026-10-25T00:00:00Z"), utc("2026-10-26T00:00:00Z")).unwrap();
        assert_eq!(starts(&after), ["07:00", "08:00", "09:00", "10:00"]);
    }

    #[test]
    fn closures_cancellations_validity_and_one_off_slots() {
        let mut r = range(Weekday::Mon, t(9, 0), t(10, 0), 30);
        r.valid_until = Some(d(2026, 6, 22));
        let mut a = availability(vec![r]);
        a.closures.push(Closure { from: d(2026, 6, 8), to: d(2026, 6, 14), reason: "Congés".into() });
        a.cancellations.push(Cancellation { start: d(2026, 6, 15).and_time(t(9, 30)), reason: "Formation".into() });
        a.one_off.push(OneOffSlot {
            start: d(2026, 6, 10).and_time(t(14, 0)),
            minutes: 20,
            place: Place::Teleconsultation,
            audiences: AudienceSet::of(&[Audience::Public]),
            capacity: 2,
        });
        a.one_off.push(OneOffSlot {
            start: d(2026, 6, 17).and_time(t(14, 0)),
            minutes: 20,
            place: Place::Teleconsultation,
            audiences: AudienceSet::of(&[Audience::Public]),
            capacity: 2,
        });
        assert_eq!(a.validate(), Ok(()));
        let slots = expand(&a, utc("2026-06-01T00:00:00Z"), utc("2026-07-01T00:00:00Z")).unwrap();
        let ids: Vec<String> = slots.iter().map(|s| s.id.to_string()).collect();
        assert_eq!(
            ids,
            [
                "p7-20260601T0900-C",
                "p7-20260601T0930-C",
                "p7-20260615T0900-C",
                "p7-20260617T1400-T",
                "p7-20260622T0900-C",
                "p7-20260622T0930-C",
            ]
        );
        assert_eq!(slots[3].capacity, 2);
    }

    #[test]
    fn slot_ids_round_trip_and_reject_garbage() {
        let id: SlotId = "p42-20261025T0230-D".parse().unwrap();
        assert_eq!(id.professional, ProfessionalId(42));
        assert_eq!(id.place, Place::Domicile);
        assert_eq!(id.to_string(), "p42-20261025T0230-D");
        assert_eq!(id.start(), Some(utc("2026-10-25T00:30:00Z")));
        assert_eq!("p1-20260329T0230-C".parse::<SlotId>().unwrap().start(), None);
        for bad in
            ["", "p-20260101T0800-C", "42-20260101T0800-C", "p1-2026-C", "p1-20260101T0800-X", "p1-20260101T0800-CC"]
        {
            assert!(bad.parse::<SlotId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_windows_before_1996() {
        let a = availability(vec![]);
        assert!(expand(&a, utc("1995-06-01T00:00:00Z"), utc("1995-07-01T00:00:00Z")).is_err());
        assert_eq!(expand(&a, utc("2026-07-01T00:00:00Z"), utc("2026-06-01T00:00:00Z")), Ok(vec![]));
    }

    /// A valid publication: per weekday, up to three disjoint ranges; one-off slots in hours no
    /// range uses (20:00–23:00); a closure; cancellations of generated starts.
    fn publication() -> impl Strategy<Value = Availability> {
        let minutes = prop::sample::select(vec![5u16, 10, 15, 20, 30, 45, 60, 90, 120]);
        let range = (0u32..7, 0u32..24, 1u32..12, minutes, 0usize..3, 0u32..400, 1u8..4);
        let one_off = (0i64..500, 0u32..12, prop::sample::select(vec![10u16, 15, 30]));
        (
            prop::collection::vec(range, 0..8),
            prop::collection::vec(one_off, 0..6),
            0i64..500,
            0i64..10,
            prop::collection::vec((0i64..500, 0u32..96), 0..10),
        )
            .prop_map(|(ranges, one_offs, closed_from, closed_days, cancels)| {
                let base = d(2026, 1, 1);
                let mut weekly: Vec<WeeklyRange> = Vec::new();
                for (wd, slot, count, m, place, from_day, capacity) in ranges {
                    // Ranges at 00:00–20:00 in 4-hour columns, sized in whole slots.
                    let start = t(slot % 5 * 4, 0);
                    let len = (u32::from(m) * count).min(240) / u32::from(m) * u32::from(m);
                    let end = start + Duration::minutes(i64::from(len.max(u32::from(m))));
                    let candidate = WeeklyRange {
                        weekday: Weekday::try_from(wd as u8).unwrap(),
                        start,
                        end,
                        slot_minutes: m,
                        capacity,
                        place: Place::ALL[place],
                        audiences: AudienceSet::of(&[Audience::Snp]),
                        valid_from: base + Duration::days(i64::from(from_day)),
                        valid_until: None,
                    };
                    let clash = weekly
                        .iter()
                        .any(|w| w.weekday == candidate.weekday && w.start < candidate.end && candidate.start < w.end);
                    if !clash {
                        weekly.push(candidate);
                    }
                }
                let mut one_off: Vec<OneOffSlot> = Vec::new();
                for (day, quarter, minutes) in one_offs {
                    let start =
                        (base + Duration::days(day)).and_time(t(20, 0)) + Duration::minutes(i64::from(quarter) * 15);
                    let candidate = OneOffSlot {
                        start,
                        minutes,
                        place: Place::Cabinet,
                        audiences: AudienceSet::of(&[Audience::Pro]),
                        capacity: 1,
                    };
                    let end = candidate.start + Duration::minutes(i64::from(minutes));
                    let clash = one_off
                        .iter()
                        .any(|o| o.start < end && candidate.start < o.start + Duration::minutes(i64::from(o.minutes)));
                    if !clash {
                        one_off.push(candidate);
                    }
                }
                let closures = vec![Closure {
                    from: base + Duration::days(closed_from),
                    to: base + Duration::days(closed_from + closed_days),
                    reason: String::new(),
                }];
                let cancellations = cancels
                    .into_iter()
                    .map(|(day, q)| Cancellation {
                        start: (base + Duration::days(day)).and_time(t(0, 0)) + Duration::minutes(i64::from(q) * 15),
                        reason: String::new(),
                    })
                    .collect();
                Availability { professional: ProfessionalId(3), weekly, one_off, closures, cancellations }
            })
    }

    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        // 2026-01-01 .. 2027-06-01, on whole minutes (covers both 2026 changes and March 2027).
        (0i64..739_440).prop_map(|m| utc("2026-01-01T00:00:00Z") + Duration::minutes(m))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn expanded_slots_are_sound(a in publication(), from in instant(), days in 1i64..60) {
            prop_assert_eq!(a.validate(), Ok(()));
            let to = from + Duration::days(days);
            let slots = expand(&a, from, to).unwrap();
            for pair in slots.windows(2) {
                prop_assert!(pair[0].end <= pair[1].start, "{:?} overlaps {:?}", pair[0].id, pair[1].id);
            }
            for s in &slots {
                prop_assert!(s.start >= from && s.start < to);
                // The start shows the published wall-clock time on Paris clocks.
                prop_assert_eq!(paris::to_local(s.start).unwrap(), s.id.local_start);
                prop_assert_eq!(s.id.start(), Some(s.start));
                prop_assert!(!a.closures.iter().any(|c| c.contains(s.id.local_start.date())));
                prop_assert!(!a.cancellations.iter().any(|c| c.start == s.id.local_start));
            }
        }

        #[test]
        fn expansion_splits_at_any_instant(a in publication(), from in instant(), split in 0i64..40_000, rest in 0i64..40_000) {
            let mid = from + Duration::minutes(split);
            let to = mid + Duration::minutes(rest);
            let mut parts = expand(&a, from, mid).unwrap();
            parts.extend(expand(&a, mid, to).unwrap());
            prop_assert_eq!(parts, expand(&a, from, to).unwrap());
        }
    }
}
