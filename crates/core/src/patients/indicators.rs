//! The registry's indicators, which feed the ACI access mission (« accès à un médecin
//! traitant ») report and the coordination's dashboard.
//!
//! Definitions (every count is of requests, i.e. of people, duplicates merged by the CPTS):
//!
//! - **registered**: the requests given (the caller chooses which: usually every request still
//!   kept, see [`super::retention`]);
//! - **waiting / proposed / accepted / declared / declined / withdrawn / moved away /
//!   unreachable**: the requests whose *current* status (the last change of their history, or
//!   waiting when none) is that one; **closed** = declined + withdrawn + moved away +
//!   unreachable. Waiting + proposed + accepted + declared + closed = registered;
//! - **open**: waiting + proposed + accepted, people who still have no médecin traitant;
//! - **matched**: requests that received at least one proposal, whatever happened next (a
//!   cumulative count, not part of the sum above);
//! - the same counts **per priority class**, the class being what the CPTS's priority rule
//!   gives today (computed by the caller, passed with each request);
//! - **median days to declaration**: over declared requests, the median number of days from
//!   registration to the declaration (calendar days between the UTC dates); `None` when none
//!   is declared. With an even number of values, the mean of the two middle ones;
//! - **median current wait**: over open requests, the median number of days from registration
//!   to `today` (a request registered "after" today counts 0); `None` when none is open;
//! - **ALD share still open**: among requests with ALD, the share (0 to 1) whose status is
//!   open; `None` when no request has ALD. Both counts are given too;
//! - **monthly series** (the chart): for each of the 12 calendar months ending with the month
//!   of `today`, oldest first: the requests registered during the month, those declared during
//!   the month (date of the change to declared), and those open at the end of the month (at
//!   the end of `today` for the current month): registered by then, with an open status then.
//!
//! Dates are taken in UTC: near midnight a request may fall on the neighbouring day of the
//! French calendar, which changes no yearly or monthly figure by more than a handful.

use super::request::PatientRequest;
use super::status::{RequestStatus, StatusChange, current_status};
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Requests by current status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    pub registered: u32,
    pub waiting: u32,
    pub proposed: u32,
    pub accepted: u32,
    pub declared: u32,
    pub declined: u32,
    pub withdrawn: u32,
    pub moved_away: u32,
    pub unreachable: u32,
    /// Declined + withdrawn + moved away + unreachable.
    pub closed: u32,
    /// Requests that received at least one proposal (not part of the sum).
    pub matched: u32,
}

impl StatusCounts {
    fn add(&mut self, status: RequestStatus, matched: bool) {
        self.registered += 1;
        self.matched += u32::from(matched);
        let slot = match status {
            RequestStatus::Waiting => &mut self.waiting,
            RequestStatus::Proposed => &mut self.proposed,
            RequestStatus::Accepted => &mut self.accepted,
            RequestStatus::Declared => &mut self.declared,
            RequestStatus::Declined => &mut self.declined,
            RequestStatus::Withdrawn => &mut self.withdrawn,
            RequestStatus::MovedAway => &mut self.moved_away,
            RequestStatus::Unreachable => &mut self.unreachable,
        };
        *slot += 1;
        self.closed += u32::from(status.is_closed());
    }

    /// Waiting + proposed + accepted.
    pub fn open(&self) -> u32 {
        self.waiting + self.proposed + self.accepted
    }
}

/// One month of the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MonthPoint {
    /// First day of the month.
    pub month: NaiveDate,
    pub registered: u32,
    pub declared: u32,
    /// Open at the end of the month (at the end of `today` for the current month).
    pub open_at_end: u32,
}

/// The registry's indicators (definitions in the module's documentation).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegistryIndicators {
    pub today: NaiveDate,
    pub overall: StatusCounts,
    /// Per priority class (1 first); only classes that have requests.
    pub by_class: BTreeMap<u8, StatusCounts>,
    pub median_days_to_declaration: Option<f64>,
    pub median_current_wait_days: Option<f64>,
    pub ald_registered: u32,
    pub ald_open: u32,
    /// `ald_open / ald_registered`, if any request has ALD.
    pub ald_open_share: Option<f64>,
    /// 12 months, oldest first, the last one being the month of `today`.
    pub monthly: Vec<MonthPoint>,
}

