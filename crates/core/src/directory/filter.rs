//! Which lines of a national extract belong to a territory: its communes, plus the communes
//! within a margin around it (professionals just across the border often serve the territory).
//!
//! Deciding must cost almost nothing for the 99 % of lines that are elsewhere: the accepted
//! commune codes are precomputed into a flat table indexed by the 5 characters of the code
//! (120,000 one-byte cells), so a lookup is a few arithmetic operations and one memory read.
//!
//! The extract gives the commune of the practice place. What the filter also handles:
//! - **Paris, Lyon, Marseille**: a territory drawn at city level (75056) accepts the lines
//!   coded with its arrondissements (75101…), and a territory drawn at arrondissement level
//!   accepts lines coded with the whole city only when their postal code shows the
//!   arrondissement (75008 → 75108);
//! - **former communes** (merged since): accepted when the commune they merged into is;
//! - **no commune code** (it happens): the postal code decides when every commune with that
//!   postal code is accepted; when only some are, the line is [`Placement::Unplaced`] (might be
//!   in the territory: counted and reported, not imported).

use crate::geo::LatLon;
use crate::refdata::Reference;
use crate::territory::{Territory, TerritoryError};
use serde::Serialize;
use std::collections::HashMap;

/// Where a kept line lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Zone {
    /// In one of the territory's communes.
    Territory,
    /// In a commune within the margin around the territory.
    Margin,
}

/// The filter's decision for one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    Inside(Zone),
    Outside,
    /// No usable commune code, and a postal code shared by accepted and other communes.
    Unplaced,
}

const NONE: u8 = 0;
const TERRITORY: u8 = 1;
const MARGIN: u8 = 2;
/// A city whose arrondissements are not all accepted alike: the postal code decides.
const BY_POSTAL: u8 = 3;
/// A former commune split between accepted and other communes.
const UNPLACED: u8 = 4;
/// Number of cells of the table: 10 × 12 département prefixes × 1000.
const CODE_SPACE: usize = 120_000;

/// Index of a commune code in the flat table: département characters (`0`–`9`, then `0`–`9`,
/// `A`, `B`) and 3 digits. `None` for anything that is not shaped like an INSEE code.
#[inline]
fn code_index(code: &[u8]) -> Option<usize> {
    let [c0, c1, c2, c3, c4] = *code else { return None };
    let d0 = c0.wrapping_sub(b'0');
    let d1 = match c1 {
        b'0'..=b'9' => c1 - b'0',
        b'A' | b'a' if c0 == b'2' => 10,
        b'B' | b'b' if c0 == b'2' => 11,
        _ => return None,
    };
    let (d2, d3, d4) = (c2.wrapping_sub(b'0'), c3.wrapping_sub(b'0'), c4.wrapping_sub(b'0'));
    if d0 > 9 || d2 > 9 || d3 > 9 || d4 > 9 {
        return None;
    }
    Some(
        (usize::from(d0) * 12 + usize::from(d1)) * 1000
            + usize::from(d2) * 100
            + usize::from(d3) * 10
            + usize::from(d4),
    )
}

fn postal_key(p: &[u8]) -> Option<[u8; 5]> {
    let k: [u8; 5] = p.try_into().ok()?;
    k.iter().all(u8::is_ascii_digit).then_some(k)
}

