//! A CPTS's settings of its registry: the matching's distance limit, its priority rule, and how
//! long ended requests are kept. Also how a request becomes a patient of the matching engine.
//!
//! The priority rule is data ([`PriorityRule`]); the settings form offers the criteria a
//! registry request carries (ALD, age, C2S, another fragility, a hospital discharge), each
//! given a class or none, and the class of everyone else. Every rule the form builds can be
//! shown again by the form.

use super::capacity::DoctorCapacity;
use super::request::{PatientRequest, RequestSource};
use super::retention::{RETENTION_DAYS, RetentionPolicy};
use super::status::{RequestState, RequestStatus};
use super::{FieldError, opt};
use crate::ids::InseeCode;
use crate::matching::{ClassRule, Condition, Doctor, Params, Patient, PatientFacts, Priority, PriorityRule};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The flag set on a request that names another fragility.
pub const FLAG_OTHER_FRAGILITY: &str = "autre_fragilite";
/// The flag set on a request registered on a hospital discharge.
pub const FLAG_HOSPITAL_DISCHARGE: &str = "sortie_hospitalisation";
/// Distance limits a CPTS may choose for its runs, km.
pub const MAX_KM: std::ops::RangeInclusive<f64> = 1.0..=100.0;
/// Priority classes the settings form offers (1 is served first).
pub const CLASSES: std::ops::RangeInclusive<u8> = 1..=4;

/// A CPTS's registry settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistrySettings {
    /// Nobody is proposed a doctor farther than this (km between commune centres).
    pub max_km: f64,
    pub priority: PriorityRule,
    pub retention: RetentionPolicy,
}

impl Default for RegistrySettings {
    /// 30 km, the default rule (ALD, 70 or over, precarity → 1; others 2), two years.
    fn default() -> Self {
        Self { max_km: 30.0, priority: PriorityRule::default(), retention: RetentionPolicy::default() }
    }
}

impl RegistrySettings {
    pub fn params(&self) -> Params {
        Params { max_km: self.max_km }
    }
}

/// The criteria of the settings form, in the order the form shows them.
pub const CRITERIA: [&str; 5] = ["ald", "age", "precarity", "other_fragility", "hospital_discharge"];

/// French label of a criterion of [`CRITERIA`].
pub fn criterion_fr(criterion: &str) -> &'static str {
    match criterion {
        "ald" => "Affection de longue durée (ALD)",
        "age" => "Âge",
        "precarity" => "Complémentaire santé solidaire (précarité)",
        "other_fragility" => "Autre fragilité signalée",
        "hospital_discharge" => "Sortie d'hospitalisation",
        _ => "",
    }
}

fn condition_of(criterion: &str, age_years: u16) -> Condition {
    match criterion {
        "ald" => Condition::Ald,
        "age" => Condition::AgeAtLeast { years: age_years },
        "precarity" => Condition::Precarity,
        "other_fragility" => {
            Condition::Flag { name: FLAG_OTHER_FRAGILITY.into(), label: Some("autre fragilité signalée".into()) }
        }
        _ => Condition::Flag { name: FLAG_HOSPITAL_DISCHARGE.into(), label: Some("sortie d'hospitalisation".into()) },
    }
}

fn criterion_of(condition: &Condition) -> Option<(&'static str, Option<u16>)> {
    Some(match condition {
        Condition::Ald => ("ald", None),
        Condition::AgeAtLeast { years } => ("age", Some(*years)),
        Condition::Precarity => ("precarity", None),
        Condition::Flag { name, .. } if name == FLAG_OTHER_FRAGILITY => ("other_fragility", None),
        Condition::Flag { name, .. } if name == FLAG_HOSPITAL_DISCHARGE => ("hospital_discharge", None),
        _ => return None,
    })
}

/// The settings as typed in the form: every value text, classes empty for "not a criterion".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SettingsForm {
    pub max_km: String,
    /// Class per criterion of [`CRITERIA`] (`""`, `"1"`…`"4"`).
    pub ald_class: String,
    pub age_class: String,
    pub age_years: String,
    pub precarity_class: String,
    pub other_fragility_class: String,
    pub hospital_discharge_class: String,
    /// The class of everyone else.
    pub default_class: String,
    pub retention_days: String,
}

