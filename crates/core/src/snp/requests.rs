//! The orientation desk's requests and what the CPTS counts of them.
//!
//! Every call the desk takes is a request, booked or not: the patient may get a slot of the
//! CPTS (`Orientee`), be sent elsewhere (`Reorientee`, with where), be called back later
//! (`EnAttente`), or give up (`Abandonnee`). Counting requests rather than bookings is what
//! makes "handled within 24 hours" honest: a request that found no slot counts against it.
//!
//! [`indicators`] turns the facts of a period's requests into the figures of the SNP dashboard
//! and of the ACI access mission (definitions in docs/snp.md, « Indicators »).

use super::booking::{Outcome, ReasonCategory};
use super::paris;
use crate::patients::FieldError;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How long after the call a slot may start and still count as care within 24 hours.
pub const WITHIN: Duration = Duration::hours(24);

/// Where the request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Recorded, no orientation yet (to call back).
    EnAttente,
    /// A slot of the CPTS is booked for it.
    Orientee,
    /// Sent somewhere else; see [`Destination`].
    Reorientee,
    /// The patient gave up, or could not be reached again.
    Abandonnee,
}

impl RequestStatus {
    pub const ALL: &'static [RequestStatus] =
        &[RequestStatus::EnAttente, RequestStatus::Orientee, RequestStatus::Reorientee, RequestStatus::Abandonnee];

    pub fn code(self) -> &'static str {
        match self {
            RequestStatus::EnAttente => "en_attente",
            RequestStatus::Orientee => "orientee",
            RequestStatus::Reorientee => "reorientee",
            RequestStatus::Abandonnee => "abandonnee",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.code() == code)
    }

    pub fn fr(self) -> &'static str {
        match self {
            RequestStatus::EnAttente => "En attente",
            RequestStatus::Orientee => "Orientée vers un créneau",
            RequestStatus::Reorientee => "Réorientée",
            RequestStatus::Abandonnee => "Abandonnée",
        }
    }
}

/// Where a request the CPTS could not take was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Destination {
    /// The emergency department.
    Urgences,
    /// The SAMU (15) or the SAS regulation.
    Regulation,
    /// The patient's own médecin traitant.
    MedecinTraitant,
    /// A pharmacy (advice, minor care).
    Pharmacie,
    /// An on-call service (permanence des soins, maison médicale de garde).
    Garde,
    /// Advice given, no consultation needed.
    Conseil,
    Autre,
}

impl Destination {
    pub const ALL: &'static [Destination] = &[
        Destination::Urgences,
        Destination::Regulation,
        Destination::MedecinTraitant,
        Destination::Pharmacie,
        Destination::Garde,
        Destination::Conseil,
        Destination::Autre,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Destination::Urgences => "urgences",
            Destination::Regulation => "regulation",
            Destination::MedecinTraitant => "medecin_traitant",
            Destination::Pharmacie => "pharmacie",
            Destination::Garde => "garde",
            Destination::Conseil => "conseil",
            Destination::Autre => "autre",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|d| d.code() == code.trim())
    }

    pub fn fr(self) -> &'static str {
        match self {
            Destination::Urgences => "Urgences",
            Destination::Regulation => "Régulation (SAS, centre 15)",
            Destination::MedecinTraitant => "Son médecin traitant",
            Destination::Pharmacie => "Pharmacie",
            Destination::Garde => "Permanence des soins, maison médicale de garde",
            Destination::Conseil => "Conseil donné, pas de consultation nécessaire",
            Destination::Autre => "Autre",
        }
    }
}

/// How the desk closes a request without a slot of the CPTS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Closure {
    Reorientee(Destination),
    Abandonnee,
}

impl Closure {
    /// From a form: `abandonnee`, or a destination code.
    pub fn parse(code: &str) -> Result<Closure, FieldError> {
        match code.trim() {
            "abandonnee" => Ok(Closure::Abandonnee),
            other => Destination::from_code(other).map(Closure::Reorientee).ok_or_else(|| {
                FieldError::new(
                    "destination",
                    format!("{other:?} is neither a destination nor `abandonnee`"),
                    "choisissez où le patient a été orienté, ou « abandonnée »",
                )
            }),
        }
    }

    pub fn status(&self) -> RequestStatus {
        match self {
            Closure::Reorientee(_) => RequestStatus::Reorientee,
            Closure::Abandonnee => RequestStatus::Abandonnee,
        }
    }

    pub fn destination(&self) -> Option<Destination> {
        match self {
            Closure::Reorientee(d) => Some(*d),
            Closure::Abandonnee => None,
        }
    }
}

