//! What a professional publishes: weekly ranges, one-off slots, closures and cancellations, in
//! Paris wall-clock time, and the checks that reject an inconsistent publication as a whole.

use super::paris;
use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Shortest and longest slot, in minutes.
pub const SLOT_MINUTES: std::ops::RangeInclusive<u16> = 5..=240;
/// How many patients one slot may take (a nurse's round, a group teleconsultation…).
pub const CAPACITY: std::ops::RangeInclusive<u8> = 1..=20;

/// The professional a publication belongs to (the store's key for them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProfessionalId(pub u64);

/// Where the patient is seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    /// At the practice.
    Cabinet,
    /// Home visit.
    Domicile,
    Teleconsultation,
}

impl Place {
    pub const ALL: [Place; 3] = [Place::Cabinet, Place::Domicile, Place::Teleconsultation];

    /// One letter, used in slot ids.
    pub fn letter(self) -> char {
        match self {
            Place::Cabinet => 'C',
            Place::Domicile => 'D',
            Place::Teleconsultation => 'T',
        }
    }

    pub fn from_letter(c: char) -> Option<Place> {
        Place::ALL.into_iter().find(|p| p.letter() == c)
    }

    pub fn fr(self) -> &'static str {
        match self {
            Place::Cabinet => "au cabinet",
            Place::Domicile => "à domicile",
            Place::Teleconsultation => "en téléconsultation",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Place::Cabinet => "at the practice",
            Place::Domicile => "home visit",
            Place::Teleconsultation => "teleconsultation",
        }
    }
}

/// Who may book a slot. The four audiences of the SAS (service d'accès aux soins) slot types;
/// [`Audience::code`] gives the codes as the issue writes them (check them against the SAS FHIR
/// guide's value set before exchanging FHIR resources).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Patients booking for themselves.
    Public,
    /// Other professionals booking for a patient.
    Pro,
    /// The SAS regulators (soins non programmés).
    Snp,
    /// The CPTS's own orientation desk.
    Cpts,
}

impl Audience {
    pub const ALL: [Audience; 4] = [Audience::Public, Audience::Pro, Audience::Snp, Audience::Cpts];

    pub fn code(self) -> &'static str {
        match self {
            Audience::Public => "PUBLIC",
            Audience::Pro => "PRO",
            Audience::Snp => "SNP",
            Audience::Cpts => "CPTS",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of audiences, one bit each (slots are copied by the million: keep them small).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "Vec<Audience>", from = "Vec<Audience>")]
pub struct AudienceSet(u8);

impl AudienceSet {
    pub const EMPTY: AudienceSet = AudienceSet(0);

    pub fn of(audiences: &[Audience]) -> Self {
        audiences.iter().copied().collect()
    }

    pub fn contains(self, a: Audience) -> bool {
        self.0 & a.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Audience> {
        Audience::ALL.into_iter().filter(move |a| self.contains(*a))
    }
}

impl FromIterator<Audience> for AudienceSet {
    fn from_iter<I: IntoIterator<Item = Audience>>(iter: I) -> Self {
        AudienceSet(iter.into_iter().fold(0, |bits, a| bits | a.bit()))
    }
}

impl From<Vec<Audience>> for AudienceSet {
    fn from(v: Vec<Audience>) -> Self {
        v.into_iter().collect()
    }
}

impl From<AudienceSet> for Vec<Audience> {
    fn from(s: AudienceSet) -> Self {
        s.iter().collect()
    }
}

/// Slots repeated every week on one weekday between two wall-clock times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyRange {
    pub weekday: Weekday,
    /// Paris wall-clock time, whatever the season.
    pub start: NaiveTime,
    /// After `start` on the same day (a range does not cross midnight).
    pub end: NaiveTime,
    /// Length of each slot; it must divide the range (no remainder is silently dropped).
    pub slot_minutes: u16,
    /// Patients per slot.
    pub capacity: u8,
    pub place: Place,
    pub audiences: AudienceSet,
    pub valid_from: NaiveDate,
    /// Last day included; `None`: until further notice.
    pub valid_until: Option<NaiveDate>,
}

