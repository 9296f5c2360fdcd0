//! One call from a reader of the national extract to the professionals of a territory: header,
//! streaming scan, grouping by person. Used by `maillage import annuaire`, the web upload and the
//! benchmark.

use super::annuaire::{ColumnMap, Field, Reject, field_bytes};
use super::draft::{Activity, DraftWarning, group_by_person};
use super::filter::{TerritoryFilter, Zone};
use super::model::Professional;
use super::scan::{ScanError, ScanOptions, ScanSink, ScanStats, read_header, scan_with};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::convert::Infallible;
use std::io::BufRead;

/// At most this many rejects are kept for the report (all are counted in the stats).
pub const MAX_REPORTED_REJECTS: usize = 1_000;

/// What a scan of the extract found for one territory.
#[derive(Debug, Default)]
pub struct Collected {
    pub professionals: Vec<Professional>,
    /// The first [`MAX_REPORTED_REJECTS`] rejects, by line.
    pub rejects: Vec<Reject>,
    /// Lines that might be in the territory but cannot be placed: (line, raw postal code).
    pub unplaced: Vec<(u64, String)>,
    pub warnings: Vec<DraftWarning>,
    pub stats: ScanStats,
    /// Lines of the header (1) plus the data lines read.
    pub lines_read: u64,
    /// Professionals (distinct national ids) per département of the territory and profession
    /// code, over the whole file: the reference for densities.
    pub departement_counts: DepartementCounts,
}

/// Département code → profession code → number of professionals.
pub type DepartementCounts = BTreeMap<String, BTreeMap<String, u64>>;

/// The département of a commune code as written in the extract: `2A`/`2B`, `97x`, or the first
/// two characters (arrondissements `751xx` belong to `75`).
fn departement_of(commune: &[u8]) -> Option<&[u8]> {
    match commune {
        [b'9', b'7', _, ..] => commune.get(..3),
        [_, _, ..] => commune.get(..2),
        _ => None,
    }
}

/// Counts distinct professionals per (département, profession) for the given départements.
struct DepartementCounter {
    wanted: BTreeSet<Vec<u8>>,
    identifier: Option<usize>,
    profession: Option<usize>,
    seen: HashSet<(Vec<u8>, Vec<u8>, Vec<u8>)>,
}

impl DepartementCounter {
    fn new(map: &ColumnMap, departements: &[String]) -> Self {
        Self {
            wanted: departements.iter().map(|d| d.as_bytes().to_vec()).collect(),
            identifier: map.position(Field::NationalId),
            profession: map.position(Field::ProfessionCode),
            seen: HashSet::new(),
        }
    }

    /// A line outside the territory: its fields are found only if its département counts.
    fn count(&mut self, line: &[u8], commune: &[u8]) {
        let Some(dep) = departement_of(commune) else { return };
        if !self.wanted.contains(dep) {
            return;
        }
        let (Some(i), Some(p)) = (self.identifier, self.profession) else { return };
        let (Some(id), Some(profession)) = (field_bytes(line, i), field_bytes(line, p)) else { return };
        self.seen.insert((dep.to_vec(), profession.trim_ascii().to_vec(), id.trim_ascii().to_vec()));
    }

    /// A kept line, already parsed.
    fn count_activity(&mut self, a: &Activity) {
        let Some(code) = a.commune_code else { return };
        let Some(dep) = departement_of(code.as_str().as_bytes()) else { return };
        if self.wanted.contains(dep) {
            let id = a.national_id.to_string().into_bytes();
            self.seen.insert((dep.to_vec(), a.profession_code.trim().as_bytes().to_vec(), id));
        }
    }

    fn into_counts(self) -> DepartementCounts {
        let mut out = DepartementCounts::new();
        for (dep, profession, _) in self.seen {
            let dep = String::from_utf8_lossy(&dep).into_owned();
            let profession = String::from_utf8_lossy(&profession).trim().to_owned();
            *out.entry(dep).or_default().entry(profession).or_default() += 1;
        }
        out
    }
}

struct Sink<P> {
    counter: DepartementCounter,
    activities: Vec<Activity>,
    rejects: Vec<Reject>,
    unplaced: Vec<(u64, String)>,
    progress: P,
}

impl<P: FnMut(&ScanStats)> ScanSink for Sink<P> {
    type Error = Infallible;
    fn record(&mut self, record: super::annuaire::ActivityRecord<'_>, _zone: Zone) -> Result<(), Infallible> {
        let activity = record.to_activity();
        self.counter.count_activity(&activity);
        self.activities.push(activity);
        Ok(())
    }
    fn outside(&mut self, line: &[u8], commune: &[u8]) {
        self.counter.count(line, commune);
    }
    fn reject(&mut self, reject: Reject) -> Result<(), Infallible> {
        if self.rejects.len() < MAX_REPORTED_REJECTS {
            self.rejects.push(reject);
        }
        Ok(())
    }
    fn unplaced(&mut self, line: u64, postal_code: &str) -> Result<(), Infallible> {
        if self.unplaced.len() < MAX_REPORTED_REJECTS {
            self.unplaced.push((line, postal_code.to_owned()));
        }
        Ok(())
    }
    fn progress(&mut self, stats: &ScanStats) {
        (self.progress)(stats);
    }
}