/// What the indicators need of one request.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestFacts {
    pub received_at: DateTime<Utc>,
    pub reason: ReasonCategory,
    pub status: RequestStatus,
    pub destination: Option<Destination>,
    /// Start of the booked slot (when `Orientee`).
    pub appointment: Option<DateTime<Utc>>,
    /// Profession code (`10` médecin…) of the professional booked.
    pub profession: Option<String>,
    /// What became of the booked patient, once recorded.
    pub outcome: Option<Outcome>,
}

impl RequestFacts {
    /// Time from the call to the slot, when booked.
    pub fn delay(&self) -> Option<Duration> {
        match (self.status, self.appointment) {
            (RequestStatus::Orientee, Some(at)) => Some(at - self.received_at),
            _ => None,
        }
    }

    /// Booked in a slot starting less than 24 hours after the call.
    pub fn within_24h(&self) -> bool {
        self.delay().is_some_and(|d| d <= WITHIN)
    }
}

/// Requests received and those handled within 24 hours, for one bucket (a day of the week, an
/// hour, a week, a profession…).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub received: u64,
    pub within_24h: u64,
}

impl Tally {
    fn add(&mut self, f: &RequestFacts) {
        self.received += 1;
        self.within_24h += u64::from(f.within_24h());
    }

    /// Share handled within 24 hours, in percent (`None` on no request).
    pub fn share(&self) -> Option<f64> {
        (self.received > 0).then(|| 100.0 * self.within_24h as f64 / self.received as f64)
    }
}

/// The SNP figures of a period (Paris days `from..=to`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnpIndicators {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Requests received in the period.
    pub received: u64,
    /// Given an orientation: a slot of the CPTS, or somewhere else.
    pub oriented: u64,
    /// Booked in a slot of the CPTS.
    pub booked: u64,
    pub reoriented: u64,
    pub abandoned: u64,
    pub waiting: u64,
    /// Booked in a slot starting within 24 hours of the call.
    pub within_24h: u64,
    /// `within_24h / received`, percent.
    pub within_24h_share: Option<f64>,
    /// Median time from the call to the booked slot, in minutes.
    pub median_delay_minutes: Option<i64>,
    /// By day of the week of the call, Monday first (Paris time).
    pub by_weekday: [Tally; 7],
    /// By hour of the call, 0–23 (Paris time).
    pub by_hour: [Tally; 24],
    /// By week (its Monday), every week of the period present.
    pub by_week: Vec<(NaiveDate, Tally)>,
    /// Bookings by profession code, most first.
    pub by_profession: Vec<(String, u64)>,
    /// Requests by reason, most first.
    pub by_reason: Vec<(ReasonCategory, u64)>,
    /// Reoriented requests by destination, most first.
    pub by_destination: Vec<(Destination, u64)>,
    /// Outcomes of the booked requests: seen, no-show, sent to the emergency department, other,
    /// not recorded yet.
    pub outcomes: OutcomeCounts,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OutcomeCounts {
    pub seen: u64,
    pub no_show: u64,
    pub emergency: u64,
    pub other: u64,
    pub unrecorded: u64,
}

/// The Paris day of an instant (its UTC day if out of the supported range).
pub fn paris_day(t: DateTime<Utc>) -> NaiveDate {
    paris::to_local(t).map_or(t.date_naive(), |l| l.date())
}

fn monday(d: NaiveDate) -> NaiveDate {
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

fn sorted_counts<K: Ord + Clone>(map: BTreeMap<K, u64>) -> Vec<(K, u64)> {
    let mut v: Vec<(K, u64)> = map.into_iter().collect();
    // Most first; ties in key order (the map's), so the result is deterministic.
    v.sort_by_key(|e| std::cmp::Reverse(e.1));
    v
}

/// Median of whole minutes; the lower middle on an even count (a duration a coordinator reads,
/// not a statistic to interpolate).
fn median_minutes(mut values: Vec<i64>) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(values[(values.len() - 1) / 2])
}