impl WeeklyRange {
    /// Whether the range applies on `day` (weekday and validity; closures aside).
    pub fn applies_on(&self, day: NaiveDate) -> bool {
        day.weekday() == self.weekday && day >= self.valid_from && self.valid_until.is_none_or(|u| day <= u)
    }

    fn minutes(&self) -> i64 {
        (self.end - self.start).num_minutes()
    }
}

/// A single slot outside the weekly pattern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneOffSlot {
    /// Paris wall-clock time.
    pub start: NaiveDateTime,
    pub minutes: u16,
    pub place: Place,
    pub audiences: AudienceSet,
    pub capacity: u8,
}

impl OneOffSlot {
    fn end(&self) -> NaiveDateTime {
        self.start + chrono::Duration::minutes(i64::from(self.minutes))
    }
}

/// Days off (holidays, training, sick leave): every slot of these days disappears.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    pub from: NaiveDate,
    /// Last day included.
    pub to: NaiveDate,
    pub reason: String,
}

impl Closure {
    pub fn contains(&self, day: NaiveDate) -> bool {
        (self.from..=self.to).contains(&day)
    }
}

/// One generated slot withdrawn, named by its wall-clock start (a professional has at most one
/// slot starting at a given time, since their ranges do not overlap).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancellation {
    pub start: NaiveDateTime,
    pub reason: String,
}

/// Everything one professional publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Availability {
    pub professional: ProfessionalId,
    pub weekly: Vec<WeeklyRange>,
    pub one_off: Vec<OneOffSlot>,
    pub closures: Vec<Closure>,
    pub cancellations: Vec<Cancellation>,
}

/// Which part of an [`Availability`] an error is about (indices into its lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "index", rename_all = "snake_case")]
pub enum Item {
    Weekly(usize),
    OneOff(usize),
    Closure(usize),
    Cancellation(usize),
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Weekly(i) => write!(f, "weekly[{i}]"),
            Item::OneOff(i) => write!(f, "one_off[{i}]"),
            Item::Closure(i) => write!(f, "closures[{i}]"),
            Item::Cancellation(i) => write!(f, "cancellations[{i}]"),
        }
    }
}

/// One problem of a publication: where, and why in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{item}.{field}: {en}")]
pub struct AvailabilityError {
    pub item: Item,
    /// The field's name (`end`, `slot_minutes`…).
    pub field: &'static str,
    pub en: String,
    pub fr: String,
}

impl AvailabilityError {
    fn new(item: Item, field: &'static str, en: impl Into<String>, fr: impl Into<String>) -> Self {
        Self { item, field, en: en.into(), fr: fr.into() }
    }
}

/// Collects the problems of one publication.
struct Checker(Vec<AvailabilityError>);

impl Checker {
    fn push(&mut self, item: Item, field: &'static str, en: impl Into<String>, fr: impl Into<String>) {
        self.0.push(AvailabilityError::new(item, field, en, fr));
    }

    fn slot(&mut self, item: Item, field: &'static str, minutes: u16, capacity: u8, audiences: AudienceSet) {
        if !SLOT_MINUTES.contains(&minutes) {
            self.push(
                item,
                field,
                format!("a slot lasts 5 to 240 minutes, not {minutes}"),
                format!("un créneau dure de 5 à 240 minutes, pas {minutes}"),
            );
        }
        if !CAPACITY.contains(&capacity) {
            self.push(
                item,
                "capacity",
                format!("a slot takes 1 to 20 patients, not {capacity}"),
                format!("un créneau accueille de 1 à 20 patients, pas {capacity}"),
            );
        }
        if audiences.is_empty() {
            self.push(
                item,
                "audiences",
                "choose at least one audience (public, professionals, SNP, CPTS)",
                "choisissez au moins un public (patients, professionnels, SNP, CPTS)",
            );
        }
    }

