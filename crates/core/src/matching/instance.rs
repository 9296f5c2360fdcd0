//! The matching problem at the level the solver sees: communes by index, patients grouped by
//! (commune, class), doctors one by one, distances in whole metres.
//!
//! Distances are great-circle distances between commune centres
//! ([`LatLon::distance_km`](crate::geo::LatLon::distance_km), R = 6371 km), converted to whole
//! metres by rounding to the nearest metre, halves away from zero ([`metres`]). Every cost and
//! every range check uses these integers, so our engine and an independent solver fed the same
//! integers reach the same optimum exactly. A doctor is within range of a patient when
//! `metres(patient's commune, doctor's commune) ≤ max_m` (and ≤ the doctor's own limit).

use crate::geo::{EARTH_RADIUS_KM, LatLon};
use std::collections::HashMap;

/// Largest distance limit accepted (1,000 km): keeps every cost well inside 64 bits.
pub const MAX_DISTANCE_M: u32 = 1_000_000;

/// Great-circle distance between two points in whole metres (nearest metre, halves up).
pub fn metres(a: LatLon, b: LatLon) -> u32 {
    let m = (a.distance_km(b) * 1000.0).round();
    // At most half the Earth's circumference, about 2.0e7 m.
    m as u32
}

/// Kilometres from a distance in metres, for display (exact to the metre).
pub fn km(metres: u64) -> f64 {
    metres as f64 / 1000.0
}

/// A limit in kilometres as whole metres (nearest metre).
pub fn km_to_m(km: f64) -> Option<u32> {
    if !km.is_finite() || km < 0.0 {
        return None;
    }
    let m = (km * 1000.0).round();
    (m <= f64::from(MAX_DISTANCE_M)).then_some(m as u32)
}

/// Waiting patients of one commune and one class who can be treated alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientGroup {
    /// Index into [`Instance::centres`].
    pub commune: u32,
    /// Priority class, 1 served first.
    pub class: u8,
    pub count: u32,
    /// Doctors (indices into [`Instance::doctors`], ascending) who must not receive these
    /// patients (they declined them before). Usually empty.
    pub excluded_doctors: Vec<u32>,
}

/// One doctor and their settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctorSpec {
    /// Index into [`Instance::centres`].
    pub commune: u32,
    /// New patients they accept.
    pub capacity: u32,
    /// Their own distance limit in metres, if stricter than the instance's.
    pub max_m: Option<u32>,
    /// If set, only patients of these communes (indices, ascending).
    pub accepted_communes: Option<Vec<u32>>,
}

/// A whole problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// Commune centres, indexed by the `commune` fields.
    pub centres: Vec<LatLon>,
    /// Nobody is proposed a doctor farther than this (metres).
    pub max_m: u32,
    pub groups: Vec<PatientGroup>,
    pub doctors: Vec<DoctorSpec>,
}

/// An instance that cannot be solved as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstanceError {
    #[error("the maximum distance must be between 1 m and {} km", MAX_DISTANCE_M / 1000)]
    MaxDistance,
    #[error("patient group {0}: unknown commune index")]
    GroupCommune(usize),
    #[error("patient group {0}: class 0 (classes are numbered from 1)")]
    ClassZero(usize),
    #[error("patient group {0}: excluded doctors must be known doctor indices in ascending order")]
    Exclusions(usize),
    #[error("doctor {0}: unknown commune index")]
    DoctorCommune(usize),
    #[error("doctor {0}: accepted communes must be known commune indices in ascending order")]
    AcceptedCommunes(usize),
    #[error("the problem is too large for exact 64-bit costs")]
    TooLarge,
}