/// The figures of the requests received on the Paris days `from..=to` (requests outside are
/// ignored, so the caller may pass a wider set).
pub fn indicators(from: NaiveDate, to: NaiveDate, requests: &[RequestFacts]) -> SnpIndicators {
    let mut out = SnpIndicators {
        from,
        to,
        received: 0,
        oriented: 0,
        booked: 0,
        reoriented: 0,
        abandoned: 0,
        waiting: 0,
        within_24h: 0,
        within_24h_share: None,
        median_delay_minutes: None,
        by_weekday: [Tally::default(); 7],
        by_hour: [Tally::default(); 24],
        by_week: Vec::new(),
        by_profession: Vec::new(),
        by_reason: Vec::new(),
        by_destination: Vec::new(),
        outcomes: OutcomeCounts::default(),
    };
    let mut weeks: BTreeMap<NaiveDate, Tally> = BTreeMap::new();
    let mut week = monday(from);
    while week <= to {
        weeks.insert(week, Tally::default());
        week += Duration::days(7);
    }
    let mut professions = BTreeMap::new();
    let mut reasons = BTreeMap::new();
    let mut destinations = BTreeMap::new();
    let mut delays = Vec::new();
    for f in requests {
        let local = paris::to_local(f.received_at).unwrap_or(f.received_at.naive_utc());
        let day = local.date();
        if day < from || day > to {
            continue;
        }
        out.received += 1;
        *reasons.entry(f.reason).or_insert(0) += 1;
        match f.status {
            RequestStatus::Orientee => {
                out.booked += 1;
                if let Some(p) = &f.profession {
                    *professions.entry(p.clone()).or_insert(0) += 1;
                }
                match &f.outcome {
                    Some(Outcome::Vu) => out.outcomes.seen += 1,
                    Some(Outcome::Absent) => out.outcomes.no_show += 1,
                    Some(Outcome::ReorienteUrgences) => out.outcomes.emergency += 1,
                    Some(Outcome::Autre { .. }) => out.outcomes.other += 1,
                    None => out.outcomes.unrecorded += 1,
                }
            }
            RequestStatus::Reorientee => {
                out.reoriented += 1;
                if let Some(d) = f.destination {
                    *destinations.entry(d).or_insert(0) += 1;
                }
            }
            RequestStatus::Abandonnee => out.abandoned += 1,
            RequestStatus::EnAttente => out.waiting += 1,
        }
        if let Some(d) = f.delay() {
            delays.push(d.num_minutes());
        }
        out.within_24h += u64::from(f.within_24h());
        out.by_weekday[local.weekday().num_days_from_monday() as usize].add(f);
        out.by_hour[local.hour() as usize].add(f);
        weeks.entry(monday(day)).or_default().add(f);
    }
    out.oriented = out.booked + out.reoriented;
    out.within_24h_share = (out.received > 0).then(|| 100.0 * out.within_24h as f64 / out.received as f64);
    out.median_delay_minutes = median_minutes(delays);
    out.by_week = weeks.into_iter().collect();
    out.by_profession = sorted_counts(professions);
    out.by_reason = sorted_counts(reasons);
    out.by_destination = sorted_counts(destinations);
    out
}

