//! Médecin traitant matching: waiting patients proposed to general practitioners with room.
//!
//! The engine is pure and synchronous. It finds, exactly and deterministically, the assignment
//! that lexicographically
//!
//! 1. matches as many patients of priority class 1 as possible, then of class 2, then 3…,
//! 2. then minimises the total distance (great-circle, between commune centres, in whole metres),
//!
//! never proposing a doctor farther than the maximum distance, never beyond a doctor's
//! capacity, and respecting each doctor's settings (own distance limit, accepted communes,
//! patients they declined). Every proposal explains itself ("proposed to Dr X, 4.2 km, priority
//! class 1 because ALD"), and so does every patient left waiting (no doctor in range, or no room
//! left in range).
//!
//! - [`match_patients`]: the entry point for the web and the CLI (patients and doctors with
//!   ids and INSEE codes);
//! - [`priority`]: the CPTS's configurable priority rule (data) and its explanations;
//! - [`instance`]: the problem by index (commune centres, patient groups, doctors), distances;
//! - [`network`]: aggregation into a min-cost flow network, the lexicographic objective as
//!   penalties (with the proof of exactness), disaggregation to individual doctors;
//! - [`flow`]: the min-cost flow solver (network simplex);
//! - [`csv`]: the CLI's CSV files, with line/column/reason errors;
//! - [`exchange`]: the instance file read by the independent OR-tools check;
//! - [`synth`]: deterministic CPTS-size and national instances on real communes.
//!
//! `docs/matching.md` describes the model, the rule configuration and the benchmarks.

pub mod csv;
pub mod exchange;
pub mod flow;
pub mod instance;
pub mod network;
pub mod priority;
pub mod synth;

pub use instance::{DoctorSpec, Instance, InstanceError, PatientGroup, km, km_to_m, metres};
pub use network::{GroupAssignment, Solution, SolveError, Stats};
pub use priority::{ClassRule, Condition, PatientFacts, Priority, PriorityRule, Reason};

use crate::geo::LatLon;
use crate::ids::InseeCode;
use crate::refdata::Reference;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A patient waiting for a médecin traitant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patient {
    /// Unique among the patients; within a commune and a class, smaller ids are served first.
    pub id: String,
    pub commune: InseeCode,
    pub priority: Priority,
}

/// A general practitioner taking new patients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Doctor {
    /// Unique among the doctors; doctors of the same commune and settings are filled in id order.
    pub id: String,
    pub commune: InseeCode,
    /// How many new patients they accept now.
    pub capacity: u32,
    /// Their own distance limit (km), if smaller than the run's.
    #[serde(default)]
    pub max_km: Option<f64>,
    /// If set, only patients living in these communes.
    #[serde(default)]
    pub accepted_communes: Option<BTreeSet<InseeCode>>,
    /// Patients they declined: never proposed to them again (ids of no current patient are
    /// ignored).
    #[serde(default)]
    pub excluded_patients: BTreeSet<String>,
}

/// Settings of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Nobody is proposed a doctor farther than this, in km (0 < max_km ≤ 1000).
    pub max_km: f64,
}

/// A proposal: this patient to this doctor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub patient: String,
    pub doctor: String,
    /// Distance between the two commune centres, whole metres.
    pub metres: u32,
    pub class: u8,
    pub because: Vec<Reason>,
}

/// Why a patient stays on the waiting list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum WaitingReason {
    /// No doctor with room accepts this patient within the distance limits.
    NoDoctorInRange,
    /// Some do, but their room went to patients of a higher class or to closer patients of the
    /// same class (whose total distance is then smaller).
    NoCapacityLeft { doctors_in_range: u32 },
}

/// A patient left waiting, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    pub patient: String,
    pub class: u8,
    pub because: Vec<Reason>,
    pub why: WaitingReason,
}

/// The result of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Matching {
    /// The distance limit used, whole metres.
    pub max_m: u32,
    /// By patient id.
    pub assignments: Vec<Assignment>,
    /// By patient id.
    pub waiting: Vec<Waiting>,
    /// Matched patients per class (every class present, even with 0).
    pub matched_by_class: BTreeMap<u8, u64>,
    /// All patients per class.
    pub patients_by_class: BTreeMap<u8, u64>,
    /// Σ of the assignments' distances, whole metres.
    pub total_m: u64,
    pub stats: Stats,
}