impl SettingsForm {
    /// The class field of a criterion of [`CRITERIA`].
    pub fn class_of(&self, criterion: &str) -> &str {
        match criterion {
            "ald" => &self.ald_class,
            "age" => &self.age_class,
            "precarity" => &self.precarity_class,
            "other_fragility" => &self.other_fragility_class,
            _ => &self.hospital_discharge_class,
        }
    }

    fn class_mut(&mut self, criterion: &str) -> &mut String {
        match criterion {
            "ald" => &mut self.ald_class,
            "age" => &mut self.age_class,
            "precarity" => &mut self.precarity_class,
            "other_fragility" => &mut self.other_fragility_class,
            _ => &mut self.hospital_discharge_class,
        }
    }

    /// The form showing `settings`. A rule line the form cannot show (one set otherwise than by
    /// this form) is left out.
    pub fn of(settings: &RegistrySettings) -> Self {
        let mut form = SettingsForm {
            max_km: format_km(settings.max_km),
            age_years: "70".into(),
            default_class: settings.priority.default_class.to_string(),
            retention_days: settings.retention.closed_after_days.to_string(),
            ..SettingsForm::default()
        };
        for rule in &settings.priority.rules {
            let single = [rule.when.clone()];
            let conditions = match &rule.when {
                Condition::AnyOf { conditions } => conditions.as_slice(),
                _ => &single,
            };
            for (criterion, years) in conditions.iter().filter_map(criterion_of) {
                if form.class_of(criterion).is_empty() {
                    *form.class_mut(criterion) = rule.class.to_string();
                    if let Some(y) = years {
                        form.age_years = y.to_string();
                    }
                }
            }
        }
        form
    }

    /// The settings, or every field that does not fit.
    pub fn parse(&self) -> Result<RegistrySettings, Vec<FieldError>> {
        let mut errors = Vec::new();
        let max_km = match opt(&self.max_km).map(|v| v.replace(',', ".").parse::<f64>()) {
            Some(Ok(k)) if MAX_KM.contains(&k) => k,
            _ => {
                errors.push(FieldError::new(
                    "max_km",
                    format!("a distance from {} to {} km", MAX_KM.start(), MAX_KM.end()),
                    format!("une distance de {} à {} km", MAX_KM.start(), MAX_KM.end()),
                ));
                0.0
            }
        };
        let class = |field: &'static str, v: &str, errors: &mut Vec<FieldError>| -> Option<u8> {
            let v = opt(v)?;
            match v.parse::<u8>() {
                Ok(c) if CLASSES.contains(&c) => Some(c),
                _ => {
                    errors.push(FieldError::new(
                        field,
                        format!("a class from {} to {}", CLASSES.start(), CLASSES.end()),
                        format!("une classe de {} à {}", CLASSES.start(), CLASSES.end()),
                    ));
                    None
                }
            }
        };
        let mut age_years = 70;
        let mut by_class: BTreeMap<u8, Vec<Condition>> = BTreeMap::new();
        let fields = ["ald_class", "age_class", "precarity_class", "other_fragility_class", "hospital_discharge_class"];
        for (criterion, field) in CRITERIA.into_iter().zip(fields) {
            let Some(c) = class(field, self.class_of(criterion), &mut errors) else { continue };
            if criterion == "age" {
                match opt(&self.age_years).map(str::parse::<u16>) {
                    Some(Ok(y)) if (1..=120).contains(&y) => age_years = y,
                    _ => {
                        errors.push(FieldError::new("age_years", "an age from 1 to 120 years", "un âge de 1 à 120 ans"))
                    }
                }
            }
            by_class.entry(c).or_default().push(condition_of(criterion, age_years));
        }
        let default_class = match class("default_class", &self.default_class, &mut errors) {
            Some(c) => c,
            None if opt(&self.default_class).is_none() => {
                errors.push(FieldError::new("default_class", "required", "requise"));
                0
            }
            None => 0,
        };
        if let Some((&highest, _)) = by_class.last_key_value()
            && default_class != 0
            && default_class <= highest
        {
            errors.push(FieldError::new(
                "default_class",
                format!("must come after every criterion's class (more than {highest})"),
                format!("doit venir après la classe de chaque critère (plus de {highest})"),
            ));
        }
        let retention = match opt(&self.retention_days).map(str::parse::<u32>) {
            Some(Ok(d)) => RetentionPolicy::new(d).map_err(|(en, fr)| FieldError::new("retention_days", en, fr)),
            _ => Err(FieldError::new(
                "retention_days",
                format!("a number of days from {} to {}", RETENTION_DAYS.start(), RETENTION_DAYS.end()),
                format!("un nombre de jours de {} à {}", RETENTION_DAYS.start(), RETENTION_DAYS.end()),
            )),
        };
        let retention = retention.map_err(|e| errors.push(e)).ok();
        if !errors.is_empty() {
            return Err(errors);
        }
        let rules = by_class
            .into_iter()
            .map(|(class, mut conditions)| ClassRule {
                when: if conditions.len() == 1 { conditions.remove(0) } else { Condition::AnyOf { conditions } },
                class,
            })
            .collect();
        Ok(RegistrySettings {
            max_km,
            priority: PriorityRule { rules, default_class },
            retention: retention.unwrap_or_default(),
        })
    }
}