/// `3 h 05`, `45 min`, `2 j 4 h`: a delay as a coordinator reads it.
pub fn delay_fr(minutes: i64) -> String {
    let m = minutes.max(0);
    match m {
        0..60 => format!("{m} min"),
        60..1440 => format!("{} h {:02}", m / 60, m % 60),
        _ => format!("{} j {} h", m / 1440, (m % 1440) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn booked(received: DateTime<Utc>, after: Duration, profession: &str) -> RequestFacts {
        RequestFacts {
            received_at: received,
            reason: ReasonCategory::Fievre,
            status: RequestStatus::Orientee,
            destination: None,
            appointment: Some(received + after),
            profession: Some(profession.into()),
            outcome: None,
        }
    }

    fn closed(received: DateTime<Utc>, status: RequestStatus, destination: Option<Destination>) -> RequestFacts {
        RequestFacts {
            received_at: received,
            reason: ReasonCategory::DouleurAigue,
            status,
            destination,
            appointment: None,
            profession: None,
            outcome: None,
        }
    }

    #[test]
    fn a_week_of_requests() {
        let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let sunday = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        // Tuesday 24 November, 09:15 Paris (08:15 UTC).
        let tue = at(2026, 11, 24, 8, 15);
        let mut seen = booked(tue, Duration::hours(3), "10");
        seen.outcome = Some(Outcome::Vu);
        let facts = vec![
            seen,
            booked(tue, Duration::minutes(30), "10"),
            booked(tue, Duration::hours(30), "60"), // booked, but not within 24 h
            closed(tue, RequestStatus::Reorientee, Some(Destination::Urgences)),
            closed(at(2026, 11, 28, 20, 0), RequestStatus::Abandonnee, None), // Saturday 21:00
            closed(at(2026, 11, 28, 20, 0), RequestStatus::EnAttente, None),
            // Sunday 29 November 23:30 Paris is Sunday 22:30 UTC: in. Monday 30 00:30 Paris is not.
            closed(at(2026, 11, 29, 22, 30), RequestStatus::EnAttente, None),
            closed(at(2026, 11, 29, 23, 30), RequestStatus::EnAttente, None),
        ];
        let i = indicators(monday, sunday, &facts);
        assert_eq!(i.received, 7);
        assert_eq!((i.booked, i.reoriented, i.abandoned, i.waiting), (3, 1, 1, 2));
        assert_eq!(i.oriented, 4);
        assert_eq!(i.within_24h, 2);
        assert!((i.within_24h_share.unwrap() - 200.0 / 7.0).abs() < 1e-9);
        assert_eq!(i.median_delay_minutes, Some(180));
        assert_eq!(i.by_weekday[1], Tally { received: 4, within_24h: 2 });
        assert_eq!(i.by_weekday[5].received, 2);
        assert_eq!(i.by_weekday[6].received, 1);
        assert_eq!(i.by_hour[9], Tally { received: 4, within_24h: 2 });
        assert_eq!(i.by_hour[21].received, 2);
        assert_eq!(i.by_hour[23].received, 1);
        assert_eq!(i.by_week, vec![(monday, Tally { received: 7, within_24h: 2 })]);
        assert_eq!(i.by_profession, vec![("10".to_owned(), 2), ("60".to_owned(), 1)]);
        assert_eq!(i.by_destination, vec![(Destination::Urgences, 1)]);
        assert_eq!(i.outcomes, OutcomeCounts { seen: 1, unrecorded: 2, ..Default::default() });
    }

    #[test]
    fn empty_period_has_its_weeks_and_no_share() {
        let from = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let to = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let i = indicators(from, to, &[]);
        assert_eq!(i.received, 0);
        assert_eq!(i.within_24h_share, None);
        assert_eq!(i.median_delay_minutes, None);
        // 26 Oct (the Monday of 1 Nov, a Sunday) to 30 Nov: 6 weeks.
        assert_eq!(i.by_week.len(), 6);
        assert_eq!(i.by_week[0].0, NaiveDate::from_ymd_opt(2026, 10, 26).unwrap());
    }

    #[test]
    fn the_hour_follows_paris_time_across_the_clock_change() {
        // 29 March 2026: 08:30 UTC is 10:30 in Paris (summer time); 28 March 08:30 UTC is 09:30.
        let from = NaiveDate::from_ymd_opt(2026, 3, 23).unwrap();
        let to = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        let facts = [
            closed(at(2026, 3, 28, 8, 30), RequestStatus::EnAttente, None),
            closed(at(2026, 3, 29, 8, 30), RequestStatus::EnAttente, None),
        ];
        let i = indicators(from, to, &facts);
        assert_eq!((i.by_hour[9].received, i.by_hour[10].received), (1, 1));
    }

    #[test]
    fn closures_and_delays_read_as_french() {
        assert_eq!(Closure::parse("urgences").unwrap(), Closure::Reorientee(Destination::Urgences));
        assert_eq!(Closure::parse("abandonnee").unwrap().status(), RequestStatus::Abandonnee);
        assert!(Closure::parse("ailleurs").is_err());
        assert_eq!(delay_fr(45), "45 min");
        assert_eq!(delay_fr(185), "3 h 05");
        assert_eq!(delay_fr(1440 + 240), "1 j 4 h");
        for s in RequestStatus::ALL {
            assert_eq!(RequestStatus::from_code(s.code()), Some(*s));
        }
    }

    proptest! {
        #[test]
        fn tallies_add_up(offsets in proptest::collection::vec((0i64..7 * 24 * 60, 0i64..3 * 24 * 60, 0u8..4), 0..200)) {
            let start = at(2026, 11, 22, 23, 0); // Monday 23 November 00:00 Paris
            let facts: Vec<RequestFacts> = offsets
                .iter()
                .map(|(received, after, kind)| {
                    let t = start + Duration::minutes(*received);
                    match kind {
                        0 => booked(t, Duration::minutes(*after), "10"),
                        1 => closed(t, RequestStatus::Reorientee, Some(Destination::Pharmacie)),
                        2 => closed(t, RequestStatus::Abandonnee, None),
                        _ => closed(t, RequestStatus::EnAttente, None),
                    }
                })
                .collect();
            let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
            let i = indicators(monday, monday + Duration::days(6), &facts);
            prop_assert_eq!(i.received as usize, facts.len());
            prop_assert_eq!(i.booked + i.reoriented + i.abandoned + i.waiting, i.received);
            prop_assert_eq!(i.by_weekday.iter().map(|t| t.received).sum::<u64>(), i.received);
            prop_assert_eq!(i.by_hour.iter().map(|t| t.within_24h).sum::<u64>(), i.within_24h);
            prop_assert_eq!(i.by_week.iter().map(|(_, t)| t.received).sum::<u64>(), i.received);
            let o = i.outcomes;
            prop_assert_eq!(o.seen + o.no_show + o.emergency + o.other + o.unrecorded, i.booked);
            prop_assert!(i.within_24h <= i.booked);
        }
    }
}