/// Reads the header and every line, keeps the lines of the territory (and its margin), and
/// groups them into professionals. Memory grows with the kept lines only. `progress` is called
/// every `progress_every` lines (0: only at the end).
pub fn collect<R: BufRead>(
    reader: R,
    filter: &TerritoryFilter,
    progress_every: u64,
    progress: impl FnMut(&ScanStats),
) -> Result<Collected, ScanError<Infallible>> {
    collect_with_counts(reader, filter, &[], progress_every, progress)
}

/// [`collect`], also counting the professionals of `departements` over the whole file (those of
/// the territory, the reference for densities).
pub fn collect_with_counts<R: BufRead>(
    mut reader: R,
    filter: &TerritoryFilter,
    departements: &[String],
    progress_every: u64,
    progress: impl FnMut(&ScanStats),
) -> Result<Collected, ScanError<Infallible>> {
    let (map, header_bytes) = read_header(&mut reader)?;
    let counter = DepartementCounter::new(&map, departements);
    let mut sink = Sink { counter, activities: Vec::new(), rejects: Vec::new(), unplaced: Vec::new(), progress };
    let mut stats = scan_with(reader, &map, filter, ScanOptions { first_line: 2, progress_every }, &mut sink)?;
    stats.bytes += header_bytes;
    let drafts = group_by_person(sink.activities);
    let mut warnings = Vec::new();
    let mut professionals = Vec::with_capacity(drafts.len());
    for d in &drafts {
        warnings.extend(d.warnings());
        professionals.extend(d.to_professional());
    }
    let departement_counts = sink.counter.into_counts();
    Ok(Collected {
        departement_counts,
        professionals,
        rejects: sink.rejects,
        unplaced: sink.unplaced,
        warnings,
        lines_read: stats.lines + 1,
        stats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::synth;
    use crate::refdata::Reference;

    #[test]
    fn collects_the_professionals_of_a_territory_from_a_synthetic_extract() {
        let reference = Reference::embedded();
        let communes = synth::france_communes(reference);
        let mut file = Vec::new();
        synth::write_extract(&mut file, 20_000, 7, &communes).unwrap();
        let filter = TerritoryFilter::everything();
        let mut calls = 0;
        let all = collect_with_counts(file.as_slice(), &filter, &["41".to_owned()], 5_000, |_| calls += 1).unwrap();
        assert!(all.rejects.is_empty(), "{:?}", all.rejects.first());
        assert_eq!(all.stats.lines, 20_000);
        assert_eq!(all.lines_read, 20_001);
        assert!(calls >= 4, "progress reported");
        let lines: usize = all.professionals.iter().map(|p| p.places.len()).sum();
        assert!(all.professionals.len() < 20_000 && lines >= all.professionals.len());
        // Everything is kept here, so the Loir-et-Cher counts are those of the kept people.
        let in_41 = all
            .professionals
            .iter()
            .filter(|p| p.places.iter().any(|pl| pl.address.commune_code.is_some_and(|c| c.as_str().starts_with("41"))))
            .count() as u64;
        let counted: u64 = all.departement_counts.get("41").map_or(0, |m| m.values().sum());
        assert!(counted >= in_41.min(1) && counted <= in_41, "{counted} vs {in_41}");
    }

    #[test]
    fn departement_counts_cover_lines_outside_the_territory() {
        let reference = Reference::embedded();
        let mut file = Vec::new();
        synth::write_extract(&mut file, 5_000, 11, &["41018", "41269", "41295", "45234"]).unwrap();
        let blois = crate::territory::Territory::new(reference, ["41018"]).unwrap();
        let filter = TerritoryFilter::new(&blois, 0.0);
        let both =
            collect_with_counts(file.as_slice(), &filter, &["41".to_owned(), "45".to_owned()], 0, |_| {}).unwrap();
        let everything = collect(file.as_slice(), &TerritoryFilter::everything(), 0, |_| {}).unwrap();
        let people_in = |dep: &str| {
            let mut ids: Vec<_> = everything
                .professionals
                .iter()
                .filter(|p| {
                    p.places.iter().any(|pl| pl.address.commune_code.is_some_and(|c| c.as_str().starts_with(dep)))
                })
                .map(|p| (p.national_id, p.profession_code.clone()))
                .collect();
            ids.sort();
            ids.dedup();
            ids.len() as u64
        };
        let counted = |dep: &str| both.departement_counts.get(dep).map_or(0, |m| m.values().sum::<u64>());
        assert_eq!(counted("41"), people_in("41"));
        assert_eq!(counted("45"), people_in("45"));
        assert!(counted("41") > both.professionals.len() as u64, "Vendôme and Vineuil counted too");
    }
}