/// "30" or "12,5".
fn format_km(km: f64) -> String {
    let s = format!("{km:.1}");
    s.strip_suffix(".0").map(str::to_owned).unwrap_or_else(|| s.replace('.', ","))
}

/// What the priority rule may look at in a request, on `today`.
pub fn facts(request: &PatientRequest, today: NaiveDate) -> PatientFacts {
    let mut flags = BTreeSet::new();
    if request.other_fragility.is_some() {
        flags.insert(FLAG_OTHER_FRAGILITY.to_owned());
    }
    if request.source == RequestSource::HospitalDischarge {
        flags.insert(FLAG_HOSPITAL_DISCHARGE.to_owned());
    }
    PatientFacts { ald: request.ald, age: Some(request.age_on(today)), precarity: request.precarity_c2s, flags }
}

/// The priority of a request under `rule`, on `today`.
pub fn priority(request: &PatientRequest, rule: &PriorityRule, today: NaiveDate) -> Priority {
    rule.classify(&facts(request, today))
}

/// A GP with a declared capacity, as the matching needs her: where she practises and how many
/// patients she can still take.
#[derive(Debug, Clone, PartialEq)]
pub struct AvailableDoctor<'a> {
    pub capacity: &'a DoctorCapacity,
    pub commune: InseeCode,
    pub remaining: u32,
}