/// Input the engine refuses.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MatchingError {
    #[error("the maximum distance must be more than 0 and at most 1000 km (got {0})")]
    MaxDistance(f64),
    #[error("{who}: {code} is not a current commune of the reference")]
    UnknownCommune { who: String, code: InseeCode },
    #[error("patient id {0} appears twice")]
    DuplicatePatient(String),
    #[error("doctor id {0} appears twice")]
    DuplicateDoctor(String),
    #[error("patient {0}: priority class 0 (classes are numbered from 1)")]
    ClassZero(String),
    #[error("doctor {0}: the distance limit must be a number of km ≥ 0 and ≤ 1000")]
    DoctorMaxKm(String),
    #[error(transparent)]
    Solve(#[from] SolveError),
}

impl Matching {
    pub fn total_km(&self) -> f64 {
        km(self.total_m)
    }
}

/// "4.2" (English) or "4,2" (French): one decimal for explanations.
fn km_text(metres: u64, french: bool) -> String {
    let tenths = (metres + 50) / 100;
    let s = format!("{}.{}", tenths / 10, tenths % 10);
    if french { s.replace('.', ",") } else { s }
}

impl Assignment {
    pub fn km(&self) -> f64 {
        km(u64::from(self.metres))
    }

    /// "proposed to Dr Martin, 4.2 km, priority class 1 because ALD".
    pub fn explain_en(&self, doctor_name: &str) -> String {
        let p = Priority { class: self.class, because: self.because.clone() };
        format!(
            "proposed to Dr {doctor_name}, {} km, priority class {} because {}",
            km_text(u64::from(self.metres), false),
            self.class,
            p.because_en()
        )
    }

    /// « proposé au Dr Martin, à 4,2 km, priorité 1 parce que ALD (affection de longue durée) ».
    pub fn explain_fr(&self, doctor_name: &str) -> String {
        let p = Priority { class: self.class, because: self.because.clone() };
        format!(
            "proposé au Dr {doctor_name}, à {} km, priorité {} parce que {}",
            km_text(u64::from(self.metres), true),
            self.class,
            p.because_fr()
        )
    }
}

impl Waiting {
    /// "no doctor with room within 30 km" / "the 3 doctors within 30 km have no room left …".
    pub fn explain_en(&self, max_m: u32) -> String {
        let limit = km_text(u64::from(max_m), false);
        match self.why {
            WaitingReason::NoDoctorInRange => format!("no doctor with room accepts this patient within {limit} km"),
            WaitingReason::NoCapacityLeft { doctors_in_range } => format!(
                "the {doctors_in_range} doctor(s) with room within {limit} km are full with patients of a higher \
                 or equal priority (priority class {})",
                self.class
            ),
        }
    }

    pub fn explain_fr(&self, max_m: u32) -> String {
        let limit = km_text(u64::from(max_m), true);
        match self.why {
            WaitingReason::NoDoctorInRange => {
                format!("aucun médecin disponible n'accepte ce patient à moins de {limit} km")
            }
            WaitingReason::NoCapacityLeft { doctors_in_range } => format!(
                "le ou les {doctors_in_range} médecin(s) disponible(s) à moins de {limit} km sont complets avec des \
                 patients de priorité supérieure ou égale (priorité {})",
                self.class
            ),
        }
    }
}

