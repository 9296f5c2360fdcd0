//! What a participating general practitioner declares they can take: how many new patients
//! (in total, or per month), from where (within how many km, or from which communes).
//!
//! The matching engine reads these settings; the doctors who declined a patient are excluded
//! per request ([`super::RequestState::excluded_doctors`]).

use super::status::{RequestStatus, StatusChange};
use super::{FieldError, opt, text};
use crate::directory::model::NationalId;
use crate::ids::InseeCode;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Largest number of new patients a capacity may declare.
pub const MAX_COUNT: u32 = 2000;
/// Distance limits a doctor may set, in km.
pub const KM_RANGE: std::ops::RangeInclusive<f64> = 1.0..=100.0;

/// How many new patients a doctor can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapacityKind {
    /// This many in all (until the doctor changes it).
    Total(u32),
    /// This many each calendar month.
    PerMonth(u32),
}

impl CapacityKind {
    /// `total` or `per_month` (the form's choice).
    pub fn code(self) -> &'static str {
        match self {
            Self::Total(_) => "total",
            Self::PerMonth(_) => "per_month",
        }
    }

    pub fn count(self) -> u32 {
        match self {
            Self::Total(n) | Self::PerMonth(n) => n,
        }
    }

    /// "12 nouveaux patients au total", "3 nouveaux patients par mois".
    pub fn fr(self) -> String {
        let n = self.count();
        let noun = if n > 1 { "nouveaux patients" } else { "nouveau patient" };
        match self {
            Self::Total(_) => format!("{n} {noun} au total"),
            Self::PerMonth(_) => format!("{n} {noun} par mois"),
        }
    }

    /// How many more patients may be proposed now, given how many the doctor already took in
    /// all and this calendar month (see [`capacity_use`] for how these are counted).
    pub fn remaining(self, already_accepted_total: u32, accepted_this_month: u32) -> u32 {
        match self {
            Self::Total(n) => n.saturating_sub(already_accepted_total),
            Self::PerMonth(n) => n.saturating_sub(accepted_this_month),
        }
    }
}

/// A participating GP's declared capacity and settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoctorCapacity {
    /// `8` + RPPS.
    pub national_id: String,
    pub kind: CapacityKind,
    /// Only patients living within this distance (km, 1–100), if set.
    pub max_km: Option<f64>,
    /// Only patients living in these communes, if set.
    pub accepted_communes: Option<BTreeSet<InseeCode>>,
    /// Free note (exclusions the doctor states, days of consultation…), at most 1000 characters.
    pub note: Option<String>,
}

impl DoctorCapacity {
    /// See [`CapacityKind::remaining`].
    pub fn remaining(&self, already_accepted_total: u32, accepted_this_month: u32) -> u32 {
        self.kind.remaining(already_accepted_total, accepted_this_month)
    }
}

/// How many patients are committed to a doctor, for [`CapacityKind::remaining`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityUse {
    /// Requests currently proposed to, accepted by, or declared with the doctor.
    pub total: u32,
    /// Among those, the ones proposed in the calendar month of `today`.
    pub this_month: u32,
}

/// Counts, from the requests' histories (each oldest first), what is committed to `doctor`:
/// a pending proposal counts (so that the next run does not overbook), and so do an acceptance
/// and a declaration; a proposal the doctor or the patient declined, or that a withdrawal, a
/// move or unreachability ended, does not. Monthly counts go by the month of the proposal.
pub fn capacity_use<'a>(
    doctor: &str,
    today: NaiveDate,
    histories: impl IntoIterator<Item = &'a [StatusChange]>,
) -> CapacityUse {
    let mut usage = CapacityUse::default();
    for history in histories {
        let Some(last) = history.last() else { continue };
        let committed = matches!(last.to, RequestStatus::Proposed | RequestStatus::Accepted | RequestStatus::Declared)
            && last.doctor.as_deref() == Some(doctor);
        if !committed {
            continue;
        }
        usage.total += 1;
        let proposed = history.iter().rev().find(|c| c.to == RequestStatus::Proposed).map(|c| c.at.date_naive());
        if proposed.is_some_and(|d| (d.year(), d.month()) == (today.year(), today.month())) {
            usage.this_month += 1;
        }
    }
    usage
}

/// The fields of a capacity as typed in a form, before checking.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct CapacityForm {
    /// `8` + RPPS (12 digits).
    pub national_id: String,
    /// `total` or `per_month`.
    pub kind: String,
    pub count: String,
    /// Optional, km; a decimal comma is accepted.
    pub max_km: String,
    /// Optional INSEE codes separated by commas, semicolons, spaces or new lines.
    pub communes: String,
    pub note: String,
}