impl Instance {
    pub fn validate(&self) -> Result<(), InstanceError> {
        if self.max_m == 0 || self.max_m > MAX_DISTANCE_M {
            return Err(InstanceError::MaxDistance);
        }
        let communes = self.centres.len();
        for (i, g) in self.groups.iter().enumerate() {
            if g.commune as usize >= communes {
                return Err(InstanceError::GroupCommune(i));
            }
            if g.class == 0 {
                return Err(InstanceError::ClassZero(i));
            }
            let sorted = g.excluded_doctors.windows(2).all(|w| w[0] < w[1]);
            if !sorted || g.excluded_doctors.last().is_some_and(|&d| d as usize >= self.doctors.len()) {
                return Err(InstanceError::Exclusions(i));
            }
        }
        for (i, d) in self.doctors.iter().enumerate() {
            if d.commune as usize >= communes {
                return Err(InstanceError::DoctorCommune(i));
            }
            if let Some(acc) = &d.accepted_communes {
                let sorted = acc.windows(2).all(|w| w[0] < w[1]);
                if !sorted || acc.last().is_some_and(|&c| c as usize >= communes) {
                    return Err(InstanceError::AcceptedCommunes(i));
                }
            }
        }
        Ok(())
    }

    /// The doctor's effective limit: the stricter of theirs and the instance's.
    pub fn doctor_max_m(&self, doctor: &DoctorSpec) -> u32 {
        doctor.max_m.map_or(self.max_m, |m| m.min(self.max_m))
    }

    /// Whether `doctor` may receive a patient of `group`, given their distance in metres.
    pub fn allowed(&self, group: &PatientGroup, doctor_index: u32, metres: u32) -> bool {
        let d = &self.doctors[doctor_index as usize];
        metres <= self.doctor_max_m(d)
            && d.accepted_communes.as_ref().is_none_or(|acc| acc.binary_search(&group.commune).is_ok())
            && group.excluded_doctors.binary_search(&doctor_index).is_err()
    }
}

/// Communes bucketed on a latitude/longitude grid whose cells are as tall as the search
/// radius, to find every commune within `max_m` of a point without scanning them all.
///
/// The pre-filter is conservative (a proven lower bound on the distance, see `query`); the
/// decision is always the exact [`metres`] test.
pub(crate) struct Grid {
    max_m: u32,
    /// Cell size in degrees.
    cell: f64,
    cells: HashMap<(i32, i32), Vec<u32>>,
    centres: Vec<LatLon>,
}

impl Grid {
    /// `points`: (id, centre) pairs; `query` returns the ids.
    pub(crate) fn new(points: impl IntoIterator<Item = (u32, LatLon)>, centres_len_hint: usize, max_m: u32) -> Self {
        // Radius used by the pre-filter: strictly above anything that can round to max_m.
        let radius_km = (f64::from(max_m) + 1.0) / 1000.0;
        let cell = (radius_km / EARTH_RADIUS_KM).to_degrees().max(1e-6);
        let mut cells: HashMap<(i32, i32), Vec<u32>> = HashMap::new();
        let mut centres = Vec::with_capacity(centres_len_hint);
        for (id, p) in points {
            if centres.len() <= id as usize {
                centres.resize(id as usize + 1, LatLon::new(f64::NAN, f64::NAN));
            }
            centres[id as usize] = p;
            cells.entry(Self::key(p, cell)).or_default().push(id);
        }
        for v in cells.values_mut() {
            v.sort_unstable();
        }
        Self { max_m, cell, cells, centres }
    }

    fn key(p: LatLon, cell: f64) -> (i32, i32) {
        ((p.lat / cell).floor() as i32, (p.lon / cell).floor() as i32)
    }