/// The median of whole numbers (mean of the two middle values for an even count).
fn median(mut values: Vec<i64>) -> Option<f64> {
    values.sort_unstable();
    let n = values.len();
    if n == 0 {
        return None;
    }
    // Days fit in f64 exactly.
    let at = |i: usize| values[i] as f64;
    Some(if n % 2 == 1 { at(n / 2) } else { (at(n / 2 - 1) + at(n / 2)) / 2.0 })
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn start_of(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// The status of a request at `t`: the last change strictly before `t`, waiting if none.
fn status_before(history: &[StatusChange], t: DateTime<Utc>) -> RequestStatus {
    history.iter().rev().find(|c| c.at < t).map_or(RequestStatus::Waiting, |c| c.to)
}

impl RegistryIndicators {
    /// Computes the indicators of `requests` (each with its history, oldest first, and its
    /// priority class) on `today`.
    pub fn compute(requests: &[(&PatientRequest, &[StatusChange], u8)], today: NaiveDate) -> Self {
        let mut overall = StatusCounts::default();
        let mut by_class: BTreeMap<u8, StatusCounts> = BTreeMap::new();
        let mut to_declaration = Vec::new();
        let mut current_wait = Vec::new();
        let (mut ald_registered, mut ald_open) = (0u32, 0u32);
        for &(request, history, class) in requests {
            let status = current_status(history);
            let matched = history.iter().any(|c| c.to == RequestStatus::Proposed);
            overall.add(status, matched);
            by_class.entry(class).or_default().add(status, matched);
            let registered_on = request.registered_at.date_naive();
            if status == RequestStatus::Declared
                && let Some(declared) = history.iter().rev().find(|c| c.to == RequestStatus::Declared)
            {
                to_declaration.push((declared.at.date_naive() - registered_on).num_days().max(0));
            }
            if status.is_open() {
                current_wait.push((today - registered_on).num_days().max(0));
            }
            if request.ald {
                ald_registered += 1;
                ald_open += u32::from(status.is_open());
            }
        }
        let this_month = first_of_month(today);
        let monthly = (0..12u32)
            .rev()
            .map(|back| {
                let month = this_month.checked_sub_months(Months::new(back)).unwrap_or(this_month);
                let next = month.checked_add_months(Months::new(1)).unwrap_or(month);
                let end = if back == 0 { today.succ_opt().unwrap_or(today) } else { next };
                let in_month = |t: DateTime<Utc>| {
                    let d = t.date_naive();
                    month <= d && d < next
                };
                let cutoff = start_of(end);
                let mut point = MonthPoint { month, registered: 0, declared: 0, open_at_end: 0 };
                for &(request, history, _) in requests {
                    point.registered += u32::from(in_month(request.registered_at));
                    point.declared +=
                        u32::from(history.iter().any(|c| c.to == RequestStatus::Declared && in_month(c.at)));
                    point.open_at_end +=
                        u32::from(request.registered_at < cutoff && status_before(history, cutoff).is_open());
                }
                point
            })
            .collect();
        Self {
            today,
            overall,
            by_class,
            median_days_to_declaration: median(to_declaration),
            median_current_wait_days: median(current_wait),
            ald_registered,
            ald_open,
            ald_open_share: (ald_registered > 0).then(|| f64::from(ald_open) / f64::from(ald_registered)),
            monthly,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::InseeCode;
    use crate::patients::RequestSource;
    use crate::patients::status::{RequestEvent as E, RequestState};
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 10, 0, 0).unwrap()
    }

    fn request(id: &str, registered_at: DateTime<Utc>, ald: bool) -> PatientRequest {
        PatientRequest {
            id: id.into(),
            family_name: "X".into(),
            given_name: "Y".into(),
            birth_date: NaiveDate::from_ymd_opt(1950, 1, 1).unwrap(),
            commune: InseeCode::parse("29019").unwrap(),
            phone: Some("0600000000".into()),
            email: None,
            ald,
            precarity_c2s: false,
            other_fragility: None,
            note: None,
            consent_at: registered_at,
            source: RequestSource::SelfRegistration,
            registered_at,
            referred_by: None,
        }
    }

    fn history(registered_at: DateTime<Utc>, events: &[(RequestEvent, DateTime<Utc>)]) -> Vec<StatusChange> {
        let mut state = RequestState::new(registered_at);
        let mut out = Vec::new();
        for (e, t) in events {
            let (next, change) = state.apply(e, *t, "u").unwrap();
            state = next;
            out.push(change);
        }
        out
    }

    use crate::patients::status::RequestEvent;

    fn propose() -> RequestEvent {
        E::Propose { doctor: "8A".into() }
    }

    #[test]
    fn a_small_registry() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
        let r1 = request("1", day(2026, 1, 10), true); // declared after 40 days
        let h1 = history(
            r1.registered_at,
            &[(propose(), day(2026, 2, 1)), (E::DoctorAccepts, day(2026, 2, 5)), (E::Declare, day(2026, 2, 19))],
        );
        let r2 = request("2", day(2025, 12, 1), false); // declared after 60 days
        let h2 = history(
            r2.registered_at,
            &[(propose(), day(2026, 1, 2)), (E::DoctorAccepts, day(2026, 1, 3)), (E::Declare, day(2026, 1, 30))],
        );
        let r3 = request("3", day(2026, 3, 5), true); // waiting 10 days
        let h3: Vec<StatusChange> = Vec::new();
        let r4 = request("4", day(2026, 2, 13), true); // proposed, open for 30 days
        let h4 = history(r4.registered_at, &[(propose(), day(2026, 3, 1))]);
        let r5 = request("5", day(2025, 6, 1), false); // withdrawn in 2025
        let h5 = history(r5.registered_at, &[(E::Withdraw { reason: None }, day(2025, 9, 1))]);
        let r6 = request("6", day(2024, 1, 1), false); // proposed, declined by the doctor, waiting
        let h6 = history(
            r6.registered_at,
            &[(propose(), day(2024, 2, 1)), (E::DoctorDeclines { reason: None }, day(2024, 2, 2))],
        );
        let data = [
            (&r1, &h1[..], 1u8),
            (&r2, &h2[..], 2),
            (&r3, &h3[..], 1),
            (&r4, &h4[..], 1),
            (&r5, &h5[..], 2),
            (&r6, &h6[..], 2),
        ];
        let ind = RegistryIndicators::compute(&data, today);
        let o = ind.overall;
        assert_eq!((o.registered, o.waiting, o.proposed, o.accepted, o.declared, o.closed), (6, 2, 1, 0, 2, 1));
        assert_eq!((o.withdrawn, o.matched, o.open()), (1, 4, 3));
        assert_eq!(ind.by_class[&1].registered, 3);
        assert_eq!((ind.by_class[&1].declared, ind.by_class[&1].open()), (1, 2));
        assert_eq!((ind.by_class[&2].registered, ind.by_class[&2].closed, ind.by_class[&2].waiting), (3, 1, 1));
        assert_eq!(ind.median_days_to_declaration, Some(50.0));
        // Open: r3 10 days, r4 30 days, r6 804 days.
        assert_eq!(ind.median_current_wait_days, Some(30.0));
        assert_eq!((ind.ald_registered, ind.ald_open), (3, 2));
        assert!((ind.ald_open_share.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        // The chart: April 2025 to March 2026.
        assert_eq!(ind.monthly.len(), 12);
        assert_eq!(ind.monthly[0].month, NaiveDate::from_ymd_opt(2025, 4, 1).unwrap());
        assert_eq!(ind.monthly[11].month, NaiveDate::from_ymd_opt(2026, 3, 1).unwrap());
        let point = |y, m| *ind.monthly.iter().find(|p| p.month == NaiveDate::from_ymd_opt(y, m, 1).unwrap()).unwrap();
        assert_eq!(
            point(2025, 6),
            MonthPoint { month: point(2025, 6).month, registered: 1, declared: 0, open_at_end: 2 }
        );
        // r5 withdrawn in September: only r6 open at the end of September.
        assert_eq!(point(2025, 9).open_at_end, 1);
        assert_eq!((point(2025, 12).registered, point(2025, 12).open_at_end), (1, 2));
        assert_eq!((point(2026, 1).registered, point(2026, 1).declared, point(2026, 1).open_at_end), (1, 1, 2));
        assert_eq!((point(2026, 2).registered, point(2026, 2).declared, point(2026, 2).open_at_end), (1, 1, 2));
        assert_eq!((point(2026, 3).registered, point(2026, 3).declared, point(2026, 3).open_at_end), (1, 0, 3));
        let json = serde_json::to_value(&ind).unwrap();
        assert_eq!(json["overall"]["declared"], 2);
        assert_eq!(json["monthly"][11]["month"], "2026-03-01");
    }

    #[test]
    fn empty_registry() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 31).unwrap();
        let ind = RegistryIndicators::compute(&[], today);
        assert_eq!(ind.overall, StatusCounts::default());
        assert!(ind.by_class.is_empty());
        assert_eq!(
            (ind.median_days_to_declaration, ind.median_current_wait_days, ind.ald_open_share),
            (None, None, None)
        );
        let months: Vec<_> = ind.monthly.iter().map(|p| p.month.to_string()).collect();
        assert_eq!(months.first().map(String::as_str), Some("2025-02-01"));
        assert_eq!(months.last().map(String::as_str), Some("2026-01-01"));
    }

    #[test]
    fn medians() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5]), Some(5.0));
        assert_eq!(median(vec![9, 1, 4]), Some(4.0));
        assert_eq!(median(vec![9, 1, 4, 2]), Some(3.0));
        assert_eq!(median(vec![1, 2]), Some(1.5));
    }

    fn entry_strategy() -> impl Strategy<Value = (u32, bool, u8, Vec<(u8, u32)>)> {
        // Registration day offset, ALD, class, events (kind, hours after the previous).
        (0u32..800, any::<bool>(), 1u8..4, proptest::collection::vec((0u8..9, 0u32..200), 0..8))
    }

    fn event_of(kind: u8) -> RequestEvent {
        match kind {
            0 => propose(),
            1 => E::DoctorAccepts,
            2 => E::DoctorDeclines { reason: None },
            3 => E::Declare,
            4 => E::PatientDeclines { reason: None },
            5 => E::Withdraw { reason: None },
            6 => E::MovedAway { reason: None },
            7 => E::Unreachable { reason: None },
            _ => E::Reopen { reason: None },
        }
    }

    proptest! {
        #[test]
        fn counts_add_up(entries in proptest::collection::vec(entry_strategy(), 0..40)) {
            let origin = day(2024, 1, 1);
            let today = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
            let mut owned = Vec::new();
            for (i, (offset, ald, class, events)) in entries.iter().enumerate() {
                let registered_at = origin + Duration::days(i64::from(*offset));
                let r = request(&i.to_string(), registered_at, *ald);
                let mut state = RequestState::new(registered_at);
                let mut at = registered_at;
                let mut h = Vec::new();
                for (kind, hours) in events {
                    at += Duration::hours(i64::from(*hours));
                    if let Ok((next, change)) = state.apply(&event_of(*kind), at, "u") {
                        state = next;
                        h.push(change);
                    }
                }
                owned.push((r, h, *class));
            }
            let data: Vec<_> = owned.iter().map(|(r, h, c)| (r, h.as_slice(), *c)).collect();
            let ind = RegistryIndicators::compute(&data, today);
            let sum = |c: &StatusCounts| c.waiting + c.proposed + c.accepted + c.declared + c.closed;
            let o = ind.overall;
            prop_assert_eq!(o.registered as usize, entries.len());
            prop_assert_eq!(sum(&o), o.registered);
            prop_assert_eq!(o.closed, o.declined + o.withdrawn + o.moved_away + o.unreachable);
            prop_assert!(o.matched <= o.registered);
            prop_assert!(o.matched >= o.proposed + o.accepted + o.declared + o.declined);
            let mut total = StatusCounts::default();
            for c in ind.by_class.values() {
                prop_assert_eq!(sum(c), c.registered);
                total.registered += c.registered;
                total.declared += c.declared;
                total.waiting += c.waiting;
                total.matched += c.matched;
            }
            prop_assert_eq!(
                (total.registered, total.declared, total.waiting, total.matched),
                (o.registered, o.declared, o.waiting, o.matched)
            );
            prop_assert!(ind.ald_open <= ind.ald_registered);
            if let Some(share) = ind.ald_open_share {
                prop_assert!((0.0..=1.0).contains(&share));
            }
            prop_assert_eq!(ind.median_days_to_declaration.is_some(), o.declared > 0);
            prop_assert_eq!(ind.median_current_wait_days.is_some(), o.open() > 0);
            // The last point's open count is today's open count, since every date is before.
            prop_assert_eq!(ind.monthly.len(), 12);
            prop_assert_eq!(ind.monthly[11].open_at_end, o.open());
            let registered_in_chart: u32 = ind.monthly.iter().map(|p| p.registered).sum();
            prop_assert!(registered_in_chart <= o.registered);
        }
    }
}
