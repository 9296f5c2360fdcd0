//! The instance file read by the independent solver (`tools/bench/matching_ortools.py`, Google
//! OR-tools' min-cost flow), at the level the issue states: patient groups (commune × class) to
//! *individual* doctors, one arc per allowed pair, with the integral costs our engine uses.
//!
//! Two files:
//!
//! - a JSON header: `{"format": "maillage-matching/1", "max_m": …, "arcs_file": "…",
//!   "arcs": n, "group_class": […], "group_count": […], "doctor_capacity": […]}` (groups and
//!   doctors by index, as in the [`Instance`]);
//! - the arcs file: `n` records of three little-endian `u32` (group, doctor, metres), one per
//!   group with patients and doctor with room that [`Instance::allowed`] lets meet.
//!
//! The peer derives everything else (network, lexicographic penalties) on its own.

use super::instance::{Grid, Instance, InstanceError};
use std::collections::BTreeMap;
use std::io::{self, Write};

pub const FORMAT: &str = "maillage-matching/1";

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExchangeSummary {
    pub groups: usize,
    pub doctors: usize,
    pub arcs: u64,
}

/// Writes the arcs, then the header naming `arcs_file` (the arcs file's name, as the peer will
/// find it next to the header).
pub fn write(
    instance: &Instance,
    mut header: impl Write,
    mut arcs: impl Write,
    arcs_file: &str,
) -> io::Result<ExchangeSummary> {
    instance.validate().map_err(|e: InstanceError| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let mut by_commune: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (i, d) in instance.doctors.iter().enumerate() {
        if d.capacity > 0 {
            by_commune.entry(d.commune).or_default().push(i as u32);
        }
    }
    let grid = Grid::new(
        by_commune.keys().map(|&c| (c, instance.centres[c as usize])),
        instance.centres.len(),
        instance.max_m,
    );
    let mut near = Vec::new();
    let mut count = 0u64;
    let mut record = [0u8; 12];
    for (gi, g) in instance.groups.iter().enumerate() {
        if g.count == 0 {
            continue;
        }
        grid.query(instance.centres[g.commune as usize], &mut near);
        for &(c, m) in &near {
            for &d in by_commune.get(&c).map_or(&[][..], Vec::as_slice) {
                if instance.allowed(g, d, m) {
                    record[0..4].copy_from_slice(&(gi as u32).to_le_bytes());
                    record[4..8].copy_from_slice(&d.to_le_bytes());
                    record[8..12].copy_from_slice(&m.to_le_bytes());
                    arcs.write_all(&record)?;
                    count += 1;
                }
            }
        }
    }
    arcs.flush()?;

    let list = |values: &mut dyn Iterator<Item = String>| values.collect::<Vec<_>>().join(",");
    let name = arcs_file.replace('\\', "\\\\").replace('"', "\\\"");
    write!(
        header,
        "{{\"format\":\"{FORMAT}\",\"max_m\":{},\"arcs_file\":\"{name}\",\"arcs\":{count},\"group_class\":[{}],\
         \"group_count\":[{}],\"doctor_capacity\":[{}]}}",
        instance.max_m,
        list(&mut instance.groups.iter().map(|g| g.class.to_string())),
        list(&mut instance.groups.iter().map(|g| g.count.to_string())),
        list(&mut instance.doctors.iter().map(|d| d.capacity.to_string())),
    )?;
    writeln!(header)?;
    header.flush()?;
    Ok(ExchangeSummary { groups: instance.groups.len(), doctors: instance.doctors.len(), arcs: count })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::LatLon;
    use crate::matching::instance::{DoctorSpec, PatientGroup, metres};

    #[test]
    fn writes_every_allowed_pair() {
        let centres = vec![LatLon::new(47.59, 1.33), LatLon::new(47.60, 1.40), LatLon::new(48.5, 2.0)];
        let instance = Instance {
            centres: centres.clone(),
            max_m: 10_000,
            groups: vec![
                PatientGroup { commune: 0, class: 1, count: 3, excluded_doctors: vec![] },
                PatientGroup { commune: 1, class: 2, count: 2, excluded_doctors: vec![1] },
                PatientGroup { commune: 2, class: 1, count: 1, excluded_doctors: vec![] },
            ],
            doctors: vec![
                DoctorSpec { commune: 0, capacity: 2, max_m: None, accepted_communes: None },
                DoctorSpec { commune: 1, capacity: 1, max_m: None, accepted_communes: None },
                DoctorSpec { commune: 1, capacity: 0, max_m: None, accepted_communes: None },
            ],
        };
        let (mut header, mut arcs) = (Vec::new(), Vec::new());
        let summary = write(&instance, &mut header, &mut arcs, "x.arcs").unwrap();
        // (0,0), (0,1), (1,0); not (1,1) (excluded), nothing for group 2 (too far), not doctor 2.
        assert_eq!(summary.arcs, 3);
        let words: Vec<u32> = arcs.chunks(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect();
        let d01 = metres(centres[0], centres[1]);
        assert_eq!(words, vec![0, 0, 0, 0, 1, d01, 1, 0, d01]);
        let h: serde_json::Value = serde_json::from_slice(&header).unwrap();
        assert_eq!(h["format"], FORMAT);
        assert_eq!(h["arcs"], 3);
        assert_eq!(h["group_count"], serde_json::json!([3, 2, 1]));
        assert_eq!(h["doctor_capacity"], serde_json::json!([2, 1, 0]));
    }
}
