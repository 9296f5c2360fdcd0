//! Deterministic matching instances for tests and benchmarks (same seed, same instance).
//!
//! - [`national`]: every commune of France (Paris, Lyon and Marseille by arrondissement), the
//!   reference populations; patients spread over communes in proportion to population (times a
//!   random factor 0.5–1.5 per commune), 25–55 % of them in class 1 depending on the commune;
//!   doctors drawn over communes in proportion to population, capacities 0–60 skewed towards
//!   small values (⌊61·u^1.5⌋, mean ≈ 24, about 6.5 % at 0: in all about as many places as
//!   class-1 patients, so classes and distances both matter). Patients come aggregated by
//!   (commune, class), doctors one by one.
//! - [`cpts`]: one CPTS-size territory (the communes around a centre), individual patients with
//!   facts classified by a [`PriorityRule`], doctors with ids, some with their own settings.
//! - [`random`]: small random instances on made-up coordinates, every setting exercised, for
//!   the comparison with an independent solver.

use super::instance::{DoctorSpec, Instance, PatientGroup};
use super::priority::{PatientFacts, PriorityRule};
use super::{Doctor, Patient};
use crate::directory::synth::SplitMix64;
use crate::geo::LatLon;
use crate::ids::InseeCode;
use crate::refdata::{CommuneKind, Reference};
use std::collections::BTreeSet;

/// A uniform float in [0, 1).
fn unit(rng: &mut SplitMix64) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Capacities 0–60, skewed towards small values (⌊61·u^1.5⌋: mean ≈ 24, about 6.5 % at 0).
fn capacity(rng: &mut SplitMix64) -> u32 {
    ((61.0 * unit(rng).powf(1.5)) as u32).min(60)
}

/// Draws an index with probability proportional to `cumulative[i] − cumulative[i − 1]`.
fn weighted(rng: &mut SplitMix64, cumulative: &[u64]) -> usize {
    let total = cumulative.last().copied().unwrap_or(0);
    let x = rng.below(total);
    cumulative.partition_point(|&c| c <= x)
}

/// Indices (into `reference.communes()`) of the communes of France, the three cities with
/// arrondissements replaced by their arrondissements.
pub fn france_commune_indices(reference: &Reference) -> Vec<u32> {
    let all = reference.communes();
    let cities: BTreeSet<&str> = all.iter().filter_map(|c| c.parent.as_ref()).map(|p| p.as_str()).collect();
    (0..all.len() as u32)
        .filter(|&i| {
            let c = &all[i as usize];
            c.kind == CommuneKind::MunicipalArrondissement || !cities.contains(c.code.as_str())
        })
        .collect()
}

/// Size of a national instance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NationalSpec {
    pub patients: u64,
    pub doctors: u32,
    pub max_km: f64,
    pub seed: u64,
}

impl Default for NationalSpec {
    /// The instance: 6 million patients, 100,000 doctors, 30 km.
    fn default() -> Self {
        Self { patients: 6_000_000, doctors: 100_000, max_km: 30.0, seed: 2026 }
    }
}

/// A national instance on the reference communes (commune index = reference index).
pub fn national(reference: &Reference, spec: &NationalSpec) -> Instance {
    let mut rng = SplitMix64::new(spec.seed);
    let communes = france_commune_indices(reference);
    let all = reference.communes();
    let centres: Vec<LatLon> = all.iter().map(|c| c.centre).collect();

    // Patients: largest-remainder apportionment of the total over population × factor.
    let weights: Vec<f64> =
        communes.iter().map(|&c| f64::from(all[c as usize].population) * (0.5 + unit(&mut rng))).collect();
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| w / sum * spec.patients as f64).collect();
    let mut counts: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let missing = spec.patients - counts.iter().sum::<u64>();
    let mut by_remainder: Vec<usize> = (0..communes.len()).collect();
    by_remainder
        .sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())).then(a.cmp(&b)));
    for &i in by_remainder.iter().take(missing as usize) {
        counts[i] += 1;
    }
    let mut groups = Vec::new();
    for (&c, &n) in communes.iter().zip(&counts) {
        let share = 0.25 + 0.30 * unit(&mut rng);
        let first = ((n as f64) * share).round() as u64;
        for (class, count) in [(1u8, first), (2u8, n - first)] {
            if count > 0 {
                groups.push(PatientGroup { commune: c, class, count: count as u32, excluded_doctors: Vec::new() });
            }
        }
    }

    // Doctors: where people live.
    let mut cumulative = Vec::with_capacity(communes.len());
    let mut acc = 0u64;
    for &c in &communes {
        acc += u64::from(all[c as usize].population);
        cumulative.push(acc);
    }
    let doctors = (0..spec.doctors)
        .map(|_| {
            let c = communes[weighted(&mut rng, &cumulative)];
            DoctorSpec { commune: c, capacity: capacity(&mut rng), max_m: None, accepted_communes: None }
        })
        .collect();
    let max_m = super::km_to_m(spec.max_km).unwrap_or(30_000);
    Instance { centres, max_m, groups, doctors }
}

/// Size of a CPTS instance.
#[derive(Debug, Clone, PartialEq)]
pub struct CptsSpec {
    /// The territory: communes whose centre is within `radius_km` of this one's.
    pub centre: String,
    pub radius_km: f64,
    pub patients: u32,
    pub doctors: u32,
    pub seed: u64,
}