impl CapacityForm {
    /// Checks every field and gives the capacity, or every problem at once.
    pub fn parse(&self) -> Result<DoctorCapacity, Vec<FieldError>> {
        let mut errors = Vec::new();
        let national_id = match opt(&self.national_id).map(NationalId::parse) {
            None => {
                errors.push(FieldError::new(
                    "national_id",
                    "the doctor's national id (8 + RPPS) is required",
                    "l'identifiant national du médecin (8 + RPPS) est obligatoire",
                ));
                None
            }
            Some(Ok(id @ NationalId::Rpps(_))) => Some(id.national()),
            Some(Ok(NationalId::Adeli(_))) => {
                errors.push(FieldError::new(
                    "national_id",
                    "a general practitioner is identified by their RPPS number (8 + 11 digits), not ADELI",
                    "un médecin généraliste est identifié par son numéro RPPS (8 + 11 chiffres), pas ADELI",
                ));
                None
            }
            Some(Err(e)) => {
                errors.push(FieldError::new("national_id", e.en, e.fr));
                None
            }
        };
        let count = match opt(&self.count).map(|c| c.parse::<u32>()) {
            Some(Ok(n)) if n <= MAX_COUNT => Some(n),
            None => {
                errors.push(FieldError::new(
                    "count",
                    "the number of new patients is required",
                    "le nombre de nouveaux patients est obligatoire",
                ));
                None
            }
            Some(_) => {
                errors.push(FieldError::new(
                    "count",
                    format!("a whole number from 0 to {MAX_COUNT}"),
                    format!("un nombre entier de 0 à {MAX_COUNT}"),
                ));
                None
            }
        };
        let kind = match (self.kind.trim(), count) {
            ("total", Some(n)) => Some(CapacityKind::Total(n)),
            ("per_month", Some(n)) => Some(CapacityKind::PerMonth(n)),
            ("total" | "per_month", None) => None,
            (k, _) => {
                errors.push(FieldError::new(
                    "kind",
                    format!("{k:?} is neither total nor per_month"),
                    "choisissez « au total » ou « par mois »",
                ));
                None
            }
        };
        let max_km = match opt(&self.max_km).map(|v| v.replace(',', ".").parse::<f64>()) {
            None => None,
            Some(Ok(km)) if KM_RANGE.contains(&km) => Some(km),
            Some(_) => {
                errors.push(FieldError::new("max_km", "a distance from 1 to 100 km", "une distance de 1 à 100 km"));
                None
            }
        };
        let mut communes = BTreeSet::new();
        for code in self.communes.split([',', ';', ' ', '\t', '\n', '\r']).filter(|c| !c.is_empty()) {
            match InseeCode::parse(code) {
                Ok(c) => {
                    communes.insert(c);
                }
                Err(e) => errors.push(FieldError::new("communes", e.en, e.fr)),
            }
        }
        let note = text("note", &self.note, 1000, true, &mut errors);
        match (national_id, kind) {
            (Some(national_id), Some(kind)) if errors.is_empty() => Ok(DoctorCapacity {
                national_id,
                kind,
                max_km,
                accepted_communes: (!communes.is_empty()).then_some(communes),
                note,
            }),
            _ => Err(errors),
        }
    }