    /// Every id within `max_m` of `p` (exact test), with its distance; ascending ids.
    pub(crate) fn query(&self, p: LatLon, out: &mut Vec<(u32, u32)>) {
        out.clear();
        let radius_km = (f64::from(self.max_m) + 1.0) / 1000.0;
        let dphi = (radius_km / EARTH_RADIUS_KM).to_degrees();
        // Latitude: the great-circle distance is at least R·|Δφ|.
        let lat_lo = p.lat - dphi;
        let lat_hi = p.lat + dphi;
        // Longitude: hav(d/R) ≥ cos φ1 cos φ2 hav(Δλ) ≥ cos² φmax sin²(Δλ/2), so a point within
        // d has sin(Δλ/2) ≤ sin(d/2R) / cos φmax.
        let phi_max = lat_lo.abs().max(lat_hi.abs());
        let ratio = (radius_km / (2.0 * EARTH_RADIUS_KM)).sin() / phi_max.to_radians().cos();
        let lon_ranges: Vec<(f64, f64)> = if phi_max >= 89.9 || ratio.is_nan() || ratio >= 1.0 {
            vec![(-180.0, 180.0)]
        } else {
            let dlam = (2.0 * ratio.asin()).to_degrees() * (1.0 + 1e-9) + 1e-9;
            let (lo, hi) = (p.lon - dlam, p.lon + dlam);
            let mut r = vec![(lo.max(-180.0), hi.min(180.0))];
            if lo < -180.0 {
                r.push((lo + 360.0, 180.0));
            }
            if hi > 180.0 {
                r.push((-180.0, hi - 360.0));
            }
            r
        };
        let (ilat_lo, ilat_hi) = ((lat_lo / self.cell).floor() as i32, (lat_hi / self.cell).floor() as i32);
        for (lo, hi) in lon_ranges {
            let (ilon_lo, ilon_hi) = ((lo / self.cell).floor() as i32, (hi / self.cell).floor() as i32);
            for i in ilat_lo..=ilat_hi {
                for j in ilon_lo..=ilon_hi {
                    let Some(ids) = self.cells.get(&(i, j)) else { continue };
                    for &id in ids {
                        let m = metres(p, self.centres[id as usize]);
                        if m <= self.max_m {
                            out.push((id, m));
                        }
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn metres_round_to_nearest() {
        let a = LatLon::new(47.58, 1.33);
        assert_eq!(metres(a, a), 0);
        let b = LatLon::new(47.59, 1.33);
        let exact = a.distance_km(b) * 1000.0;
        assert_eq!(f64::from(metres(a, b)), exact.round());
        assert_eq!(km_to_m(30.0), Some(30_000));
        assert_eq!(km_to_m(4.2004), Some(4_200));
        assert_eq!(km_to_m(-1.0), None);
        assert_eq!(km_to_m(f64::NAN), None);
        assert_eq!(km_to_m(1000.1), None);
        assert_eq!(km(4_200), 4.2);
    }

    fn point() -> impl Strategy<Value = LatLon> {
        // Around France, with a few points near the poles and the antimeridian as well.
        prop_oneof![
            8 => (41.0f64..51.5, -5.5f64..9.8).prop_map(|(a, b)| LatLon::new(a, b)),
            1 => (-89.99f64..89.99, -180.0f64..180.0).prop_map(|(a, b)| LatLon::new(a, b)),
            1 => (-60.0f64..60.0, 179.0f64..180.0).prop_map(|(a, b)| LatLon::new(a, b)),
            1 => (-60.0f64..60.0, -180.0f64..-179.0).prop_map(|(a, b)| LatLon::new(a, b)),
        ]
    }

    proptest! {
        /// The grid finds exactly what a scan of every point finds.
        #[test]
        fn grid_is_exact(points in prop::collection::vec(point(), 1..60), q in point(), km in 1u32..400) {
            let max_m = km * 1000;
            let grid = Grid::new(points.iter().enumerate().map(|(i, &p)| (i as u32, p)), points.len(), max_m);
            let mut found = Vec::new();
            grid.query(q, &mut found);
            let expected: Vec<(u32, u32)> = points
                .iter()
                .enumerate()
                .map(|(i, &p)| (i as u32, metres(q, p)))
                .filter(|&(_, m)| m <= max_m)
                .collect();
            prop_assert_eq!(found, expected);
        }

        /// Near points too (a dense cluster around the query).
        #[test]
        fn grid_is_exact_nearby(offsets in prop::collection::vec((-0.5f64..0.5, -0.7f64..0.7), 1..80), km in 1u32..40) {
            let q = LatLon::new(47.586, 1.336);
            let points: Vec<LatLon> = offsets.iter().map(|&(a, b)| LatLon::new(q.lat + a, q.lon + b)).collect();
            let max_m = km * 1000;
            let grid = Grid::new(points.iter().enumerate().map(|(i, &p)| (i as u32, p)), points.len(), max_m);
            let mut found = Vec::new();
            grid.query(q, &mut found);
            let expected: Vec<(u32, u32)> = points
                .iter()
                .enumerate()
                .map(|(i, &p)| (i as u32, metres(q, p)))
                .filter(|&(_, m)| m <= max_m)
                .collect();
            prop_assert_eq!(found, expected);
        }
    }
}