/// The matching engine's input: every waiting request as a patient (classed by the rule), and
/// every doctor with room, excluding the patients who were declined by her before.
pub fn matching_input(
    requests: &[(&PatientRequest, &RequestState)],
    doctors: &[AvailableDoctor<'_>],
    rule: &PriorityRule,
    today: NaiveDate,
) -> (Vec<Patient>, Vec<Doctor>) {
    let patients: Vec<Patient> = requests
        .iter()
        .filter(|(_, state)| state.status == RequestStatus::Waiting)
        .map(|(r, _)| Patient { id: r.id.clone(), commune: r.commune, priority: priority(r, rule, today) })
        .collect();
    let doctors = doctors
        .iter()
        .filter(|d| d.remaining > 0)
        .map(|d| Doctor {
            id: d.capacity.national_id.clone(),
            commune: d.commune,
            capacity: d.remaining,
            max_km: d.capacity.max_km,
            accepted_communes: d.capacity.accepted_communes.clone(),
            excluded_patients: requests
                .iter()
                .filter(|(_, s)| {
                    s.status == RequestStatus::Waiting && s.excluded_doctors.contains(&d.capacity.national_id)
                })
                .map(|(r, _)| r.id.clone())
                .collect(),
        })
        .collect();
    (patients, doctors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::Reason;

    fn form() -> SettingsForm {
        SettingsForm::of(&RegistrySettings::default())
    }

    #[test]
    fn the_default_settings_show_and_parse_back() {
        let f = form();
        assert_eq!((f.ald_class.as_str(), f.age_class.as_str(), f.precarity_class.as_str()), ("1", "1", "1"));
        assert_eq!((f.other_fragility_class.as_str(), f.default_class.as_str()), ("", "2"));
        assert_eq!((f.max_km.as_str(), f.age_years.as_str(), f.retention_days.as_str()), ("30", "70", "730"));
        assert_eq!(f.parse().unwrap(), RegistrySettings::default());
    }

    #[test]
    fn three_classes_round_trip_and_classify() {
        let mut f = form();
        f.age_years = "75".into();
        f.hospital_discharge_class = "2".into();
        f.other_fragility_class = "2".into();
        f.default_class = "3".into();
        f.max_km = "12,5".into();
        let s = f.parse().unwrap();
        assert_eq!(s.max_km, 12.5);
        assert_eq!(SettingsForm::of(&s), f);
        let facts =
            PatientFacts { flags: [FLAG_HOSPITAL_DISCHARGE.to_owned()].into(), age: Some(74), ..Default::default() };
        let p = s.priority.classify(&facts);
        assert_eq!(p.class, 2);
        assert_eq!(p.because_fr(), "sortie d'hospitalisation");
        assert_eq!(
            s.priority.classify(&PatientFacts { age: Some(75), ..Default::default() }).because,
            [Reason::AgeAtLeast { years: 75 }]
        );
        assert_eq!(s.priority.classify(&PatientFacts::default()).class, 3);
    }

    #[test]
    fn every_bad_field_is_named() {
        let f = SettingsForm {
            max_km: "0".into(),
            ald_class: "9".into(),
            age_class: "1".into(),
            age_years: "abc".into(),
            default_class: "1".into(),
            retention_days: "5".into(),
            ..SettingsForm::default()
        };
        let fields: Vec<_> = f.parse().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["max_km", "ald_class", "age_years", "default_class", "retention_days"]);
        let missing = SettingsForm { max_km: "30".into(), retention_days: "730".into(), ..SettingsForm::default() };
        let errors = missing.parse().unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].fr, "requise");
    }

    fn request(id: &str, birth_year: i32, source: RequestSource) -> PatientRequest {
        let at = chrono::DateTime::parse_from_rfc3339("2026-01-05T10:00:00Z").unwrap().to_utc();
        PatientRequest {
            id: id.into(),
            family_name: "X".into(),
            given_name: "Y".into(),
            birth_date: NaiveDate::from_ymd_opt(birth_year, 6, 1).unwrap(),
            commune: InseeCode::parse("41018").unwrap(),
            phone: Some("0600000000".into()),
            email: None,
            ald: false,
            precarity_c2s: false,
            other_fragility: None,
            note: None,
            consent_at: at,
            source,
            registered_at: at,
            referred_by: None,
        }
    }

    #[test]
    fn only_waiting_requests_and_doctors_with_room_enter_the_matching() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-02-01T10:00:00Z").unwrap().to_utc();
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let old = request("p-old", 1950, RequestSource::Pharmacy);
        let discharged = request("p-hosp", 1990, RequestSource::HospitalDischarge);
        let proposed = request("p-prop", 1990, RequestSource::Pharmacy);
        let waiting = RequestState::new(at);
        let mut declined = waiting.clone();
        declined.excluded_doctors.insert("810000000001".into());
        let (proposed_state, _) =
            waiting.apply(&crate::patients::RequestEvent::Propose { doctor: "810000000002".into() }, at, "u").unwrap();
        let full = DoctorCapacity {
            national_id: "810000000002".into(),
            kind: crate::patients::CapacityKind::Total(1),
            max_km: None,
            accepted_communes: None,
            note: None,
        };
        let open = DoctorCapacity { national_id: "810000000001".into(), max_km: Some(10.0), ..full.clone() };
        let commune = InseeCode::parse("41018").unwrap();
        let doctors = [
            AvailableDoctor { capacity: &open, commune, remaining: 3 },
            AvailableDoctor { capacity: &full, commune, remaining: 0 },
        ];
        let mut f = form();
        f.hospital_discharge_class = "1".into();
        let rule = f.parse().unwrap().priority;
        let requests = [(&old, &waiting), (&discharged, &declined), (&proposed, &proposed_state)];
        let (patients, doctors) = matching_input(&requests, &doctors, &rule, today);
        let classes: Vec<_> = patients.iter().map(|p| (p.id.as_str(), p.priority.class)).collect();
        assert_eq!(classes, [("p-old", 1), ("p-hosp", 1)]);
        assert_eq!(patients[1].priority.because_fr(), "sortie d'hospitalisation");
        assert_eq!(doctors.len(), 1);
        assert_eq!((doctors[0].capacity, doctors[0].max_km), (3, Some(10.0)));
        assert_eq!(doctors[0].excluded_patients, ["p-hosp".to_owned()].into());
    }
}