    /// The form showing a capacity (to edit it).
    pub fn of(c: &DoctorCapacity) -> Self {
        Self {
            national_id: c.national_id.clone(),
            kind: c.kind.code().to_owned(),
            count: c.kind.count().to_string(),
            max_km: c.max_km.map(|km| km.to_string()).unwrap_or_default(),
            communes: c
                .accepted_communes
                .iter()
                .flatten()
                .map(|c| c.as_str().to_owned())
                .collect::<Vec<_>>()
                .join(", "),
            note: c.note.clone().unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patients::status::{RequestEvent as E, RequestState};
    use chrono::{DateTime, TimeZone, Utc};

    const RPPS: &str = "810001045367";

    fn form() -> CapacityForm {
        CapacityForm {
            national_id: RPPS.into(),
            kind: "per_month".into(),
            count: "4".into(),
            max_km: "7,5".into(),
            communes: "29019, 29232;29039\n".into(),
            note: "pas de visites à domicile".into(),
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&'static str> {
        errors.iter().map(|e| e.field).collect()
    }

    #[test]
    fn parses_a_complete_form_and_shows_it_back() {
        let c = form().parse().unwrap();
        assert_eq!(c.national_id, RPPS);
        assert_eq!(c.kind, CapacityKind::PerMonth(4));
        assert_eq!(c.max_km, Some(7.5));
        let communes: Vec<_> = c.accepted_communes.iter().flatten().map(|c| c.as_str()).collect();
        assert_eq!(communes, ["29019", "29039", "29232"]);
        assert_eq!(c.note.as_deref(), Some("pas de visites à domicile"));
        assert_eq!(CapacityForm::of(&c).parse().unwrap(), c);
        let minimal = CapacityForm {
            kind: "total".into(),
            count: "0".into(),
            max_km: "".into(),
            communes: " ".into(),
            note: "".into(),
            ..form()
        };
        let c = minimal.parse().unwrap();
        assert_eq!((c.kind, c.max_km, c.accepted_communes, c.note), (CapacityKind::Total(0), None, None, None));
    }

    #[test]
    fn reports_every_problem() {
        let errors = CapacityForm::default().parse().unwrap_err();
        assert_eq!(fields(&errors), ["national_id", "count", "kind"]);
        let bad = CapacityForm {
            national_id: "0012600631".into(),
            kind: "weekly".into(),
            count: "-3".into(),
            max_km: "150".into(),
            communes: "29019 ABCDE".into(),
            note: "n".repeat(1001),
        };
        let errors = bad.parse().unwrap_err();
        assert_eq!(fields(&errors), ["national_id", "count", "kind", "max_km", "communes", "note"]);
        assert!(errors[0].fr.contains("RPPS"));
        assert_eq!(errors[3].fr, "une distance de 1 à 100 km");
        for (km, ok) in [("1", true), ("100", true), ("0,5", false), ("100.1", false), ("NaN", false), ("inf", false)] {
            assert_eq!(CapacityForm { max_km: km.into(), ..form() }.parse().is_ok(), ok, "{km}");
        }
        for (count, ok) in [("2000", true), ("2001", false), ("3.5", false)] {
            assert_eq!(CapacityForm { count: count.into(), ..form() }.parse().is_ok(), ok, "{count}");
        }
        let e = CapacityForm { national_id: "81000104536".into(), ..form() }.parse().unwrap_err();
        assert_eq!(fields(&e), ["national_id"]);
    }

    #[test]
    fn remaining_room() {
        assert_eq!(CapacityKind::Total(10).remaining(3, 3), 7);
        assert_eq!(CapacityKind::Total(10).remaining(12, 0), 0);
        assert_eq!(CapacityKind::PerMonth(4).remaining(50, 1), 3);
        assert_eq!(CapacityKind::PerMonth(4).remaining(0, 6), 0);
        assert_eq!(CapacityKind::Total(1).fr(), "1 nouveau patient au total");
        assert_eq!(CapacityKind::PerMonth(3).fr(), "3 nouveaux patients par mois");
        let c = form().parse().unwrap();
        assert_eq!(c.remaining(100, 1), 3);
    }

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
    }

    fn history(events: &[(&RequestEvent, DateTime<Utc>)]) -> Vec<StatusChange> {
        let mut state = RequestState::new(at(2025, 1, 1));
        let mut out = Vec::new();
        for (e, t) in events {
            let (next, change) = state.apply(e, *t, "u").unwrap();
            state = next;
            out.push(change);
        }
        out
    }

    use crate::patients::status::RequestEvent;

    #[test]
    fn counts_what_is_committed() {
        let propose = |d: &str| E::Propose { doctor: d.into() };
        let (a, b) = (propose(RPPS), propose("8B"));
        let histories = [
            // Proposed this month: counts in both.
            history(&[(&a, at(2026, 3, 2))]),
            // Accepted, proposed last month.
            history(&[(&a, at(2026, 2, 20)), (&E::DoctorAccepts, at(2026, 3, 1))]),
            // Declared long ago.
            history(&[(&a, at(2025, 5, 1)), (&E::DoctorAccepts, at(2025, 5, 2)), (&E::Declare, at(2025, 6, 1))]),
            // Declined by the doctor, then proposed to another: does not count.
            history(&[
                (&a, at(2026, 3, 1)),
                (&E::DoctorDeclines { reason: None }, at(2026, 3, 2)),
                (&b, at(2026, 3, 3)),
            ]),
            // The patient declined: does not count.
            history(&[(&a, at(2026, 3, 1)), (&E::PatientDeclines { reason: None }, at(2026, 3, 2))]),
            // Withdrawn while proposed: does not count.
            history(&[(&a, at(2026, 3, 1)), (&E::Withdraw { reason: None }, at(2026, 3, 2))]),
            // Never proposed.
            vec![],
        ];
        let today = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
        let usage = capacity_use(RPPS, today, histories.iter().map(Vec::as_slice));
        assert_eq!(usage, CapacityUse { total: 3, this_month: 1 });
        assert_eq!(
            capacity_use("8B", today, histories.iter().map(Vec::as_slice)),
            CapacityUse { total: 1, this_month: 1 }
        );
    }
}