impl Default for CptsSpec {
    /// The CPTS-size instance: 20,000 patients, 300 doctors, around Blois.
    fn default() -> Self {
        Self { centre: "41018".into(), radius_km: 20.0, patients: 20_000, doctors: 300, seed: 2026 }
    }
}

/// A CPTS-size instance: patients with facts classified by `rule`, doctors with ids; about 10 %
/// of doctors with their own distance limit (10–25 km), 5 % accepting only the communes within
/// 10 km of theirs, 5 % having declined 1–3 patients. Empty if the centre is unknown.
pub fn cpts(reference: &Reference, spec: &CptsSpec, rule: &PriorityRule) -> (Vec<Patient>, Vec<Doctor>) {
    let mut rng = SplitMix64::new(spec.seed);
    let Some(centre) = reference.commune(&spec.centre) else { return (Vec::new(), Vec::new()) };
    let all = reference.communes();
    let territory: Vec<usize> = france_commune_indices(reference)
        .into_iter()
        .map(|i| i as usize)
        .filter(|&i| all[i].centre.distance_km(centre.centre) <= spec.radius_km)
        .collect();
    let mut cumulative = Vec::with_capacity(territory.len());
    let mut acc = 0u64;
    for &c in &territory {
        acc += u64::from(all[c].population.max(1));
        cumulative.push(acc);
    }
    let code = |i: usize| -> InseeCode { all[i].code };

    let patients: Vec<Patient> = (0..spec.patients)
        .map(|n| {
            let commune = code(territory[weighted(&mut rng, &cumulative)]);
            let age = if rng.chance(260) { 70 + rng.below(30) } else { rng.below(70) } as u16;
            let facts = PatientFacts {
                ald: rng.chance(200),
                age: Some(age),
                precarity: rng.chance(120),
                flags: BTreeSet::new(),
            };
            Patient { id: format!("P{n:06}"), commune, priority: rule.classify(&facts) }
        })
        .collect();
    let doctors: Vec<Doctor> = (0..spec.doctors)
        .map(|n| {
            let home = territory[weighted(&mut rng, &cumulative)];
            let mut d = Doctor {
                id: format!("D{n:04}"),
                commune: code(home),
                capacity: capacity(&mut rng),
                max_km: None,
                accepted_communes: None,
                excluded_patients: BTreeSet::new(),
            };
            match rng.below(100) {
                0..10 => d.max_km = Some(10.0 + rng.below(16) as f64),
                10..15 => {
                    d.accepted_communes = Some(
                        territory
                            .iter()
                            .filter(|&&c| all[c].centre.distance_km(all[home].centre) <= 10.0)
                            .map(|&c| code(c))
                            .collect(),
                    )
                }
                15..20 if !patients.is_empty() => {
                    for _ in 0..=rng.below(3) {
                        d.excluded_patients.insert(rng.pick(&patients).id.clone());
                    }
                }
                _ => {}
            }
            d
        })
        .collect();
    (patients, doctors)
}

/// Shape of a random instance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomSpec {
    pub communes: u32,
    pub groups: u32,
    pub doctors: u32,
    /// Patients per group: 0..=max_count.
    pub max_count: u32,
    /// Capacity per doctor: 0..=max_capacity.
    pub max_capacity: u32,
    /// Classes 1..=classes.
    pub classes: u8,
    pub max_km: u32,
    /// Communes are spread over a square of this side (degrees) around 47° N, 2° E.
    pub spread_deg: f64,
    /// Per-doctor limits, accepted communes and exclusions.
    pub settings: bool,
}

/// A random instance (made-up coordinates).
pub fn random(seed: u64, spec: &RandomSpec) -> Instance {
    let mut rng = SplitMix64::new(seed);
    let communes = spec.communes.max(1);
    let centres: Vec<LatLon> = (0..communes)
        .map(|_| {
            LatLon::new(47.0 + spec.spread_deg * (unit(&mut rng) - 0.5), 2.0 + spec.spread_deg * (unit(&mut rng) - 0.5))
        })
        .collect();
    let max_m = spec.max_km.max(1) * 1000;
    let doctors: Vec<DoctorSpec> = (0..spec.doctors)
        .map(|_| {
            let mut d = DoctorSpec {
                commune: rng.below(u64::from(communes)) as u32,
                capacity: rng.below(u64::from(spec.max_capacity) + 1) as u32,
                max_m: None,
                accepted_communes: None,
            };
            if spec.settings {
                if rng.chance(200) {
                    d.max_m = Some(rng.below(u64::from(max_m) + 5_000) as u32);
                }
                if rng.chance(100) {
                    let set: BTreeSet<u32> =
                        (0..=rng.below(4)).map(|_| rng.below(u64::from(communes)) as u32).collect();
                    d.accepted_communes = Some(set.into_iter().collect());
                }
            }
            d
        })
        .collect();
    let groups = (0..spec.groups)
        .map(|_| {
            let mut g = PatientGroup {
                commune: rng.below(u64::from(communes)) as u32,
                class: 1 + rng.below(u64::from(spec.classes.max(1))) as u8,
                count: rng.below(u64::from(spec.max_count) + 1) as u32,
                excluded_doctors: Vec::new(),
            };
            if spec.settings && spec.doctors > 0 && rng.chance(100) {
                let set: BTreeSet<u32> =
                    (0..=rng.below(2)).map(|_| rng.below(u64::from(spec.doctors)) as u32).collect();
                g.excluded_doctors = set.into_iter().collect();
            }
            g
        })
        .collect();
    Instance { centres, max_m, groups, doctors }
}
