//! One call from a reader of the national extract to the professionals of a territory: header,
//! streaming scan, grouping by person. Used by `maillage import annuaire`, the web upload and the
//! benchmark.

use super::annuaire::Reject;
use super::draft::{Activity, DraftWarning, group_by_person};
use super::filter::{TerritoryFilter, Zone};
use super::model::Professional;
use super::scan::{ScanError, ScanOptions, ScanSink, ScanStats, read_header, scan_with};
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
}

struct Sink<P> {
    activities: Vec<Activity>,
    rejects: Vec<Reject>,
    unplaced: Vec<(u64, String)>,
    progress: P,
}

impl<P: FnMut(&ScanStats)> ScanSink for Sink<P> {
    type Error = Infallible;
    fn record(&mut self, record: super::annuaire::ActivityRecord<'_>, _zone: Zone) -> Result<(), Infallible> {
        self.activities.push(record.to_activity());
        Ok(())
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
    mut reader: R,
    filter: &TerritoryFilter,
    progress_every: u64,
    progress: impl FnMut(&ScanStats),
) -> Result<Collected, ScanError<Infallible>> {
    let (map, header_bytes) = read_header(&mut reader)?;
    let mut sink = Sink { activities: Vec::new(), rejects: Vec::new(), unplaced: Vec::new(), progress };
    let mut stats = scan_with(reader, &map, filter, ScanOptions { first_line: 2, progress_every }, &mut sink)?;
    stats.bytes += header_bytes;
    let drafts = group_by_person(sink.activities);
    let mut warnings = Vec::new();
    let mut professionals = Vec::with_capacity(drafts.len());
    for d in &drafts {
        warnings.extend(d.warnings());
        professionals.extend(d.to_professional());
    }
    Ok(Collected {
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
        let all = collect(file.as_slice(), &filter, 5_000, |_| calls += 1).unwrap();
        assert!(all.rejects.is_empty(), "{:?}", all.rejects.first());
        assert_eq!(all.stats.lines, 20_000);
        assert_eq!(all.lines_read, 20_001);
        assert!(calls >= 4, "progress reported");
        let lines: usize = all.professionals.iter().map(|p| p.places.len()).sum();
        assert!(all.professionals.len() < 20_000 && lines >= all.professionals.len());
    }
}