    /// `item` overlaps the earlier `other` (numbered from 1 for people).
    fn overlap(&mut self, item: Item, other: Item) {
        let (en, fr) = match other {
            Item::Weekly(i) => (format!("weekly range {}", i + 1), format!("la plage hebdomadaire n° {}", i + 1)),
            Item::OneOff(i) => (format!("one-off slot {}", i + 1), format!("le créneau ponctuel n° {}", i + 1)),
            Item::Closure(i) | Item::Cancellation(i) => (format!("{other}"), format!("l'élément n° {}", i + 1)),
        };
        self.push(
            item,
            "start",
            format!("overlaps {en}: one professional cannot be in two places at once"),
            format!("chevauche {fr} : un professionnel ne peut pas être à deux endroits à la fois"),
        );
    }

    fn year(&mut self, item: Item, field: &'static str, day: NaiveDate) {
        if !paris::YEARS.contains(&day.year()) {
            let e = paris::OutOfRange { year: day.year() };
            self.push(item, field, e.to_string(), e.fr());
        }
    }
}

fn hm(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

impl Availability {
    /// Checks the whole publication and reports every problem at once: ranges (end after start,
    /// slot length 5–240 min dividing the range, capacity 1–20, at least one audience, validity
    /// dates in order), one-off slots (same limits, not in the March gap), closures (dates in
    /// order), and that no two ranges or slots of the professional overlap in time, whatever
    /// their places (one person cannot be in two places).
    pub fn validate(&self) -> Result<(), Vec<AvailabilityError>> {
        let mut c = Checker(Vec::new());
        for (i, r) in self.weekly.iter().enumerate() {
            let item = Item::Weekly(i);
            c.slot(item, "slot_minutes", r.slot_minutes, r.capacity, r.audiences);
            c.year(item, "valid_from", r.valid_from);
            if r.end <= r.start {
                c.push(
                    item,
                    "end",
                    format!("the range ends ({}) before it starts ({})", hm(r.end), hm(r.start)),
                    format!("la plage finit ({}) avant de commencer ({})", hm(r.end), hm(r.start)),
                );
            } else if r.slot_minutes > 0 && r.minutes() % i64::from(r.slot_minutes) != 0 {
                let (len, m) = (r.minutes(), i64::from(r.slot_minutes));
                let shorter = r.start + chrono::Duration::minutes(len / m * m);
                let longer = shorter + chrono::Duration::minutes(m);
                let mut en = format!("the range lasts {len} min, not a multiple of {m} min: end it at {}", hm(shorter));
                let mut fr =
                    format!("la plage dure {len} min, pas un multiple de {m} min : terminez-la à {}", hm(shorter));
                if longer > r.start {
                    en += &format!(" or {}", hm(longer));
                    fr += &format!(" ou {}", hm(longer));
                }
                c.push(item, "end", en, fr);
            }
            if let Some(until) = r.valid_until.filter(|u| *u < r.valid_from) {
                c.push(
                    item,
                    "valid_until",
                    format!("the range stops ({until}) before it begins ({})", r.valid_from),
                    format!("la plage s'arrête ({until}) avant de commencer ({})", r.valid_from),
                );
            }
        }
        for (i, s) in self.one_off.iter().enumerate() {
            let item = Item::OneOff(i);
            c.slot(item, "minutes", s.minutes, s.capacity, s.audiences);
            c.year(item, "start", s.start.date());
            if matches!(paris::to_utc(s.start), Ok(paris::LocalTime::Gap { .. })) {
                c.push(
                    item,
                    "start",
                    format!("{} does not exist: the clocks go from 02:00 to 03:00 that night", s.start),
                    format!(
                        "{} n'existe pas : cette nuit-là on passe de 02:00 à 03:00",
                        s.start.format("%d/%m/%Y %H:%M")
                    ),
                );
            }
            if s.end().date() != s.start.date() {
                c.push(item, "minutes", "the slot ends after midnight", "le créneau finit après minuit");
            }
        }
        for (i, cl) in self.closures.iter().enumerate() {
            if cl.to < cl.from {
                c.push(
                    Item::Closure(i),
                    "to",
                    format!("the closure ends ({}) before it begins ({})", cl.to, cl.from),
                    format!("la fermeture finit ({}) avant de commencer ({})", cl.to, cl.from),
                );
            }
        }
        self.check_overlaps(&mut c);
        if c.0.is_empty() { Ok(()) } else { Err(c.0) }
    }

    fn check_overlaps(&self, c: &mut Checker) {
        for (j, b) in self.weekly.iter().enumerate() {
            for (i, a) in self.weekly.iter().enumerate().take(j) {
                let periods_meet =
                    a.valid_until.is_none_or(|u| u >= b.valid_from) && b.valid_until.is_none_or(|u| u >= a.valid_from);
                if a.weekday == b.weekday && periods_meet && a.start < b.end && b.start < a.end {
                    c.overlap(Item::Weekly(j), Item::Weekly(i));
                }
            }
        }
        for (j, b) in self.one_off.iter().enumerate() {
            for (i, a) in self.one_off.iter().enumerate().take(j) {
                if a.start < b.end() && b.start < a.end() {
                    c.overlap(Item::OneOff(j), Item::OneOff(i));
                }
            }
            let (day, start, end) = (b.start.date(), b.start.time(), b.end().time());
            for (i, r) in self.weekly.iter().enumerate() {
                if r.applies_on(day) && start < r.end && r.start < end {
                    c.overlap(Item::OneOff(j), Item::Weekly(i));
                }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    pub(crate) fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    pub(crate) fn range(weekday: Weekday, start: NaiveTime, end: NaiveTime, slot_minutes: u16) -> WeeklyRange {
        WeeklyRange {
            weekday,
            start,
            end,
            slot_minutes,
            capacity: 1,
            place: Place::Cabinet,
            audiences: AudienceSet::of(&[Audience::Snp, Audience::Cpts]),
            valid_from: d(2026, 1, 1),
            valid_until: None,
        }
    }

    pub(crate) fn availability(weekly: Vec<WeeklyRange>) -> Availability {
        Availability {
            professional: ProfessionalId(7),
            weekly,
            one_off: vec![],
            closures: vec![],
            cancellations: vec![],
        }
    }

    fn fields(errors: &[AvailabilityError]) -> Vec<(Item, &'static str)> {
        errors.iter().map(|e| (e.item, e.field)).collect()
    }

    #[test]
    fn a_sound_publication_passes() {
        let mut a = availability(vec![
            range(Weekday::Mon, t(8, 0), t(12, 0), 20),
            range(Weekday::Mon, t(14, 0), t(18, 0), 30),
            range(Weekday::Tue, t(8, 0), t(12, 0), 15),
        ]);
        a.one_off.push(OneOffSlot {
            start: d(2026, 3, 2).and_time(t(12, 0)),
            minutes: 60,
            place: Place::Domicile,
            audiences: AudienceSet::of(&[Audience::Snp]),
            capacity: 1,
        });
        a.closures.push(Closure { from: d(2026, 8, 1), to: d(2026, 8, 21), reason: "Congés".into() });
        assert_eq!(a.validate(), Ok(()));
    }

    #[test]
    fn reports_every_problem_at_once() {
        let mut bad = range(Weekday::Mon, t(12, 0), t(8, 0), 3);
        bad.capacity = 0;
        bad.audiences = AudienceSet::EMPTY;
        let mut stops_early = range(Weekday::Fri, t(8, 0), t(9, 0), 30);
        stops_early.valid_until = Some(d(2025, 12, 1));
        let mut a = availability(vec![bad, stops_early]);
        a.closures.push(Closure { from: d(2026, 8, 21), to: d(2026, 8, 1), reason: String::new() });
        let errors = a.validate().unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                (Item::Weekly(0), "slot_minutes"),
                (Item::Weekly(0), "capacity"),
                (Item::Weekly(0), "audiences"),
                (Item::Weekly(0), "end"),
                (Item::Weekly(1), "valid_until"),
                (Item::Closure(0), "to"),
            ]
        );
        assert!(errors.iter().all(|e| !e.fr.is_empty() && !e.en.is_empty()));
    }

    #[test]
    fn a_remainder_is_an_error_that_suggests_both_ends() {
        let a = availability(vec![range(Weekday::Mon, t(8, 0), t(12, 10), 20)]);
        let errors = a.validate().unwrap_err();
        assert_eq!(fields(&errors), [(Item::Weekly(0), "end")]);
        assert!(errors[0].en.contains("250 min") && errors[0].en.contains("12:00 or 12:20"), "{}", errors[0].en);
        assert!(errors[0].fr.contains("12:00 ou 12:20"), "{}", errors[0].fr);
    }

    #[test]
    fn overlaps_are_refused_whatever_the_place() {
        let mut home = range(Weekday::Mon, t(11, 0), t(13, 0), 30);
        home.place = Place::Domicile;
        let mut later = range(Weekday::Mon, t(9, 0), t(10, 0), 30);
        later.valid_from = d(2027, 1, 1);
        let mut a = availability(vec![
            range(Weekday::Mon, t(8, 0), t(12, 0), 20),
            home,
            range(Weekday::Tue, t(11, 0), t(13, 0), 30),
            range(Weekday::Mon, t(12, 0), t(13, 0), 30),
        ]);
        // Adjacent ranges (12:00 end, 12:00 start) do not overlap; 11:00–13:00 overlaps both.
        a.weekly[0].valid_until = Some(d(2026, 12, 31));
        a.weekly.push(later); // a Monday range of another period: no overlap
        a.one_off.push(OneOffSlot {
            start: d(2026, 3, 2).and_time(t(11, 45)),
            minutes: 30,
            place: Place::Teleconsultation,
            audiences: AudienceSet::of(&[Audience::Public]),
            capacity: 1,
        });
        let errors = a.validate().unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                (Item::Weekly(1), "start"),
                (Item::Weekly(3), "start"),
                (Item::OneOff(0), "start"),
                (Item::OneOff(0), "start"),
                (Item::OneOff(0), "start")
            ]
        );
        assert!(errors[0].fr.contains("n° 1"), "{}", errors[0].fr);
    }

    #[test]
    fn one_off_slots_in_the_march_gap_or_across_midnight_are_refused() {
        let mut a = availability(vec![]);
        let slot = |start: NaiveDateTime, minutes| OneOffSlot {
            start,
            minutes,
            place: Place::Cabinet,
            audiences: AudienceSet::of(&[Audience::Snp]),
            capacity: 1,
        };
        a.one_off.push(slot(d(2026, 3, 29).and_time(t(2, 30)), 15));
        a.one_off.push(slot(d(2026, 3, 30).and_time(t(23, 30)), 60));
        a.one_off.push(slot(d(1990, 3, 30).and_time(t(10, 0)), 300));
        let errors = a.validate().unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                (Item::OneOff(0), "start"),
                (Item::OneOff(1), "minutes"),
                (Item::OneOff(2), "minutes"),
                (Item::OneOff(2), "start")
            ]
        );
    }

    #[test]
    fn audience_sets_serialize_as_lists() {
        let s = AudienceSet::of(&[Audience::Cpts, Audience::Public]);
        assert_eq!(serde_json::to_string(&s).unwrap(), r#"["public","cpts"]"#);
        let back: AudienceSet = serde_json::from_str(r#"["cpts","public"]"#).unwrap();
        assert_eq!(back, s);
        assert_eq!(s.iter().map(Audience::code).collect::<Vec<_>>(), ["PUBLIC", "CPTS"]);
    }
}