fn trim(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// Decides which lines of the extract belong to a territory (and its margin).
#[derive(Debug, Clone)]
pub struct TerritoryFilter {
    /// One cell per possible commune code: NONE, TERRITORY, MARGIN, BY_POSTAL, UNPLACED.
    table: Vec<u8>,
    /// Postal codes of accepted communes: `Some(zone)` when every commune with that postal code
    /// is accepted (the weakest zone), `None` when only some are.
    postal: HashMap<[u8; 5], Option<Zone>>,
    margin_km: f64,
    everything: bool,
}

impl TerritoryFilter {
    /// The territory's communes, and those whose centre lies within `margin_km` of the centre
    /// of one of them (0 for none). Distances are great-circle between commune centres, as in
    /// `territory::communes_within`; for Paris, Lyon and Marseille the centres of the
    /// arrondissements are used, so a margin can take in a few arrondissements of a city.
    pub fn new(territory: &Territory<'_>, margin_km: f64) -> Self {
        let reference = territory.reference();
        let all = reference.communes();
        // Arrondissements of each city (Paris, Lyon, Marseille), by index.
        let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
        for (i, c) in all.iter().enumerate() {
            if let Some(parent) = c.parent.and_then(|p| reference.index_of(p.as_str())) {
                children.entry(parent as usize).or_default().push(i);
            }
        }
        // The territory's communes, a city taken as its arrondissements.
        let mut zone: Vec<u8> = vec![NONE; all.len()];
        let mut centres: Vec<LatLon> = Vec::new();
        for c in territory.communes() {
            let Some(i) = reference.index_of(c.code.as_str()).map(|i| i as usize) else { continue };
            match children.get(&i) {
                None => {
                    zone[i] = TERRITORY;
                    centres.push(c.centre);
                }
                Some(parts) => {
                    for &p in parts {
                        zone[p] = TERRITORY;
                        centres.push(all[p].centre);
                    }
                }
            }
        }
        if margin_km > 0.0 && margin_km.is_finite() {
            // A cheap bounding box first: 1° of latitude is about 111.2 km; a degree of
            // longitude shrinks with latitude, bounded by the highest latitude involved.
            let dlat = margin_km / 111.0 + 0.01;
            let max_lat = (centres.iter().map(|c| c.lat.abs()).fold(0.0f64, f64::max) + dlat).min(89.0);
            let dlon = margin_km / (111.0 * max_lat.to_radians().cos()) + 0.01;
            for (i, c) in all.iter().enumerate() {
                // Cities are decided by their arrondissements, below.
                if zone[i] != NONE || children.contains_key(&i) {
                    continue;
                }
                let near = centres.iter().any(|t| {
                    (t.lat - c.centre.lat).abs() <= dlat
                        && (t.lon - c.centre.lon).abs() <= dlon
                        && t.distance_km(c.centre) <= margin_km
                });
                if near {
                    zone[i] = MARGIN;
                }
            }
        }
        // A city: all its arrondissements alike → that zone; otherwise the postal code decides.
        for (&city, parts) in &children {
            let first = parts.first().map_or(NONE, |&p| zone[p]);
            zone[city] = if parts.iter().all(|&p| zone[p] == first) { first } else { BY_POSTAL };
        }
        let mut table = vec![NONE; CODE_SPACE];
        for (i, c) in all.iter().enumerate() {
            if let Some(k) = code_index(c.code.as_str().as_bytes()) {
                table[k] = zone[i];
            }
        }
        // Postal codes, at the finest level (arrondissements rather than their city).
        let mut by_postal: HashMap<[u8; 5], (bool, bool, Zone)> = HashMap::new(); // any, all, weakest
        for (i, c) in all.iter().enumerate() {
            if children.contains_key(&i) {
                continue;
            }
            for p in &c.postal_codes {
                let Some(k) = postal_key(p.as_bytes()) else { continue };
                let e = by_postal.entry(k).or_insert((false, true, Zone::Territory));
                match zone[i] {
                    TERRITORY => e.0 = true,
                    MARGIN => {
                        e.0 = true;
                        e.2 = Zone::Margin;
                    }
                    _ => e.1 = false,
                }
            }
        }
        let postal = by_postal
            .into_iter()
            .filter(|(_, (any, _, _))| *any)
            .map(|(k, (_, all, z))| (k, all.then_some(z)))
            .collect();
        let mut filter = Self { table, postal, margin_km: margin_km.max(0.0), everything: false };
        filter.add_former_communes(reference, &zone);
        filter
    }

    /// [`TerritoryFilter::new`] from commune codes (validated as a [`Territory`]).
    pub fn from_codes<'a>(
        reference: &Reference,
        codes: impl IntoIterator<Item = &'a str>,
        margin_km: f64,
    ) -> Result<Self, TerritoryError> {
        Ok(Self::new(&Territory::new(reference, codes)?, margin_km))
    }

    /// Accepts every line (national import, tests): each is `Inside(Territory)`.
    pub fn everything() -> Self {
        Self { table: Vec::new(), postal: HashMap::new(), margin_km: 0.0, everything: true }
    }

    fn add_former_communes(&mut self, reference: &Reference, zone: &[u8]) {
        let all = reference.communes();
        let mut prefixes: Vec<&str> = all
            .iter()
            .enumerate()
            .filter(|(i, _)| matches!(zone[*i], TERRITORY | MARGIN))
            .map(|(_, c)| &c.code.as_str()[..2])
            .collect();
        prefixes.sort_unstable();
        prefixes.dedup();
        let zone_of = |code: &str| reference.index_of(code).map_or(NONE, |i| zone[i as usize]);
        for prefix in prefixes {
            for n in 0..1000u32 {
                let code = format!("{prefix}{n:03}");
                let Some(f) = reference.former(&code) else { continue };
                if reference.commune(&code).is_some() {
                    continue;
                }
                let zones: Vec<u8> =
                    std::iter::once(&f.current).chain(&f.other_current).map(|c| zone_of(c.as_str())).collect();
                let accepted: Vec<u8> = zones.iter().copied().filter(|z| matches!(*z, TERRITORY | MARGIN)).collect();
                let cell = if accepted.is_empty() {
                    NONE
                } else if accepted.len() < zones.len() {
                    UNPLACED
                } else if accepted.contains(&MARGIN) {
                    MARGIN
                } else {
                    TERRITORY
                };
                if let Some(k) = code_index(code.as_bytes()) {
                    self.table[k] = cell;
                }
            }
        }
    }

    /// Whether this is [`TerritoryFilter::everything`].
    pub fn is_everything(&self) -> bool {
        self.everything
    }

    pub fn margin_km(&self) -> f64 {
        self.margin_km
    }

    /// The zone of a commune code (current, arrondissement or former), without postal code.
    pub fn zone_of_code(&self, code: &str) -> Option<Zone> {
        match self.locate(code, "") {
            Placement::Inside(z) => Some(z),
            _ => None,
        }
    }

    /// Decides for a line from its raw commune code and postal code fields.
    pub fn locate(&self, commune: &str, postal: &str) -> Placement {
        self.locate_bytes(commune.as_bytes(), postal.as_bytes())
    }

    /// Decides from the raw bytes of the two fields (as [`super::annuaire::ColumnMap::location`]
    /// gives them).
    #[inline]
    pub fn locate_bytes(&self, commune: &[u8], postal: &[u8]) -> Placement {
        if self.everything {
            return Placement::Inside(Zone::Territory);
        }
        let commune = trim(commune);
        match code_index(commune).map(|k| self.table[k]) {
            Some(TERRITORY) => Placement::Inside(Zone::Territory),
            Some(MARGIN) => Placement::Inside(Zone::Margin),
            Some(UNPLACED) => Placement::Unplaced,
            Some(BY_POSTAL) => self.by_postal(postal, Placement::Unplaced),
            Some(_) => Placement::Outside,
            // No (usable) commune code: the postal code alone.
            None => self.by_postal(postal, Placement::Outside),
        }
    }

    fn by_postal(&self, postal: &[u8], unknown: Placement) -> Placement {
        let Some(k) = postal_key(trim(postal)) else { return unknown };
        match self.postal.get(&k) {
            Some(Some(z)) => Placement::Inside(*z),
            Some(None) => Placement::Unplaced,
            None => Placement::Outside,
        }
    }

    /// Number of commune codes accepted (current, arrondissements, former), per zone.
    pub fn accepted_codes(&self) -> (usize, usize) {
        let t = self.table.iter().filter(|&&c| c == TERRITORY).count();
        let m = self.table.iter().filter(|&&c| c == MARGIN).count();
        (t, m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_index_is_a_bijection_on_valid_codes() {
        assert_eq!(code_index(b"01001"), Some(1001));
        assert_eq!(code_index(b"2A004"), code_index(b"2a004"));
        assert_ne!(code_index(b"2A004"), code_index(b"2B004"));
        assert_eq!(code_index(b"99999"), Some(CODE_SPACE - 1 - 2 * 1000));
        for bad in [&b"3A004"[..], b"4101", b"410188", b"41O18", b"", b"\xc3\xa9123"] {
            assert_eq!(code_index(bad), None, "{bad:?}");
        }
        let mut seen = std::collections::HashSet::new();
        for d0 in b'0'..=b'9' {
            for d1 in (b'0'..=b'9').chain([b'A', b'B']) {
                for n in [0u32, 1, 999] {
                    let code = format!("{}{}{n:03}", d0 as char, d1 as char);
                    if let Some(k) = code_index(code.as_bytes()) {
                        assert!(k < CODE_SPACE && seen.insert(k), "{code}");
                    }
                }
            }
        }
    }
}