/// Proposes waiting patients to doctors (see the module documentation).
///
/// Deterministic and independent of the input order: patients and doctors are taken in id
/// order, so within a commune and a class the smaller ids are served first, and doctors of the
/// same commune and settings are filled in id order.
pub fn match_patients(
    reference: &Reference,
    patients: &[Patient],
    doctors: &[Doctor],
    params: &Params,
) -> Result<Matching, MatchingError> {
    let max_m = km_to_m(params.max_km).filter(|&m| m > 0).ok_or(MatchingError::MaxDistance(params.max_km))?;

    let mut p_order: Vec<usize> = (0..patients.len()).collect();
    p_order.sort_by(|&a, &b| patients[a].id.cmp(&patients[b].id));
    if let Some(w) = p_order.windows(2).find(|w| patients[w[0]].id == patients[w[1]].id) {
        return Err(MatchingError::DuplicatePatient(patients[w[0]].id.clone()));
    }
    let mut d_order: Vec<usize> = (0..doctors.len()).collect();
    d_order.sort_by(|&a, &b| doctors[a].id.cmp(&doctors[b].id));
    if let Some(w) = d_order.windows(2).find(|w| doctors[w[0]].id == doctors[w[1]].id) {
        return Err(MatchingError::DuplicateDoctor(doctors[w[0]].id.clone()));
    }

    // Local commune numbering, in INSEE order.
    let reference_index = |code: &InseeCode, who: String| {
        reference.index_of(code.as_str()).ok_or(MatchingError::UnknownCommune { who, code: *code })
    };
    let mut used: BTreeSet<u32> = BTreeSet::new();
    for &i in &p_order {
        let p = &patients[i];
        if p.priority.class == 0 {
            return Err(MatchingError::ClassZero(p.id.clone()));
        }
        used.insert(reference_index(&p.commune, format!("patient {}", p.id))?);
    }
    for &i in &d_order {
        let d = &doctors[i];
        used.insert(reference_index(&d.commune, format!("doctor {}", d.id))?);
    }
    let local: BTreeMap<u32, u32> = used.iter().enumerate().map(|(i, &r)| (r, i as u32)).collect();
    let centres: Vec<LatLon> = used.iter().map(|&r| reference.communes()[r as usize].centre).collect();
    let local_of = |code: &InseeCode| reference.index_of(code.as_str()).and_then(|r| local.get(&r).copied());

    // Doctors in id order; exclusions by patient position in id order.
    let patient_pos = |id: &str| p_order.binary_search_by(|&i| patients[i].id.as_str().cmp(id)).ok();
    let mut excluded_by: Vec<Vec<u32>> = vec![Vec::new(); patients.len()];
    let mut specs = Vec::with_capacity(doctors.len());
    for (di, &i) in d_order.iter().enumerate() {
        let d = &doctors[i];
        let own_max = match d.max_km {
            None => None,
            Some(k) => Some(km_to_m(k).ok_or_else(|| MatchingError::DoctorMaxKm(d.id.clone()))?),
        };
        let accepted = match &d.accepted_communes {
            None => None,
            Some(codes) => {
                let mut v = Vec::with_capacity(codes.len());
                for c in codes {
                    reference_index(c, format!("doctor {} (accepted communes)", d.id))?;
                    // Communes where no patient or doctor is cannot matter.
                    v.extend(local_of(c));
                }
                v.sort_unstable();
                v.dedup();
                Some(v)
            }
        };
        for p in &d.excluded_patients {
            if let Some(pos) = patient_pos(p) {
                excluded_by[pos].push(di as u32);
            }
        }
        specs.push(DoctorSpec {
            commune: local_of(&d.commune).unwrap_or_default(),
            capacity: d.capacity,
            max_m: own_max,
            accepted_communes: accepted,
        });
    }

    // Patients grouped by (commune, class, doctors who declined them); members in id order.
    let mut grouped: BTreeMap<(u32, u8, Vec<u32>), Vec<usize>> = BTreeMap::new();
    for (pos, &i) in p_order.iter().enumerate() {
        let p = &patients[i];
        let key = (local_of(&p.commune).unwrap_or_default(), p.priority.class, std::mem::take(&mut excluded_by[pos]));
        grouped.entry(key).or_default().push(i);
    }
    let mut groups = Vec::with_capacity(grouped.len());
    let mut members = Vec::with_capacity(grouped.len());
    for ((commune, class, excluded_doctors), m) in grouped {
        groups.push(PatientGroup { commune, class, count: m.len() as u32, excluded_doctors });
        members.push(m);
    }

    let instance = Instance { centres, max_m, groups, doctors: specs };
    let solution = network::solve(&instance)?;

    let mut next = vec![0usize; members.len()];
    let mut assignments = Vec::new();
    for a in &solution.assignments {
        let g = a.group as usize;
        for &i in &members[g][next[g]..next[g] + a.count as usize] {
            let p = &patients[i];
            assignments.push(Assignment {
                patient: p.id.clone(),
                doctor: doctors[d_order[a.doctor as usize]].id.clone(),
                metres: a.metres,
                class: p.priority.class,
                because: p.priority.because.clone(),
            });
        }
        next[g] += a.count as usize;
    }
    let mut waiting = Vec::new();
    for (g, m) in members.iter().enumerate() {
        let why = match solution.doctors_in_range[g] {
            0 => WaitingReason::NoDoctorInRange,
            n => WaitingReason::NoCapacityLeft { doctors_in_range: n },
        };
        for &i in &m[next[g]..] {
            let p = &patients[i];
            waiting.push(Waiting {
                patient: p.id.clone(),
                class: p.priority.class,
                because: p.priority.because.clone(),
                why,
            });
        }
    }
    assignments.sort_by(|a, b| a.patient.cmp(&b.patient));
    waiting.sort_by(|a, b| a.patient.cmp(&b.patient));
    Ok(Matching {
        max_m,
        assignments,
        waiting,
        matched_by_class: solution.matched_by_class,
        patients_by_class: solution.patients_by_class,
        total_m: solution.total_m,
        stats: solution.stats,
    })
}

#[cfg(test)]
mod tests;
